#!/usr/bin/env bash
# Real mail servers for the SMTP/IMAP tests: Postfix (SMTP with STARTTLS on 127.0.0.1:2525, implicit TLS
# on 4465) delivers over LMTP to Dovecot (127.0.0.1:2424), which serves the Maildirs over IMAP on
# 127.0.0.1:1143 (STARTTLS offered) and IMAPS on 1993. Both use one self-signed certificate, $RUN/tls/cert.pem.
# Everything (config, queue, mail, logs) lives under one run directory; /etc is not touched.
#
#   bash tests/mail-servers.sh start          installs the Debian packages when missing, (re)starts both servers
#   bash tests/mail-servers.sh stop
#   bash tests/mail-servers.sh restart-imap   restarts Dovecot only, keeping the mail (for reconnect tests)
#
# Mailboxes: agent@sg.test, customer@sg.test, robot@sg.test, and support<anything>@sg.test (one per test if it
# likes), all with the password "secret". Plus addresses (support+x@sg.test) land in the same INBOX.
# Any of them also logs in with SASL XOAUTH2 or OAUTHBEARER: Dovecot's oauth2 passdb asks the token introspection
# endpoint http://127.0.0.1:2580/introspect (RFC 7662, form POST), which the OAuth tests serve themselves.
set -euo pipefail

RUN="${SG_MAIL_RUN:-/tmp/sg-mail}"
SMTP_PORT=2525 SMTPS_PORT=4465 LMTP_PORT=2424 IMAP_PORT=1143 IMAPS_PORT=1993 OAUTH2_PORT=2580
USERS=(agent customer robot)

install() {
  command -v postfix >/dev/null && command -v dovecot >/dev/null && command -v mutt >/dev/null && return
  echo "mail-servers: installing postfix, dovecot and mutt from Debian" >&2
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix dovecot-imapd dovecot-lmtpd mutt >/dev/null
}

stop() {
  if [ -f "$RUN/postfix/main.cf" ]; then postfix -c "$RUN/postfix" stop >/dev/null 2>&1 || true; fi
  stop_dovecot
}

stop_dovecot() {
  if [ -f "$RUN/dovecot-run/master.pid" ]; then
    local pid children; pid=$(cat "$RUN/dovecot-run/master.pid")
    # Client sessions outlive the master here; a service manager would end them too, so do it.
    children=$(pgrep -P "$pid" || true)
    kill "$pid" 2>/dev/null || true
    [ -z "$children" ] || kill $children 2>/dev/null || true
    # Dovecot takes a few seconds to exit; its ports are reused only after that.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

make_certificate() {
  mkdir -p "$RUN/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mail.sg.test" \
    -addext "subjectAltName=DNS:mail.sg.test,DNS:localhost,IP:127.0.0.1" \
    -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" 2>/dev/null
  chmod 644 "$RUN/tls/key.pem"
}

configure_postfix() {
  mkdir -p "$RUN/postfix" "$RUN/postfix-spool" "$RUN/postfix-data"
  chown postfix "$RUN/postfix-data"
  # Regexp tables see the whole address: the +extension is matched here, not stripped by Postfix.
  echo "/^($(IFS='|'; echo "${USERS[*]}")|support[a-z0-9]*)(\\+[^@]*)?@sg\.test\$/ OK" > "$RUN/postfix/vmailbox"
  cat > "$RUN/postfix/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $RUN/postfix-spool
data_directory = $RUN/postfix-data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.sg.test
mydomain = sg.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = sg.test
virtual_mailbox_maps = regexp:$RUN/postfix/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = yes
recipient_delimiter = +
message_size_limit = 52428800
smtpd_tls_cert_file = $RUN/tls/cert.pem
smtpd_tls_key_file = $RUN/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
maillog_file = $RUN/postfix.log
maillog_file_prefixes = $RUN
EOF
  # Column five is chroot: "n" everywhere, so nothing needs copying into a jail.
  cat > "$RUN/postfix/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
tlsmgr    unix - - n 1000? 1 tlsmgr
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

configure_dovecot() {
  mkdir -p "$RUN/dovecot" "$RUN/dovecot-run" "$RUN/dovecot-state" "$RUN/mail"
  chown mail:mail "$RUN/mail"
  cat > "$RUN/dovecot/dovecot.conf" <<EOF
base_dir = $RUN/dovecot-run
state_dir = $RUN/dovecot-state
log_path = $RUN/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$RUN/tls/cert.pem
ssl_key = <$RUN/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# One failed login must not slow the next test's logins.
auth_failure_delay = 0
first_valid_uid = 8
recipient_delimiter = +
mail_location = maildir:$RUN/mail/%u
# Every user has the password "secret"; Postfix decides which addresses exist.
passdb {
  driver = static
  mechanisms = plain login
  args = password=secret
}
# A token is good when the tests' introspection endpoint says it is active, for the user it names.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $RUN/dovecot/oauth2.conf.ext
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$RUN/mail/%u allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
  cat > "$RUN/dovecot/oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = http://127.0.0.1:$OAUTH2_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
EOF
}

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "mail-servers: nothing listens on port $1; see $RUN/*.log" >&2
  return 1
}

start() {
  install
  stop
  rm -rf "$RUN"
  mkdir -p "$RUN"
  make_certificate
  configure_postfix
  configure_dovecot
  start_dovecot
  # Daemons get their own stdio: an inherited pipe would keep the caller waiting for ever.
  postfix -c "$RUN/postfix" start </dev/null >"$RUN/postfix.out" 2>&1
  wait_port "$SMTP_PORT" && wait_port "$SMTPS_PORT"
  echo "mail-servers: SMTP 127.0.0.1:$SMTP_PORT (STARTTLS) and :$SMTPS_PORT (TLS), IMAP :$IMAP_PORT (STARTTLS) and :$IMAPS_PORT (TLS), run directory $RUN" >&2
}

start_dovecot() {
  dovecot -c "$RUN/dovecot/dovecot.conf" </dev/null >"$RUN/dovecot.out" 2>&1
  wait_port "$IMAP_PORT" && wait_port "$IMAPS_PORT" && wait_port "$LMTP_PORT"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart-imap) stop_dovecot; start_dovecot ;;
  *) echo "usage: $0 start|stop|restart-imap" >&2; exit 2 ;;
esac
