# Sourced by interop/run: a certificate from a real ACME CA. Pebble validates the gateway's own http-01 listener
# (127.0.0.1:21080, names from dnsmasq) and the rule pop3s-acme serves what it issued; a real client then logs in.

acme_issued() {
  local issuer=""
  for _ in $(seq 1 300); do # up to 60 s: the gateway orders at start, Pebble validates and issues
    issuer=$(openssl s_client -connect 127.0.0.1:22998 -servername mail.acme.example.test </dev/null 2>/dev/null \
      | openssl x509 -noout -issuer 2>/dev/null)
    case "$issuer" in *Pebble*) break ;; esac
    sleep 0.2
  done
  case "$issuer" in *Pebble*) ;; *) echo "served issuer: $issuer"; grep -i acme "$T/gatehouse.log" | tail; tail -5 "$T/pebble.log"; return 1 ;; esac
  grep -q "ACME certificate issued certificate=acme" "$T/gatehouse.log" || { echo "no issue logged"; return 1; }
  # Pebble validated over http-01 against the gateway, not some other way.
  grep -qF "validate w/ HTTP: http://mail.acme.example.test:21080/.well-known/acme-challenge/" "$T/pebble.log" \
    || { echo "Pebble's log names no http-01 validation against the gateway:"; tail "$T/pebble.log"; return 1; }
  "${CURL[@]}" "pop3s://127.0.0.1:22998/1" -u "$USERPASS" > "$T/o" && contains "$T/o" "Subject: hello through Gatehouse"
}

check openssl pebble acme "ACME: Pebble validates http-01 on the gateway, the rule serves what it issued" acme_issued
