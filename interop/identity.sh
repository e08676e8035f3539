# Sourced by interop/run: the client's real address reaches servers that read neither the PROXY protocol nor
# transparent connections, in their own protocols (rules with clientIdentity, see publishing-rules.yaml). Clients
# connect from 127.0.0.77; the servers' own logs must show 127.0.0.77, never the gateway's 127.0.0.1.

IDENTITY_CLIENT=127.0.0.77

log_shows() { # FILE TEXT: TEXT appears in FILE within 30 s (servers write their logs a moment after the fact)
  for _ in $(seq 1 150); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "expected \"$2\" in $1:"; tail -20 "$1"; return 1
}

xclient_postfix() {
  local s="$MARK-xclient"
  swaks --server 127.0.0.1:22027 --local-interface "$IDENTITY_CLIENT" --ehlo client.example.test \
    --from sender@example.test --to "$DEMO_USER" --header "Subject: $s" --timeout 30 > "$T/o" 2>&1 \
    || { cat "$T/o"; return 1; }
  delivered "$s" || return 1
  # What Postfix itself logged for the session and recorded in the message: the client's address and port.
  log_shows "$T/postfix.log" "postfix-xclient/smtpd" || return 1
  grep -E "postfix-xclient/smtpd.*client=unknown\[$IDENTITY_CLIENT\]:[0-9]+" "$T/postfix.log" \
    || { echo "no client=unknown[$IDENTITY_CLIENT] in Postfix's log:"; grep postfix-xclient "$T/postfix.log" | tail; return 1; }
  grep -rlF -- "Subject: $s" "$T/vmail" | xargs grep -F "[$IDENTITY_CLIENT]" \
    || { echo "the Received header does not name $IDENTITY_CLIENT"; return 1; }
  # The client saw one greeting, and no XCLIENT in its EHLO's answer (offered to the gateway only).
  [ "$(grep -c '^<-  220 ' "$T/o")" = 1 ] || { echo "the client did not see exactly one greeting:"; cat "$T/o"; return 1; }
  ! grep -q '^<-  250.XCLIENT' "$T/o" || { echo "XCLIENT was shown to the client:"; cat "$T/o"; return 1; }
}

xclient_dovecot_pop3() {
  python3 - "$DEMO_USER" "$DEMO_PASSWORD" "$IDENTITY_CLIENT" <<'PY' || return 1
import poplib, socket, ssl, sys
user, password, source = sys.argv[1:4]
class From(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
        return self.context.wrap_socket(s, server_hostname=self.host)
p = From("127.0.0.1", 22997, context=ssl._create_unverified_context(), timeout=30)
assert p.getwelcome().startswith(b"+OK"), p.getwelcome()
p.user(user); p.pass_(password)
assert p.stat()[0] >= 1
p.quit()
print("pop3 from", source, "ok")
PY
  log_shows "$T/dovecot-identity.log" "pop3-login: Info: Login: user=<$DEMO_USER>" || return 1
  grep -E "pop3-login: Info: Login: user=<$DEMO_USER>.* rip=$IDENTITY_CLIENT, lip=127.0.0.1" "$T/dovecot-identity.log" \
    || { echo "Dovecot did not log rip=$IDENTITY_CLIENT:"; tail -5 "$T/dovecot-identity.log"; return 1; }
}

id_dovecot_imap() {
  python3 - "$DEMO_USER" "$DEMO_PASSWORD" "$IDENTITY_CLIENT" <<'PY' || return 1
import imaplib, socket, ssl, sys
user, password, source = sys.argv[1:4]
class From(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
        return self.ssl_context.wrap_socket(s, server_hostname=self.host)
i = From("127.0.0.1", 22994, ssl_context=ssl._create_unverified_context(), timeout=30)
assert i.welcome.startswith(b"* OK"), i.welcome
i.login(user, password); i.select("INBOX"); i.logout()
print("imap from", source, "ok")
PY
  log_shows "$T/dovecot-identity.log" "imap-login: Info: Login: user=<$DEMO_USER>" || return 1
  grep -E "imap-login: Info: Login: user=<$DEMO_USER>.* rip=$IDENTITY_CLIENT, lip=127.0.0.1" "$T/dovecot-identity.log" \
    || { echo "Dovecot did not log rip=$IDENTITY_CLIENT:"; tail -5 "$T/dovecot-identity.log"; return 1; }
}

xclient_not_offered() {
  # Postfix offers XCLIENT only to smtpd_authorized_xclient_hosts: the main smtpd does not, and the session goes on.
  local s="$MARK-xclient-untrusted"
  swaks --server 127.0.0.1:22028 --local-interface "$IDENTITY_CLIENT" --from sender@example.test --to "$DEMO_USER" \
    --header "Subject: $s" --timeout 30 > "$T/o" 2>&1 || { cat "$T/o"; return 1; }
  delivered "$s" || return 1
  log_shows "$T/gatehouse.log" "does not offer the client's address rule=smtp-xclient-untrusted" || return 1
  curl -sS --max-time 10 http://127.0.0.1:22102/metrics > "$T/metrics-identity" || return 1
  grep -E '^gatehouse_backend_client_identity_total\{.*result="not-offered".*rule="smtp-xclient-untrusted".*\} [1-9]' \
    "$T/metrics-identity" || { grep client_identity "$T/metrics-identity"; return 1; }
}

check swaks  postfix identity "XCLIENT: Postfix logs the client's 127.0.0.77, not the gateway" xclient_postfix
check python dovecot identity "POP3 XCLIENT: Dovecot logs rip=127.0.0.77" xclient_dovecot_pop3
check python dovecot identity "IMAP ID: Dovecot logs rip=127.0.0.77" id_dovecot_imap
check swaks  postfix identity "no XCLIENT offered: the session goes on, logged and counted" xclient_not_offered
