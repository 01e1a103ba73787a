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
log="$PINGVAS_TEST_STACK_DIR/swift-test.log"
swift test ${SWIFT_TEST_FLAGS:-} "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One plain closing line with the counts of Swift Testing's run (XCTest runs no test here, and its
# "Executed 0 tests" line must not be mistaken for the result).
total=$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .*/\1/p' "$log" | tail -n 1)
failed=$(grep '^✘ Test .* failed' "$log" | grep -vc '^✘ Test run with' || true)
if [ -n "$total" ]; then
    echo "swift-test: $((total - failed)) passed, $failed failed"
elif [ "$status" -ne 0 ]; then
    echo "swift-test: 0 passed, 1 failed"
fi
exit "$status"
