# Sourced by interop/run after bypass.sh: are the fuzz tests' server models right about the real servers?
#
# InspectorFuzzTest trusts SmtpServer.postfix(), Pop3Server.dovecot() and ImapServer.dovecot() to read what Postfix
# and Dovecot read. Here every client-direction input of the fuzz corpus (found-* included) goes both ways: to the
# model (ModelReading, from the test-jar: its commands, logins, messages and answers), and, byte for byte and in the
# same read sizes, straight to the real server (model_check.py: no gateway in between), which says what it read in
# its own logs: Postfix every line it read (debug_peer_list) and every SASL attempt, Dovecot every authentication
# request (auth_debug) and, in its login rawlog, every byte it read. The servers are the models' own instances (a
# third smtpd and a second Dovecot, see backends.sh), which offer CRAM-MD5 as the models do. The probes in
# model-probes/ (same format) go along: what the corpus does not reach of the models' corrections (transactions, BDAT,
# the error and bad-command limits, buffers, literals after rejected lines, AUTHENTICATE's initial response...).

MODELS_DIR="$T/models"
MODELS_CORPUS=proxy-core/src/test/resources/org/gatehouse/mail/InspectorFuzzTestInputs
MODELS_PROBES=interop/model-probes
declare -A MODELS_PORT=([smtp]=$MODELS_SMTP_PORT [pop3]=$MODELS_POP3_PORT [imap]=$MODELS_IMAP_PORT)
declare -A MODELS_FOLDER=([smtp]=smtpClient [pop3]=pop3Client [imap]=imapClient)
declare -A MODELS_NAME=([smtp]="SmtpServer.postfix()" [pop3]="Pop3Server.dovecot()" [imap]="ImapServer.dovecot()")
declare -A MODELS_SERVER=([smtp]=postfix [pop3]=dovecot [imap]=dovecot)
declare -A MODELS_LOG=([smtp]="$T/postfix.log" [pop3]="$T/dovecot-models.log" [imap]="$T/dovecot-models.log")

models_read() { # every input to its model, and to the real server; the comparisons are the checks below
  mkdir -p "$MODELS_DIR"
  local jar
  jar=$(ls proxy-core/target/proxy-core-*-tests.jar 2>/dev/null | head -1)
  if [ -z "$jar" ]; then
    echo "proxy-core's test-jar is missing (run: mvn -B -q package -DskipTests)" > "$MODELS_DIR/error"
    return
  fi
  java -cp "$jar" org.gatehouse.mail.reference.ModelReading "$MODELS_CORPUS"/{smtpClient,pop3Client,imapClient}/* \
    "$MODELS_PROBES"/{smtpClient,pop3Client,imapClient}/* > "$MODELS_DIR/models.jsonl" 2> "$MODELS_DIR/error" || return
  local login="$T/dovecot-models/run/login" proto
  for proto in pop3 imap; do
    mkdir -p "$login/rawlogs-$proto" && chown dovenull: "$login/rawlogs-$proto" && chmod 700 "$login/rawlogs-$proto"
  done
  # One session at a time, all protocols: Dovecot's authentication log, which Postfix's SASL shares, is then read
  # session by session.
  for proto in smtp pop3 imap; do
    local dovecot=()
    [ "$proto" != smtp ] && dovecot=(--rawlog "$login/rawlogs-$proto" --log "$T/dovecot-models.log")
    timeout 120 python3 interop/model_check.py send "$proto" "${MODELS_PORT[$proto]}" "$MODELS_DIR/models.jsonl" \
      "$MODELS_DIR/$proto.jsonl" "${dovecot[@]}" "$MODELS_CORPUS/${MODELS_FOLDER[$proto]}"/* \
      "$MODELS_PROBES/${MODELS_FOLDER[$proto]}"/* \
      > "$MODELS_DIR/$proto.send" 2>&1
  done
}

models_agree() { # PROTOCOL
  if [ -s "$MODELS_DIR/error" ]; then cat "$MODELS_DIR/error"; return 1; fi
  [ -s "$MODELS_DIR/$1.jsonl" ] || { echo "no session with the server:"; cat "$MODELS_DIR/$1.send"; return 1; }
  python3 interop/model_check.py compare "$1" "$MODELS_DIR/models.jsonl" "$MODELS_DIR/$1.jsonl" "${MODELS_LOG[$1]}" \
    > "$MODELS_DIR/$1.report"
  local status=$?
  grep -c '^ok ' "$MODELS_DIR/$1.report" | sed 's/$/ inputs read alike/'
  return $status
}

models_read
for proto in smtp pop3 imap; do
  count=$(ls "$MODELS_CORPUS/${MODELS_FOLDER[$proto]}" | wc -l)
  probes=$(ls "$MODELS_PROBES/${MODELS_FOLDER[$proto]}" | wc -l)
  check raw-socket "${MODELS_SERVER[$proto]}" model \
    "the fuzz model ${MODELS_NAME[$proto]} reads the $count ${MODELS_FOLDER[$proto]} inputs and $probes probes as ${MODELS_SERVER[$proto]} does" \
    models_agree "$proto"
done
for proto in smtp pop3 imap; do # a mismatch in full: the input, the model's reading and the server's
  if grep -q '^FAIL' "$MODELS_DIR/$proto.report" 2>/dev/null; then
    echo "      ---- ${MODELS_NAME[$proto]} against ${MODELS_SERVER[$proto]}: every mismatch"
    grep -v '^ok ' "$MODELS_DIR/$proto.report" | sed 's/^/      /'
  fi
done
