#!/usr/bin/env python3
"""Logins over implicit TLS from chosen loopback addresses, for interop/protection.sh (account protection).

  protection_client.py login PROTO PORT SOURCE USER PASSWORD
      one login (a connection of its own); prints one JSON line: the outcome and the lines the client read
  protection_client.py spray PLAN_FILE
      the plan's attempts, one thread per source address (its attempts in order, each on a connection of its own),
      at most 64 threads; prints one JSON line per attempt

PROTO is pop3 (USER/PASS), imap (LOGIN) or smtp (EHLO, AUTH PLAIN). Outcomes:
  ok        the server let the user in
  bad       the server's own "bad credentials" (-ERR [AUTH] or -ERR, NO [AUTHENTICATIONFAILED] or NO, 535)
  temporary the server's temporary failure (-ERR [SYS/TEMP], NO [UNAVAILABLE], 454)
  refused   the gateway's refusal of a blocked address or user ("Too many failed logins", then the close)
  closed    no TLS session or no greeting: refused before TLS (a blocked address on an implicit-TLS listener)
  other     anything else (printed)
Every socket operation has a 30 s timeout; the client only ever connects to 127.0.0.0/8.
"""
import base64
import json
import socket
import ssl
import sys
import threading

TIMEOUT = 30
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


class Conversation:
    def __init__(self, source, port):
        if not source.startswith("127."):
            raise SystemExit("loopback sources only: " + source)
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0))
        self.sock = CTX.wrap_socket(raw)
        self.buf = b""
        self.seen = []

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("closed after " + repr(self.seen))
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("utf-8", "replace")
        self.seen.append(text)
        return text

    def send(self, text):
        self.sock.sendall(text.encode("utf-8") + b"\r\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def gateway_refusal(line):
    return "Too many failed logins" in line


def pop3(c, user, password):
    if not c.line().startswith("+OK"):
        return "other"
    c.send("USER " + user)
    reply = c.line()
    if not reply.startswith("+OK"):
        return "refused" if gateway_refusal(reply) else "other"
    c.send("PASS " + password)
    reply = c.line()
    if reply.startswith("+OK"):
        c.send("QUIT")
        return "ok"
    if gateway_refusal(reply):
        return "refused"
    if reply.startswith("-ERR [SYS/TEMP]") or reply.startswith("-ERR [IN-USE]"):
        return "temporary"
    return "bad" if reply.startswith("-ERR") else "other"


def quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap(c, user, password):
    if not c.line().startswith("* OK"):
        return "other"
    c.send("a LOGIN " + quoted(user) + " " + quoted(password))
    while True:
        reply = c.line()
        if gateway_refusal(reply):
            return "refused"
        if reply.startswith("a "):
            break
    if reply.startswith("a OK"):
        c.send("b LOGOUT")
        return "ok"
    if reply.startswith("a NO [UNAVAILABLE]"):
        return "temporary"
    return "bad" if reply.startswith("a NO") else "other"


def smtp(c, user, password):
    if not c.line().startswith("220"):
        return "other"
    c.send("EHLO protection.interop")
    while True:
        reply = c.line()
        if not reply.startswith("250-"):
            break
    if not reply.startswith("250"):
        return "other"
    token = base64.b64encode(("\0" + user + "\0" + password).encode("utf-8")).decode("ascii")
    c.send("AUTH PLAIN " + token)
    reply = c.line()
    if reply.startswith("235"):
        c.send("QUIT")
        return "ok"
    if gateway_refusal(reply):
        return "refused"
    if reply.startswith("454"):
        return "temporary"
    return "bad" if reply.startswith("535") else "other"


PROTOCOLS = {"pop3": pop3, "imap": imap, "smtp": smtp}


def login(proto, port, source, user, password):
    result = {"proto": proto, "port": port, "source": source, "user": user}
    try:
        c = Conversation(source, port)
    except (OSError, ssl.SSLError) as e:
        result.update(outcome="closed", detail=type(e).__name__)
        return result
    try:
        result["outcome"] = PROTOCOLS[proto](c, user, password)
    except EOFError as e:
        result["outcome"] = "closed"
        result["detail"] = str(e)
    except (OSError, ssl.SSLError) as e:
        result["outcome"] = "closed"
        result["detail"] = type(e).__name__
    finally:
        result["read"] = c.seen[-3:]
        c.close()
    return result


def spray(plan_file):
    with open(plan_file) as f:
        plan = [json.loads(line) for line in f if line.strip()]
    by_source = {}
    for a in plan:
        by_source.setdefault(a["source"], []).append(a)
    if len(by_source) > 64:
        raise SystemExit("at most 64 sources")
    lock = threading.Lock()

    def run(attempts):
        for a in attempts:
            r = login(a["proto"], a["port"], a["source"], a["user"], a["password"])
            with lock:
                print(json.dumps(r), flush=True)

    threads = [threading.Thread(target=run, args=(a,)) for a in by_source.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "login":
        print(json.dumps(login(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])))
    elif len(sys.argv) == 3 and sys.argv[1] == "spray":
        spray(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
