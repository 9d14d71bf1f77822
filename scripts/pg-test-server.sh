#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `start` makes a cluster in a temporary directory and prints
# its URL, `url` prints the URL of the running one, `stop` stops it and removes its data.
#
#   scripts/pg-test-server.sh start   # idempotent: prints the URL when it is already running
#   export TOLLGATE_TEST_DATABASE_URL="$(scripts/pg-test-server.sh url)"
#   scripts/pg-test-server.sh stop
#   scripts/pg-test-server.sh halt     # stop it abruptly (as a crash would), keeping its data
#   scripts/pg-test-server.sh resume   # start a halted one again, on the same port
#
# The server listens on 127.0.0.1 only, on a free port, and runs as the `postgres` user when this
# script runs as root (the server refuses to run as root). The role `tollgate` (password `tollgate`,
# allowed to create databases and roles: each test makes its own) owns the database `tollgate`. The state
# (URL, data directory) lives in $TOLLGATE_PG_TEST_STATE (default: .build/pg-test/ in this checkout).
# When initdb is missing it installs Debian's postgresql package as root, else says what to run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TOLLGATE_PG_TEST_STATE:-$ROOT/.build/pg-test}"
ROLE=tollgate
PASSWORD=tollgate
DATABASE=tollgate

say() { printf 'pg-test-server: %s\n' "$*" >&2; }
die() { printf 'pg-test-server: error: %s\n' "$*" >&2; exit 1; }

# The server's binaries: PATH first, then Debian's versioned directories (newest first).
find_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        BIN="$(dirname "$(command -v pg_ctl)")"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then BIN="$dir"; return 0; fi
    done
    return 1
}

ensure_bin() {
    find_bin && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "initdb is missing; installing Debian's postgresql package"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        find_bin && return 0
        die "installed postgresql, but initdb and pg_ctl are still not found"
    fi
    die "initdb is missing; install PostgreSQL 13 or newer (as root: apt-get update && apt-get install -y postgresql) and re-run"
}

# Runs a command as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to own the server; create it (useradd --system postgres) or run as another user"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for port in $(seq 54320 54420); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
    die "no free port between 54320 and 54420"
}

running() {
    [ -f "$STATE/url" ] && [ -f "$STATE/data" ] || return 1
    local data
    data="$(cat "$STATE/data")"
    [ -d "$data" ] || return 1
    ensure_bin
    as_owner "$BIN/pg_ctl" status -D "$data/cluster" >/dev/null 2>&1
}

start() {
    if running; then
        cat "$STATE/url"
        return 0
    fi
    ensure_bin
    # Leftovers of a server that is gone: remove them before starting afresh.
    if [ -f "$STATE/data" ]; then rm -rf "$(cat "$STATE/data")"; fi
    rm -rf "$STATE"
    mkdir -p "$STATE"

    local data port
    data="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-pg.XXXXXX")"
    chmod 755 "$data"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data"; fi
    echo "$data" >"$STATE/data"
    port="$(free_port)"
    echo "$port" >"$STATE/port"

    say "initdb in $data"
    as_owner "$BIN/initdb" -D "$data/cluster" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >"$data/initdb.log" 2>&1 \
        || { cat "$data/initdb.log" >&2; die "initdb failed (log above)"; }
    say "starting on 127.0.0.1:$port"
    launch "$data" "$port"

    local psql="$BIN/psql"
    [ -x "$psql" ] || psql="$(command -v psql)" || die "psql is missing; install postgresql-client"
    as_owner "$psql" -X -q -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $ROLE LOGIN CREATEDB CREATEROLE PASSWORD '$PASSWORD'" \
        -c "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null \
        || die "cannot create the role and database"

    local url="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE?sslmode=disable"
    echo "$url" >"$STATE/url"
    echo "$url"
}

launch() {
    as_owner "$BIN/pg_ctl" -D "$1/cluster" -l "$1/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $2 -k $1 -c fsync=off -c max_connections=200" start >/dev/null \
        || { cat "$1/server.log" >&2 || true; die "the server did not start (log above)"; }
}

# The fault tests' server going away mid-command: `immediate` is what a crash or a power cut leaves.
halt() {
    [ -f "$STATE/data" ] || die "no test server is recorded in $STATE"
    ensure_bin
    as_owner "$BIN/pg_ctl" -D "$(cat "$STATE/data")/cluster" -m immediate -w stop >/dev/null
}

resume() {
    [ -f "$STATE/data" ] && [ -f "$STATE/port" ] || die "no halted test server is recorded in $STATE"
    running && return 0
    launch "$(cat "$STATE/data")" "$(cat "$STATE/port")"
}

stop() {
    if [ ! -f "$STATE/data" ]; then
        say "no test server is recorded in $STATE"
        return 0
    fi
    local data
    data="$(cat "$STATE/data")"
    if [ -d "$data/cluster" ]; then
        ensure_bin
        as_owner "$BIN/pg_ctl" -D "$data/cluster" -m fast -w stop >/dev/null 2>&1 || say "the server in $data was not running"
    fi
    rm -rf "$data" "$STATE"
    say "stopped and removed $data"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    halt) halt ;;
    resume) resume ;;
    url)
        running || die "no test server is running; start one with 'scripts/pg-test-server.sh start'"
        cat "$STATE/url"
        ;;
    *) die "usage: scripts/pg-test-server.sh start|stop|url|halt|resume" ;;
esac
