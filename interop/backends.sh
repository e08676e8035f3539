# Sourced by interop/run: configures and starts the legacy backends (Dovecot, Postfix) and dnsmasq, each on loopback
# high ports with a private configuration under $T. Every process started is recorded in $T/pids.

MAIL_USER=ghmail
POP3_PORT=21110
IMAP_PORT=21143
SMTP_PORT=21025
SMTP_NOCHUNK_PORT=21026   # a second smtpd that does not offer CHUNKING (interop/bypass.sh)
SASL_PORT=21126
DNS_PORT=21053
# interop/models.sh: a second Dovecot and a third smtpd, configured as the fuzz tests' models assume (CRAM-MD5 offered
# besides PLAIN and LOGIN), that only the model checks talk to.
MODELS_POP3_PORT=21111
MODELS_IMAP_PORT=21144
MODELS_SMTP_PORT=21027
MODELS_SASL_PORT=21127
# interop/identity.sh: an smtpd that authorizes XCLIENT from the gateway's 127.0.0.1 only, and a Dovecot that trusts the gateway's
# 127.0.0.1 (login_trusted_networks) and so takes POP3 XCLIENT and IMAP ID x-originating-ip from it.
XCLIENT_SMTP_PORT=21028
IDENTITY_POP3_PORT=21112
IDENTITY_IMAP_PORT=21145
# interop/acme.sh: Pebble (Let's Encrypt's test CA) and the gateway's http-01 listener it validates against.
PEBBLE_PORT=21400
PEBBLE_MANAGEMENT_PORT=21401
ACME_HTTP01_PORT=21080
# interop/protection.sh: Dovecot and Postfix listeners that read a PROXY protocol header from the gateway (so that they
# see, log and penalize the real client address, as docs/account-protection.md advises), and a redis-server that two
# gateways share.
PROXIED_POP3_PORT=21113
PROXIED_IMAP_PORT=21146
PROXIED_SMTP_PORT=21029
REDIS_PORT=21379

ensure_mail_user() {
  id "$MAIL_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_USER"
}

start_dovecot() {
  mkdir -p "$T/dovecot/run" "$T/dovecot/state" "$T/mail"
  # A passwd-file user "demo" with a clear-text password: the legacy server accepts anything, the gateway must not.
  printf 'demo@example.test:{PLAIN}%s\n' "$DEMO_PASSWORD" > "$T/dovecot/users"
  # interop/bypass.sh: a user whose password must never reach Dovecot, and one that logs in through the audit rules.
  # (Only where bypass.sh set them: bench/soak sources this file too.)
  if [ -n "${BYPASS_USER:-}" ]; then
    printf '%s:{PLAIN}%s\n%s:{PLAIN}%s\n' "$BYPASS_USER" "$BYPASS_PASSWORD" "$AUDIT_USER" "$AUDIT_PASSWORD" \
      >> "$T/dovecot/users"
  fi
  # interop/protection.sh: the user under attack, with a real password; users whose password database is down
  # (unavailable*@: checkpassword's exit code 111, "temporary problem") or too slow to answer (slow*@: 12 s, then
  # 111; Postfix gives up on Dovecot after 10 s); PROXY headers from the gateway's address; and no per-address
  # penalty: the gateway's tarpit does that job (docs/account-protection.md), and the checks stay short.
  local proxied=""
  if [ -n "${VICTIM_USER:-}" ]; then
    printf '%s:{PLAIN}%s\n' "$VICTIM_USER" "$VICTIM_PASSWORD" >> "$T/dovecot/users"
    cat > "$T/dovecot/passdb-down" <<'SH'
#!/bin/bash
# checkpassword: fd 3 holds the user name and the password, NUL-terminated. The database is down: exit 111.
IFS= read -r -d '' user <&3
case $user in slow*) sleep 12 ;; esac
exit 111
SH
    chmod 755 "$T/dovecot/passdb-down"
    proxied="haproxy_trusted_networks = 127.0.0.1
passdb {
  driver = checkpassword
  args = $T/dovecot/passdb-down
  username_filter = $UNAVAILABLE_USERS
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}"
  fi
  cat > "$T/dovecot/dovecot.conf" <<CONF
protocols = pop3 imap
listen = 127.0.0.1
base_dir = $T/dovecot/run/
state_dir = $T/dovecot/state
log_path = $T/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Every authentication request is logged with its credentials (resp=, passwords on mismatch), on purpose: a
# password the gateway let through shows up here, and interop/bypass.sh greps for it.
auth_debug = yes
auth_debug_passwords = yes
mail_location = maildir:$T/mail/%n
pop3_uidl_format = %08Xu%08Xv
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/dovecot/users
}
$proxied
userdb {
  driver = static
  args = uid=$MAIL_USER gid=$MAIL_USER home=$T/mail/%n
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3-proxied {
    address = 127.0.0.1
    port = $PROXIED_POP3_PORT
    haproxy = yes
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imap-proxied {
    address = 127.0.0.1
    port = $PROXIED_IMAP_PORT
    haproxy = yes
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  inet_listener sasl {
    address = 127.0.0.1
    port = $SASL_PORT
  }
}
CONF
  chown -R "$MAIL_USER:$MAIL_USER" "$T/mail"
  dovecot -F -c "$T/dovecot/dovecot.conf" > "$T/dovecot.out" 2>&1 &
  echo $! >> "$T/pids"
}

start_dovecot_models() {
  # For interop/models.sh only: what a client's bytes make Dovecot do, with nothing else on it. Every
  # authentication request is logged (auth_debug, with the client's port); failures are answered without the usual
  # delays (auth_failure_delay = 0 leaves the auth server's 0.5 s timer tick; no per-IP penalty: the model answers
  # each read before the next, and so should the server); the login processes keep a rawlog of what they read
  # (models.sh creates the folders, under base_dir/login, where the chrooted login processes find them).
  local d="$T/dovecot-models"
  mkdir -p "$d/run" "$d/state"
  printf 'alice:{PLAIN}model-secret\n' > "$d/users"
  cat > "$d/dovecot.conf" <<CONF
protocols = pop3 imap
listen = 127.0.0.1
base_dir = $d/run/
state_dir = $d/state
log_path = $T/dovecot-models.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_failure_delay = 0
auth_verbose = yes
auth_debug = yes
mail_location = maildir:$d/mail/%n
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=$MAIL_USER gid=$MAIL_USER home=$d/mail/%n
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service pop3-login {
  executable = pop3-login -R rawlogs-pop3
  inet_listener pop3 {
    address = 127.0.0.1
    port = $MODELS_POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  executable = imap-login -R rawlogs-imap
  inet_listener imap {
    address = 127.0.0.1
    port = $MODELS_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  inet_listener sasl {
    address = 127.0.0.1
    port = $MODELS_SASL_PORT
  }
}
CONF
  dovecot -F -c "$d/dovecot.conf" > "$T/dovecot-models.out" 2>&1 &
  echo $! >> "$T/pids"
}

start_dovecot_identity() {
  # For interop/identity.sh: the main Dovecot's users and mailbox, with the gateway's address trusted, so that the
  # client's address it is told (POP3 XCLIENT, IMAP ID) is the one it logs (rip=); without the main one's PROXY
  # protocol listeners (interop/protection.sh), whose ports are taken.
  local d="$T/dovecot-identity"
  mkdir -p "$d/run" "$d/state"
  sed -e "s|^base_dir = .*|base_dir = $d/run/|" -e "s|^state_dir = .*|state_dir = $d/state|" \
    -e "s|^log_path = .*|log_path = $T/dovecot-identity.log|" -e "s|port = $POP3_PORT|port = $IDENTITY_POP3_PORT|" \
    -e "s|port = $IMAP_PORT|port = $IDENTITY_IMAP_PORT|" -e "/inet_listener sasl/,/}/d" \
    -e "/inet_listener pop3-proxied/,/}/d" -e "/inet_listener imap-proxied/,/}/d" \
    "$T/dovecot/dovecot.conf" > "$d/dovecot.conf"
  printf 'login_trusted_networks = 127.0.0.1/32\n' >> "$d/dovecot.conf"
  dovecot -F -c "$d/dovecot.conf" > "$T/dovecot-identity.out" 2>&1 &
  echo $! >> "$T/pids"
}

start_postfix() {
  local conf="$T/postfix"
  mkdir -p "$conf" "$T/postfix-queue" "$T/postfix-data" "$T/vmail"
  cat > "$conf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $T/postfix-queue
data_directory = $T/postfix-data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = backend.example.test
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.test
virtual_mailbox_base = $T/vmail
virtual_mailbox_maps = texthash:$conf/vmailbox
virtual_uid_maps = static:$(id -u "$MAIL_USER")
virtual_gid_maps = static:$(id -g "$MAIL_USER")
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$SASL_PORT
smtpd_recipient_restrictions = permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
maillog_file = $T/postfix.log
maillog_file_prefixes = $T
# Every SMTP command smtpd reads (and its replies) is logged, so a command the gateway let through shows up here.
debug_peer_list = 127.0.0.1
biff = no
CONF
  printf 'demo@example.test example.test/demo/\n' > "$conf/vmailbox"
  # Debian's master.cf, without chroot (the queue lives under $T), smtpd on the private port, one that reads the
  # gateway's PROXY header (interop/protection.sh), one that
  # does not offer CHUNKING (so BDAT is not framing it knows), and one for interop/models.sh: its own log name,
  # the client's port in every line (to tell sessions apart), SASL through the models' Dovecot, what it queues
  # discarded, and no delay after errors (the model answers each read before the next, and so should the server).
  awk -v port="$SMTP_PORT" -v nochunk="$SMTP_NOCHUNK_PORT" -v models="$MODELS_SMTP_PORT" -v sasl="$MODELS_SASL_PORT" \
    -v xclient="$XCLIENT_SMTP_PORT" -v proxied="$PROXIED_SMTP_PORT" '
    /^smtp +inet/ {
      print "127.0.0.1:" port " inet n - n - - smtpd"
      print "127.0.0.1:" proxied " inet n - n - - smtpd -o syslog_name=postfix-proxied -o smtpd_upstream_proxy_protocol=haproxy"
      print "127.0.0.1:" nochunk " inet n - n - - smtpd -o syslog_name=postfix-nochunk -o smtpd_discard_ehlo_keywords=chunking"
      print "127.0.0.1:" models " inet n - n - - smtpd -o syslog_name=postfix-models -o smtpd_client_port_logging=yes" \
        " -o smtpd_sasl_path=inet:127.0.0.1:" sasl " -o content_filter=discard: -o smtpd_error_sleep_time=0"
      print "127.0.0.1:" xclient " inet n - n - - smtpd -o syslog_name=postfix-xclient" \
        " -o smtpd_authorized_xclient_hosts=127.0.0.1/32 -o smtpd_client_port_logging=yes"
      next
    }
    /^[a-z]/ && NF >= 8 { $5 = "n"; print; next }
    { print }' /usr/share/postfix/master.cf.dist > "$conf/master.cf"
  chown "$MAIL_USER:$MAIL_USER" "$T/vmail"
  chown postfix: "$T/postfix-data"
  postfix -c "$conf" start > "$T/postfix.out" 2>&1
}

stop_postfix() {
  postfix -c "$T/postfix" stop > /dev/null 2>&1 || true
}

start_dnsmasq() {
  # PTR and A/AAAA records: 127.0.0.2 and ::1 are in partner.example (forward-confirmed); 127.0.0.3 has no name.
  dnsmasq --no-daemon --keep-in-foreground --port "$DNS_PORT" --listen-address 127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --conf-file=/dev/null --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" --log-queries \
    --host-record=client.partner.example,127.0.0.2 --host-record=v6.partner.example,::1 \
    --host-record=mail.acme.example.test,127.0.0.1 > "$T/dnsmasq.out" 2>&1 &
  echo $! >> "$T/pids"
}

start_pebble() {
  # Pebble ships no certificate for its own HTTPS listener: a CA and a certificate for localhost, made here. It
  # validates http-01 against the gateway's listener on $ACME_HTTP01_PORT, with names from dnsmasq.
  local d="$T/pebble"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=interop Pebble listener CA" \
    -keyout "$d/ca.key" -out "$T/pebble-ca.pem" >/dev/null 2>&1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout "$d/key.pem" \
    -out "$d/cert.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost\n' > "$d/ext"
  openssl x509 -req -in "$d/cert.csr" -CA "$T/pebble-ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext" -out "$d/cert.pem" >/dev/null 2>&1
  cat > "$d/pebble.json" <<CONF
{"pebble": {"listenAddress": "127.0.0.1:$PEBBLE_PORT", "managementListenAddress": "127.0.0.1:$PEBBLE_MANAGEMENT_PORT",
  "certificate": "$d/cert.pem", "privateKey": "$d/key.pem", "httpPort": $ACME_HTTP01_PORT, "tlsPort": 21443,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
CONF
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT" \
    > "$T/pebble.log" 2>&1 &
  echo $! >> "$T/pids"
  for _ in $(seq 1 50); do # listening before the gateway starts, whose first order is at once
    (exec 3<>"/dev/tcp/127.0.0.1/$PEBBLE_PORT") 2>/dev/null && break
    sleep 0.2
  done
}

start_redis() {
  # interop/protection.sh: one redis-server that two gateways share, on loopback, with nothing saved to disk.
  mkdir -p "$T/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$T/redis" \
    --logfile "$T/redis.log" > "$T/redis.out" 2>&1 &
  echo $! >> "$T/pids"
}
