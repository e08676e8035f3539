package org.gatehouse.mail.reference;

import java.util.ArrayList;
import java.util.List;

/** What the three models share: a name, their line reader, and the record of what they read. */
abstract class ModelServer implements ReferenceServer {

    protected final String name;
    protected final boolean lenient;
    protected final LineReader in;
    protected final List<Login> logins = new ArrayList<>();
    protected final List<String> commands = new ArrayList<>();
    protected boolean closed;

    ModelServer(String name, boolean lenient, LineReader.Rules rules) {
        this.name = name;
        this.lenient = lenient;
        this.in = new LineReader(rules);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Login> logins() {
        return logins;
    }

    @Override
    public List<String> commands() {
        return commands;
    }

    @Override
    public int messages() {
        return 0;
    }

    @Override
    public boolean closed() {
        return closed;
    }
}
