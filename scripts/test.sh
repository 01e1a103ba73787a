#!/usr/bin/env bash
# `make test`: starts the test stack (real PostgreSQL and Redis in .run/test), runs `swift test`,
# and stops every server it or the tests started, whatever the outcome.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export PINGVAS_TEST_STACK_DIR="$here/.run/test"
export PINGVAS_TEST_PG_PORT="${PINGVAS_TEST_PG_PORT:-25432}"
export PINGVAS_TEST_REDIS_PORT="${PINGVAS_TEST_REDIS_PORT:-26379}"
stack() { PINGVAS_STACK_DIR="$PINGVAS_TEST_STACK_DIR" PINGVAS_PG_PORT="$PINGVAS_TEST_PG_PORT" PINGVAS_REDIS_PORT="$PINGVAS_TEST_REDIS_PORT" scripts/stack.sh "$@"; }

cleanup() {
    stack stop >/dev/null 2>&1 || true
    # private stacks some tests start on free ports
    for d in .run/test-private/*/; do
        [ -d "$d" ] || continue
        pg_pid_file="$d/postgres/data/postmaster.pid"
        [ -f "$pg_pid_file" ] && kill -INT "$(head -n 1 "$pg_pid_file")" 2>/dev/null
        [ -f "$d/redis/redis.pid" ] && kill "$(cat "$d/redis/redis.pid")" 2>/dev/null
    done
    sleep 1
    rm -rf .run/test-private
}
trap cleanup EXIT

stack start || exit 1
swift test ${SWIFT_TEST_FLAGS:-} "$@"
