package org.gatehouse.relay;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.gatehouse.log.RateLimitedLog;
import org.gatehouse.relay.IdentityDialogue.Outcome;
import org.gatehouse.relay.IdentityDialogue.Step;
import org.gatehouse.session.PipelineNames;
import org.gatehouse.session.Session;
import org.slf4j.LoggerFactory;

/**
 * On a mail rule's backend connection whose pool has {@code clientIdentity: xclient} or {@code imap-id}, between the
 * greeting timeout and the relay: holds the server's greeting back, runs the {@link IdentityDialogue} with the server,
 * consumes every reply of it, then passes the greeting on to the client as the server sent it and hands over to the
 * relay ({@link Handover}). A server that does not offer the command (or refuses it) costs a log line and a metric, and
 * the session goes on without it. The server's lines are bounded in length and number; a server that breaks the
 * bound is broken, and the client gets its protocol's "try again later".
 */
final class ClientIdentityExchange extends ChannelInboundHandlerAdapter {

    private static final RateLimitedLog LOG = new RateLimitedLog(LoggerFactory.getLogger("gatehouse.backend"));

    static final int MAX_LINE = 8 * 1024;
    static final int MAX_LINES = 256;

    private final IdentityDialogue dialogue;
    private final Session session;
    private final String server;
    private final Handover handover;
    private ByteBuf input;
    private CompositeByteBuf greeting;
    private boolean inGreeting = true;
    private int lines;
    private boolean done;

    /** What the connection does once the dialogue is over. */
    interface Handover {
        /** The relay takes over: the client's bytes may go to the server now. */
        void relay();

        /** The server broke the dialogue: the client gets "try again later" and a close. */
        void fail();
    }

    ClientIdentityExchange(IdentityDialogue dialogue, Session session, String server, Handover handover) {
        this.dialogue = requireNonNull(dialogue, "dialogue");
        this.session = requireNonNull(session, "session");
        this.server = requireNonNull(server, "server");
        this.handover = requireNonNull(handover, "handover");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        input = ctx.alloc().buffer(256);
        greeting = ctx.alloc().compositeBuffer();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ReferenceCountUtil.safeRelease(input);
        ReferenceCountUtil.safeRelease(greeting);
        input = null;
        greeting = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || !(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            input.writeBytes(buf);
        } finally {
            buf.release();
        }
        int eol;
        while (!done && (eol = input.indexOf(input.readerIndex(), input.writerIndex(), (byte) '\n')) >= 0) {
            int length = eol + 1 - input.readerIndex();
            if (length > MAX_LINE || ++lines > MAX_LINES) {
                broken(ctx);
                return;
            }
            ByteBuf raw = input.readBytes(length); // a copy: discardReadBytes below moves what a slice would see
            String line = raw.toString(raw.readerIndex(), trimmed(raw), StandardCharsets.ISO_8859_1);
            if (inGreeting) {
                greeting.addComponent(true, raw);
            } else {
                raw.release();
            }
            step(ctx, dialogue.read(line));
        }
        if (done) {
            return; // removed, its buffers released
        }
        if (input.readableBytes() > MAX_LINE) {
            broken(ctx);
            return;
        }
        input.discardReadBytes();
    }

    /** The line's length without its CRLF or LF. */
    private static int trimmed(ByteBuf raw) {
        int n = raw.readableBytes() - 1;
        return n > 0 && raw.getByte(raw.readerIndex() + n - 1) == '\r' ? n - 1 : n;
    }

    private void step(ChannelHandlerContext ctx, Step step) {
        if (step.greetingEnds()) {
            inGreeting = false;
        }
        for (String command : step.send()) {
            ctx.write(ByteBufUtil.writeAscii(ctx.alloc(), command + "\r\n"));
        }
        if (!step.send().isEmpty()) {
            ctx.flush();
        }
        if (step.outcome() != Outcome.PENDING) {
            finish(ctx, step.outcome());
        }
    }

    private void finish(ChannelHandlerContext ctx, Outcome outcome) {
        done = true;
        session.meters().clientIdentity(outcome.label());
        if (outcome == Outcome.NOT_OFFERED || outcome == Outcome.REFUSED) {
            String rule = session.rule().name();
            String method = session.rule().backend().clientIdentity().configName();
            LOG.warn("identity/" + rule + "/" + server, () -> "backend " + (outcome == Outcome.REFUSED
                    ? "refused"
                    : "does not offer") + " the client's address rule=" + rule + " backend=" + server
                    + " clientIdentity=" + method + " client=" + session.client()
                    + ": the server sees the gateway's address (see docs/rules-reference.md, clientIdentity)");
        }
        ChannelHandlerContext timeout = ctx.pipeline().context(PipelineNames.GREETING_TIMEOUT);
        if (timeout != null) {
            ctx.pipeline().remove(timeout.handler());
        }
        ByteBuf toClient = greeting;
        ByteBuf rest = input.readableBytes() > 0 ? input.readBytes(input.readableBytes()) : null;
        greeting = null;
        ctx.pipeline().remove(this);
        handover.relay();
        ctx.fireChannelRead(toClient);
        if (rest != null) {
            ctx.fireChannelRead(rest);
        }
        ctx.fireChannelReadComplete();
    }

    /** A server that sends a line longer, or more lines, than any real reply to these commands. */
    private void broken(ChannelHandlerContext ctx) {
        done = true;
        session.meters().clientIdentity("broken");
        session.outcome(Session.Outcome.BACKEND_UNAVAILABLE, "client-identity");
        LOG.warn("identity-broken/" + session.rule().name() + "/" + server, () -> "backend sent more than "
                + MAX_LINES + " lines or a line over " + MAX_LINE + " bytes in answer to the client-identity "
                + "commands rule=" + session.rule().name() + " backend=" + server
                + ": clients get \"try again later\"");
        handover.fail();
        ctx.close();
    }
}
