package org.gatehouse.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A POP3-speaking backend on 127.0.0.1 that misbehaves on request: greet and answer ({@code NOOP}, {@code QUIT}),
 * accept and never say a word, greet and then never answer, greet and then reset the connection, or greet and keep the
 * connection open after the client's end of stream (a server that ignores a half-close). It can read a PROXY protocol header first and
 * keeps what it read. Threads, not Netty, so that it shares nothing with the gateway under test.
 */
public final class FakeBackend implements AutoCloseable {

    /** How the server treats each connection. */
    public enum Mode {
        GREET,
        HANG_AFTER_ACCEPT,
        HANG_AFTER_GREETING,
        /**
         * Greets, then resets the connection when the first command arrives: a reset right after the greeting could
         * reach the gateway before its connect completes, or discard the greeting unread, and the test would race it.
         */
        RESET_AT_FIRST_COMMAND,
        GREET_AND_IGNORE_END
    }

    /** What a PROXY header at the start of a connection looks like, if one is expected. */
    public enum ProxyHeader {
        NONE,
        V1,
        V2
    }

    private final String name;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-backend");
        t.setDaemon(true);
        return t;
    });
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final List<byte[]> proxyHeaders = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Mode mode;
    /** Connections served at once, as a server at its process limit: the next ones wait in the listen queue. */
    private final Semaphore slots;
    private volatile ProxyHeader proxyHeader = ProxyHeader.NONE;

    private FakeBackend(String name, int port, Mode mode, int maxConcurrent) throws IOException {
        this.name = name;
        this.mode = mode;
        this.slots = new Semaphore(maxConcurrent);
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        threads.execute(this::acceptLoop);
    }

    /** A backend greeting with {@code +OK <name>} on a free port. */
    public static FakeBackend start(String name, Mode mode) throws IOException {
        return new FakeBackend(name, 0, mode, Integer.MAX_VALUE);
    }

    /**
     * A backend that serves at most {@code maxConcurrent} connections at once, as Dovecot or Postfix at their process
     * limit: it accepts the next one only when one ends, and until then that client waits (for its greeting).
     */
    public static FakeBackend startLimited(String name, Mode mode, int maxConcurrent) throws IOException {
        return new FakeBackend(name, 0, mode, maxConcurrent);
    }

    /** A backend on {@code port}, as one that comes back after being down. */
    public static FakeBackend startOn(String name, int port, Mode mode) throws IOException {
        return new FakeBackend(name, port, mode, Integer.MAX_VALUE);
    }

    public String hostPort() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    public void mode(Mode newMode) {
        mode = newMode;
    }

    public void expectProxyHeader(ProxyHeader header) {
        proxyHeader = header;
    }

    /** The PROXY headers read, raw, one per connection. */
    public List<byte[]> proxyHeaders() {
        return List.copyOf(proxyHeaders);
    }

    /** Connections accepted so far (client sessions and health checks alike). */
    public int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                slots.acquire();
                Socket socket = server.accept();
                accepted.incrementAndGet();
                open.add(socket);
                threads.execute(() -> serve(socket));
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            readProxyHeader(in);
            Mode now = mode;
            if (now == Mode.HANG_AFTER_ACCEPT) {
                in.transferTo(OutputStream.nullOutputStream()); // until the other side gives up
                return;
            }
            out.write(("+OK " + name + " ready\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (now == Mode.RESET_AT_FIRST_COMMAND) {
                in.read();
                socket.setSoLinger(true, 0); // close with RST
                return;
            }
            if (now == Mode.HANG_AFTER_GREETING) {
                in.transferTo(OutputStream.nullOutputStream()); // reads commands, never answers
                return;
            }
            if (now == Mode.GREET_AND_IGNORE_END) {
                in.transferTo(OutputStream.nullOutputStream());
                closing.await(); // the client's end of stream changes nothing: open until the backend closes
                return;
            }
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c != '\n') {
                    line.append((char) c);
                    continue;
                }
                String command = line.toString().trim().toUpperCase(Locale.ROOT);
                line.setLength(0);
                if (command.startsWith("QUIT") || command.endsWith("LOGOUT")) {
                    out.write(("+OK " + name + " bye\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    return;
                }
                out.write(("+OK " + name + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(socket);
            slots.release();
        }
    }

    private void readProxyHeader(InputStream in) throws IOException {
        switch (proxyHeader) {
            case V1 -> {
                ByteArrayOutputStream header = new ByteArrayOutputStream();
                int c;
                while ((c = in.read()) >= 0) {
                    header.write(c);
                    if (c == '\n') {
                        break;
                    }
                }
                proxyHeaders.add(header.toByteArray());
            }
            case V2 -> {
                DataInputStream data = new DataInputStream(in);
                byte[] fixed = new byte[16];
                data.readFully(fixed);
                int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
                byte[] header = new byte[16 + length];
                System.arraycopy(fixed, 0, header, 0, 16);
                data.readFully(header, 16, length);
                proxyHeaders.add(header);
            }
            case NONE -> {
            }
        }
    }

    /** Stops accepting and drops every connection, as a server that goes down. */
    @Override
    public void close() {
        closing.countDown();
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
        threads.shutdownNow();
    }
}
