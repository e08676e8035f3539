"""A raw-socket mail client for interop/bypass.sh: sends exact bytes to a Gatehouse port and records what comes back.

    bypass_client.py login PROTOCOL FORM PORT EXPECT USER PASSWORD
        One connection: the greeting, EHLO (SMTP), the login FORM in clear (on a STARTTLS rule: before STARTTLS), then
        QUIT/LOGOUT and read to the close. EXPECT is what the client must see:
          refused    the gateway's refusal of a clear-text login, to every line of the form
          closed     the gateway's error line, then the connection closes
          forwarded  the backend's own answers, never the gateway's refusal (audit rules)
          data       the backend's answers: the hidden login was data to it (BDAT with CHUNKING, a LITERAL+ literal)
          no-login   whatever the answers, no login succeeded (refused, closed or data: any way to stop it will do)
          any        nothing is asserted here (audit rules: the caller compares logins with the gateway's records)
        Never, whatever EXPECT: a successful login under any expectation but "forwarded".

    bypass_client.py smuggle PORT TLS ENDING SUBJECT1 SUBJECT2 EXPECT [USER PASSWORD]
        One SMTP session (TLS: "implicit" or "none"), with AUTH PLAIN when USER is given, then a message whose body
        holds ENDING (a name from ENDINGS) followed by a complete second transaction whose message has SUBJECT2.
        EXPECT "reject": 554 5.6.0 and the close; "normalize": the first message accepted, then the second
        transaction answered command by command (MAIL, RCPT, DATA, the message), then QUIT.

Everything sent and received is printed (Python byte literals), so a failed check shows the exchange. Exit status 0
when the exchange is what EXPECT says, 1 otherwise. Loopback only; every read has a deadline.
"""
import base64
import re
import socket
import ssl
import sys
import time

TIMEOUT = 5.0  # seconds, for any one reply

# What the gateway says when it refuses a clear-text login (docs/login-policy.md), by protocol.
REFUSALS = {
    # The policy's refusals, and (for a word that only resembles a login verb, under audit) the gateway's own
    # unknown-command errors, which differ from the servers' ("-ERR Unknown command." and "BAD Error in IMAP command").
    "smtp": (b"530 5.7.0 Must issue a STARTTLS command first", b"538 5.7.11 Encryption required",
             b"500 5.5.2 Syntax error, command unrecognized\r\n"),
    "pop3": (b"-ERR [AUTH] Plaintext authentication is not allowed", b"-ERR Unknown command\r\n"),
    "imap": (b"NO [PRIVACYREQUIRED] Plaintext authentication is not allowed", b"BAD Unknown command\r\n"),
}
# The gateway's line before it closes a connection for a protocol violation.
CLOSINGS = {"smtp": b"421 4.7.0 Closing connection: ", "pop3": b"-ERR Closing: ", "imap": b"* BYE Closing connection: "}
# A successful login, in any of the three protocols' words (Dovecot, Postfix).
SUCCESS = re.compile(rb"(^|\n)(235[ -]|\+OK Logged in|\S+ OK \[CAPABILITY[^\r\n]*Logged in|\S+ OK Logged in)")


def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


def forms(user, password):
    """FORM name -> (protocol, [lines to send, one exchange each]). Each form is a whole login attempt."""
    b64 = plain(user, password)
    smtp_hidden = f"AUTH PLAIN {b64}\r\n"
    imap_hidden = f"h1 LOGIN {user} {password}\r\n"
    return {
        "smtp-tab": ("smtp", [f"AUTH\tPLAIN {b64}\r\n"]),
        "smtp-leading-space": ("smtp", [f" AUTH PLAIN {b64}\r\n"]),
        "smtp-lower-case": ("smtp", [f"auth plain {b64}\r\n"]),
        "smtp-spaces": ("smtp", [f"AUTH   PLAIN   {b64}\r\n"]),
        "smtp-tab-before-response": ("smtp", [f"AUTH PLAIN\t{b64}\r\n"]),
        "smtp-auth-equals": ("smtp", [f"AUTH=PLAIN {b64}\r\n"]),
        "smtp-cr-only": ("smtp", [f"NOOP\rAUTH PLAIN {b64}\r\n"]),
        "smtp-bdat": ("smtp", [f"BDAT {len(smtp_hidden)}\r\n{smtp_hidden}"]),
        "pop3-tab": ("pop3", [f"USER\t{user}\r\n", f"PASS\t{password}\r\n"]),
        "pop3-leading-space": ("pop3", [f" USER {user}\r\n", f" PASS {password}\r\n"]),
        "pop3-lower-case": ("pop3", [f"user {user}\r\n", f"pass {password}\r\n"]),
        "pop3-longer-keyword": ("pop3", [f"USERNAME {user}\r\n", f"PASSWORD {password}\r\n"]),
        "pop3-auth-tab": ("pop3", [f"AUTH\tPLAIN {b64}\r\n"]),
        "pop3-cr-only": ("pop3", [f"NOOP\rUSER {user}\r\n", f"PASS {password}\r\n"]),
        "imap-tab": ("imap", [f"a\tLOGIN {user} {password}\r\n"]),
        "imap-leading-space": ("imap", [f" a LOGIN {user} {password}\r\n"]),
        "imap-lower-case": ("imap", [f"a login {user} {password}\r\n"]),
        "imap-spaces": ("imap", [f"a  LOGIN {user} {password}\r\n"]),
        "imap-authenticate-tab": ("imap", [f"a AUTHENTICATE\tPLAIN {b64}\r\n"]),
        "imap-cr-only": ("imap", [f"a NOOP\rh1 LOGIN {user} {password}\r\n"]),
        "imap-literal-plus": ("imap", [f"a NOOP {{{len(imap_hidden)}+}}\r\n{imap_hidden}\r\n"]),
        "imap-quoted-braces": ("imap", [f"a NOOP \"x {{{len(imap_hidden)}+}}\r\n{imap_hidden}"]),
        # A literal after a line the server rejects before reaching it: Dovecot answers BAD, skips to the end of the
        # line and reads the literal's bytes as its next command.
        "imap-literal-after-tab": ("imap", [f"a NOOP\t{{{len(imap_hidden)}+}}\r\n{imap_hidden}\r\n"]),
        "imap-literal-after-spaces": ("imap", [f"a  NOOP {{{len(imap_hidden)}+}}\r\n{imap_hidden}\r\n"]),
        "imap-literal-after-bad-tag": ("imap", [f"a* NOOP {{{len(imap_hidden)}+}}\r\n{imap_hidden}\r\n"]),
    }


# End-of-data variants (SMTP smuggling): what follows the first message's text.
ENDINGS = {"lf-dot-lf": "\n.\n", "lf-dot-crlf": "\n.\r\n", "crlf-dot-lf": "\r\n.\n", "cr-dot-cr": "\r.\r",
           "cr-dot-lf": "\r.\n", "crlf-dot-cr": "\r\n.\r"}


class Conn:
    """A connection that keeps everything received, and reads until a predicate holds, the close, or a deadline."""

    def __init__(self, port, tls=False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname="mail.example.test")
        self.sock = sock
        self.received = b""
        self.closed = False

    def send(self, data):
        print("C:", data)
        if self.closed:
            print("   (not sent: the connection is closed)")
            return
        try:
            self.sock.sendall(data)
        except OSError as e:
            print("   (send failed:", e, ")")
            self.closed = True

    def read_until(self, done, timeout=TIMEOUT):
        """Reads until done(bytes received by this call) is true or the peer closes; returns those bytes."""
        start = len(self.received)
        deadline = time.monotonic() + timeout
        while not self.closed and not done(self.received[start:]):
            left = deadline - time.monotonic()
            if left <= 0:
                print("   (no complete reply within %.0f s)" % timeout)
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, ssl.SSLError, OSError) as e:
                print("   (read ended:", type(e).__name__, ")")
                data = b""
            if not data:
                self.closed = True
                break
            self.received += data
        got = self.received[start:]
        print("S:", got, "<closed>" if self.closed else "")
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def lines(data):
    return data.split(b"\r\n")


def smtp_reply_done(data):
    """A complete SMTP reply: a line "NNN " (or "NNN" alone) ends it."""
    return any(re.match(rb"^\d{3}( |$)", line) for line in lines(data)[:-1])


def smtp_replies_done(count):
    return lambda data: sum(1 for line in lines(data)[:-1] if re.match(rb"^\d{3}( |$)", line)) >= count


def pop3_reply_done(data):
    return any(line.startswith((b"+", b"-ERR")) for line in lines(data)[:-1])


def imap_reply_done(data):
    """A tagged reply (whatever the server took for the tag), a continuation request, or an untagged BAD or BYE."""
    return any(not line.startswith(b"* ") or line.startswith((b"* BAD", b"* BYE")) for line in lines(data)[:-1])


def login(protocol, form, port, expect, user, password):
    proto, steps = forms(user, password)[form]
    assert proto == protocol, (form, protocol)
    c = Conn(port)
    ok = True
    greeting = c.read_until(lambda d: b"\r\n" in d)
    if protocol == "smtp":
        if not greeting.startswith(b"220"):
            print("FAIL: no 220 greeting"); return False
        c.send(b"EHLO bypass.example.test\r\n")
        ehlo = c.read_until(smtp_reply_done)
        print("   CHUNKING offered:", b"CHUNKING" in ehlo.upper())
    replies = []
    for step in steps:
        data = step.encode("latin-1")
        c.send(data)
        if protocol == "smtp":
            done = smtp_reply_done
        elif protocol == "pop3":
            done = pop3_reply_done
        else:
            done = imap_reply_done
        reply = c.read_until(done)
        if CLOSINGS[protocol] in reply and not c.closed:
            reply += c.read_until(lambda d: False)  # the gateway closes after its line: wait for the close
        if expect == "data" and not c.closed:
            # What a server that read the hidden login as a command would answer comes after the first reply.
            reply += c.read_until(lambda d: False, timeout=0.5)
        replies.append(reply)
        if c.closed:
            break
    closed_by_form = c.closed
    c.send({"smtp": b"QUIT\r\n", "pop3": b"QUIT\r\n", "imap": b"z LOGOUT\r\n"}[protocol])
    c.read_until(lambda d: False)  # to the close
    c.close()
    exchange = b"".join(replies)

    if expect not in ("forwarded", "any") and SUCCESS.search(c.received):
        print("FAIL: a login succeeded"); ok = False
    refusal = lambda r: any(text in r for text in REFUSALS[protocol])
    if expect == "refused":
        for step, reply in zip(steps, replies):
            if not refusal(reply):
                print("FAIL: not refused by the gateway:", step.encode("latin-1")); ok = False
        if len(replies) < len(steps):
            print("FAIL: the connection closed before the whole form was sent"); ok = False
    elif expect == "closed":
        if CLOSINGS[protocol] not in exchange:
            print("FAIL: no closing line", CLOSINGS[protocol]); ok = False
        if not closed_by_form:
            print("FAIL: the connection stayed open"); ok = False
        # Nothing but the gateway's line after the form: the backend answered none of it.
        tail = exchange[exchange.find(CLOSINGS[protocol]):] if CLOSINGS[protocol] in exchange else exchange
        if tail.count(b"\r\n") != 1:
            print("FAIL: more than the gateway's closing line came back"); ok = False
    elif expect == "forwarded":
        for step, reply in zip(steps, replies):
            if refusal(reply) or CLOSINGS[protocol] in reply or not reply:
                print("FAIL: not forwarded to the backend:", step.encode("latin-1")); ok = False
    elif expect == "data":
        if any(refusal(r) or CLOSINGS[protocol] in r for r in replies):
            print("FAIL: the gateway refused what the backend offers as framing"); ok = False
        if protocol == "imap" and re.search(rb"(^|\n)h1 ", exchange):
            print("FAIL: the hidden LOGIN (tag h1) was answered as a command"); ok = False
        if protocol == "smtp" and len([l for l in lines(exchange)[:-1] if re.match(rb"^\d{3}( |$)", l)]) != 1:
            print("FAIL: the server answered more than the BDAT command (it read part of the chunk as commands)")
            ok = False
    print("outcome:", "as expected" if ok else "NOT as expected", f"({expect})")
    return ok


def smuggle(port, tls, ending, subject1, subject2, expect, user=None, password=None):
    c = Conn(port, tls=(tls == "implicit"))

    def step(data, code, done=smtp_reply_done):
        c.send(data)
        reply = c.read_until(done)
        if not reply.startswith(code):
            print("FAIL: expected", code, "for", data[:40])
            return False
        return True

    if not c.read_until(lambda d: b"\r\n" in d).startswith(b"220"):
        print("FAIL: no greeting"); return False
    if not step(b"EHLO smuggler.example.test\r\n", b"250"):
        return False
    if user and not step(f"AUTH PLAIN {plain(user, password)}\r\n".encode(), b"235"):
        return False
    if not (step(b"MAIL FROM:<sender@example.test>\r\n", b"250") and step(b"RCPT TO:<demo@example.test>\r\n", b"250")
            and step(b"DATA\r\n", b"354")):
        return False
    second = ("MAIL FROM:<sender@example.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
              f"From: sender@example.test\r\nTo: demo@example.test\r\nSubject: {subject2}\r\n\r\n"
              "The smuggled message.\r\n.\r\n")
    body = (f"From: sender@example.test\r\nTo: demo@example.test\r\nSubject: {subject1}\r\n\r\n"
            f"The first message.{ENDINGS[ending]}{second}")
    if expect == "reject":
        c.send(body.encode())
        got = c.read_until(lambda d: False)
        c.close()
        ok = got.startswith(b"554 5.6.0") and c.closed and got.count(b"\r\n") == 1
        print("outcome:", "554 5.6.0 and the close" if ok else "NOT 554 5.6.0 alone and the close")
        return ok
    # normalize: the first message ends where the gateway rewrote the ending; the second transaction is commands.
    c.send(body.encode())
    got = c.read_until(smtp_replies_done(5))
    codes = [l[:3] for l in lines(got)[:-1] if re.match(rb"^\d{3}( |$)", l)]
    c.send(b"QUIT\r\n")
    c.read_until(lambda d: False)
    c.close()
    ok = codes == [b"250", b"250", b"250", b"354", b"250"]
    print("replies:", codes, "outcome:", "two transactions, each answered" if ok else "NOT two answered transactions")
    return ok


def main(argv):
    if argv[1] == "login":
        protocol, form, port, expect, user, password = argv[2:8]
        return login(protocol, form, int(port), expect, user, password)
    if argv[1] == "smuggle":
        port, tls, ending, s1, s2, expect = argv[2:8]
        user, password = (argv[8], argv[9]) if len(argv) > 9 else (None, None)
        return smuggle(int(port), tls, ending, s1, s2, expect, user, password)
    if argv[1] == "secrets":  # the strings a leak of USER/PASSWORD would show in a log
        user, password = argv[2:4]
        for s in (password, plain(user, password), base64.b64encode(password.encode()).decode()):
            print(s)
        return True
    print(__doc__)
    return False


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
