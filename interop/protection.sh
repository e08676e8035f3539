# Sourced by interop/run after the other checks: account protection (issue 17) with the real Dovecot and Postfix behind
# the gateway. Three more gateways, each with its own rules and state: A keeps its state embedded (saved in its
# stateDir), B and C share one real redis-server. Their backends are the Dovecot and Postfix listeners that read the
# gateway's PROXY header (backends.sh), so the servers' own logs name the real client addresses, and Dovecot's own
# per-address penalty applies to each attacker rather than to the gateway. Short windows and blocks keep this under
# two minutes: a window of 2 minutes, blocks of 60 s, an address prot_blocked at 3 distinct users (or 6 failures), a user
# blocked for unfamiliar addresses at lockoutThreshold 5 - 2 = 3 of their failures.
#
# protection_client.py makes each login over implicit TLS from a chosen 127.0.0.x address and says what came of it:
# ok, bad (the server's bad-credentials answer), temporary (the server's temporary failure), refused (the gateway's
# "Too many failed logins"), closed (refused before TLS).

PROT=(python3 interop/protection_client.py)
SPRAY_PASSWORD="spray-$RANDOM$RANDOM-Winter2026"
PROT_BLOCK_SECONDS=60
declare -A PROT_ADMIN=([a]=23102 [b]=24102 [c]=25102)
declare -A PROT_IMAPS=([a]=23993 [b]=24993 [c]=25993)
declare -A PROT_POP3S=([a]=23995 [b]=24995 [c]=25995)
declare -A PROT_SMTPS=([a]=23465 [b]=24465 [c]=25465)

prot_rules() { # NAME STORE-YAML: the rules file of gateway NAME
  local n=$1 dir="$T/prot-$1"
  mkdir -p "$dir"
  cat > "$dir/rules.yaml" <<YAML
stateDir: $dir/state
admin: { listen: "127.0.0.1:${PROT_ADMIN[$n]}" }
certificates:
  interop: { selfSigned: [mail.example.test, 127.0.0.1] }
protection:
  window: 2m
  blockDuration: ${PROT_BLOCK_SECONDS}s
  addressFailures: 6
  addressUsers: 3
  lockoutThreshold: 5
  tarpit: { initialDelay: 200ms, maxDelay: 800ms }
$2
rules:
  - { name: imaps, listen: ["127.0.0.1:${PROT_IMAPS[$n]}"], protocol: imap, certificate: interop,
      backend: { servers: ["127.0.0.1:$PROXIED_IMAP_PORT"], sendProxyProtocol: v2 } }
  - { name: pop3s, listen: ["127.0.0.1:${PROT_POP3S[$n]}"], protocol: pop3, certificate: interop,
      backend: { servers: ["127.0.0.1:$PROXIED_POP3_PORT"], sendProxyProtocol: v2 } }
  - { name: smtps, listen: ["127.0.0.1:${PROT_SMTPS[$n]}"], protocol: smtp, certificate: interop,
      backend: { servers: ["127.0.0.1:$PROXIED_SMTP_PORT"], sendProxyProtocol: v2 } }
YAML
}

prot_start() { # NAME: starts gateway NAME on its rules (its log appended to, across restarts)
  java -Xmx256m -jar proxy-core/target/gatehouse.jar run --rules "$T/prot-$1/rules.yaml" >> "$T/prot-$1.log" 2>&1 &
  echo $! > "$T/prot-$1.pid"
  echo $! >> "$T/pids"
}

prot_started() { # NAME: waits (up to 60 s) for its Nth "started" line, N = how many times it was started
  local want; want=$(wc -l < "$T/prot-$1.starts")
  for _ in $(seq 1 300); do
    [ "$(grep -c 'started: SIGHUP reloads' "$T/prot-$1.log" 2>/dev/null)" -ge "$want" ] && return 0
    kill -0 "$(cat "$T/prot-$1.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "gateway $1 did not start:"; tail -20 "$T/prot-$1.log"; return 1
}

prot_login() { # NAME PROTO SOURCE USER PASSWORD: prints the outcome word (the whole answer in $T/prot-last.json)
  local port
  case $2 in imap) port=${PROT_IMAPS[$1]} ;; pop3) port=${PROT_POP3S[$1]} ;; smtp) port=${PROT_SMTPS[$1]} ;; esac
  "${PROT[@]}" login "$2" "$port" "$3" "$4" "$5" > "$T/prot-last.json"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outcome"])' "$T/prot-last.json"
}

expect_login() { # WANT NAME PROTO SOURCE USER PASSWORD
  local want=$1 got
  shift
  got=$(prot_login "$@")
  if [ "$got" != "$want" ]; then
    echo "gateway $1, $2 from $3 as $4: $got, expected $want: $(cat "$T/prot-last.json")"; return 1
  fi
  echo "gateway $1, $2 from $3 as $4: $got"
}

prot_blocks() { curl -sS --max-time 10 "http://127.0.0.1:${PROT_ADMIN[$1]}/blocks"; } # NAME

prot_blocked() { # NAME KIND KEY: the gateway's block list has it (waits up to 5 s: replicas mirror each second)
  for _ in $(seq 1 25); do
    prot_blocks "$1" | awk -F'\t' -v k="$2" -v key="$3" '$1 == k && $2 == key { found = 1 } END { exit !found }' \
      && return 0
    sleep 0.2
  done
  echo "gateway $1 does not list the $2 block $3:"; prot_blocks "$1"; return 1
}

prot_metric() { # NAME PATTERN: the sum of the gateway's samples whose line matches PATTERN
  curl -sS --max-time 10 "http://127.0.0.1:${PROT_ADMIN[$1]}/metrics" | grep -E "^$2" \
    | awk '{ s += $2 } END { printf "%d\n", s }'
}

dovecot_mark() { PROT_DOVECOT_AT=$(stat -c %s "$T/dovecot.log"); PROT_POSTFIX_AT=$(stat -c %s "$T/postfix.log"); }
dovecot_since() { tail -c +$((PROT_DOVECOT_AT + 1)) "$T/dovecot.log"; }
postfix_since() { tail -c +$((PROT_POSTFIX_AT + 1)) "$T/postfix.log"; }

# ---- the checks ----------------------------------------------------------------------------------------------------

spray_blocked_real_user_kept() {
  expect_login ok a imap 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" || return 1 # a place it logged in from before
  dovecot_mark
  # 24 addresses, 4 logins each, over the three protocols; every address tries the victim once, and three decoys.
  python3 - "$T/prot-plan.jsonl" "$VICTIM_USER" "$SPRAY_PASSWORD" "${PROT_IMAPS[a]}" "${PROT_POP3S[a]}" \
      "${PROT_SMTPS[a]}" <<'PY'
import json, sys
out, victim, password = sys.argv[1:4]
ports = {"imap": int(sys.argv[4]), "pop3": int(sys.argv[5]), "smtp": int(sys.argv[6])}
protos = ["imap", "pop3", "smtp"]
with open(out, "w") as f:
    for i in range(24):
        users = ["decoy%02d@example.test" % ((i * 3 + k) % 20) for k in range(3)]
        users.insert(i % 3, victim)  # the victim first, second or third: never the fourth, which must be closed
        for j, user in enumerate(users):
            proto = protos[(i + j) % 3]
            f.write(json.dumps({"source": "127.0.0.%d" % (101 + i), "proto": proto, "port": ports[proto],
                                "user": user, "password": password}) + "\n")
PY
  timeout 300 "${PROT[@]}" spray "$T/prot-plan.jsonl" > "$T/prot-spray.jsonl" || { echo "the spray did not finish"; return 1; }
  python3 - "$T/prot-spray.jsonl" "$VICTIM_USER" <<'PY' || return 1
import collections, json, sys
results = [json.loads(l) for l in open(sys.argv[1])]
victim = sys.argv[2]
outcomes = collections.Counter(r["outcome"] for r in results)
print("spray: %d logins from %d addresses: %s" % (len(results), len({r["source"] for r in results}), dict(outcomes)))
v = collections.Counter(r["outcome"] for r in results if r["user"] == victim)
print("the victim's logins from unfamiliar addresses:", dict(v))
ok = len(results) == 96 and outcomes["ok"] == 0 and outcomes["other"] == 0
# each address's fourth login comes after failures for three distinct users: refused before TLS
fourth = collections.Counter()
by_source = collections.defaultdict(list)
for r in results:
    by_source[r["source"]].append(r)
for rs in by_source.values():
    fourth[rs[3]["outcome"]] += 1
print("each address's fourth login:", dict(fourth))
ok = ok and fourth == collections.Counter(closed=24)
ok = ok and v["bad"] <= 3 and v["ok"] == 0
sys.exit(0 if ok else 1)
PY
  local failures
  sleep 1
  failures=$(dovecot_since | grep -c "passwd-file($VICTIM_USER,.*Password mismatch")
  echo "Dovecot's own failures for $VICTIM_USER during the spray: $failures (lockoutThreshold 5)"
  [ "$failures" -ge 1 ] && [ "$failures" -lt 5 ] || return 1
  echo "Postfix's SASL failures during the spray: $(postfix_since | grep -c 'SASL PLAIN authentication failed')" \
    "($(postfix_since | grep 'SASL PLAIN authentication failed' | grep -c "sasl_username=$VICTIM_USER") for $VICTIM_USER)"
  for i in $(seq 101 124); do prot_blocked a address "127.0.0.$i" > /dev/null || { prot_blocked a address "127.0.0.$i"; return 1; }; done
  prot_blocked a user "$VICTIM_USER" || return 1
  PROT_EXPIRES=$(prot_blocks a | awk -F'\t' '$1 == "address" && $2 == "127.0.0.104" { print $6 }')
  echo "gateway a lists $(prot_blocks a | grep -c '^address') address blocks and the user block"
  # the real user from where it logged in before: in, over each protocol; from a new address: refused, not forwarded
  expect_login ok a imap 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login ok a pop3 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login ok a smtp 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login refused a imap 127.0.0.51 "$VICTIM_USER" "$VICTIM_PASSWORD" || return 1
  if dovecot_since | grep -F "$VICTIM_USER,127.0.0.51"; then echo "^ Dovecot saw the refused login from 127.0.0.51"; return 1; fi
  echo "blocks $(prot_metric a 'gatehouse_protection_blocks_total') tarpitted $(prot_metric a 'gatehouse_protection_tarpitted_total')" \
    "bad-credentials $(prot_metric a 'gatehouse_logins_total\{.*result="bad-credentials"')" \
    "refused $(prot_metric a 'gatehouse_logins_total\{.*result="refused"')"
  [ "$(prot_metric a 'gatehouse_protection_blocks_total')" -ge 25 ] && [ "$(prot_metric a 'gatehouse_protection_tarpitted_total')" -ge 1 ] \
    && [ "$(prot_metric a 'gatehouse_protection_blocks_active\{kind="address"')" -ge 24 ] \
    && grep -q "logger=protection event=block kind=address client=127.0.0.101 rule=" "$T/prot-a.log"
}

temporary_failures_never_count() {
  # From one address, at once, more logins than addressFailures for more users than addressUsers, each answered with
  # the server's temporary failure: two SMTP logins whose password database does not answer (Postfix gives up after
  # 10 s: 454), and eight IMAP and POP3 logins whose database is down ([UNAVAILABLE], [SYS/TEMP]). None counts.
  local i proto user pids=() n
  dovecot_mark
  for i in $(seq 0 9); do
    case $i in 8 | 9) proto=smtp; user="slow$i@example.test" ;;
      *) proto=$([ $((i % 2)) = 0 ] && echo imap || echo pop3); user="unavailable$((i % 6))@example.test" ;;
    esac
    local port=${PROT_IMAPS[a]}
    [ "$proto" = pop3 ] && port=${PROT_POP3S[a]}
    [ "$proto" = smtp ] && port=${PROT_SMTPS[a]}
    "${PROT[@]}" login "$proto" "$port" 127.0.0.60 "$user" "$SPRAY_PASSWORD" > "$T/prot-temp$i.json" &
    pids+=($!)
  done
  wait "${pids[@]}"
  cat "$T"/prot-temp*.json
  n=$(cat "$T"/prot-temp*.json | grep -c '"outcome": "temporary"')
  [ "$n" = 10 ] || { echo "expected the server's temporary failure 10 times, got it $n times"; return 1; }
  echo "Dovecot: $(dovecot_since | grep -c 'exited with status 111') temporary failures of the password database;" \
    "Postfix: $(postfix_since | grep -c 'authentication failed: Connection lost to authentication server') lost answers"
  if prot_blocks a | grep -E "127\.0\.0\.60|unavailable|slow"; then echo "^ blocked for temporary failures"; return 1; fi
  echo "temporary-failure logins counted: $(prot_metric a 'gatehouse_logins_total\{.*result="temporary-failure"')"
  [ "$(prot_metric a 'gatehouse_logins_total\{.*result="temporary-failure"')" -ge 10 ] || return 1
  expect_login ok a imap 127.0.0.60 "$DEMO_USER" "$DEMO_PASSWORD"
}

blocks_survive_reload_and_restart() {
  kill -HUP "$(cat "$T/prot-a.pid")"
  for _ in $(seq 1 50); do grep -q "reloaded trigger=" "$T/prot-a.log" && break; sleep 0.2; done
  grep -q "reloaded trigger=" "$T/prot-a.log" || { echo "no reload line"; tail -5 "$T/prot-a.log"; return 1; }
  echo "reloaded (SIGHUP)"
  prot_blocked a address 127.0.0.102 && prot_blocked a user "$VICTIM_USER" \
    && expect_login closed a imap 127.0.0.102 decoy00@example.test "$SPRAY_PASSWORD" \
    && expect_login ok a imap 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" || return 1
  local pid; pid=$(cat "$T/prot-a.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { echo "gateway a did not stop"; return 1; }
  echo "stopped (SIGTERM); saved state: $(wc -l < "$T/prot-a/state/account-protection.tsv") lines"
  if grep -F -e "$SPRAY_PASSWORD" -e "$VICTIM_PASSWORD" "$T/prot-a/state/account-protection.tsv"; then
    echo "^ a password in the saved state"; return 1
  fi
  echo start >> "$T/prot-a.starts"
  prot_start a && prot_started a || return 1
  echo "restarted"
  prot_blocked a address 127.0.0.103 && prot_blocked a user "$VICTIM_USER" \
    && expect_login closed a pop3 127.0.0.103 decoy01@example.test "$SPRAY_PASSWORD" \
    && expect_login ok a pop3 127.0.0.50 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login refused a pop3 127.0.0.52 "$VICTIM_USER" "$VICTIM_PASSWORD"
}

blocks_expire() {
  local until=${PROT_EXPIRES:-}
  [ -n "$until" ] || { echo "the spray check found no block for 127.0.0.104"; return 1; }
  local wait=$(( $(date -d "$until" +%s) - $(date +%s) + 1 ))
  echo "the block of 127.0.0.104 ends at $until: $([ "$wait" -gt 0 ] && echo "waiting ${wait}s" || echo "over")"
  [ "$wait" -gt 0 ] && [ "$wait" -le "$PROT_BLOCK_SECONDS" ] && sleep "$wait"
  expect_login bad a imap 127.0.0.104 after-expiry@example.test "$SPRAY_PASSWORD" \
    && expect_login ok a smtp 127.0.0.53 "$VICTIM_USER" "$VICTIM_PASSWORD" || return 1
  for _ in $(seq 1 75); do # the housekeeping drops run-out blocks every 10 s, with a line each
    grep -q "logger=protection event=unblock kind=address client=127.0.0.104 by=expiry" "$T/prot-a.log" && break
    sleep 0.2
  done
  grep "logger=protection event=unblock kind=address client=127.0.0.104 by=expiry" "$T/prot-a.log" || return 1
  if prot_blocks a | grep -q "127.0.0.104"; then echo "still listed"; return 1; fi
}

replicas_share_blocks() {
  # Failures spread over two replicas add up: two users through b, a third through c blocks the address on both.
  expect_login bad b imap 127.0.0.150 decoy10@example.test "$SPRAY_PASSWORD" \
    && expect_login bad b smtp 127.0.0.150 decoy11@example.test "$SPRAY_PASSWORD" \
    && expect_login bad c imap 127.0.0.150 decoy12@example.test "$SPRAY_PASSWORD" \
    && prot_blocked c address 127.0.0.150 && prot_blocked b address 127.0.0.150 \
    && expect_login closed b imap 127.0.0.150 decoy13@example.test "$SPRAY_PASSWORD" || return 1
  # A block set by b alone refuses the address on c within seconds; lifted on c's admin endpoint, it is lifted on b.
  expect_login bad b pop3 127.0.0.151 decoy14@example.test "$SPRAY_PASSWORD" \
    && expect_login bad b pop3 127.0.0.151 decoy15@example.test "$SPRAY_PASSWORD" \
    && expect_login bad b pop3 127.0.0.151 decoy16@example.test "$SPRAY_PASSWORD" \
    && prot_blocked c address 127.0.0.151 \
    && expect_login closed c smtp 127.0.0.151 decoy17@example.test "$SPRAY_PASSWORD" || return 1
  curl -sS --max-time 10 -X POST "http://127.0.0.1:${PROT_ADMIN[c]}/-/unblock?address=127.0.0.151" || return 1
  for _ in $(seq 1 25); do prot_blocks b | grep -q "127.0.0.151" || break; sleep 0.2; done
  if prot_blocks b | grep -q "127.0.0.151"; then echo "b still lists 127.0.0.151"; return 1; fi
  expect_login bad b imap 127.0.0.151 decoy18@example.test "$SPRAY_PASSWORD" || return 1
  # The user: known at 127.0.0.55 through c; three unfamiliar failures over b and c block it on both, and b still
  # lets it in from 127.0.0.55.
  expect_login ok c imap 127.0.0.55 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login bad b imap 127.0.0.160 "$VICTIM_USER" "$SPRAY_PASSWORD" \
    && expect_login bad c imap 127.0.0.161 "$VICTIM_USER" "$SPRAY_PASSWORD" \
    && expect_login bad b imap 127.0.0.162 "$VICTIM_USER" "$SPRAY_PASSWORD" \
    && prot_blocked b user "$VICTIM_USER" && prot_blocked c user "$VICTIM_USER" \
    && expect_login refused c imap 127.0.0.163 "$VICTIM_USER" "$VICTIM_PASSWORD" \
    && expect_login ok b imap 127.0.0.55 "$VICTIM_USER" "$VICTIM_PASSWORD" || return 1
  # What Redis holds: counters, blocks, familiar addresses and fingerprints; never a password.
  local keys; keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern '*' | sort)
  echo "redis keys: $(wc -l <<< "$keys")"
  while read -r key; do
    [ -n "$key" ] || continue
    case $(redis-cli -p "$REDIS_PORT" type "$key") in
      string) redis-cli -p "$REDIS_PORT" get "$key" ;;
      hash) redis-cli -p "$REDIS_PORT" hgetall "$key" ;;
      set) redis-cli -p "$REDIS_PORT" smembers "$key" ;;
      zset) redis-cli -p "$REDIS_PORT" zrange "$key" 0 -1 ;;
      list) redis-cli -p "$REDIS_PORT" lrange "$key" 0 -1 ;;
    esac
    echo "$key"
  done <<< "$keys" > "$T/redis-dump.txt"
  if grep -F -e "$SPRAY_PASSWORD" -e "$VICTIM_PASSWORD" "$T/redis-dump.txt"; then echo "^ a password in Redis"; return 1; fi
  grep -q "127.0.0.150" "$T/redis-dump.txt" || { echo "Redis holds no block?"; head "$T/redis-dump.txt"; return 1; }
}

# ---- setup ---------------------------------------------------------------------------------------------------------

start_redis
printf 'interop-%s-fingerprint-key\n' "$RANDOM$RANDOM$RANDOM" > "$T/protection.key"
chmod 600 "$T/protection.key"
prot_rules a ""
for n in b c; do
  prot_rules "$n" "  store: { redis: \"redis://127.0.0.1:$REDIS_PORT\", onFailure: open, key: { file: $T/protection.key } }"
done
for n in a b c; do echo start > "$T/prot-$n.starts"; prot_start "$n"; done
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
PROT_UP=true
for n in a b c; do prot_started "$n" || PROT_UP=false; done

if $PROT_UP; then
  check python "dovecot+postfix" protection "spray from 24 addresses blocked; the real user gets in from a known address; Dovecot saw < lockoutThreshold of its failures" spray_blocked_real_user_kept
  check python "dovecot+postfix" protection "blocks and familiar addresses survive SIGHUP and a restart" blocks_survive_reload_and_restart
  check python "dovecot+postfix" protection "temporary failures (password database down or slow: [UNAVAILABLE], [SYS/TEMP], 454) never count" temporary_failures_never_count
  check python "dovecot+postfix" protection "two gateways on one redis-server share counts, blocks, unblocks and familiar addresses; Redis holds no password" replicas_share_blocks
  check python "dovecot+postfix" protection "blocks expire (blockDuration), with an unblock line" blocks_expire
else
  check python "dovecot+postfix" protection "the account protection gateways start" false
fi
