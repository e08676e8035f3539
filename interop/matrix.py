"""Writes docs/interop.md from interop/run's results (a TSV of client, server, mode, check, result)."""
import re
import sys
from datetime import date


def md(text):
    """A table cell as written: no HTML from "<b64>", no emphasis from "a*", runs of spaces kept."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|").replace("`", "\\`")
    return re.sub(r"  +", lambda m: " " + "&nbsp;" * (len(m.group()) - 1), text)


rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print("# Interoperability")
print()
print("What `bash interop/run` proves, regenerated from its output with `bash interop/run --update-docs`: real clients")
print("in front of Gatehouse, real legacy servers behind it (Dovecot for POP3 and IMAP, Postfix for SMTP with Dovecot")
print("SASL, dnsmasq for reverse DNS), everything on loopback, plaintext between Gatehouse and the servers. CI runs it")
print("after the tests.")
print()
print("The `raw-socket` rows are attacks on the login policy and on message framing, described in")
print("[interop/README.md](../interop/README.md#the-login-bypass-and-smuggling-checks-bypasssh): each clear-text login")
print("form sent in clear to STARTTLS, `tls: none` and audit rules, checked in the client's answers and in Dovecot's and")
print("Postfix's own logs, and SMTP smuggling with every end-of-data variant. The `model` rows check the fuzz tests'")
print("server models against Postfix and Dovecot with the fuzz corpus, no gateway in between")
print("([interop/README.md](../interop/README.md#the-model-checks-modelssh)). The `protection` rows are account")
print("protection against Dovecot and Postfix behind three more gateways, two of them sharing a redis-server")
print("([interop/README.md](../interop/README.md#the-account-protection-checks-protectionsh)).")
print()
print("| client | server | mode | check | result |")
print("| --- | --- | --- | --- | --- |")
for client, server, mode, check, result in rows:
    print(f"| {md(client)} | {md(server)} | {md(mode)} | {md(check)} | {'pass' if result == 'pass' else '**FAIL**'} |")
passed = sum(1 for r in rows if r[4] == "pass")
print()
print(f"{passed} of {len(rows)} checks passed on {date.today().isoformat()}.")
