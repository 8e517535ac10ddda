#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the store and pipeline tests: initdb into one run directory
# (data, socket and log there; /etc untouched), trust authentication, no fsync. Installs Debian's postgresql-15 when
# missing, as tests/mail-servers.sh does for Dovecot.
#
#   bash tests/postgres.sh start   (re)creates and starts the cluster, prints its connection string on stdout
#   bash tests/postgres.sh stop    stops it and removes the run directory
#
# SG_POSTGRES_RUN (default /tmp/sg-postgres) and SG_POSTGRES_PORT (default 55432) let two clusters coexist.
# The tests read the connection string from SG_POSTGRES_CONNECTION and make a database per test in it.
set -euo pipefail

RUN="${SG_POSTGRES_RUN:-/tmp/sg-postgres}"
PORT="${SG_POSTGRES_PORT:-55432}"
BIN=/usr/lib/postgresql/15/bin

install() {
  [ -x "$BIN/initdb" ] && return
  echo "postgres: installing postgresql-15 from Debian" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
}

as_postgres() { runuser -u postgres -- "$@"; }

stop() {
  if [ -f "$RUN/data/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$RUN/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$RUN"
}

start() {
  install
  stop
  mkdir -p "$RUN"
  chown postgres "$RUN"
  as_postgres "$BIN/initdb" -D "$RUN/data" -A trust -E UTF8 --locale=C.UTF-8 --no-sync -U postgres >"$RUN/initdb.log" 2>&1 || {
    cat "$RUN/initdb.log" >&2
    exit 1
  }
  # The tests make a database per test: enough connections for parallel fixtures, each with a small pool.
  as_postgres "$BIN/pg_ctl" -D "$RUN/data" -l "$RUN/server.log" -w -t 30 \
    -o "-p $PORT -k $RUN -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start </dev/null >/dev/null 2>&1 || {
    cat "$RUN/server.log" >&2
    exit 1
  }
  echo "Host=127.0.0.1;Port=$PORT;Username=postgres;Database=postgres"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
