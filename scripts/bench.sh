#!/usr/bin/env bash
# make bench: the services on release builds, each measured side by side with a baseline in the
# same run, printed as one table of ratios (issue #12):
#
#   P1  gateway req/s (token check + rate limit + proxy to a static upstream served by nginx)
#       ÷ nginx proxying the same upstream, same wrk settings; p99 of both and the p99 the gateway adds
#   P2  accepted generations/s through the gateway (all seven services, the worker running)
#       ÷ pgbench running one transaction shaped like a submission's writes (credit hold row, balance
#       update, ledger row, job row, outbox row, idempotency row) with the same number of clients
#   P6  signed webhook deliveries stored/s by payment-webhook ÷ pgbench's one-row insert, p99
#   P7  resident memory and threads per service: idle, and the most seen under P2's load
#
# Settings (environment):
#   PINGVAS_BENCH_DURATION      seconds each measured run lasts                        (default: 10)
#   PINGVAS_BENCH_P1_CONNECTIONS  wrk connections for P1                              (default: 32)
#   PINGVAS_BENCH_P2_CLIENTS    wrk connections for P2 = pgbench clients = users        (default: 8)
#   PINGVAS_BENCH_CONNECTIONS   connections / pgbench clients for P6                   (default: 16)
#   PINGVAS_BENCH_PORT_BASE     first of the ports the run listens on                  (default: 48080)
#   PINGVAS_BENCH_PG_PORT, PINGVAS_BENCH_REDIS_PORT                                    (default: 45432, 46379)
#   PINGVAS_BENCH_ONLY          e.g. "P1 P7": run only these parts                     (default: all)
#
# Uses a stack of its own in .run/bench and stops everything it started afterwards; not part of
# `make test`. The numbers are only as quiet as the machine: on a shared 2-core box, other builds
# move both sides of a ratio, the absolute rates far more than the ratios.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
duration="${PINGVAS_BENCH_DURATION:-10}"
p1_connections="${PINGVAS_BENCH_P1_CONNECTIONS:-32}"
p2_clients="${PINGVAS_BENCH_P2_CLIENTS:-8}"
p6_clients="${PINGVAS_BENCH_CONNECTIONS:-16}"
port_base="${PINGVAS_BENCH_PORT_BASE:-29080}"   # below the ephemeral range (32768+): no clash with outgoing connections
pg_port="${PINGVAS_BENCH_PG_PORT:-45432}"
redis_port="${PINGVAS_BENCH_REDIS_PORT:-46379}"
only="${PINGVAS_BENCH_ONLY:-P1 P2 P6 P7}"
wants() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

gateway_port="$port_base"                 # the stack's gateway (P2)
webhook_port=$((port_base + 3))           # the stack's payment-webhook; P6's own one afterwards
p1_gateway_port=$((port_base + 10))       # a gateway whose model-router upstream is the static nginx
static_port=$((port_base + 11))           # nginx: the static upstream
nginx_proxy_port=$((port_base + 12))      # nginx: proxying the static upstream (P1's baseline)

pgbench="$(command -v pgbench || ls -d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1)"
psql="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)"
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in "$pgbench" "$psql" "$nginx" "$(command -v wrk || true)"; do
    [ -n "$tool" ] && [ -x "$tool" ] || { echo "bench: pgbench, psql, nginx and wrk are needed (make deps)" >&2; exit 1; }
done

echo "bench: building release executables (the seven services, pingvas-bench)"
swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)"

export PINGVAS_STACK_DIR="$here/.run/bench" PINGVAS_PG_PORT="$pg_port" PINGVAS_REDIS_PORT="$redis_port"
work="$PINGVAS_STACK_DIR/work"
rm -rf "$work" && mkdir -p "$work" "$PINGVAS_STACK_DIR/logs"
db="postgresql://pingvas@127.0.0.1:$pg_port/pingvas"
pids=()   # processes this script started directly (nginx, the P1 gateway, P6's payment-webhook, samplers)
services_started=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$services_started" ]; then PINGVAS_PORT_BASE="$port_base" PINGVAS_BIN_DIR="$bin" scripts/services.sh stop >/dev/null || true; fi
    scripts/stack.sh stop >/dev/null || true
}
trap cleanup EXIT
scripts/stack.sh start >/dev/null

wait_http() {  # url pid log
    for _ in $(seq 1 300); do
        curl -fs -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { tail -n 20 "$3" >&2; return 1; }
        sleep 0.2
    done
    echo "bench: $1 not ready after 60 s" >&2; return 1
}

# p99 in ms from wrk --latency output; requests per second.
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1" | head -n 1; }
wrk_p99() {
    sed -n 's/^ *99% *\([0-9.]*\)\([a-z]*\).*/\1 \2/p' "$1" | head -n 1 |
        awk '{ v = $1; if ($2 == "us") v /= 1000; else if ($2 == "s") v *= 1000; else if ($2 == "m") v *= 60000; printf "%.2f", v }'
}
# tps and p99 (ms) of a pgbench run logged with --log (column 3: latency in microseconds).
pgbench_run() {  # name clients script [more pgbench options]
    local name="$1" clients="$2" script="$3" out
    shift 3
    rm -f "$work/$name".log*
    out="$("$pgbench" -n -M extended -c "$clients" -j 2 -T "$duration" "$@" -f "$script" --log --log-prefix="$work/$name.log" "$db" 2>&1)" || { echo "$out" >&2; exit 1; }
    echo "$out" >"$work/$name.out"
    tps="$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)"
    p99="$(cat "$work/$name".log* | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000 }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# RSS (MB) and threads of a process.
proc_rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }
# Private (anonymous) resident memory, MB: RSS also counts the executable's and the shared libraries'
# clean pages (Swift runtime, Foundation, ICU, libcrypto: about 40 MB per service), which every
# service maps and the page cache holds once.
proc_anon() { awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "-"; }
proc_threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo "-"; }
# CPU seconds (user + system) a process has used so far: throughput moves with whatever else the
# machine runs, CPU per request far less, so the table also gives µs of CPU per request.
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
per_request_us() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / n; else print "-" }'; }
services=(gateway user generation payment-webhook gallery model-router ai-worker)
service_pid() { cat "$PINGVAS_STACK_DIR/pids/$1.pid"; }
# Samples every service every 0.5 s into $work/samples until killed: "name rss_mb threads".
sample_loop() {
    while true; do
        for id in "${services[@]}"; do
            local pid; pid="$(service_pid "$id")"
            echo "$id $(proc_rss "$pid") $(proc_threads "$pid") $(proc_anon "$pid")"
        done >>"$work/samples"
        sleep 0.5
    done
}

declare -A result
table_rows=()

if wants P1 || wants P2 || wants P7; then
    # ---- the stack: all seven services, release builds --------------------------------------------
    "$psql" "$db" -qX -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS pingvas_bench_user, pingvas_bench_generation, pingvas_bench_gallery, pingvas_bench_model_router, pingvas_bench_payment_webhook, pingvas_bench_pgbench CASCADE" >/dev/null
    redis-cli -p "$redis_port" FLUSHALL >/dev/null
    echo "bench: the seven services on 127.0.0.1:$port_base-$((port_base + 6))"
    services_started=1   # also when start fails halfway: cleanup stops what did start
    PINGVAS_PORT_BASE="$port_base" PINGVAS_BIN_DIR="$bin" PINGVAS_DB_SCHEMA=pingvas_bench PINGVAS_LOG_LEVEL=warning \
    PINGVAS_PASSWORD_HASH_COST=10 PINGVAS_SIGNUP_CREDITS=1000000000 PINGVAS_MAX_QUEUED_PER_USER=100000000 \
    PINGVAS_RATE_LIMIT_PER_IP=100000000 PINGVAS_RATE_LIMIT_PER_USER=100000000 PINGVAS_STORAGE_DIR="$PINGVAS_STACK_DIR/storage" \
        scripts/services.sh start >"$work/services.out" 2>&1 || { cat "$work/services.out" >&2; exit 1; }
    source <(grep -E '^PINGVAS_(INTERNAL_SECRET|JWT_SIGNING_KEY)=' "$PINGVAS_STACK_DIR/secrets.env" | sed 's/^/export /')

    # Users and their access tokens (P1 sends one, P2 one per client).
    : >"$work/tokens"
    for i in $(seq 1 "$p2_clients"); do
        curl -sS "http://127.0.0.1:$gateway_port/api/v1/auth/signup" -H 'Content-Type: application/json' \
            -d "{\"email\":\"bench$i-$RANDOM@example.com\",\"password\":\"correct horse battery staple\",\"display_name\":\"Bench $i\"}" \
            >"$work/signup.json"
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' "$work/signup.json" >>"$work/tokens" 2>/dev/null ||
            { echo "bench: signup failed: $(head -c 400 "$work/signup.json")" >&2; exit 1; }
    done
    [ "$(grep -c . "$work/tokens")" -eq "$p2_clients" ] || { echo "bench: signups failed" >&2; exit 1; }
    token="$(head -n 1 "$work/tokens")"

    sleep 3
    for id in "${services[@]}"; do
        pid="$(service_pid "$id")"
        result[idle_rss_$id]="$(proc_rss "$pid")"
        result[idle_threads_$id]="$(proc_threads "$pid")"
        result[idle_anon_$id]="$(proc_anon "$pid")"
    done
fi

if wants P1; then
    # ---- P1: nginx serves a static 2.5 KB JSON; nginx and the gateway proxy it ----------------------
    mkdir -p "$work/nginx/www" "$work/nginx/tmp"
    python3 - "$work/nginx/www/models.json" <<'PY'
import json, sys
items = [{"id": f"model-{i}", "name": f"Bench model {i}", "family": "sd15", "engine": "sdcpp",
          "availability": {"status": "available", "workers": 2, "warm_workers": 1,
                           "queue": {"waiting": i, "running": 1, "wait_seconds": 3.5}}} for i in range(40)]
text = ""
while items and len(text) < 2500:
    text = json.dumps({"items": items[: len(json.loads(text)["items"]) + 1 if text else 1]})
open(sys.argv[1], "w").write(text)
PY
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    keepalive_requests 100000;
    upstream static { server 127.0.0.1:$static_port; keepalive 64; }
    server {
        listen 127.0.0.1:$static_port;
        root $work/nginx/www;
        location / { default_type application/json; try_files /models.json =404; }
    }
    server {
        listen 127.0.0.1:$nginx_proxy_port;
        location / { proxy_pass http://static; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
    chmod -R a+rX "$work/nginx"
    "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" >"$work/nginx/stdout.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$nginx_proxy_port/api/v1/models" "${pids[-1]}" "$work/nginx/error.log"

    # The gateway as make run starts it, but with model-router's routes going to the static nginx.
    PINGVAS_HOST=127.0.0.1 PINGVAS_PORT="$p1_gateway_port" PINGVAS_LOG_LEVEL=warning PINGVAS_REDIS_URL="redis://127.0.0.1:$redis_port" \
    PINGVAS_USER_URL="http://127.0.0.1:$((port_base + 1))" PINGVAS_GENERATION_URL="http://127.0.0.1:$((port_base + 2))" \
    PINGVAS_PAYMENT_WEBHOOK_URL="http://127.0.0.1:$((port_base + 3))" PINGVAS_GALLERY_URL="http://127.0.0.1:$((port_base + 4))" \
    PINGVAS_MODEL_ROUTER_URL="http://127.0.0.1:$static_port" \
    PINGVAS_RATE_LIMIT_PER_IP=100000000 PINGVAS_RATE_LIMIT_PER_USER=100000000 \
        "$bin/gateway" >"$work/gateway-p1.log" 2>&1 &
    pids+=($!)
    p1_gateway_pid="${pids[-1]}"
    wait_http "http://127.0.0.1:$p1_gateway_port/readyz" "$p1_gateway_pid" "$work/gateway-p1.log"
    body_bytes="$(curl -fsS "http://127.0.0.1:$p1_gateway_port/api/v1/models" -H "Authorization: Bearer $token" | wc -c)"
    [ "$body_bytes" -gt 2000 ] || { echo "bench: the gateway did not proxy the static upstream" >&2; exit 1; }

    echo "bench: P1, wrk -t2 -c$p1_connections ${duration}s: nginx, then the gateway (2 s warm-up each)"
    for side in nginx gateway; do
        port=$nginx_proxy_port; [ "$side" = gateway ] && port=$p1_gateway_port
        wrk -t2 -c"$p1_connections" -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/models" >/dev/null
        nginx_master="$(cat "$work/nginx/nginx.pid")"
        cpu_pids="$nginx_master $(pgrep -d' ' -P "$nginx_master" || true)"; [ "$side" = gateway ] && cpu_pids="$p1_gateway_pid"
        cpu_before="$(for pid in $cpu_pids; do proc_cpu "$pid"; echo; done | awk '{ s += $1 } END { printf "%.3f", s }')"
        wrk -t2 -c"$p1_connections" -d"${duration}s" --latency -H "Authorization: Bearer $token" \
            "http://127.0.0.1:$port/api/v1/models" >"$work/p1-$side.txt"
        cpu_after="$(for pid in $cpu_pids; do proc_cpu "$pid"; echo; done | awk '{ s += $1 } END { printf "%.3f", s }')"
        served="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/p1-$side.txt")"
        result[p1_cpu_$side]="$(per_request_us "$cpu_before" "$cpu_after" "${served:-0}")"
        grep -q "Non-2xx" "$work/p1-$side.txt" && { echo "bench: P1 $side answered non-2xx:" >&2; cat "$work/p1-$side.txt" >&2; exit 1; }
    done
    result[p1_rss]="$(proc_rss "$p1_gateway_pid")"
    result[p1_threads]="$(proc_threads "$p1_gateway_pid")"
    n_rps="$(wrk_rps "$work/p1-nginx.txt")"; n_p99="$(wrk_p99 "$work/p1-nginx.txt")"
    g_rps="$(wrk_rps "$work/p1-gateway.txt")"; g_p99="$(wrk_p99 "$work/p1-gateway.txt")"
    # CPU per request: the gateway process; all of nginx for its side (it also serves the static
    # upstream, which the gateway's side costs nginx too).
    table_rows+=("P1 gateway proxy, req/s (${p1_connections} conn)|$g_rps (${result[p1_cpu_gateway]} µs CPU each)|nginx proxy $n_rps (${result[p1_cpu_nginx]} µs CPU each, both tiers)|$(ratio "$g_rps" "$n_rps")|$g_p99 (nginx $n_p99, added $(minus "$g_p99" "$n_p99"))|≥ 0.7")
fi

if wants P2 || wants P7; then
    # ---- P2: accepted generations through the gateway vs pgbench's submission-shaped transaction -----
    cat >"$work/submit.lua" <<'LUA'
local tokens, threads, counter = {}, {}, 0
accepted, other = 0, 0
local body = '{"model":"preview","prompt":"a lighthouse at dusk, bench","width":64,"height":64,"steps":1,"cfg_scale":7}'
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args) for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end end
function request()
    counter = counter + 1
    local token = tokens[((counter + tid) % #tokens) + 1]
    return wrk.format("POST", "/api/v1/generations", {
        ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), tid, counter)}, body)
end
function response(status, headers, body) if status == 202 then accepted = accepted + 1 else other = other + 1 end end
function done(summary, latency, requests)
    local a, o = 0, 0
    for _, t in ipairs(threads) do a = a + t:get("accepted"); o = o + t:get("other") end
    io.write(string.format("ACCEPTED %d OTHER %d\n", a, o))
end
LUA
    # Tables of the same shape as the services' (LIKE copies columns, defaults, checks and indexes).
    "$psql" "$db" -qX -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE SCHEMA pingvas_bench_pgbench;
CREATE TABLE pingvas_bench_pgbench.credit_accounts (LIKE pingvas_bench_user.credit_accounts INCLUDING ALL);
CREATE TABLE pingvas_bench_pgbench.credit_holds (LIKE pingvas_bench_user.credit_holds INCLUDING ALL);
CREATE TABLE pingvas_bench_pgbench.credit_entries (LIKE pingvas_bench_user.credit_entries INCLUDING ALL);
CREATE TABLE pingvas_bench_pgbench.jobs (LIKE pingvas_bench_generation.jobs INCLUDING ALL);
CREATE TABLE pingvas_bench_pgbench.outbox (LIKE pingvas_bench_generation.outbox INCLUDING ALL);
CREATE TABLE pingvas_bench_pgbench.idempotency_keys (LIKE pingvas_bench_generation.idempotency_keys INCLUDING ALL);
INSERT INTO pingvas_bench_pgbench.credit_accounts (user_id, balance) SELECT md5(n::text)::uuid, 1000000000 FROM generate_series(1, $p2_clients) n;
SQL
    # (No colons in literals: pgbench would read ":name" as a variable.)
    cat >"$work/submit.sql" <<'SQL'
\set u random(1, :users)
BEGIN;
INSERT INTO pingvas_bench_pgbench.credit_holds (job_id, hold_id, user_id, amount) VALUES (md5(:client_id::text || '-' || random()::text)::uuid, gen_random_uuid(), md5(:u::text)::uuid, 1);
UPDATE pingvas_bench_pgbench.credit_accounts SET balance = balance - 1, updated_at = now() WHERE user_id = md5(:u::text)::uuid AND balance >= 1 AND debt = 0;
INSERT INTO pingvas_bench_pgbench.credit_entries (user_id, amount, kind, job_id) VALUES (md5(:u::text)::uuid, -1, 'hold', gen_random_uuid());
INSERT INTO pingvas_bench_pgbench.jobs (id, user_id, status, model, request, queue, plan, priority, cost, attempt, deadline_at, run_timeout) VALUES (gen_random_uuid(), md5(:u::text)::uuid, 'queued', 'preview', jsonb_build_object('model', 'preview', 'prompt', 'a lighthouse at dusk, bench', 'width', 64, 'height', 64, 'steps', 1, 'cfg_scale', 7, 'batch_size', 1, 'sampler', 'euler_a', 'seed', 1234567), 'cpu-preview', 'free', 0, 1, 1, now() + interval '30 minutes', 120);
INSERT INTO pingvas_bench_pgbench.outbox (stream, envelope) VALUES (concat_ws(chr(58), 'pingvas', 'queue', 'cpu-preview'), repeat('x', 600));
INSERT INTO pingvas_bench_pgbench.idempotency_keys (user_id, key, request_hash, job_id, status, body) VALUES (md5(:u::text)::uuid, md5(random()::text), md5(random()::text), gen_random_uuid(), 202, repeat('x', 300));
END;
SQL
    echo "bench: P2, $p2_clients clients ${duration}s: pgbench's submission transaction, then POST /api/v1/generations through the gateway"
    pgbench_run p2 "$p2_clients" "$work/submit.sql" -D users="$p2_clients"
    pg_tps="$tps"; pg_p99="$p99"

    # CPU seconds of every process of the stack, to split the cost of an accepted submission.
    p2_cpu() {
        local id pg_master
        for id in "${services[@]}"; do echo "$id $(proc_cpu "$(service_pid "$id")")"; done
        echo "redis $(proc_cpu "$(cat "$PINGVAS_STACK_DIR/redis/redis.pid" 2>/dev/null || echo 0)")"
        pg_master="$(head -n 1 "$PINGVAS_STACK_DIR/postgres/data/postmaster.pid" 2>/dev/null || echo 0)"
        echo "postgres $(for pid in $pg_master $(pgrep -P "$pg_master" || true); do proc_cpu "$pid"; echo; done | awk '{ s += $1 } END { printf "%.3f", s }')"
    }
    : >"$work/samples"
    sample_loop &
    pids+=($!)
    sampler_pid="${pids[-1]}"
    BENCH_TOKENS="$work/tokens" wrk -t"$((p2_clients < 2 ? 1 : 2))" -c"$p2_clients" -d2s -s "$work/submit.lua" "http://127.0.0.1:$gateway_port" >/dev/null
    p2_cpu >"$work/p2-cpu-before"
    BENCH_TOKENS="$work/tokens" wrk -t"$((p2_clients < 2 ? 1 : 2))" -c"$p2_clients" -d"${duration}s" --latency -s "$work/submit.lua" \
        "http://127.0.0.1:$gateway_port" >"$work/p2-gateway.txt"
    p2_cpu >"$work/p2-cpu-after"
    kill "$sampler_pid" 2>/dev/null || true
    accepted="$(sed -n 's/^ACCEPTED \([0-9]*\) OTHER.*/\1/p' "$work/p2-gateway.txt")"
    refused="$(sed -n 's/^ACCEPTED [0-9]* OTHER \([0-9]*\).*/\1/p' "$work/p2-gateway.txt")"
    g_rate="$(awk -v a="$accepted" -v d="$duration" 'BEGIN { printf "%.1f", a / d }')"
    g_p99="$(wrk_p99 "$work/p2-gateway.txt")"
    table_rows+=("P2 accepted generations/s (${p2_clients} clients)|$g_rate (other answers: $refused)|pgbench submission txn $pg_tps|$(ratio "$g_rate" "$pg_tps")|$g_p99 (pgbench $pg_p99)|≥ 0.5")
    # µs of CPU per accepted submission, by process (the worker's and the results' work included:
    # every process of the stack runs during the run).
    p2_split="$(awk -v n="${accepted:-0}" 'NR == FNR { before[$1] = $2; next }
        { us = n > 0 ? ($2 - before[$1]) * 1e6 / n : 0; total += us; printf "%s %.0f, ", $1, us }
        END { printf "total %.0f", total }' "$work/p2-cpu-before" "$work/p2-cpu-after")"
    for id in "${services[@]}"; do
        result[load_rss_$id]="$(awk -v s="$id" '$1 == s && $2 != "-" { if ($2 > m) m = $2 } END { printf "%.1f", m }' "$work/samples")"
        result[load_threads_$id]="$(awk -v s="$id" '$1 == s && $3 != "-" { if ($3 > m) m = $3 } END { print m + 0 }' "$work/samples")"
        result[load_anon_$id]="$(awk -v s="$id" '$1 == s && $4 != "-" { if ($4 > m) m = $4 } END { printf "%.1f", m }' "$work/samples")"
    done
fi

if [ -n "$services_started" ]; then
    PINGVAS_PORT_BASE="$port_base" PINGVAS_BIN_DIR="$bin" scripts/services.sh stop >/dev/null || true
    services_started=""
fi

if wants P6; then
    # ---- P6: webhook deliveries stored vs pgbench's one-row insert ----------------------------------
    # A throwaway signing secret for this run's own payment-webhook, on purpose even when the
    # environment has one: the generator gets it on its command line (visible in ps). The processor
    # is parked (poll interval 1h), so the run measures the intake: verify, store, answer.
    secret="whsec-bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    "$psql" "$db" -qX -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS pingvas_bench_payment_webhook CASCADE;
DROP SCHEMA IF EXISTS pingvas_bench_pgbench_webhook CASCADE;
CREATE SCHEMA pingvas_bench_pgbench_webhook;
-- The shape of payment-webhook's webhook_deliveries: the same keys and indexes to maintain.
CREATE TABLE pingvas_bench_pgbench_webhook.deliveries (
    id uuid PRIMARY KEY, dedupe_key text NOT NULL UNIQUE, event_name text NOT NULL, test_mode boolean NOT NULL DEFAULT false,
    body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL, attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(), last_error text, processed_at timestamptz
);
CREATE INDEX ON pingvas_bench_pgbench_webhook.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ON pingvas_bench_pgbench_webhook.deliveries (received_at DESC, id DESC);
SQL
    # One row per transaction, a body as large as the bench's (about 1.3 KB), a 64-hex dedupe key.
    echo "INSERT INTO pingvas_bench_pgbench_webhook.deliveries (id, dedupe_key, event_name, test_mode, body, status) VALUES (gen_random_uuid(), md5(random()::text) || md5(clock_timestamp()::text), 'order_created', false, convert_to(repeat('x', 1300), 'UTF8'), 'pending');" >"$work/insert.sql"
    echo "bench: P6, $p6_clients clients ${duration}s: pgbench one-row insert, then webhook intake"
    pgbench_run p6 "$p6_clients" "$work/insert.sql"
    pg_tps="$tps"; pg_p99="$p99"

    PINGVAS_HOST=127.0.0.1 PINGVAS_PORT="$webhook_port" PINGVAS_LOG_LEVEL=warning \
    PINGVAS_DATABASE_URL="$db" PINGVAS_REDIS_URL="redis://127.0.0.1:$redis_port" PINGVAS_DB_SCHEMA=pingvas_bench \
    PINGVAS_INTERNAL_SECRET="bench-internal-secret-$(date +%s)-0123456789abcdef" \
    PINGVAS_DB_POOL_SIZE="$p6_clients" PINGVAS_LEMONSQUEEZY_SIGNING_SECRET="$secret" PINGVAS_USER_URL=http://127.0.0.1:9 \
    PINGVAS_LEMONSQUEEZY_VARIANTS='{"201": {"credits": 500}}' PINGVAS_WEBHOOK_POLL_INTERVAL=1h \
        "$bin/payment-webhook" >"$work/payment-webhook-p6.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$webhook_port/readyz" "${pids[-1]}" "$work/payment-webhook-p6.log"
    p6_pid="${pids[-1]}"; p6_cpu_before="$(proc_cpu "$p6_pid")"
    "$bin/pingvas-bench" --url "http://127.0.0.1:$webhook_port/webhooks/lemonsqueezy" --secret "$secret" \
        --connections "$p6_clients" --duration "$duration" --baseline-tps "$pg_tps" >"$work/p6.txt"
    cat "$work/p6.txt"
    w_rate="$(sed -n 's/^BENCH stored_per_second=\([0-9.]*\) p99_ms=.*/\1/p' "$work/p6.txt")"
    w_p99="$(sed -n 's/^BENCH stored_per_second=[0-9.]* p99_ms=\([0-9.]*\).*/\1/p' "$work/p6.txt")"
    w_stored="$(sed -n 's/^deliveries stored (200, new) *\([0-9]*\).*/\1/p' "$work/p6.txt")"
    w_cpu="$(per_request_us "$p6_cpu_before" "$(proc_cpu "$p6_pid")" "${w_stored:-0}")"
    table_rows+=("P6 webhook deliveries stored/s (${p6_clients} conn)|$w_rate ($w_cpu µs CPU each)|pgbench one-row insert $pg_tps|$(ratio "$w_rate" "$pg_tps")|$w_p99 (pgbench $pg_p99)|≥ 0.5, p99 ≤ 20 ms")
fi

# ---- the table -----------------------------------------------------------------------------------
echo ""
echo "make bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${duration} s per run"
echo ""
echo "| measure | pingvas | baseline (same run) | ratio | p99 ms | goal |"
echo "|---|---|---|---|---|---|"
for row in "${table_rows[@]}"; do echo "| ${row//|/ | } |"; done
[ -n "${p2_split:-}" ] && { echo ""; echo "P2, µs of CPU per accepted submission: $p2_split"; }
if wants P7 && [ -n "${result[idle_rss_gateway]:-}" ]; then
    echo ""
    echo "| P7 service | RSS idle MB | of it private (anon) | RSS under P2 MB (max) | of it private (max) | threads idle | threads under P2 (max) |"
    echo "|---|---|---|---|---|---|---|"
    for id in "${services[@]}"; do
        echo "| $id | ${result[idle_rss_$id]} | ${result[idle_anon_$id]} | ${result[load_rss_$id]:--} | ${result[load_anon_$id]:--} | ${result[idle_threads_$id]} | ${result[load_threads_$id]:--} |"
    done
    [ -n "${result[p1_rss]:-}" ] && echo "| gateway after P1 (its own process) | - | - | ${result[p1_rss]} | - | - | ${result[p1_threads]} |"
    echo "(goal: idle ≤ 40 MB, under load ≤ 150 MB; the rest of RSS is clean pages of the executable and shared libraries)"
fi
