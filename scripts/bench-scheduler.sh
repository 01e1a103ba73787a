#!/usr/bin/env bash
# make bench-scheduler: the same workload through plain FIFO, the fair dispatcher without model
# affinity and with it, on the real Redis scripts and the real worker loop with a simulated engine
# (ai-worker bench-scheduler; release build). Prints one table; not part of make test.
#
# Settings (environment): PINGVAS_BENCH_REDIS_PORT (default 46380); anything after `--` in
# BENCH_ARGS goes to the command, e.g. BENCH_ARGS="--jobs 3000 --time-scale 0.2" (see --help).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
port="${PINGVAS_BENCH_REDIS_PORT:-46380}"
redis_server="$(command -v redis-server || true)"
[ -x "$redis_server" ] || { echo "bench-scheduler: redis-server not found (make deps)" >&2; exit 1; }

echo "bench-scheduler: building the release ai-worker"
swift build -c release --product ai-worker >/dev/null
bin="$(swift build -c release --show-bin-path)"

dir="$here/.run/bench-scheduler"
mkdir -p "$dir"
# A Redis of its own, without persistence: the run's keys are thrown away with it.
"$redis_server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
done

# shellcheck disable=SC2086
"$bin/ai-worker" bench-scheduler --redis "redis://127.0.0.1:$port" ${BENCH_ARGS:-}
