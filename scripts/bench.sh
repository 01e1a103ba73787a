#!/usr/bin/env bash
# make bench: signed Lemon Squeezy deliveries stored per second by the real payment-webhook
# (release build), as a ratio to a pgbench run of single-row inserts into a table of the same
# shape, on the same PostgreSQL, with the same number of clients for the same time.
#
# Settings (environment):
#   PINGVAS_BENCH_CONNECTIONS  concurrent connections / pgbench clients   (default: 16)
#   PINGVAS_BENCH_DURATION     seconds each run lasts                      (default: 10)
#   PINGVAS_BENCH_PG_PORT, PINGVAS_BENCH_REDIS_PORT, PINGVAS_BENCH_PORT    (default: 45432, 46379, 48083)
#
# Uses a stack of its own in .run/bench and stops it afterwards; not part of `make test`.
# The processor is parked (poll interval 1h), so the run measures the intake: verify, store, answer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
clients="${PINGVAS_BENCH_CONNECTIONS:-16}"
duration="${PINGVAS_BENCH_DURATION:-10}"
pg_port="${PINGVAS_BENCH_PG_PORT:-45432}"
redis_port="${PINGVAS_BENCH_REDIS_PORT:-46379}"
port="${PINGVAS_BENCH_PORT:-48083}"
# A throwaway signing secret for this run's own payment-webhook, on purpose even when the
# environment has PINGVAS_LEMONSQUEEZY_SIGNING_SECRET: the generator gets it on its command line
# (visible in ps), where a real one must never go. The other PINGVAS_* values set below are the
# benchmark's conditions (its own stack folder and schema, pool size, parked processor), fixed so
# that runs compare and make run's stack is never touched.
secret="whsec-bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
if [ -n "${PINGVAS_LEMONSQUEEZY_SIGNING_SECRET:-}" ]; then
    echo "bench: PINGVAS_LEMONSQUEEZY_SIGNING_SECRET from the environment not used: this run signs with a throwaway one"
fi
pgbench="$(command -v pgbench || ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1)"
psql="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)"
[ -x "$pgbench" ] || { echo "bench: pgbench not found (make deps)" >&2; exit 1; }

echo "bench: building release executables (payment-webhook, pingvas-bench)"
swift build -c release --product payment-webhook >/dev/null
swift build -c release --product pingvas-bench >/dev/null
bin="$(swift build -c release --show-bin-path)"

export PINGVAS_STACK_DIR="$here/.run/bench" PINGVAS_PG_PORT="$pg_port" PINGVAS_REDIS_PORT="$redis_port"
service_pid=""
cleanup() {
    if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
    scripts/stack.sh stop >/dev/null || true
}
trap cleanup EXIT
scripts/stack.sh start >/dev/null
db="postgresql://pingvas@127.0.0.1:$pg_port/pingvas"
"$psql" "$db" -qX -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS pingvas_bench_payment_webhook CASCADE;
DROP SCHEMA IF EXISTS pingvas_bench_pgbench CASCADE;
CREATE SCHEMA pingvas_bench_pgbench;
-- The shape of payment-webhook's webhook_deliveries: the same keys and indexes to maintain.
CREATE TABLE pingvas_bench_pgbench.deliveries (
    id uuid PRIMARY KEY, dedupe_key text NOT NULL UNIQUE, event_name text NOT NULL, test_mode boolean NOT NULL DEFAULT false,
    body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL, attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(), last_error text, processed_at timestamptz
);
CREATE INDEX ON pingvas_bench_pgbench.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ON pingvas_bench_pgbench.deliveries (received_at DESC, id DESC);
SQL

script="$PINGVAS_STACK_DIR/insert.sql"
# One row per transaction, a body as large as the bench's (about 1.3 KB), a 64-hex dedupe key.
echo "INSERT INTO pingvas_bench_pgbench.deliveries (id, dedupe_key, event_name, test_mode, body, status) VALUES (gen_random_uuid(), md5(random()::text) || md5(clock_timestamp()::text), 'order_created', false, convert_to(repeat('x', 1300), 'UTF8'), 'pending');" >"$script"
echo "bench: pgbench, $clients clients, ${duration}s"
pg_out="$("$pgbench" -n -M extended -c "$clients" -j 2 -T "$duration" -f "$script" "$db" 2>&1)" || { echo "$pg_out" >&2; exit 1; }
tps="$(echo "$pg_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)"
latency="$(echo "$pg_out" | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' | head -n 1)"

echo "bench: payment-webhook on 127.0.0.1:$port"
PINGVAS_HOST=127.0.0.1 PINGVAS_PORT="$port" PINGVAS_LOG_LEVEL=info \
PINGVAS_DATABASE_URL="$db" PINGVAS_REDIS_URL="redis://127.0.0.1:$redis_port" PINGVAS_DB_SCHEMA=pingvas_bench \
PINGVAS_INTERNAL_SECRET="bench-internal-secret-$(date +%s)-0123456789abcdef" \
PINGVAS_DB_POOL_SIZE="$clients" PINGVAS_LEMONSQUEEZY_SIGNING_SECRET="$secret" PINGVAS_USER_URL=http://127.0.0.1:9 \
PINGVAS_LEMONSQUEEZY_VARIANTS='{"201": {"credits": 500}}' PINGVAS_WEBHOOK_POLL_INTERVAL=1h \
    "$bin/payment-webhook" >"$PINGVAS_STACK_DIR/payment-webhook.log" 2>&1 &
service_pid=$!
for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$service_pid" 2>/dev/null || { tail -n 20 "$PINGVAS_STACK_DIR/payment-webhook.log" >&2; exit 1; }
    sleep 0.2
done
"$bin/pingvas-bench" --url "http://127.0.0.1:$port/webhooks/lemonsqueezy" --secret "$secret" \
    --connections "$clients" --duration "$duration" --baseline-tps "$tps" --baseline-latency-ms "${latency:-0}"
stored="$("$psql" "$db" -AtqX -c "SELECT count(*) FROM pingvas_bench_payment_webhook.webhook_deliveries")"
echo "rows in webhook_deliveries after the run (warm-up included): $stored"
