#!/usr/bin/env bash
# `make compose-test`: docker-compose.yml in containers, here: PostgreSQL, Redis, the S3 server and
# the seven service images (`make images`), started in the order of their depends_on conditions,
# each waited for until its own healthcheck passes; then one image end to end through the gateway
# (scripts/compose_e2e.py), proof that the root filesystems are read-only, a record of how the
# containers ran (.run/compose-test/runtime.json, which make check-deploy compares with k8s/), and
# everything it started stopped and removed, also when a step fails.
#
#   --if-usable   (make test) when no container runtime can run a container here, print one
#                 "compose-test: SKIPPED: <reason>" line and exit 0 instead of failing (a runtime that
#                 runs containers but an image that does not build or a stack that fails: a failure)
# Compose: `docker compose` with a docker daemon, podman-compose with podman (pip). When no registry
# answers, docker-compose.local.yml swaps postgres/redis/minio for stand-ins built here (and says so).
# The project is pingvas-compose-test on free loopback ports, so it never meets a `make run` stack
# or another developer's; monitoring (Prometheus, Grafana, Jaeger) is not started.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
if_usable=0
[ "${1:-}" = --if-usable ] && if_usable=1
work="$here/.run/compose-test"
mkdir -p "$work"
project="pingvas-compose-test"
app_services=(user model-router gallery ai-worker generation payment-webhook gateway)
t0=$(date +%s); phase_start=$t0
timings=()
phase() { local now; now=$(date +%s); timings+=("$(printf '%-44s %4d s' "$1" $(( now - phase_start )))"); echo "compose-test: [$(( now - phase_start )) s] $1"; phase_start=$now; }
unusable() {
    if [ "$if_usable" = 1 ]; then echo "compose-test: SKIPPED: $1"; exit 0; fi
    echo "compose-test: cannot run: $1" >&2; exit 2
}

# ---------------------------------------------------------------- a runtime that runs containers
eval "$(scripts/images.sh env)"
[ -n "${CONTAINERS_CONF:-}" ] && export CONTAINERS_CONF
[ "$engine" != none ] || unusable "no container runtime (no docker daemon, no podman; scripts/deps.sh installs podman)"
if [ "$engine" = docker ]; then
    docker compose version >/dev/null 2>&1 || unusable "docker has a daemon but no compose plugin"
    compose=(docker compose)
else
    command -v podman-compose >/dev/null || unusable "podman-compose is missing (scripts/deps.sh pip-installs it)"
    pc_version=$(podman-compose --version 2>/dev/null | sed -n 's/^podman-compose version \([0-9.]*\).*/\1/p' | head -1)
    case "$pc_version" in 0.*|1.0.*|"") echo "compose-test: podman-compose ${pc_version:-?} cannot override lists (!override/!reset); pip install 'podman-compose==1.6.0'" >&2; exit 1 ;; esac
    # podman's --read-only adds writable tmpfs on /run and /var/tmp; k8s (and docker) have only what
    # is mounted, here /tmp: without them a service's root is as read-only as in the cluster.
    compose=(podman-compose --podman-run-args=--read-only-tmpfs=false)
fi
files=(-f docker-compose.yml)
if [ "$bases" = local ]; then
    files+=(-f docker-compose.local.yml)
    echo "compose-test: no registry reachable: docker-compose.local.yml swaps postgres/redis/minio for stand-ins built here (PostgreSQL 15 and Redis 7.0 from Debian, moto's S3 for MinIO)"
fi
# The base first (both builds below need it), then the service images and the stand-ins side by side.
scripts/images.sh base | grep -E 'bases:|base image' || { echo "compose-test: could not make the base image (above)" >&2; exit 1; }
probe_image=localhost/pingvas/debian:bookworm-minbase
[ "$bases" = local ] || probe_image=debian:bookworm-slim
if ! "$engine" run --rm --read-only --user 10001:10001 "$probe_image" /bin/true >"$work/probe.log" 2>&1; then
    unusable "$engine cannot run a container here: $(tail -1 "$work/probe.log")"
fi
phase "base image, and a container runs"
stack_log="$work/stack.log"
if [ "$bases" = local ]; then scripts/images.sh stack >"$stack_log" 2>&1 & stack_pid=$!; fi
if ! out=$(scripts/images.sh 2>&1); then
    echo "$out" | tail -20
    [ -z "${stack_pid:-}" ] || wait "$stack_pid" || true
    echo "compose-test: make images failed (above)" >&2; exit 1
fi
echo "$out" | grep -E 'engine:|MB|done in' || true
if [ -n "${stack_pid:-}" ]; then
    wait "$stack_pid" || { cat "$stack_log" >&2; echo "compose-test: building the stand-ins failed" >&2; exit 1; }
    grep -E 'MB|stand-ins' "$stack_log"
fi
phase "images: the seven services (make images) and the stand-ins, in parallel"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gateway_port=$(free_port); s3_port=$(free_port)
# Published ports: the gateway and the S3 server on free loopback ports (browsers and this test follow
# presigned URLs there), nothing else; the compose file's fixed ports are for a developer's machine.
cat >"$work/ports.yml" <<YAML
# Written by scripts/compose-test.sh: free loopback ports for this run only.
services:
  gateway: {ports: !override ["127.0.0.1:$gateway_port:8080"]}
  minio: {ports: !override ["127.0.0.1:$s3_port:9000"]}
  gallery:
    ports: !reset []
    environment: {PINGVAS_S3_PUBLIC_ENDPOINT: "http://localhost:$s3_port"}
$(for s in user generation payment-webhook model-router ai-worker; do echo "  $s: {ports: !reset []}"; done)
YAML
files+=(-f "$work/ports.yml")
export PINGVAS_LEMONSQUEEZY_SIGNING_SECRET="compose-test-signing-secret-$RANDOM$RANDOM"
export PINGVAS_LEMONSQUEEZY_VARIANTS='{"201": {"credits": 500}}'
export PINGVAS_LOG_LEVEL=info
dc() { "${compose[@]}" -p "$project" "${files[@]}" "$@"; }

container_of() { "$engine" ps -a --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -1; }
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local start; start=$(date +%s)
    if [ "$rc" != 0 ]; then
        echo "compose-test: failed; the last log lines of every container:" >&2
        for s in postgres redis minio "${app_services[@]}"; do
            c=$(container_of "$s"); [ -n "$c" ] || continue
            echo "---- $s ($c): $("$engine" inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' "$c" 2>/dev/null)" >&2
            "$engine" logs --tail 15 "$c" 2>&1 | cut -c1-300 >&2 || true
        done
    fi
    dc down -v --remove-orphans -t 20 >"$work/down.log" 2>&1 || true
    # Whatever compose left: containers, volumes and the network of this project, by label.
    left=$("$engine" ps -aq --filter "label=com.docker.compose.project=$project")
    [ -z "$left" ] || "$engine" rm -f $left >/dev/null 2>&1 || true
    vols=$("$engine" volume ls -q --filter "label=com.docker.compose.project=$project" 2>/dev/null || true)
    [ -z "$vols" ] || "$engine" volume rm -f $vols >/dev/null 2>&1 || true
    for n in $("$engine" network ls --format '{{.Name}}' | grep "^${project}_" || true); do "$engine" network rm -f "$n" >/dev/null 2>&1 || true; done
    remaining=$("$engine" ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)
    echo "compose-test: [$(( $(date +%s) - start )) s] stopped and removed everything it started (containers left: $remaining)"
    timings+=("$(printf '%-44s %4d s' "down (stop, remove containers, volumes, network)" $(( $(date +%s) - start )))")
    echo "compose-test: phases:"; printf 'compose-test:   %s\n' "${timings[@]}"
    if [ "$rc" = 0 ]; then echo "compose-test: passed in $(( $(date +%s) - t0 )) s"; else echo "compose-test: FAILED after $(( $(date +%s) - t0 )) s" >&2; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM
dc down -v --remove-orphans -t 5 >/dev/null 2>&1 || true   # a previous run that was killed

# ---------------------------------------------------------------- up, in depends_on order
if ! dc config >"$work/config.yml" 2>"$work/config.err"; then cat "$work/config.err" >&2; exit 1; fi
mapfile -t tiers < <(python3 - "$work/config.yml" "${app_services[@]}" <<'PY'
import sys, yaml
config = yaml.safe_load(open(sys.argv[1]))["services"]
wanted = set(sys.argv[2:]) | {"postgres", "redis", "minio"}
def deps(s):
    d = config[s].get("depends_on") or {}
    return [k for k in (d if isinstance(d, (dict, list)) else []) if k in wanted]
level = {}
def depth(s):
    if s not in level:
        level[s] = 1 + max((depth(d) for d in deps(s)), default=-1)
    return level[s]
for s in wanted: depth(s)
for n in range(max(level.values()) + 1):
    print(" ".join(sorted(s for s in wanted if level[s] == n)))
PY
)
wait_healthy() {   # $@: services; runs each container's own healthcheck until it passes
    local deadline=$(( $(date +%s) + 180 )) pending=("$@") next c
    while [ ${#pending[@]} -gt 0 ]; do
        next=()
        for s in "${pending[@]}"; do
            c=$(container_of "$s")
            if [ -z "$c" ]; then echo "compose-test: $s has no container" >&2; return 1; fi
            if [ "$engine" = podman ]; then
                # podman runs healthchecks from systemd timers; without systemd nobody does, so run them here.
                "$engine" healthcheck run "$c" >/dev/null 2>&1 || next+=("$s")
            else
                [ "$("$engine" inspect --format '{{.State.Health.Status}}' "$c")" = healthy ] || next+=("$s")
            fi
            if [ "$("$engine" inspect --format '{{.State.Status}}' "$c")" = exited ]; then
                echo "compose-test: $s exited ($("$engine" inspect --format '{{.State.ExitCode}}' "$c"))" >&2; return 1
            fi
        done
        pending=("${next[@]+"${next[@]}"}")
        [ ${#pending[@]} -eq 0 ] && break
        if [ "$(date +%s)" -ge "$deadline" ]; then echo "compose-test: not healthy after 180 s: ${pending[*]}" >&2; return 1; fi
        sleep 1
    done
}
if [ "$engine" = docker ]; then
    dc up -d --no-build --wait postgres redis minio "${app_services[@]}"
else
    for tier in "${tiers[@]}"; do
        read -r -a members <<<"$tier"
        dc up -d --no-build --no-deps "${members[@]}" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
        wait_healthy "${members[@]}"
        echo "compose-test:   healthy: ${members[*]} ($(( $(date +%s) - phase_start )) s)"
    done
fi
phase "up: every healthcheck passing (10 containers)"

worker=$(container_of ai-worker)
engine_line=$("$engine" logs "$worker" 2>&1 | grep -o '"msg":"engine: [^"]*"' | head -1 || true)
echo "compose-test: ai-worker: ${engine_line:-no engine line in its log}"
case "$engine_line" in *stable-diffusion.cpp\ ready*) ;; *) echo "compose-test: the worker image's engine did not load" >&2; exit 1 ;; esac

# ---------------------------------------------------------------- one image end to end
python3 scripts/compose_e2e.py "http://127.0.0.1:$gateway_port" "$PINGVAS_LEMONSQUEEZY_SIGNING_SECRET"
phase "end to end through the gateway"

# ---------------------------------------------------------------- read-only root filesystems
# Each service, as its own user, writes into /data/images: a folder of the image that user owns.
# It must fail with EROFS; the same write in a container of the same image without --read-only works,
# so the refusal is the read-only root and not permissions.
for s in "${app_services[@]}"; do
    c=$(container_of "$s")
    [ "$("$engine" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c")" = true ] || { echo "compose-test: $s: ReadonlyRootfs is not set" >&2; exit 1; }
    if err=$("$engine" exec "$c" /bin/sh -c 'echo x >/data/images/probe' 2>&1); then
        echo "compose-test: $s could write to its root filesystem" >&2; exit 1
    fi
    case "$err" in *"Read-only file system"*) ;; *) echo "compose-test: $s: unexpected error: $err" >&2; exit 1 ;; esac
    "$engine" exec "$c" /bin/sh -c 'echo x >/tmp/probe && rm /tmp/probe' || { echo "compose-test: $s cannot write its /tmp" >&2; exit 1; }
done
"$engine" run --rm --user 10001:10001 --entrypoint /bin/sh ghcr.io/pingvas/gallery:0.1.0 -c 'echo x >/data/images/probe' \
    || { echo "compose-test: the control write (no --read-only) failed too" >&2; exit 1; }
echo "compose-test: read-only root: all 7 services as user 10001: 'echo x >/data/images/probe' -> $(echo "$err" | sed 's/.*: //'); /tmp (tmpfs) writable; the same write without --read-only succeeds"
phase "read-only root filesystem shown"

# ---------------------------------------------------------------- what ran, for make check-deploy
for s in "${app_services[@]}"; do "$engine" inspect "$(container_of "$s")"; done >"$work/inspect.json"
python3 - "$work/inspect.json" "$work/runtime.json" "${app_services[@]}" <<'PY'
import json, sys
source, out, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = open(source).read()
decoder, pos, records = json.JSONDecoder(), 0, []
while pos < len(raw):
    while pos < len(raw) and raw[pos].isspace(): pos += 1
    if pos >= len(raw): break
    value, pos = decoder.raw_decode(raw, pos)
    records.extend(value)
def ns(value):  # podman and docker give durations in nanoseconds
    return None if value is None else value / 1e9
result = {}
for service, c in zip(ids, records):
    config, host = c["Config"], c["HostConfig"]
    health = config.get("Healthcheck") or config.get("HealthCheck") or {}
    mounts = sorted({(m["Destination"], bool(m.get("RW", True))) for m in c.get("Mounts", [])})
    tmpfs = sorted((host.get("Tmpfs") or {}).keys())
    result[service] = {
        "image": config.get("Image"),
        "user": config.get("User"),
        "read_only_root": host.get("ReadonlyRootfs"),
        "cap_drop": sorted(host.get("CapDrop") or []),
        "security_opt": sorted(host.get("SecurityOpt") or []),
        "tmpfs": tmpfs,
        "mounts": [{"path": p, "read_only": not rw} for p, rw in mounts],
        "healthcheck": {"test": health.get("Test"), "interval_s": ns(health.get("Interval")), "timeout_s": ns(health.get("Timeout")),
                        "retries": health.get("Retries"), "start_period_s": ns(health.get("StartPeriod"))},
        "stop_timeout_s": config.get("StopTimeout"),
    }
json.dump(result, open(out, "w"), indent=1, sort_keys=True)
PY
echo "compose-test: recorded how the seven containers ran in .run/compose-test/runtime.json; comparing it with k8s/:"
compared=0; out=$(scripts/check-deploy.sh --containers 2>&1) || compared=$?
echo "$out" | grep -E '^  (ok|FAIL|note)|^        -|installing' | sed 's/^/compose-test: /' || true
[ "$compared" = 0 ] || { echo "compose-test: the containers did not run as k8s/ runs them (above)" >&2; exit 1; }
phase "runtime record compared with k8s/ (check-deploy --containers)"
