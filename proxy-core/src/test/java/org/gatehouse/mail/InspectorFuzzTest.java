package org.gatehouse.mail;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import org.gatehouse.mail.reference.ImapServer;
import org.gatehouse.mail.reference.Pop3Server;
import org.gatehouse.mail.reference.ReferenceServer;
import org.gatehouse.mail.reference.SmtpServer;
import org.gatehouse.rules.LoginPolicy;
import org.gatehouse.rules.Protocol;
import org.gatehouse.rules.TlsMode;

/**
 * Differential fuzzing of the inspectors. Client direction: the fuzzer writes what a client sends, in reads of a size
 * its first byte chooses; a model of a real server ({@link ReferenceServer}: Postfix, Dovecot, and the most lenient
 * legacy server) sits behind the inspector and answers what reaches it. Oracles:
 *
 * <ul>
 *   <li>under {@code secure-only}, no server model reads a login that sends a password: the connection has no TLS;
 *   <li>under {@code audit}, every login a model reads was recorded;
 *   <li>SMTP: a model never takes more messages than the gateway read the end of (smuggling);
 *   <li>no exception escapes, what the inspector holds stays bounded, and no buffer leaks (paranoid detection, checked
 *       after the class by the leak extension).
 * </ul>
 *
 * Server direction: the fuzzer writes what the server answers to a fixed client; the inspector must survive it and
 * stay bounded.
 *
 * <p>Without {@code JAZZER_FUZZ} these run as regression tests over the inputs under
 * {@code src/test/resources/org/gatehouse/mail/InspectorFuzzTestInputs/}; {@code .ci/fuzz} fuzzes each for a short
 * while, and docs/security.md says how to fuzz for longer.
 */
class InspectorFuzzTest {

    /** Bytes a read may add to what the inspector holds before it checks its bound. */
    private static final int READ = 64;
    private static final int HELD_BOUND = MailInspector.MAX_HELD_BYTES + MailInspector.MAX_REPLY_LINE + 4 * READ;

    @FuzzTest(maxDuration = "20s")
    void smtpClient(byte[] data) {
        clientDirection(Protocol.SMTP, data, List.of(SmtpServer::postfix, SmtpServer::lenient));
    }

    @FuzzTest(maxDuration = "20s")
    void pop3Client(byte[] data) {
        clientDirection(Protocol.POP3, data, List.of(Pop3Server::dovecot, Pop3Server::lenient));
    }

    @FuzzTest(maxDuration = "20s")
    void imapClient(byte[] data) {
        clientDirection(Protocol.IMAP, data, List.of(ImapServer::dovecot, ImapServer::lenient));
    }

    @FuzzTest(maxDuration = "10s")
    void smtpServer(byte[] data) {
        serverDirection(Protocol.SMTP, data,
                "EHLO c\r\nAUTH PLAIN AGEAYg==\r\nMAIL FROM:<a@b>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    }

    @FuzzTest(maxDuration = "10s")
    void pop3Server(byte[] data) {
        serverDirection(Protocol.POP3, data, "CAPA\r\nAUTH\r\nUSER a\r\nAPOP a b\r\nLIST\r\nRETR 1\r\nQUIT\r\n");
    }

    @FuzzTest(maxDuration = "10s")
    void imapServer(byte[] data) {
        serverDirection(Protocol.IMAP, data, "a CAPABILITY\r\nb ID NIL\r\nc LOGIN {1}\r\nx y\r\nd NOOP\r\n");
    }

    // ---- client direction ---------------------------------------------------------------------------------------

    static void clientDirection(Protocol protocol, byte[] data, List<Supplier<ReferenceServer>> servers) {
        for (Supplier<ReferenceServer> server : servers) {
            for (LoginPolicy policy : List.of(LoginPolicy.SECURE_ONLY, LoginPolicy.AUDIT)) {
                run(protocol, policy, data, server.get());
            }
        }
    }

    private static void run(Protocol protocol, LoginPolicy policy, byte[] data, ReferenceServer server) {
        Inspected session = Inspected.of(protocol, TlsMode.NONE, policy);
        try {
            session.backend(server.greeting());
            int read = data.length == 0 ? 1 : (data[0] & 0x3f) + 1;
            for (int i = 1; i < data.length && session.channel.isOpen(); i += read) {
                session.client(text(data, i, Math.min(data.length, i + read)));
                pump(session, server);
                assertThat(held(session)).as("bytes held").isLessThanOrEqualTo(HELD_BOUND);
            }
            pump(session, server);
            String what = server.name() + " under " + policy + " read " + server.commands();
            if (policy == LoginPolicy.SECURE_ONLY) {
                assertThat(server.logins()).as(what).noneMatch(ReferenceServer.Login::secret);
            } else {
                long recorded = session.report.entries().stream().mapToLong(e -> e.count()).sum();
                assertThat(recorded).as(what + " logins " + server.logins()).isGreaterThanOrEqualTo(
                        server.logins().stream().filter(ReferenceServer.Login::secret).count());
            }
            if (protocol == Protocol.SMTP && session.channel.pipeline().get(SmtpInspector.class) != null) {
                int ended = session.channel.pipeline().get(SmtpInspector.class).messagesEnded();
                assertThat(server.messages()).as(what + ": messages the server took").isLessThanOrEqualTo(ended);
            }
        } finally {
            session.close();
        }
    }

    /** Passes what the inspector forwarded to the server, and the server's answers back, until both are quiet. */
    private static void pump(Inspected session, ReferenceServer server) {
        for (int round = 0; round < 1000; round++) {
            String forwarded = session.toBackend();
            if (forwarded.isEmpty()) {
                return;
            }
            String replies = server.receive(forwarded.getBytes(StandardCharsets.ISO_8859_1));
            if (!replies.isEmpty() && session.channel.isOpen()) {
                session.backend(replies);
            }
            session.toClient();
        }
        throw new AssertionError("the inspector and the server never went quiet");
    }

    // ---- server direction ---------------------------------------------------------------------------------------

    static void serverDirection(Protocol protocol, byte[] data, String clientScript) {
        Inspected session = Inspected.of(protocol, TlsMode.STARTTLS, LoginPolicy.SECURE_ONLY);
        try {
            int read = data.length == 0 ? 1 : (data[0] & 0x3f) + 1;
            String[] commands = clientScript.split("(?<=\r\n)");
            int next = 0;
            for (int i = 1; i < data.length && session.channel.isOpen(); i += read) {
                if (next < commands.length) {
                    session.client(commands[next++]);
                }
                session.backend(text(data, i, Math.min(data.length, i + read)));
                session.toBackend();
                session.toClient();
                assertThat(held(session)).as("bytes held").isLessThanOrEqualTo(HELD_BOUND);
            }
        } finally {
            session.close();
        }
    }

    private static int held(Inspected session) {
        MailInspector inspector = session.channel.pipeline().get(MailInspector.class);
        return inspector == null ? 0 : inspector.heldBytes();
    }

    private static String text(byte[] data, int from, int to) {
        return new String(data, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
