"""Checks the fuzz tests' server models against the real servers, for interop/models.sh.

    model_check.py send PROTOCOL PORT MODELS OUT [--rawlog DIR] [--log FILE] FILE...
        For each fuzz input FILE (first byte: the read size, (b & 0x3f) + 1; the rest: what the client sends), one
        connection straight to the server on PORT (no gateway), one session at a time: the greeting, then the bytes in
        reads of that size, after each read the server's replies (as many as the model, MODELS, gave to that read,
        within a bounded wait, then until it is quiet: the server paces like the model, which answers each read before
        the next), then the end of input (a half-close) and the server's last words. One JSON line per session to OUT:
        the file, the client's port, what came back, whether the server closed before the client's end of input, and
        for Dovecot the bytes its login process read (its rawlog in DIR) and its log (FILE) while the session lasted.

    model_check.py compare PROTOCOL MODELS SESSIONS LOG
        Compares, input by input, what the model read (MODELS: the JSON lines of ModelReading) with what the server
        read (SESSIONS, and for SMTP LOG: Postfix's log, with debug_peer_list and the client's port):
          SMTP   the commands Postfix logged as read ("< client: line", without the SASL responses that follow a 334)
                 against the model's commands(), both normalized (verb in upper case, words joined by one space, and
                 what Postfix's log censors as "?" censored alike); the SASL logins Postfix attempted (mechanism)
                 against the model's logins(); messages queued against messages(); reply codes; who closed.
          POP3   the logins Dovecot's authentication server read in the session (mechanism; USER/PASS and LOGIN are
          IMAP   PLAIN) against the model's logins(); the replies (POP3: +OK, -ERR, +; IMAP: each tagged status with
                 its tag, +, * BAD, * BYE), in order, against the model's; who closed; the bytes Dovecot read (rawlog)
                 against those sent.
        Prints one line per input, and for a mismatch both readings; exit status 1 on any mismatch.

Loopback only; every read has a deadline.
"""
import json
import os
import re
import socket
import sys
import time

# After each read the client waits for the server's answer as the model paces: for as many replies as the model gave
# to that read, up to EXPECTED seconds (Dovecot answers a failed login at its next timer tick, up to 0.5 s later),
# then until the server has been QUIET. A reply the model did not give is still seen, later.
EXPECTED = 2.0
QUIET = 0.08
GREETING = 3.0
END = 5.0       # at most, for the server to close after the client's end of input


def corpus(path):
    data = open(path, "rb").read()
    read = 1 if not data else (data[0] & 0x3F) + 1
    return read, data[1:]


def name_of(path):
    return os.path.basename(os.path.dirname(os.path.abspath(path))) + "/" + os.path.basename(path)


class Session:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=GREETING)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.closed = False

    def collect(self, want=0, count=lambda text: 0, wait=EXPECTED):
        """Reads until `count` finds `want` replies in what came (or `wait` s passed), then until QUIET s of silence."""
        start = len(self.received)
        deadline = time.monotonic() + wait
        while not self.closed:
            enough = count(self.received[start:].decode("latin-1")) >= want
            left = QUIET if enough else deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            self.received += data

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False


def rawlog_files(directory):
    try:
        return set(f for f in os.listdir(directory) if f.endswith(".in"))
    except OSError:
        return set()


def rawlog_bytes(path):
    """A Dovecot rawlog (timestamped: "secs.usecs " at the start of each line) as the bytes it recorded."""
    out = b""
    for line in open(path, "rb").read().splitlines(keepends=True):
        out += re.sub(rb"^\d+\.\d{6} ", b"", line, count=1)
    return out


def log_size(log):
    try:
        return os.path.getsize(log)
    except OSError:
        return 0


def log_since(log, offset):
    with open(log, "rb") as f:
        f.seek(offset)
        return f.read().decode("latin-1")


def send(protocol, port, out, rawlog, log, models_path, files):
    models = {m["file"]: m for m in map(json.loads, open(models_path))}
    with open(out, "w") as result:
        for path in files:
            answers = models[name_of(path)]["reads"] if name_of(path) in models else []
            try:
                record = session(protocol, port, rawlog, log, path, answers)
            except OSError as e:
                record = {"file": name_of(path), "error": f"{type(e).__name__}: {e}"}
            result.write(json.dumps(record) + "\n")
            result.flush()
    return True


GREETINGS = {"smtp": "220 ", "pop3": "+OK", "imap": "* OK"}


def session(protocol, port, rawlog, log, path, answers):
    read, data = corpus(path)
    before = rawlog_files(rawlog) if rawlog else set()
    log_at = log_size(log) if log else 0
    s = Session(port)
    s.collect(1, lambda text: text.count("\r\n"), GREETING)
    greeting = s.received.decode("latin-1")
    if not greeting.startswith(GREETINGS[protocol]):
        s.sock.close()
        return {"file": name_of(path), "error": f"no greeting from port {port}: {greeting!r}"}
    sent = 0
    missed = 0  # replies the model gave and the server did not: after two, the server is not pacing; stop waiting
    for n, i in enumerate(range(0, len(data), read)):
        if s.closed or not s.send(data[i:i + read]):
            break
        sent = min(len(data), i + read)
        want = len(replies(protocol, answers[n])) if n < len(answers) else 0
        before_read = len(s.received)
        s.collect(want, lambda text: len(replies(protocol, text)), EXPECTED if missed < 2 else QUIET)
        if len(replies(protocol, s.received[before_read:].decode("latin-1"))) < want:
            missed += 1
    s.collect(wait=0.3)
    closed_by_server = s.closed
    if not s.closed:
        try:
            s.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        s.collect(1, lambda text: 0, END)  # to the close
    s.sock.close()
    record = {"file": name_of(path), "port": s.port, "bytes": data.decode("latin-1"), "sent": sent,
              "closed": closed_by_server, "greeting": greeting, "replies": s.received[len(greeting):].decode("latin-1")}
    if rawlog:
        new = []
        for _ in range(50):
            new = sorted(rawlog_files(rawlog) - before)
            if new:
                break
            time.sleep(0.05)
        record["rawlog"] = [rawlog_bytes(os.path.join(rawlog, f)).decode("latin-1") for f in new]
    if log:
        # Dovecot's log while this session lasted (the sessions run one at a time), to its login process's end
        for _ in range(50):
            if re.search(r"-login: .*Disconnected", log_since(log, log_at)):
                break
            time.sleep(0.05)
        record["log"] = log_since(log, log_at)
    return record


# ---- reading the servers' side ---------------------------------------------------------------------------------


def censor(text):
    """What Postfix's log shows of a line: printable() with UTF-8 allowed (smtputf8_enable = yes), else "?"."""
    b = text.encode("latin-1", errors="replace")
    out = bytearray()
    i = 0
    while i < len(b):
        c = b[i]
        if 0x20 <= c < 0x7F:
            out.append(c)
        elif 194 <= c <= 254 and i + 1 < len(b) and 128 <= b[i + 1] < 192:
            out.append(c)
            while i + 1 < len(b) and 128 <= b[i + 1] < 192:
                i += 1
                out.append(b[i])
        else:
            out.append(ord("?"))
        i += 1
    return out.decode("latin-1")


def smtp_normal(line):
    """A command as compared: censored as Postfix logs it, words (space, or "?" where the log hides whitespace)
    joined by one space, the verb in upper case."""
    words = [w for w in re.split(r"[ ?]+", censor(line)) if w]
    if words:
        words[0] = words[0].upper()
    return " ".join(words)


def smtp_codes(text):
    return [line[:3] for line in text.split("\r\n") if re.match(r"^\d{3}( |$)", line)]


def replies(protocol, text):
    """The replies in `text` as compared: SMTP reply codes, Dovecot's status lines (see dovecot_replies)."""
    return smtp_codes(text) if protocol == "smtp" else dovecot_replies(protocol, text)


def postfix_sessions(log):
    """Postfix's log (postfix-models/smtpd with smtpd_client_port_logging) as: port -> what it read and did."""
    sessions = {}
    for raw in open(log, "rb"):
        line = raw.rstrip(b"\n").decode("latin-1")
        m = re.search(r" postfix-models/smtpd\[\d+\]: (.*)$", line)
        if not m:
            continue
        text = m.group(1)
        m = re.match(r"(connect from|disconnect from|[<>]|warning:) [^ ]*\[127\.0\.0\.1\]:(\d+):? ?(.*)$", text)
        if not m:
            continue
        kind, port, rest = m.group(1), int(m.group(2)), m.group(3)
        s = sessions.setdefault(port, {"lines": [], "commands": [], "responses": [], "logins": [], "queued": 0,
                                       "codes": [], "ended": False, "stats": ""})
        if kind == "<":
            s["lines"].append(rest)
            if s["codes"] and s["codes"][-1] == "334" and s.get("after_334"):
                s["responses"].append(rest)
                s["after_334"] = False
            else:
                s["commands"].append(rest)
        elif kind == ">":
            s["after_334"] = rest.startswith("334 ")
            if re.match(r"^\d{3}( |$)", rest):
                s["codes"].append(rest[:3])
            if re.match(r"^250 2\.0\.0 Ok: (\d+ bytes )?queued as ", rest):
                s["queued"] += 1
        elif kind == "warning:":
            # A failed attempt, unless Postfix refused it before its SASL server read credentials: a mechanism it
            # does not offer, or a response that is not base64 (Postfix checks both itself).
            m = re.match(r"SASL (\S+) authentication failed: (.*)", rest)
            if m and not m.group(2).startswith(("Invalid authentication mechanism", "Invalid base64 data")):
                s["logins"].append(m.group(1).upper())
        elif kind == "disconnect from":
            s["ended"] = True
            s["stats"] = rest
    return sessions


def dovecot_logins(window, port):
    """The logins Dovecot's authentication server read in one session's log (auth_debug): each request
    ("client in: AUTH<TAB>id<TAB>MECH<TAB>...<TAB>rport=PORT[<TAB>resp=...]") that got credentials (an initial response
    or a "client in: CONT") and was answered ("client passdb out: OK|FAIL"). A request the client cancelled, or the
    login process failed before passing a response on (not base64), is none."""
    requests = {}
    order = []
    for line in window.splitlines():
        m = re.search(r"client in: AUTH\t(\d+)\t([^\t]+)\t(.*)$", line)
        if m:
            fields = dict(f.split("=", 1) for f in m.group(3).split("\t") if "=" in f)
            if fields.get("rport") != str(port):
                continue
            requests[m.group(1)] = {"mech": m.group(2).upper(), "credentials": "resp" in fields, "done": False}
            order.append(m.group(1))
            continue
        # "CONT<hidden>" without auth_debug_passwords: the session's requests run one at a time, so it is the last one.
        m = re.search(r"client in: CONT(?:\t(\d+))?", line)
        request = (m.group(1) or (order[-1] if order else None)) if m else None
        if request in requests:
            requests[request]["credentials"] = True
        m = re.search(r"client passdb out: (OK|FAIL)\t(\d+)", line)
        if m and m.group(2) in requests:
            requests[m.group(2)]["done"] = True
    return [requests[i]["mech"] for i in order if requests[i]["credentials"] and requests[i]["done"]]


def dovecot_replies(protocol, text):
    kinds = []
    for line in text.split("\r\n")[:-1]:
        if protocol == "pop3":
            if line.startswith("+OK"):
                kinds.append("+OK")
            elif line.startswith("-ERR"):
                kinds.append("-ERR")
            elif line.startswith("+"):
                kinds.append("+")
        else:
            if line.startswith("+"):
                kinds.append("+")
            elif line.startswith(("* BAD", "* BYE")):
                kinds.append(line[:5])
            elif not line.startswith("* "):
                m = re.match(r"^(\S+) (OK|NO|BAD)( |$)", line)
                kinds.append(m.group(1) + " " + m.group(2) if m else "? " + line[:40])
    return kinds


def model_login_mechanisms(model, protocol):
    """The model's logins as the server's auth requests name them: USER/PASS and LOGIN go as PLAIN."""
    out = []
    for login in model["logins"]:
        if login["command"] in ("PASS", "LOGIN"):
            out.append("PLAIN")
        elif login["command"] == "APOP":
            out.append("APOP")
        else:
            out.append(login["mechanism"].upper())
    return out


def compare(protocol, models_path, sessions_path, log):
    folder = {"smtp": "smtpClient/", "pop3": "pop3Client/", "imap": "imapClient/"}[protocol]
    models = {m["file"]: m for m in map(json.loads, open(models_path)) if m["file"].startswith(folder)}
    sessions = [json.loads(line) for line in open(sessions_path)]
    if protocol == "smtp":
        for _ in range(50):  # Postfix logs through postlogd: wait for every session's end (bounded)
            seen = postfix_sessions(log)
            if all(seen.get(s.get("port"), {}).get("ended") for s in sessions if "error" not in s):
                break
            time.sleep(0.1)
    ok = True
    for s in sessions:
        m = models.get(s["file"])
        if m is None:
            print(f"FAIL  {s['file']}: no model reading"); ok = False
            continue
        if "error" in s:
            print(f"FAIL  {s['file']}: {s['error']}"); ok = False
            continue
        diffs = []
        if protocol == "smtp":
            p = seen.get(s["port"])
            if p is None:
                print(f"FAIL  {s['file']}: Postfix logged no session from port {s['port']}"); ok = False
                continue
            model_cmds = [smtp_normal(c) for c in m["commands"]]
            server_cmds = [smtp_normal(c) for c in p["commands"]]
            model_logins = [l["mechanism"].upper() for l in m["logins"]]
            if model_cmds != server_cmds:
                diffs.append(("commands", model_cmds, server_cmds))
            if model_logins != p["logins"]:
                diffs.append(("logins (mechanism)", model_logins, p["logins"]))
            if m["messages"] != p["queued"]:
                diffs.append(("messages", m["messages"], p["queued"]))
            if smtp_codes(m["replies"]) != smtp_codes(s["replies"]):
                diffs.append(("reply codes", smtp_codes(m["replies"]), smtp_codes(s["replies"])))
            summary = (f"{len(server_cmds)} commands, logins {p['logins']}, {p['queued']} queued"
                       + (", closed" if s["closed"] else ""))
        else:
            model_logins = model_login_mechanisms(m, protocol)
            server_logins = dovecot_logins(s.get("log", ""), s["port"])
            if model_logins != server_logins:
                diffs.append(("logins (mechanism)", model_logins, server_logins))
            model_replies = dovecot_replies(protocol, m["replies"])
            server_replies = dovecot_replies(protocol, s["replies"])
            if model_replies != server_replies:
                diffs.append(("replies", model_replies, server_replies))
            data = s["bytes"].encode("latin-1")
            rawlogs = s.get("rawlog") or []
            if len(rawlogs) != 1:
                diffs.append(("rawlog files for the session", 1, len(rawlogs)))
            else:
                read_bytes = rawlogs[0].encode("latin-1")
                if not (read_bytes == data or (s["closed"] and data.startswith(read_bytes))):
                    diffs.append(("bytes Dovecot read (rawlog)", data, read_bytes))
            summary = (f"{len(server_replies)} replies {server_replies}, logins {server_logins}"
                       + (", closed" if s["closed"] else ""))
        if m["closed"] != s["closed"]:
            diffs.append(("server closed before the client's end", m["closed"], s["closed"]))
        if diffs:
            ok = False
            print(f"FAIL  {s['file']} (reads of {m['read']})")
            for what, model, server in diffs:
                print(f"        {what}:\n          model:  {model!r}\n          server: {server!r}")
            print(f"        model read:  {m['commands']!r}")
            if protocol == "smtp":
                print(f"        Postfix read: {p['lines']!r} ({p['stats']})")
            print(f"        server replied: {s['replies']!r}")
        else:
            print(f"ok    {s['file']}: {summary}")
    missing = sorted(set(models) - {s["file"] for s in sessions})
    for f in missing:
        print(f"FAIL  {f}: not sent"); ok = False
    return ok


def main(argv):
    if len(argv) > 1 and argv[1] == "send":
        protocol, port, models, out = argv[2], int(argv[3]), argv[4], argv[5]
        rest = argv[6:]
        rawlog = log = None
        while rest[:1] in (["--rawlog"], ["--log"]):
            if rest[0] == "--rawlog":
                rawlog = rest[1]
            else:
                log = rest[1]
            rest = rest[2:]
        return send(protocol, port, out, rawlog, log, models, rest)
    if len(argv) > 1 and argv[1] == "compare":
        return compare(*argv[2:6])
    print(__doc__)
    return False


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
