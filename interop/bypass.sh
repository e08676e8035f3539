# Sourced by interop/run after checks.sh: "a login policy with no way around it" (issue 15), against the real servers.
#
# bypass_client.py sends each clear-text login form as exact bytes (on a STARTTLS rule before STARTTLS, in clear) and
# checks what comes back; then the backends' own logs are read from where they stood before the attempt. Dovecot logs
# every authentication request with its credentials (auth_debug_passwords) and Postfix every command it reads
# (debug_peer_list), so a password or user name the gateway let through would be there. Then SMTP smuggling: each
# end-of-data variant, refused (the default) or rewritten to CRLF (smtp.bareLineEndings: normalize), checked in
# Postfix's maildir and session statistics.

BYPASS=(python3 interop/bypass_client.py)
NORMALIZED_RULE=smtps-normalize

# Gateway ports by protocol and rule: STARTTLS secure-only, tls: none secure-only, STARTTLS audit.
declare -A STARTTLS_PORT=([smtp]=22587 [pop3]=22110 [imap]=22143)
declare -A NONE_PORT=([smtp]=22025 [pop3]=22120 [imap]=22153)
declare -A AUDIT_PORT=([smtp]=22588 [pop3]=22111 [imap]=22144)
declare -A AUDIT_RULE=([smtp]=smtp-audit [pop3]=pop3-audit [imap]=imap-audit)
declare -A BACKEND=([smtp]=postfix [pop3]=dovecot [imap]=dovecot)

log_mark() { # remembers where the logs end now; since FILE prints what was written after that
  declare -gA LOG_AT
  local f
  for f in dovecot postfix gatehouse; do LOG_AT[$f]=$(stat -c %s "$T/$f.log" 2>/dev/null || echo 0); done
}
since() { tail -c +$((${LOG_AT[$1]} + 1)) "$T/$1.log" 2>/dev/null; }

backend_session_ended() { # PROTOCOL: the backend logged the end of the session just made (bounded wait)
  local pattern file
  if [ "$1" = smtp ]; then file=postfix; pattern='smtpd\[[0-9]+\]: disconnect from '
  else file=dovecot; pattern="$1(-login)?(\(|:).*(Disconnected|Logged out)"
  fi
  for _ in $(seq 1 50); do
    since "$file" | grep -Eq "$pattern" && return 0
    sleep 0.1
  done
  echo "no end of the session in $file.log"; since "$file" | tail -5; return 1
}

no_credential_reached_backends() { # PROTOCOL: neither backend saw the user, the password or its base64 forms
  local secret found=0
  while read -r secret; do
    for f in dovecot postfix; do
      if since "$f" | grep -qF -- "$secret"; then
        echo "$f.log holds \"$secret\":"; since "$f" | grep -F -- "$secret" | head -5; found=1
      fi
    done
  done < <(printf '%s\n' "$BYPASS_USER"; "${BYPASS[@]}" secrets "$BYPASS_USER" "$BYPASS_PASSWORD")
  if since dovecot | grep -E "Login: |auth failed|passdb out: OK|Password mismatch|unknown user"; then
    echo "^ Dovecot authenticated someone during this attempt"; found=1
  fi
  if [ "$1" = smtp ]; then
    local stats; stats=$(since postfix | grep -E 'disconnect from ' | tail -1)
    echo "Postfix: ${stats#*: }"
    if grep -Eq ' (auth|unknown|mail)=' <<< "$stats"; then
      echo "^ Postfix read an AUTH, an unknown command (part of the form) or a MAIL"; found=1
    fi
  else
    since dovecot | grep -E -- "-login: .*(Disconnected|Aborted)" | tail -1
  fi
  [ "$found" = 0 ]
}

login_refused() { # PROTOCOL FORM PORT EXPECT: refused, closed, or data to both; nothing of it reaches a backend
  log_mark
  local ok=0
  "${BYPASS[@]}" login "$1" "$2" "$3" "$4" "$BYPASS_USER" "$BYPASS_PASSWORD" || ok=1
  # The backends' side is shown even when the client already saw something wrong: it is the evidence.
  backend_session_ended "$1" && no_credential_reached_backends "$1" || ok=1
  if since gatehouse | grep -E "event=plaintext-login action=audited"; then echo "^ recorded as audited"; ok=1; fi
  return $ok
}

login_recorded_if_made() { # PROTOCOL FORM PORT RULE: under audit, a login the backend saw is one the gateway recorded
  log_mark
  "${BYPASS[@]}" login "$1" "$2" "$3" any "$AUDIT_USER" "$AUDIT_PASSWORD" || return 1
  backend_session_ended "$1" || return 1
  if since dovecot | grep -E "Login: user=<$AUDIT_USER>" || since postfix | grep -E 'disconnect from .* auth=1'; then
    # Postfix's SASL login is Dovecot's too, and Dovecot's log may show it after Postfix's disconnect line: wait for
    # it here, or the next check would find it in its own part of the log
    for _ in $(seq 1 50); do
      [ "$1" != smtp ] || since dovecot | grep -qE "passdb out: OK.*user=$AUDIT_USER" && break
      sleep 0.1
    done
    since gatehouse | grep -E "event=plaintext-login action=audited rule=$4 " && return 0
    echo "^ the backend logged in a user the gateway did not record"; return 1
  fi
  echo "no login reached the backend"
}

login_audited() { # PROTOCOL FORM PORT RULE: forwarded to the backend, and recorded
  log_mark
  "${BYPASS[@]}" login "$1" "$2" "$3" forwarded "$AUDIT_USER" "$AUDIT_PASSWORD" || return 1
  for _ in $(seq 1 30); do
    if since gatehouse | grep -E "event=plaintext-login action=audited rule=$4 "; then return 0; fi
    sleep 0.1
  done
  echo "no audited login line for rule $4:"; since gatehouse | tail -5; return 1
}

# form | protocol | as written in the matrix | on secure-only rules | on the audit rule
BYPASS_FORMS=(
  "smtp-tab|smtp|AUTH<TAB>PLAIN <b64>|refused|forwarded"
  "smtp-leading-space|smtp|' AUTH PLAIN <b64>' (leading space)|refused|forwarded"
  "smtp-lower-case|smtp|auth plain <b64>|refused|forwarded"
  "smtp-spaces|smtp|AUTH   PLAIN   <b64>|refused|forwarded"
  "smtp-tab-before-response|smtp|AUTH PLAIN<TAB><b64>|refused|forwarded"
  "smtp-auth-equals|smtp|AUTH=PLAIN <b64>|refused|refused"
  "smtp-cr-only|smtp|NOOP<CR>AUTH PLAIN <b64> (CR-only)|closed|closed"
  "smtp-bdat|smtp|BDAT n + AUTH PLAIN <b64> in the chunk (CHUNKING offered by Postfix, not by the gateway)|closed|closed"
  "pop3-tab|pop3|USER<TAB>u, PASS<TAB>pw|refused|forwarded"
  "pop3-leading-space|pop3|' USER u', ' PASS pw' (leading space)|refused|forwarded"
  "pop3-lower-case|pop3|user u, pass pw|refused|forwarded"
  "pop3-longer-keyword|pop3|USERNAME u, PASSWORD pw|refused|refused"
  "pop3-auth-tab|pop3|AUTH<TAB>PLAIN <b64>|refused|forwarded"
  "pop3-cr-only|pop3|NOOP<CR>USER u, PASS pw (CR-only)|closed|closed"
  "imap-tab|imap|a<TAB>LOGIN u pw|refused|forwarded"
  "imap-leading-space|imap|' a LOGIN u pw' (leading space)|refused|forwarded"
  "imap-lower-case|imap|a login u pw|refused|forwarded"
  "imap-spaces|imap|a  LOGIN u pw|refused|forwarded"
  "imap-authenticate-tab|imap|a AUTHENTICATE<TAB>PLAIN <b64>|refused|forwarded"
  "imap-cr-only|imap|a NOOP<CR>h1 LOGIN u pw (CR-only)|closed|closed"
  "imap-literal-plus|imap|a NOOP {n+} + h1 LOGIN u pw in the literal (LITERAL+ offered by Dovecot, not by the gateway)|closed|closed"
  "imap-quoted-braces|imap|a NOOP \"x {n+} + h1 LOGIN u pw (ambiguous literal)|closed|closed"
  # The literal follows a line Dovecot rejects before it reaches the braces: Dovecot answers BAD, skips the line and
  # reads the literal as its next command (found by these checks). The gateway passes no unconfirmed literal.
  "imap-literal-after-tab|imap|a NOOP<TAB>{n+} + h1 LOGIN u pw in the literal|closed|closed"
  "imap-literal-after-spaces|imap|a  NOOP {n+} + h1 LOGIN u pw in the literal|closed|closed"
  "imap-literal-after-bad-tag|imap|a* NOOP {n+} + h1 LOGIN u pw in the literal|closed|closed"
)

outcome_words() { # EXPECT SERVER
  case $1 in
    refused) echo "refused, nothing reaches $2" ;;
    closed) echo "closed, nothing reaches $2" ;;
    data) echo "data to gateway and $2 alike, no login" ;;
    forwarded) echo "forwarded and recorded as audited" ;;
    no-login) echo "no login reaches $2" ;;
    recorded) echo "no login reaches $2 unrecorded" ;;
  esac
}

for entry in "${BYPASS_FORMS[@]}"; do
  IFS='|' read -r form proto written secure audit <<< "$entry"
  server=${BACKEND[$proto]}
  check raw-socket "$server" STARTTLS "bypass: $written: $(outcome_words "$secure" "$server")" \
    login_refused "$proto" "$form" "${STARTTLS_PORT[$proto]}" "$secure"
  check raw-socket "$server" "tls: none" "bypass: $written: $(outcome_words "$secure" "$server")" \
    login_refused "$proto" "$form" "${NONE_PORT[$proto]}" "$secure"
  if [ "$audit" = forwarded ]; then
    check raw-socket "$server" audit "bypass: $written: $(outcome_words forwarded "$server")" \
      login_audited "$proto" "$form" "${AUDIT_PORT[$proto]}" "${AUDIT_RULE[$proto]}"
  elif [ "$audit" = recorded ]; then
    check raw-socket "$server" audit "bypass: $written: $(outcome_words recorded "$server")" \
      login_recorded_if_made "$proto" "$form" "${AUDIT_PORT[$proto]}" "${AUDIT_RULE[$proto]}"
  else
    check raw-socket "$server" audit "bypass: $written: $(outcome_words "$audit" "$server")" \
      login_refused "$proto" "$form" "${AUDIT_PORT[$proto]}" "$audit"
  fi
done
check raw-socket postfix "tls: none" "bypass: BDAT n + AUTH PLAIN <b64> in the chunk, CHUNKING not offered: closed, nothing reaches postfix" \
  login_refused smtp smtp-bdat 22026 closed

# ---- SMTP smuggling ------------------------------------------------------------------------------------------------

postfix_session() { # the statistics of the SMTP session just ended, as Postfix logged them
  backend_session_ended smtp >/dev/null || { echo "Postfix logged no end of the session"; return 1; }
  since postfix | grep -E 'disconnect from ' | tail -1 | sed 's/.*disconnect from /Postfix: /'
}

smuggling_refused() { # PORT TLS ENDING [USER PASSWORD]: 554 5.6.0, the close, and nothing delivered
  local s="$MARK-smuggle-$3-$1"
  log_mark
  "${BYPASS[@]}" smuggle "$1" "$2" "$3" "$s-first" "$s-second" reject "${@:4}" || return 1
  local stats; stats=$(postfix_session) || return 1
  echo "$stats"
  grep -Eq ' mail=1 ' <<< "$stats" && grep -Eq ' data=0/1 ' <<< "$stats" \
    || { echo "^ expected one MAIL and an unfinished DATA"; return 1; }
  local mails; mails=$(since postfix | grep -cE ': < [^ ]+: MAIL FROM:')
  [ "$mails" = 1 ] || { echo "Postfix read $mails MAIL commands"; return 1; }
  sleep 1
  if grep -rlsF -e "Subject: $s-first" -e "Subject: $s-second" "$T/vmail"; then echo "^ delivered"; return 1; fi
  if since postfix | grep -E 'status=sent'; then echo "^ Postfix delivered a message meanwhile"; return 1; fi
}

smuggling_normalized() { # ENDING BARE-COUNT: both transactions are commands to gateway and Postfix alike
  local s="$MARK-normalize-$1"
  log_mark
  "${BYPASS[@]}" smuggle 22466 implicit "$1" "$s-first" "$s-second" normalize "$DEMO_USER" "$DEMO_PASSWORD" \
    || return 1
  delivered "$s-first" && delivered "$s-second" || return 1
  local stats; stats=$(postfix_session) || return 1
  echo "$stats"
  grep -Eq ' mail=2 ' <<< "$stats" && grep -Eq ' data=2 ' <<< "$stats" \
    || { echo "^ expected two MAIL and two DATA, each accepted"; return 1; }
  local first second
  first=$(grep -rlF "Subject: $s-first" "$T/vmail")
  second=$(grep -rlF "Subject: $s-second" "$T/vmail")
  [ "$first" != "$second" ] || { echo "one file for both messages: $first"; return 1; }
  if grep -q $'\r' "$first"; then echo "a CR reached the delivered first message:"; od -c "$first" | tail -5; return 1; fi
  if grep -qE 'MAIL FROM|smuggled' "$first"; then echo "the second transaction is in the first message:"; cat "$first"; return 1; fi
  [ "$(tail -1 "$first")" = "The first message." ] || { echo "the first message does not end where it should:"; tail -3 "$first"; return 1; }
  since gatehouse | grep -F "rewrote bare line endings to CRLF in a message rule=$NORMALIZED_RULE " \
    | grep -E "count=$2\"?\$" || { echo "no line saying $2 bare line endings were rewritten:"; since gatehouse | tail -3; return 1; }
}

declare -A BARE_COUNT=([lf-dot-lf]=2 [lf-dot-crlf]=1 [crlf-dot-lf]=1 [cr-dot-cr]=2 [cr-dot-lf]=2 [crlf-dot-cr]=1)
declare -A ENDING_WRITTEN=([lf-dot-lf]='<LF>.<LF>' [lf-dot-crlf]='<LF>.<CR><LF>' [crlf-dot-lf]='<CR><LF>.<LF>'
  [cr-dot-cr]='<CR>.<CR>' [cr-dot-lf]='<CR>.<LF>' [crlf-dot-cr]='<CR><LF>.<CR>')
for ending in lf-dot-lf lf-dot-crlf crlf-dot-lf cr-dot-cr cr-dot-lf crlf-dot-cr; do
  check raw-socket postfix implicit-TLS "smuggling: ${ENDING_WRITTEN[$ending]} + a second transaction: 554 5.6.0, neither delivered" \
    smuggling_refused 22465 implicit "$ending" "$DEMO_USER" "$DEMO_PASSWORD"
  check raw-socket postfix "tls: none" "smuggling: ${ENDING_WRITTEN[$ending]} + a second transaction: 554 5.6.0, neither delivered" \
    smuggling_refused 22025 none "$ending"
  check raw-socket postfix normalize "smuggling: ${ENDING_WRITTEN[$ending]} rewritten to CRLF: two transactions to both, both delivered" \
    smuggling_normalized "$ending" "${BARE_COUNT[$ending]}"
done

# ---- what the gateway counted and recorded -------------------------------------------------------------------------

bypass_metrics() {
  curl -s http://127.0.0.1:22102/metrics > "$T/metrics-bypass" || return 1
  value() { grep -E "^$1 " "$T/metrics-bypass" | awk '{print $2}'; }
  local smtps plain normalized
  smtps=$(value 'gatehouse_smtp_bare_line_endings_total\{action="rejected",rule="smtps",\}')
  plain=$(value 'gatehouse_smtp_bare_line_endings_total\{action="rejected",rule="smtp-plain",\}')
  normalized=$(value 'gatehouse_smtp_bare_line_endings_total\{action="normalized",rule="smtps-normalize",\}')
  echo "rejected: smtps=$smtps smtp-plain=$plain; normalized: smtps-normalize=$normalized"
  [ "${smtps%.*}" = 6 ] && [ "${plain%.*}" = 6 ] && [ "${normalized%.*}" = 6 ]
}

audit_report() { # gatehouse plaintext-logins lists the audited logins of every audit rule (saved every 10 s)
  local rule missing
  for _ in $(seq 1 8); do
    java -jar proxy-core/target/gatehouse.jar plaintext-logins --rules "$T/publishing-rules.yaml" > "$T/report" 2>&1
    missing=""
    for rule in pop3-audit imap-audit smtp-audit; do
      grep -Eq "^[^ ]+ +$rule +127\.0\.0\.1 .* audited " "$T/report" || missing="$missing $rule"
    done
    [ -z "$missing" ] && { grep -E "audited" "$T/report"; return 0; }
    sleep 2
  done
  echo "no audited entry for:$missing"; cat "$T/report"; return 1
}

check curl      gatehouse metrics "bare line endings counted: 6 refused per rule, 6 rewritten"  bypass_metrics
check gatehouse gatehouse audit   "plaintext-logins lists the audited bypass forms of every rule" audit_report
