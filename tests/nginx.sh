#!/usr/bin/env bash
# A throwaway nginx on loopback in front of gateway instances, for the cluster tests: one run directory holds the
# configuration, the pid file, the logs and nginx's temporary folders (/etc untouched). Installs Debian's nginx-light
# when missing, as tests/postgres.sh does for PostgreSQL.
#
#   bash tests/nginx.sh start PORT UPSTREAM...   writes the configuration (samples/nginx/supportgateway.conf's proxy
#                                                settings, round robin over UPSTREAM host:port), checks it with
#                                                nginx -t, starts nginx on 127.0.0.1:PORT and waits for the port
#   bash tests/nginx.sh reload UPSTREAM...       the same upstreams' list rewritten, nginx told to reload
#   bash tests/nginx.sh test FILE UPSTREAM...    nginx -t on a server block such as the sample, its upstream's
#                                                servers replaced by UPSTREAM (nothing is started)
#   bash tests/nginx.sh stop                     stops it and removes the run directory
#
# SG_NGINX_RUN (default /tmp/sg-nginx) lets two of them coexist.
set -euo pipefail

RUN="${SG_NGINX_RUN:-/tmp/sg-nginx}"
NGINX=/usr/sbin/nginx
HERE="$(cd "$(dirname "$0")" && pwd)"
SAMPLE="$HERE/../samples/nginx/supportgateway.conf"

install() {
  [ -x "$NGINX" ] && return
  echo "nginx: installing nginx-light from Debian" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
}

# The sample's server and upstream blocks with the given upstream servers (host:port) in place of the sample's, each
# with the parameters of the sample's first server line (max_fails, fail_timeout…), and the listen address replaced
# by $2 when given. The sample marks its server lines with "# upstream-server".
site() {
  local file="$1" listen="$2"
  shift 2
  awk -v upstreams="$*" -v listen="$listen" '
    /# upstream-server/ {
      if (!done) {
        n = split(upstreams, list, " ")
        for (i = 1; i <= n; i++) { line = $0; sub(/server[[:space:]]+[^[:space:];]+/, "server " list[i], line); sub(/[[:space:]]*# upstream-server.*/, "", line); print line }
        done = 1
      }
      next
    }
    listen != "" && /^[[:space:]]*listen[[:space:]]/ { sub(/listen[^;]*;/, "listen " listen ";") }
    { print }
  ' "$file"
}

# A whole nginx.conf around a site, everything under one prefix ($1).
main_conf() {
  local prefix="$1" site_file="$2"
  cat <<EOF
worker_processes 1;
error_log $prefix/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 4096; }
http {
    access_log $prefix/access.log;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    include $site_file;
}
EOF
}

write() {
  local prefix="$1" listen="$2" file="$3"
  shift 3
  mkdir -p "$prefix"
  site "$file" "$listen" "$@" >"$prefix/site.conf"
  main_conf "$prefix" "$prefix/site.conf" >"$prefix/nginx.conf"
}

check() {
  local prefix="$1"
  "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -t -q 2>"$prefix/check.log" || {
    cat "$prefix/check.log" >&2
    return 1
  }
}

stop() {
  if [ -f "$RUN/nginx.pid" ]; then
    local pid
    pid=$(cat "$RUN/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$RUN"
}

start() {
  local port="$1"
  shift
  [ $# -gt 0 ] || { echo "usage: $0 start PORT UPSTREAM..." >&2; exit 2; }
  install
  stop
  write "$RUN" "127.0.0.1:$port" "$SAMPLE" "$@"
  check "$RUN"
  "$NGINX" -p "$RUN" -c "$RUN/nginx.conf" </dev/null >"$RUN/nginx.out" 2>&1 || {
    cat "$RUN/nginx.out" "$RUN/error.log" >&2 2>/dev/null
    exit 1
  }
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  echo "nginx: not listening on 127.0.0.1:$port after 10 s" >&2
  cat "$RUN/error.log" >&2 2>/dev/null
  exit 1
}

reload() {
  [ -f "$RUN/nginx.conf" ] || { echo "nginx: not started in $RUN" >&2; exit 1; }
  local listen
  listen=$(awk '/^[[:space:]]*listen[[:space:]]/ { sub(/;.*/, ""); print $2; exit }' "$RUN/site.conf")
  write "$RUN" "$listen" "$SAMPLE" "$@"
  check "$RUN"
  "$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -s reload
}

test_file() {
  local file="$1"
  shift
  install
  local prefix
  prefix=$(mktemp -d /tmp/sg-nginx-test.XXXXXX)
  trap 'rm -rf "$prefix"' RETURN
  write "$prefix" "" "$file" "$@"
  check "$prefix"
  echo "nginx: $file is valid"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  reload) shift; reload "$@" ;;
  test) shift; test_file "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start PORT UPSTREAM... | reload UPSTREAM... | test FILE UPSTREAM... | stop" >&2; exit 2 ;;
esac
