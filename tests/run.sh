#!/usr/bin/env bash
# Runs every test assembly, showing each test as it finishes, and ends with the corpus scores and one line:
# "N passed, N failed, N skipped" (tests/summarize.sh).
# Installs what the tests need when it is missing: Debian's Chromium for the browser tests, nginx-light for the
# cluster tests (instances behind tests/nginx.sh),
# Postfix and Dovecot (tests/mail-servers.sh) for the mail tests, and PostgreSQL 15 (tests/postgres.sh) for the
# store and pipeline tests, which run on SQLite and on PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

need_packages=()
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
# nginx in front of several instances for the cluster tests (tests/nginx.sh); Debian's light build is enough.
[ -x /usr/sbin/nginx ] || need_packages+=(nginx-light)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing ${need_packages[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  log "installing ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null || {
    echo "error: apt-get could not install ${need_packages[*]}" >&2
    exit 1
  }
fi

log "starting Postfix and Dovecot"
bash tests/mail-servers.sh start || { echo "0 passed, 1 failed"; exit 1; }
export SG_MAIL_SERVERS_STARTED=1
trap 'bash tests/mail-servers.sh stop; bash tests/postgres.sh stop' EXIT

log "starting PostgreSQL"
SG_POSTGRES_CONNECTION=$(bash tests/postgres.sh start) || { echo "0 passed, 1 failed"; exit 1; }
export SG_POSTGRES_CONNECTION

log "building"
dotnet build SupportGateway.sln -c Release -nologo -clp:ErrorsOnly -v:quiet || { echo "0 passed, 1 failed"; exit 1; }

log "testing"
out=$(mktemp)
# Normal verbosity: every test's result as it finishes, and what the tests write (the corpus scores among it).
dotnet test SupportGateway.sln -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
bash tests/summarize.sh "$out" "$status"
result=$?
rm -f "$out"
exit "$result"
