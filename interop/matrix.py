"""Writes docs/interop.md from interop/run's results (a TSV of client, server, mode, check, result)."""
import sys
from datetime import date

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
print("# Interoperability")
print()
print("What `bash interop/run` proves, regenerated from its output with `bash interop/run --update-docs`: real clients")
print("in front of Gatehouse, real legacy servers behind it (Dovecot for POP3 and IMAP, Postfix for SMTP with Dovecot")
print("SASL, dnsmasq for reverse DNS), everything on loopback, plaintext between Gatehouse and the servers. CI runs it")
print("after the tests.")
print()
print("| client | server | mode | check | result |")
print("| --- | --- | --- | --- | --- |")
for client, server, mode, check, result in rows:
    print(f"| {client} | {server} | {mode} | {check} | {'pass' if result == 'pass' else '**FAIL**'} |")
passed = sum(1 for r in rows if r[4] == "pass")
print()
print(f"{passed} of {len(rows)} checks passed on {date.today().isoformat()}.")
