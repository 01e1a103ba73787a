#!/usr/bin/env bash
# Starts, stops and reports the seven service executables as background processes.
#
#   scripts/services.sh start|stop|status
#
# Uses the PostgreSQL and Redis of scripts/stack.sh (same PINGVAS_STACK_DIR / ports). Settings:
#   PINGVAS_STACK_DIR      folder for logs (logs/), pid files (pids/) and generated secrets (default: .run)
#   PINGVAS_PORT_BASE      gateway port; the others follow in ARCHITECTURE.md order (default: 8080)
#   PINGVAS_BIN_DIR        where the executables are (default: swift build --show-bin-path)
# Any other PINGVAS_* variable in the environment is passed on to every service.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PINGVAS_STACK_DIR:-$here/.run}"
case "$dir" in /*) ;; *) dir="$here/$dir" ;; esac
base="${PINGVAS_PORT_BASE:-8080}"
services=(gateway user generation payment-webhook gallery model-router ai-worker)
bin_dir="${PINGVAS_BIN_DIR:-}"

port_of() {
    local i
    for i in "${!services[@]}"; do [ "${services[$i]}" = "$1" ] && { echo $((base + i)); return; }; done
}

pid_file() { echo "$dir/pids/$1.pid"; }

running() {
    local f; f="$(pid_file "$1")"
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

secrets() {
    # Development secrets, made once per stack folder and never committed.
    local f="$dir/secrets.env"
    if [ ! -f "$f" ]; then
        mkdir -p "$dir"
        umask 077
        {
            echo "PINGVAS_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
            echo "PINGVAS_LEMONSQUEEZY_SIGNING_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"
        } >"$f"
    fi
    echo "$f"
}

start() {
    [ -n "$bin_dir" ] || bin_dir="$(cd "$here" && swift build --show-bin-path)"
    mkdir -p "$dir/logs" "$dir/pids" "$dir/storage"
    eval "$("$here/scripts/stack.sh" env)"
    set -a; . "$(secrets)"; set +a
    local id upstream
    # Where each service finds the others, and the shared local settings.
    for upstream in user generation payment-webhook gallery model-router; do
        export "PINGVAS_$(echo "$upstream" | tr 'a-z-' 'A-Z_')_URL=http://127.0.0.1:$(port_of "$upstream")"
    done
    export PINGVAS_MODEL_CATALOG="${PINGVAS_MODEL_CATALOG:-$here/config/models.json}"
    export PINGVAS_MODELS_DIR="${PINGVAS_MODELS_DIR:-$dir/models}"
    export PINGVAS_WORKER_QUEUES="${PINGVAS_WORKER_QUEUES:-cpu-preview}"
    export PINGVAS_SD_LIBRARY="${PINGVAS_SD_LIBRARY:-$here/.run/engine/lib/libpingvas-sd.so}"  # absent: preview engine only
    for id in "${services[@]}"; do
        if running "$id"; then echo "$id: already running on 127.0.0.1:$(port_of "$id")"; continue; fi
        [ -x "$bin_dir/$id" ] || { echo "services: $bin_dir/$id not built (make build)" >&2; exit 1; }
        PINGVAS_HOST=127.0.0.1 PINGVAS_PORT="$(port_of "$id")" \
        PINGVAS_DATABASE_URL="$PINGVAS_DATABASE_URL" PINGVAS_REDIS_URL="$PINGVAS_REDIS_URL" \
        PINGVAS_DB_SCHEMA="${PINGVAS_DB_SCHEMA:-pingvas_dev}" PINGVAS_STORAGE_DIR="${PINGVAS_STORAGE_DIR:-$dir/storage}" \
            nohup "$bin_dir/$id" >>"$dir/logs/$id.log" 2>&1 </dev/null &
        echo $! >"$(pid_file "$id")"
    done
    for id in "${services[@]}"; do wait_ready "$id"; done
    echo "gateway: http://127.0.0.1:$(port_of gateway)   (logs: $dir/logs)"
}

wait_ready() {
    local id="$1" port; port="$(port_of "$1")"
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
            echo "$id: ready on 127.0.0.1:$port"; return
        fi
        running "$id" || { echo "$id: exited; last log lines:" >&2; tail -n 20 "$dir/logs/$id.log" >&2; exit 1; }
        sleep 0.2
    done
    echo "$id: not ready after 60 s; see $dir/logs/$id.log" >&2; exit 1
}

stop() {
    local id pid stopped=()
    for id in "${services[@]}"; do
        if running "$id"; then
            kill -TERM "$(cat "$(pid_file "$id")")" 2>/dev/null || true
            stopped+=("$id")
        fi
    done
    for id in "${stopped[@]}"; do
        pid="$(cat "$(pid_file "$id")")"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            echo "$id: killed (did not stop within 15 s of SIGTERM)"
        else
            echo "$id: stopped"
        fi
    done
    rm -f "$dir"/pids/*.pid
}

status() {
    local id
    for id in "${services[@]}"; do
        if running "$id"; then echo "$id: running on 127.0.0.1:$(port_of "$id")"; else echo "$id: stopped"; fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
