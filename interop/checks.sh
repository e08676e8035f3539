# Sourced by interop/run after everything is started: the checks, each a function that exits 0 on success.
# Results are checked, not only exit codes: contents, hashes, delivered files, logs and metrics.

contains() { # FILE TEXT
  grep -qF -- "$2" "$1" || { echo "expected \"$2\" in output:"; head -c 3000 "$1"; return 1; }
}

delivered() { # SUBJECT: the message reached Postfix's maildir
  for _ in $(seq 1 50); do
    grep -rqsF -- "Subject: $1" "$T/vmail" && return 0
    sleep 0.2
  done
  echo "no message with subject \"$1\" in $T/vmail"; tail -5 "$T/postfix.log"; return 1
}

message_file() { # SUBJECT: a small message to send
  printf 'From: sender@example.test\r\nTo: demo@example.test\r\nSubject: %s\r\n\r\nSent through Gatehouse.\r\n' "$1" \
    > "$T/msg-$1.txt"
  echo "$T/msg-$1.txt"
}

curl_pop3s_retr() { "${CURL[@]}" "pop3s://127.0.0.1:22995/1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello through Gatehouse"; }
curl_pop3s_big() {
  "${CURL[@]}" "pop3s://127.0.0.1:22995/2" -u "$USERPASS" > "$T/big"
  local got; got=$(sha256sum < "$T/big" | cut -d' ' -f1)
  [ "$got" = "$BIG_SHA" ] || { echo "sha256 $got, expected $BIG_SHA ($(stat -c %s "$T/big") bytes)"; return 1; }
}
curl_imaps_fetch() {
  "${CURL[@]}" "imaps://127.0.0.1:22993/INBOX;MAILINDEX=1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello through Gatehouse"
}
curl_smtps_send() {
  local s="$MARK-curl-smtps"
  "${CURL[@]}" "smtps://127.0.0.1:22465" -u "$USERPASS" --mail-from sender@example.test --mail-rcpt "$DEMO_USER" \
    -T "$(message_file "$s")" && delivered "$s"
}
curl_starttls_pop3() { "${CURL[@]}" --ssl-reqd "pop3://127.0.0.1:22110/1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello"; }
curl_starttls_imap() {
  "${CURL[@]}" --ssl-reqd "imap://127.0.0.1:22143/INBOX;MAILINDEX=1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello"
}
curl_starttls_smtp() {
  local s="$MARK-curl-submission"
  "${CURL[@]}" --ssl-reqd "smtp://127.0.0.1:22587" -u "$USERPASS" --mail-from sender@example.test \
    --mail-rcpt "$DEMO_USER" -T "$(message_file "$s")" && delivered "$s"
}
swaks_smtps() {
  local s="$MARK-swaks-smtps"
  swaks --server 127.0.0.1:22465 --tlsc --auth PLAIN --auth-user "$DEMO_USER" --auth-password "$DEMO_PASSWORD" \
    --from sender@example.test --to "$DEMO_USER" --header "Subject: $s" --timeout 30 && delivered "$s"
}
swaks_starttls() {
  local s="$MARK-swaks-starttls"
  swaks --server 127.0.0.1:22587 --tls --auth LOGIN --auth-user "$DEMO_USER" --auth-password "$DEMO_PASSWORD" \
    --from sender@example.test --to "$DEMO_USER" --header "Subject: $s" --timeout 30 && delivered "$s"
}
openssl_starttls() { # PROTOCOL PORT EXPECTED GOODBYE (s_client -crlf adds the CR)
  printf '%s\n' "$4" | timeout 30 openssl s_client -ign_eof -crlf -starttls "$1" -connect "127.0.0.1:$2" > "$T/o" 2>&1
  contains "$T/o" "New, TLSv1.3" && contains "$T/o" "$3"
}
python_clients() {
  python3 - "$DEMO_USER" "$DEMO_PASSWORD" "$MARK-python" <<'PY'
import imaplib, poplib, smtplib, ssl, sys
user, password, mark = sys.argv[1:4]
ctx = ssl._create_unverified_context()
p = poplib.POP3_SSL("127.0.0.1", 22995, context=ctx, timeout=30); p.user(user); p.pass_(password)
assert b"Subject: hello through Gatehouse" in b"\n".join(p.retr(1)[1]); p.quit()
p = poplib.POP3("127.0.0.1", 22110, timeout=30); p.stls(context=ctx); p.user(user); p.pass_(password); p.quit()
i = imaplib.IMAP4_SSL("127.0.0.1", 22993, ssl_context=ctx, timeout=30); i.login(user, password); i.select("INBOX")
typ, data = i.fetch("1", "(RFC822)"); assert b"hello through Gatehouse" in data[0][1]; i.logout()
i = imaplib.IMAP4("127.0.0.1", 22143, timeout=30); i.starttls(ssl_context=ctx); i.login(user, password); i.logout()
s = smtplib.SMTP_SSL("127.0.0.1", 22465, context=ctx, timeout=30); s.login(user, password)
s.sendmail("sender@example.test", [user], "Subject: %s-smtps\r\n\r\nfrom smtplib\r\n" % mark); s.quit()
s = smtplib.SMTP("127.0.0.1", 22587, timeout=30); s.starttls(context=ctx); s.login(user, password)
s.sendmail("sender@example.test", [user], "Subject: %s-submission\r\n\r\nfrom smtplib\r\n" % mark); s.quit()
print("python clients ok")
PY
  delivered "$MARK-python-smtps" && delivered "$MARK-python-submission"
}
fetchmail_pop3s() {
  local rc="$T/fetchmailrc"
  printf 'poll 127.0.0.1 service 22995 protocol pop3 user "%s" password "%s" ssl no sslcertck keep mda "cat >> %s"\n' \
    "$DEMO_USER" "$DEMO_PASSWORD" "$T/fetched" > "$rc"
  chmod 600 "$rc"
  FETCHMAILHOME="$T" timeout 120 fetchmail -f "$rc" --nosyslog --nodetach --fetchall --limit 1000000 > "$T/o" 2>&1
  local status=$?
  [ "$status" = 0 ] || [ "$status" = 1 ] || { cat "$T/o"; return 1; } # 1: no (more) mail
  contains "$T/fetched" "Subject: hello through Gatehouse"
}
plaintext_refused_and_never_forwarded() {
  local leak="leak-check-$RANDOM@example.test"
  python3 - "$leak" <<'PY' || return 1
import poplib, sys
p = poplib.POP3("127.0.0.1", 22110, timeout=30)
try:
    p.user(sys.argv[1]); p.pass_("must-not-reach-dovecot")
    print("a clear-text login was accepted"); sys.exit(1)
except poplib.error_proto as e:
    print("refused:", e)
    assert b"[AUTH]" in e.args[0], e
PY
  if grep -qF "$leak" "$T/dovecot.log"; then echo "Dovecot saw the refused user $leak:"; grep -F "$leak" "$T/dovecot.log"; return 1; fi
  grep -q "event=plaintext-login action=refused" "$T/gatehouse.log" || { echo "no refused-login log line"; return 1; }
}
audit_logs_plaintext_login() {
  python3 - "$DEMO_USER" "$DEMO_PASSWORD" <<'PY' || return 1
import poplib, sys
p = poplib.POP3("127.0.0.1", 22111, timeout=30); p.user(sys.argv[1]); p.pass_(sys.argv[2]); p.quit()
PY
  for _ in $(seq 1 20); do
    grep -q "event=plaintext-login action=audited rule=pop3-audit" "$T/gatehouse.log" && return 0
    sleep 0.2
  done
  echo "no audit line"; return 1
}
partner_admitted() {
  "${CURL[@]}" --interface 127.0.0.2 "pop3s://127.0.0.1:22996/1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello"
}
partner_v6_admitted() {
  "${CURL[@]}" -6 "pop3s://[::1]:22996/1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello" || return 1
  for _ in $(seq 1 20); do
    grep -q "rule=partners client=\[::1\]:[0-9]* rdns=verified name=v6.partner.example" "$T/gatehouse.log" && return 0
    sleep 0.2
  done
  echo "no access line with the verified IPv6 name"; grep partners "$T/gatehouse.log" | tail -3; return 1
}
stranger_refused() {
  if "${CURL[@]}" --interface 127.0.0.3 "pop3s://127.0.0.1:22996/1" -u "$USERPASS" > "$T/o" 2>&1; then
    echo "a client without a verified partner name got in"; return 1
  fi
  for _ in $(seq 1 20); do
    grep -q "rule=partners client=127.0.0.3:[0-9]* rdns=nxdomain .*outcome=denied" "$T/gatehouse.log" && return 0
    sleep 0.2
  done
  echo "no access line for the refused client"; grep partners "$T/gatehouse.log" | tail -3; return 1
}
sslscan_clean() { # sslscan options...
  timeout 180 sslscan --no-colour --no-heartbleed "$@" > "$T/o" 2>&1 || { cat "$T/o"; return 1; }
  grep -Eq "^(Preferred|Accepted) " "$T/o" || { echo "nothing accepted?"; cat "$T/o"; return 1; }
  if grep -E "^(Preferred|Accepted) " "$T/o" | grep -Ev "TLSv1\.[23] .*(GCM|CHACHA20|TLS_AES)"; then
    echo "^ accepted outside TLS 1.2/1.3 AEAD"; return 1
  fi
  grep -Eq "SSLv3 +disabled" "$T/o" && grep -Eq "TLSv1\.0 +disabled" "$T/o" && grep -Eq "TLSv1\.1 +disabled" "$T/o" \
    || { echo "an old version is enabled:"; grep -E "SSLv|TLSv1\.[01] " "$T/o"; return 1; }
}
metrics_check() {
  curl -s http://127.0.0.1:22102/metrics > "$T/metrics" || return 1
  promtool check metrics < "$T/metrics" || return 1
  value() { grep -E "^$1 " "$T/metrics" | awk '{print $2}'; }
  local refused audited partners
  refused=$(value 'gatehouse_logins_plaintext_total\{action="refused",rule="pop3",\}')
  audited=$(value 'gatehouse_logins_plaintext_total\{action="audited",rule="pop3-audit",\}')
  partners=$(value 'gatehouse_connections_rejected_total\{reason="not-allowed",rule="partners",\}')
  echo "refused=$refused audited=$audited partners-not-allowed=$partners"
  [ "${refused%.*}" -ge 1 ] && [ "${audited%.*}" = 1 ] && [ "${partners%.*}" = 1 ]
}

check curl         dovecot implicit-TLS  "POP3S RETR"                       curl_pop3s_retr
check curl         dovecot implicit-TLS  "POP3S RETR of 20 MB, byte-exact"  curl_pop3s_big
check curl         dovecot implicit-TLS  "IMAPS FETCH"                      curl_imaps_fetch
check curl         postfix implicit-TLS  "SMTPS AUTH and delivery"          curl_smtps_send
check curl         dovecot STARTTLS      "POP3 STLS (--ssl-reqd)"           curl_starttls_pop3
check curl         dovecot STARTTLS      "IMAP STARTTLS (--ssl-reqd)"       curl_starttls_imap
check curl         postfix STARTTLS      "SMTP STARTTLS AUTH and delivery"  curl_starttls_smtp
check swaks        postfix implicit-TLS  "SMTPS AUTH PLAIN and delivery"    swaks_smtps
check swaks        postfix STARTTLS      "STARTTLS AUTH LOGIN and delivery" swaks_starttls
check openssl      dovecot STARTTLS      "s_client -starttls pop3"          openssl_starttls pop3 22110 "+OK Logging out" QUIT
check openssl      dovecot STARTTLS      "s_client -starttls imap"          openssl_starttls imap 22143 "a OK Logout" "a LOGOUT"
check openssl      postfix STARTTLS      "s_client -starttls smtp"          openssl_starttls smtp 22587 "221 2.0.0" QUIT
check python       "dovecot+postfix" "both" "poplib, imaplib, smtplib (SSL and STARTTLS)" python_clients
check fetchmail    dovecot implicit-TLS  "POP3S fetch"                      fetchmail_pop3s
check python       dovecot secure-only   "clear-text login refused, never reaches Dovecot" plaintext_refused_and_never_forwarded
check python       dovecot audit         "clear-text login passes and is logged" audit_logs_plaintext_login
check curl         dovecot domain-rule   "client.partner.example (127.0.0.2) admitted" partner_admitted
check curl         dovecot domain-rule   "::1 (v6.partner.example, by AAAA) admitted" partner_v6_admitted
check curl         dovecot domain-rule   "127.0.0.3 without a name refused" stranger_refused
check sslscan      gatehouse implicit-TLS "POP3S: TLS 1.2/1.3 AEAD only"    sslscan_clean 127.0.0.1:22995
check sslscan      gatehouse implicit-TLS "IMAPS: TLS 1.2/1.3 AEAD only"    sslscan_clean 127.0.0.1:22993
check sslscan      gatehouse implicit-TLS "SMTPS: TLS 1.2/1.3 AEAD only"    sslscan_clean 127.0.0.1:22465
check sslscan      gatehouse STARTTLS     "POP3 STLS: TLS 1.2/1.3 AEAD only" sslscan_clean --starttls-pop3 127.0.0.1:22110
check sslscan      gatehouse STARTTLS     "IMAP: TLS 1.2/1.3 AEAD only"     sslscan_clean --starttls-imap 127.0.0.1:22143
check sslscan      gatehouse STARTTLS     "submission: TLS 1.2/1.3 AEAD only" sslscan_clean --starttls-smtp 127.0.0.1:22587
check promtool     gatehouse metrics      "/metrics valid, counters match the run" metrics_check
