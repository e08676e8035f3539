package org.gatehouse.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.gatehouse.log.LogText;
import org.gatehouse.protection.AccountGuard;
import org.gatehouse.protection.Block;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Account protection's blocks on the admin endpoint, for loopback clients only (a block list names client addresses
 * and user names): {@code GET /blocks} lists them, tab-separated with a header line; {@code POST
 * /-/unblock?address=A} or {@code ?user=U} lifts one (200, or 404 when there was none).
 */
final class BlocksEndpoint {

    private static final Logger log = LoggerFactory.getLogger(BlocksEndpoint.class);

    /** An answer: status and text. */
    record Answer(HttpResponseStatus status, String body) {
    }

    private BlocksEndpoint() {
    }

    static Answer answer(AccountGuard accounts, HttpMethod method, String uri, SocketAddress client, boolean readOnly) {
        if (readOnly) {
            return new Answer(HttpResponseStatus.NOT_FOUND, "not found: blocks are on admin.listen\n");
        }
        if (!(client instanceof InetSocketAddress inet && inet.getAddress().isLoopbackAddress())) {
            log.warn("blocks refused to client={}: accepted from loopback only", client);
            return new Answer(HttpResponseStatus.FORBIDDEN, "blocks are served to loopback only\n");
        }
        if (accounts == null) {
            return new Answer(HttpResponseStatus.NOT_FOUND, "account protection is not running\n");
        }
        QueryStringDecoder query = new QueryStringDecoder(uri);
        if (query.path().equals("/blocks")) {
            return method == HttpMethod.GET || method == HttpMethod.HEAD
                    ? new Answer(HttpResponseStatus.OK, Block.tsv(accounts.blocks()))
                    : new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET /blocks\n");
        }
        if (method != HttpMethod.POST) {
            return new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, "POST /-/unblock?address=A or ?user=U\n");
        }
        List<String> address = query.parameters().get("address");
        List<String> user = query.parameters().get("user");
        if ((address == null) == (user == null)) {
            return new Answer(HttpResponseStatus.BAD_REQUEST, "expected one of ?address=A or ?user=U\n");
        }
        Block.Kind kind = address != null ? Block.Kind.ADDRESS : Block.Kind.USER;
        String key = address != null ? canonical(address.get(0)) : user.get(0);
        if (key == null) {
            return new Answer(HttpResponseStatus.BAD_REQUEST, "not an IP address: "
                    + LogText.clean(address.get(0), 64) + "\n");
        }
        boolean lifted = accounts.unblock(kind, key, "admin");
        return lifted
                ? new Answer(HttpResponseStatus.OK, "unblocked " + kind.label() + " " + LogText.clean(key) + "\n")
                : new Answer(HttpResponseStatus.NOT_FOUND, "no block on " + kind.label() + " " + LogText.clean(key)
                        + "\n");
    }

    /** An address as the blocks write it; null when it is not an IP literal (never a DNS lookup). */
    private static String canonical(String text) {
        byte[] bytes = io.netty.util.NetUtil.createByteArrayFromIpAddressString(text.strip());
        if (bytes == null) {
            return null;
        }
        try {
            return io.netty.util.NetUtil.toAddressString(InetAddress.getByAddress(bytes));
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

}
