#!/usr/bin/env bash
# Starts, stops and reports the seven service executables as background processes.
#
#   scripts/services.sh start|stop|status
#
# Uses the PostgreSQL and Redis of scripts/stack.sh (same PINGVAS_STACK_DIR / ports). Settings:
#   PINGVAS_STACK_DIR      folder for logs (logs/), pid files (pids/) and generated secrets (default: .run)
#   PINGVAS_PORT_BASE      gateway port; the others follow in docs/architecture.md order (default: 8080)
#   PINGVAS_BIN_DIR        where the executables are (default: swift build --show-bin-path)
# Every PINGVAS_* variable in the environment is passed on to every service, and a non-empty one
# always wins over this script's defaults: the local stack's URLs, the upstream URLs, the paths and
# the development secrets. Those secrets (PINGVAS_JWT_SIGNING_KEY, PINGVAS_LEMONSQUEEZY_SIGNING_SECRET,
# PINGVAS_INTERNAL_SECRET) are generated once into $PINGVAS_STACK_DIR/secrets.env, and used only for a variable that is
# unset or empty; `start` prints which names came from where, never a value. Only PINGVAS_HOST and
# PINGVAS_PORT are set per service (127.0.0.1, PINGVAS_PORT_BASE + position).
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

secrets_file="$dir/secrets.env"
# Development secrets: name and how many random bytes make one.
# PINGVAS_JWT_SIGNING_KEY is an Ed25519 private key: exactly 32 random bytes in standard base64.
dev_secrets=(PINGVAS_JWT_SIGNING_KEY:32 PINGVAS_LEMONSQUEEZY_SIGNING_SECRET:24 PINGVAS_INTERNAL_SECRET:48)
from_file=() generated=() secrets_from_env=() settings_from_env=()

# Whether the environment has a non-empty NAME (an empty value counts as unset, as in the services).
is_set() { [ -n "${!1:-}" ]; }

# "A, B, C" from the arguments.
names() { local out="" n; for n in "$@"; do out+="${out:+, }$n"; done; printf '%s' "$out"; }

# Exports NAME=VALUE unless the environment already has a non-empty NAME, which then wins.
default_setting() {
    local name="$1" value="$2"
    if is_set "$name"; then settings_from_env+=("$name"); else export "$name=$value"; fi
}

# Exports the development value of NAME from the secrets file (generated and appended first when
# the file has none), unless the environment already has a non-empty NAME, which then wins.
# The file is made once per stack folder, readable by its owner only, and never committed.
dev_secret() {
    local name="$1" bytes="$2" value=""
    if is_set "$name"; then secrets_from_env+=("$name"); return; fi
    [ -f "$secrets_file" ] && value="$(sed -n "s/^$name=//p" "$secrets_file" | tail -n 1)"
    if [ -z "$value" ]; then
        if [ "$name" = PINGVAS_JWT_SIGNING_KEY ]; then
            value="$(head -c "$bytes" /dev/urandom | base64 | tr -d '\n')"
        else
            value="$(head -c "$bytes" /dev/urandom | base64 | tr -d '\n/+=')"
        fi
        mkdir -p "$(dirname "$secrets_file")"
        (umask 077 && printf '%s=%s\n' "$name" "$value" >>"$secrets_file")
        generated+=("$name")
    fi
    from_file+=("$name")
    export "$name=$value"
}

# Says where the secrets and the overridden defaults came from: names only, never values.
report_settings() {
    local shown="${secrets_file#"$here"/}"
    if [ "${#from_file[@]}" -gt 0 ]; then
        local note=""
        [ "${#generated[@]}" -gt 0 ] && note=" (generated now: $(names "${generated[@]}"))"
        echo "services: development secrets from $shown: $(names "${from_file[@]}")$note"
    fi
    if [ "${#secrets_from_env[@]}" -gt 0 ]; then
        echo "services: secrets from the environment: $(names "${secrets_from_env[@]}")"
    fi
    if [ "${#settings_from_env[@]}" -gt 0 ]; then
        echo "services: settings from the environment: $(names "${settings_from_env[@]}")"
    fi
    local ignored=() name
    for name in PINGVAS_HOST PINGVAS_PORT; do is_set "$name" && ignored+=("$name"); done
    if [ "${#ignored[@]}" -gt 0 ]; then
        echo "services: $(names "${ignored[@]}") from the environment not used: each service listens on 127.0.0.1, port PINGVAS_PORT_BASE + its position"
    fi
    return 0
}

# Everything start() gives the services besides host and port; the environment wins everywhere.
configure() {
    local stack_env name value upstream entry
    stack_env="$("$here/scripts/stack.sh" env)"
    while IFS='=' read -r name value; do
        [ -n "$name" ] && default_setting "$name" "$value"
    done <<<"$stack_env"
    for entry in "${dev_secrets[@]}"; do dev_secret "${entry%%:*}" "${entry##*:}"; done
    # Where each service finds the others, and the shared local settings.
    for upstream in user generation payment-webhook gallery model-router; do
        default_setting "PINGVAS_$(echo "$upstream" | tr 'a-z-' 'A-Z_')_URL" "http://127.0.0.1:$(port_of "$upstream")"
    done
    default_setting PINGVAS_DB_SCHEMA pingvas_dev
    default_setting PINGVAS_STORAGE_DIR "$dir/storage"
    default_setting PINGVAS_MODEL_CATALOG "$here/config/models.json"
    default_setting PINGVAS_MODELS_DIR "$dir/models"
    default_setting PINGVAS_WORKER_QUEUES cpu-preview
    default_setting PINGVAS_SD_LIBRARY "$here/.run/engine/lib/libpingvas-sd.so"  # absent: preview engine only
}

start() {
    [ -n "$bin_dir" ] || bin_dir="$(cd "$here" && swift build --show-bin-path)"
    mkdir -p "$dir/logs" "$dir/pids" "$dir/storage"
    configure
    report_settings
    local id
    for id in "${services[@]}"; do
        if running "$id"; then echo "$id: already running on 127.0.0.1:$(port_of "$id")"; continue; fi
        [ -x "$bin_dir/$id" ] || { echo "services: $bin_dir/$id not built (make build)" >&2; exit 1; }
        PINGVAS_HOST=127.0.0.1 PINGVAS_PORT="$(port_of "$id")" \
            nohup "$bin_dir/$id" >>"$dir/logs/$id.log" 2>&1 </dev/null &
        echo $! >"$(pid_file "$id")"
    done
    for id in "${services[@]}"; do wait_ready "$id"; done
    echo "gateway: http://127.0.0.1:$(port_of gateway)   (the studio page: http://127.0.0.1:$(port_of gateway)/; logs: $dir/logs)"
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
