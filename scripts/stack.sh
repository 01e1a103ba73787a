#!/usr/bin/env bash
# Starts, stops and reports a local PostgreSQL and Redis as plain processes (no containers).
#
#   scripts/stack.sh start|stop|status|restart [postgres|redis|all]
#   scripts/stack.sh env        # prints PINGVAS_DATABASE_URL / PINGVAS_REDIS_URL for this stack
#
# Settings (environment):
#   PINGVAS_STACK_DIR   folder holding data, logs and pid files   (default: .run)
#   PINGVAS_PG_PORT     PostgreSQL port on 127.0.0.1               (default: 15432)
#   PINGVAS_REDIS_PORT  Redis port on 127.0.0.1                    (default: 16379)
#
# Idempotent: starting a running stack or stopping a stopped one is harmless. PostgreSQL refuses to
# run as root, so when invoked as root the server runs as the unprivileged `postgres` user.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PINGVAS_STACK_DIR:-$here/.run}"
case "$dir" in /*) ;; *) dir="$here/$dir" ;; esac
pg_port="${PINGVAS_PG_PORT:-15432}"
redis_port="${PINGVAS_REDIS_PORT:-16379}"
pg_data="$dir/postgres/data"
pg_log="$dir/postgres/postgres.log"
redis_dir="$dir/redis"
redis_pid="$redis_dir/redis.pid"

pg_bin() {
    local name="$1"
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] || { echo "stack: $name not found (install postgresql: make deps)" >&2; exit 1; }
    echo "$found"
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() {
    [ -f "$pg_data/postmaster.pid" ] && as_pg "$(pg_bin pg_ctl)" -D "$pg_data" status >/dev/null 2>&1
}

redis_running() {
    [ -f "$redis_pid" ] && kill -0 "$(cat "$redis_pid")" 2>/dev/null
}

start_postgres() {
    if pg_running; then echo "postgres: already running on 127.0.0.1:$pg_port"; return; fi
    mkdir -p "$dir/postgres"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir/postgres"
        # the postgres user must be able to reach the folder
        local d="$dir"; while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    fi
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        as_pg "$(pg_bin initdb)" -D "$pg_data" -U pingvas --auth=trust --encoding=UTF8 --no-locale >"$dir/postgres/initdb.log" 2>&1 \
            || { cat "$dir/postgres/initdb.log" >&2; exit 1; }
    fi
    as_pg "$(pg_bin pg_ctl)" -D "$pg_data" -l "$pg_log" -w -t 60 \
        -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=${PINGVAS_PG_MAX_CONNECTIONS:-500} -c fsync=off -c shared_buffers=64MB" \
        start >/dev/null || { tail -n 20 "$pg_log" >&2; exit 1; }
    if ! "$(pg_bin psql)" -h 127.0.0.1 -p "$pg_port" -U pingvas -d postgres -Atqc "select 1 from pg_database where datname='pingvas'" | grep -q 1; then
        "$(pg_bin createdb)" -h 127.0.0.1 -p "$pg_port" -U pingvas pingvas
    fi
    echo "postgres: running on 127.0.0.1:$pg_port ($pg_data)"
}

stop_postgres() {
    if pg_running; then
        as_pg "$(pg_bin pg_ctl)" -D "$pg_data" -m fast -w stop >/dev/null
        echo "postgres: stopped"
    else
        echo "postgres: not running"
    fi
}

start_redis() {
    if redis_running; then echo "redis: already running on 127.0.0.1:$redis_port"; return; fi
    command -v redis-server >/dev/null || { echo "stack: redis-server not found (make deps)" >&2; exit 1; }
    mkdir -p "$redis_dir"
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --daemonize yes \
        --pidfile "$redis_pid" --logfile "$redis_dir/redis.log" --save "" --appendonly no >/dev/null
    for _ in $(seq 1 100); do
        if redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
            echo "redis: running on 127.0.0.1:$redis_port ($redis_dir)"; return
        fi
        sleep 0.1
    done
    echo "redis: did not start; see $redis_dir/redis.log" >&2; exit 1
}

stop_redis() {
    if redis_running; then
        local pid; pid="$(cat "$redis_pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$redis_pid"
        echo "redis: stopped"
    else
        echo "redis: not running"
    fi
}

status() {
    if pg_running; then echo "postgres: running on 127.0.0.1:$pg_port"; else echo "postgres: stopped"; fi
    if redis_running; then echo "redis: running on 127.0.0.1:$redis_port"; else echo "redis: stopped"; fi
}

what="${2:-all}"
case "${1:-}" in
    start)
        case "$what" in postgres) start_postgres ;; redis) start_redis ;; all) start_postgres; start_redis ;; esac ;;
    stop)
        case "$what" in postgres) stop_postgres ;; redis) stop_redis ;; all) stop_postgres; stop_redis ;; esac ;;
    restart)
        "$0" stop "$what"; "$0" start "$what" ;;
    status) status ;;
    env)
        echo "PINGVAS_DATABASE_URL=postgresql://pingvas@127.0.0.1:$pg_port/pingvas"
        echo "PINGVAS_REDIS_URL=redis://127.0.0.1:$redis_port" ;;
    *) echo "usage: $0 start|stop|status|restart [postgres|redis|all] | env" >&2; exit 2 ;;
esac
