package org.gatehouse.relay;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A mail server on 127.0.0.1 that greets and answers each line it reads with what {@code answers} says (CRLFs added),
 * keeping every line it read. Threads, not Netty: it shares nothing with the gateway under test.
 */
final class ScriptedMailServer implements AutoCloseable {

    private final ServerSocket server;
    private final String greeting;
    private final UnaryOperator<String> answers;
    private final List<String> read = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    /** {@code answers} gives the reply lines (joined by newlines) to one command line. */
    ScriptedMailServer(String greeting, UnaryOperator<String> answers) throws IOException {
        this.greeting = greeting;
        this.answers = answers;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread accept = new Thread(this::acceptLoop, "scripted-mail-server");
        accept.setDaemon(true);
        accept.start();
    }

    String hostPort() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** The lines read so far, from every connection, in order. */
    List<String> read() {
        return List.copyOf(read);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "scripted-mail-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            write(out, greeting);
            String line;
            while ((line = in.readLine()) != null) {
                read.add(line);
                String answer = answers.apply(line);
                if (answer != null) {
                    write(out, answer);
                }
                if (line.equalsIgnoreCase("QUIT") || line.toUpperCase().endsWith(" LOGOUT")) {
                    return;
                }
            }
        } catch (IOException e) {
            // the test's client or the gateway went away
        }
    }

    private static void write(OutputStream out, String lines) throws IOException {
        out.write((lines.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
