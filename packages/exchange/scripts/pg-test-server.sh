#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for the exchange's tests; it never touches a system
# service. Needs Debian's server binaries (`apt-get install postgresql`).
#
#   pg-test-server.sh start   starts a cluster in a new temp folder and prints
#                             UNSEEN_PG_URL=postgres://...  and  UNSEEN_PG_DIR=/tmp/...
#   pg-test-server.sh stop DIR  stops that cluster and deletes its folder
#
# The cluster listens on 127.0.0.1 at a free port (and on a unix socket inside its folder),
# authenticates with SCRAM and a random password, and runs with fsync off: it holds test data
# only. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user
# that Debian's package creates. Exit code 3: no server binaries on this machine.
set -euo pipefail

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return
  fi
  echo "pg-test-server: PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql" >&2
  exit 3
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin dir pw port tries
  bin="$(bindir)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/unseen-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "pg-test-server: running as root needs the postgres user (apt-get install postgresql)" >&2
      exit 3
    fi
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  pw="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  as_owner sh -c "umask 077 && printf '%s\n' '$pw' > '$dir/pw'"
  as_owner "$bin/initdb" -D "$dir/data" -U unseen --pwfile="$dir/pw" --auth=scram-sha-256 \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  rm -f "$dir/pw"
  for tries in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + $(od -An -tu2 -N2 /dev/urandom | tr -d ' ') % 40000 ))
    # A port someone already listens on is skipped; a race with another starter is retried.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
      "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB" \
      start >/dev/null 2>&1; then
      echo "UNSEEN_PG_URL=postgres://unseen:$pw@127.0.0.1:$port/postgres"
      echo "UNSEEN_PG_DIR=$dir"
      return 0
    fi
  done
  echo "pg-test-server: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  local bin dir="${1:?usage: pg-test-server.sh stop DIR}"
  case "$dir" in */unseen-pg.*) ;; *) echo "pg-test-server: not a test cluster: $dir" >&2; exit 2 ;; esac
  bin="$(bindir)"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: pg-test-server.sh start | stop DIR" >&2; exit 2 ;;
esac
