#!/usr/bin/env bash
# `make images`: the seven service images (ai-worker with the CPU engine: the GPU image's twin),
# tagged as docker-compose.yml and k8s/ name them (ghcr.io/pingvas/<id>:0.1.0).
#
#   scripts/images.sh                 build them (and say how)
#   scripts/images.sh stack           also the local stand-ins compose-test needs when no registry
#                                     answers: PostgreSQL, Redis, moto's S3 (deploy/images/*.Dockerfile)
#   scripts/images.sh base            only the base image
#   scripts/images.sh env             print the variables the other scripts source (engine, bases)
#
# Engine: docker when its daemon answers, podman otherwise (PINGVAS_IMAGES_ENGINE=docker|podman).
# Bases: the official tags when a registry answers (registry-1.docker.io); otherwise this script
# makes them: Debian bookworm by debootstrap (minbase, trimmed; cached in .run/images/), imported as
# localhost/pingvas/debian:bookworm-minbase (PINGVAS_IMAGES_BASES=official|local forces one).
# Swift: with official bases the Dockerfile builds from source in swift:6.3-bookworm; with local
# bases the binaries come from this machine's toolchain (PINGVAS_IMAGES_BUILD=debug, the default:
# the test build's .build/debug executables, stripped; =release: `swift build -c release
# --static-swift-stdlib`) into deploy/images/Dockerfile.prebuilt, whose runtime stage is the
# Dockerfile's. Either way the runtime images hold no toolchain and run as 10001 on a read-only root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
work="$here/.run/images"
mkdir -p "$work"
services=(gateway:8080 user:8081 generation:8082 payment-webhook:8083 gallery:8084 model-router:8085 ai-worker:8086)
tag="0.1.0"
base_local="localhost/pingvas/debian:bookworm-minbase"
t0=$(date +%s)
phase_start=$t0
phase() { local now; now=$(date +%s); echo "images: [$(( now - phase_start )) s] $1"; phase_start=$now; }
say() { echo "images: $*"; }

# ---------------------------------------------------------------- engine and configuration
pick_engine() {
    if [ -n "${PINGVAS_IMAGES_ENGINE:-}" ]; then echo "$PINGVAS_IMAGES_ENGINE"; return; fi
    if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then echo docker; return; fi
    if command -v podman >/dev/null; then echo podman; return; fi
    echo none
}
engine=$(pick_engine)
if [ "$engine" = podman ]; then
    # This sandbox refuses crun's setrlimit: runc, and no default ulimits. A project-local file
    # (CONTAINERS_CONF), so the machine's own configuration stays as it is.
    conf="$work/containers.conf"
    if [ -z "${CONTAINERS_CONF:-}" ] || [ "$CONTAINERS_CONF" = "$conf" ]; then
        runtime_line=""
        command -v runc >/dev/null && runtime_line='runtime = "runc"'
        printf '[containers]\ndefault_ulimits = []\n\n[engine]\n%s\n' "$runtime_line" >"$conf"
        export CONTAINERS_CONF="$conf"
    fi
fi

registry_reachable() {
    [ "$engine" = docker ] || [ "$engine" = podman ] || return 1
    timeout 8 curl -fsS -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ 2>/dev/null | grep -q 401 \
        || timeout 8 curl -sS -o /dev/null https://registry-1.docker.io/v2/ 2>/dev/null
}
bases="${PINGVAS_IMAGES_BASES:-}"
if [ -z "$bases" ]; then
    if registry_reachable; then bases=official; else bases=local; fi
fi

if [ "${1:-}" = env ]; then
    echo "engine=$engine"; echo "bases=$bases"; echo "CONTAINERS_CONF=${CONTAINERS_CONF:-}"
    exit 0
fi
if [ "$engine" = none ]; then
    say "no container engine: neither a docker daemon nor podman (scripts/deps.sh installs podman)" >&2
    exit 2
fi
say "engine: $engine ($($engine --version 2>/dev/null | head -1))"
# podman writes OCI images by default, and the OCI format has no HEALTHCHECK: podman would drop the
# Dockerfile's. The docker format keeps it (docker build always writes it).
format=()
[ "$engine" = podman ] && format=(--format docker)

# ---------------------------------------------------------------- bases
size_of() { "$engine" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1000000}'; }
debian_base() {
    # debootstrap's minbase, trimmed like debian:bookworm-slim (no docs, man pages, locales, apt
    # lists or caches; dpkg told to keep it that way). Cached as a tarball; imported when missing.
    local tarball="$work/debian-bookworm-minbase.tar" stamp="$work/debian-bookworm-minbase.stamp"
    local recipe="bookworm minbase v1"
    if [ ! -s "$tarball" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$recipe" ]; then
        command -v debootstrap >/dev/null || { say "debootstrap is missing (scripts/deps.sh installs it)" >&2; exit 1; }
        local root="$work/rootfs"
        rm -rf "$root"
        say "debootstrap --variant=minbase bookworm (about 30 s)"
        debootstrap --variant=minbase bookworm "$root" "${PINGVAS_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
            || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
        cat >"$root/etc/dpkg/dpkg.cfg.d/pingvas-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
        cat >"$root/etc/apt/apt.conf.d/pingvas-slim" <<'CFG'
APT::Install-Recommends "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
CFG
        find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
        find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
        rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/lintian" \
            "$root/var/cache/apt/"* "$root/var/lib/apt/lists/"* "$root/var/log/"*.log "$root/var/log/apt"
        find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
        # A fixed machine id and no host leftovers in the image.
        : >"$root/etc/machine-id"; rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
        tar --numeric-owner --sort=name -C "$root" -cf "$tarball" .
        rm -rf "$root"
        echo "$recipe" >"$stamp"
        "$engine" rmi -f "$base_local" >/dev/null 2>&1 || true
    fi
    if ! "$engine" image inspect "$base_local" >/dev/null 2>&1; then
        "$engine" import --change 'CMD ["bash"]' "$tarball" "$base_local" >/dev/null
    fi
}

if [ "$bases" = local ]; then
    say "bases: local (no registry reachable or PINGVAS_IMAGES_BASES=local): Debian bookworm from debootstrap as $base_local"
    debian_base
    phase "base image ready ($(size_of "$base_local" 2>/dev/null || true))"
else
    say "bases: official tags (python:3.12-slim-bookworm, swift:6.3-bookworm, debian:bookworm-slim)"
fi
[ "${1:-}" = base ] && exit 0

# A build is skipped when an image of that tag carries the digest of exactly these inputs
# (the label pingvas.inputs): context files, Dockerfile, base image id, build arguments.
inputs_digest() {  # $1: context dir, $2: Dockerfile, rest: build arguments
    local dir="$1" file="$2"; shift 2
    { (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); sha256sum <"$file"
      "$engine" image inspect --format '{{.Id}}' "$base_local" 2>/dev/null; printf '%s\n' "$@"; } | sha256sum | cut -c1-32
}
up_to_date() {  # $1: image, $2: digest
    [ "$("$engine" image inspect --format '{{index .Labels "pingvas.inputs"}}' "$1" 2>/dev/null)" = "$2" ]
}


# ---------------------------------------------------------------- the stand-ins for compose-test
if [ "${1:-}" = stack ]; then
    if [ "$bases" != local ]; then say "stack: official postgres/redis images are used; only the S3 stand-in is built"; fi
    # Context: deploy/images/ plus, for the S3 server, moto's wheels fetched by this machine's pip
    # (the container installs them offline: a build container here cannot reach PyPI through TLS).
    sctx="$work/stack-context"
    rm -rf "$sctx"; mkdir -p "$sctx/wheels"
    cp deploy/images/*.Dockerfile deploy/images/*.sh deploy/images/*.py "$sctx/"
    moto_version="$(python3 -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || echo 5.2.1)"
    [ -n "$(ls "$work/wheels/"moto-"$moto_version"-* 2>/dev/null)" ] || python3 -m pip download --quiet --disable-pip-version-check --dest "$work/wheels" "moto[server]==$moto_version" >"$work/wheels.log" 2>&1 \
        || { tail -5 "$work/wheels.log" >&2; say "pip download moto[server]==$moto_version failed" >&2; exit 1; }
    cp "$work/wheels/"* "$sctx/wheels/"
    build_stack() {
        local name="$1" file="$2"; shift 2
        local log="$work/build-$name.log" digest
        digest=$(inputs_digest "$sctx" "$sctx/$file" "$base_image" "$@" "${format[@]}")
        if up_to_date "localhost/pingvas/$name:local" "$digest"; then
            say "  localhost/pingvas/$name:local  $(size_of "localhost/pingvas/$name:local") (up to date)"; return
        fi
        if ! "$engine" build "${format[@]}" -f "$sctx/$file" --label pingvas.inputs="$digest" --build-arg BASE_IMAGE="$base_image" "$@" -t "localhost/pingvas/$name:local" "$sctx" >"$log" 2>&1; then
            tail -20 "$log" >&2; say "building the $name stand-in failed (log: $log)" >&2; exit 1
        fi
        say "  localhost/pingvas/$name:local  $(size_of "localhost/pingvas/$name:local")"
    }
    base_image="$base_local"
    [ "$bases" = local ] || base_image="debian:bookworm-slim"
    # Side by side: they wait on the mirror and the package installs more than on the CPU.
    pids=()
    if [ "$bases" = local ]; then
        build_stack postgres postgres.Dockerfile & pids+=($!)
        build_stack redis redis.Dockerfile & pids+=($!)
    fi
    build_stack s3 s3.Dockerfile --build-arg MOTO_VERSION="$moto_version" & pids+=($!)
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ "$failed" = 0 ] || exit 1
    phase "stand-ins built (PostgreSQL 15 and Redis 7.0 from Debian, moto[server]==$moto_version from PyPI)"
    exit 0
fi

# ---------------------------------------------------------------- the service images
sizes="$work/sizes.txt"
: >"$sizes"
report() {
    local image="$1" id="$2" how="$3"
    local s; s=$(size_of "$image")
    printf '%-18s %-38s %8s  %s\n' "$id" "$image" "$s" "$how" | tee -a "$sizes" | sed 's/^/images:   /'
}

if [ "$bases" = official ]; then
    for entry in "${services[@]}"; do
        id="${entry%%:*}"; port="${entry##*:}"
        "$engine" build "${format[@]}" --build-arg SERVICE="$id" --build-arg PORT="$port" -t "ghcr.io/pingvas/$id:$tag" .
        report "ghcr.io/pingvas/$id:$tag" "$id" "Dockerfile, release build in swift:6.3-bookworm"
    done
    phase "seven images built from source"
    echo "images: done in $(( $(date +%s) - t0 )) s (sizes in $sizes)"
    exit 0
fi

# Local bases: binaries from this machine's toolchain.
build="${PINGVAS_IMAGES_BUILD:-debug}"
case "$build" in
    debug)   swift_flags=() ;;
    release) swift_flags=(-c release --static-swift-stdlib) ;;
    *) say "PINGVAS_IMAGES_BUILD must be debug or release" >&2; exit 2 ;;
esac
bin_dir="${PINGVAS_IMAGES_BIN_DIR:-}"
if [ -z "$bin_dir" ]; then
    say "swift build ${swift_flags[*]} (a no-op when the test build already made the executables)"
    if ! swift build "${swift_flags[@]}" >"$work/swift-build.log" 2>&1; then
        grep -E 'error:' "$work/swift-build.log" | head -20 >&2
        say "swift build failed (log: $work/swift-build.log)" >&2; exit 1
    fi
    grep -E '^Build complete' "$work/swift-build.log" | sed 's/^/images:   /' || true
    bin_dir="$(swift build "${swift_flags[@]}" --show-bin-path)"
    phase "executables ready ($build, $bin_dir)"
else
    say "executables from PINGVAS_IMAGES_BIN_DIR=$bin_dir"
fi
engine_lib="${PINGVAS_ENGINE_DIR:-$here/.run/engine}/lib"
[ -f "$engine_lib/libpingvas-sd.so" ] || scripts/engine.sh
ctx="$work/context"
rm -rf "$ctx"
mkdir -p "$ctx/deploy"
cp deploy/healthcheck.sh "$ctx/deploy/healthcheck.sh"
for entry in "${services[@]}"; do
    id="${entry%%:*}"
    out="$ctx/out/$id"
    mkdir -p "$out/swift-lib" "$out/engine"
    [ -x "$bin_dir/$id" ] || { say "$bin_dir/$id is missing" >&2; exit 1; }
    strip -o "$out/service" "$bin_dir/$id"
    # The Swift runtime libraries this executable links (none for --static-swift-stdlib).
    ldd "$bin_dir/$id" | awk '$3 ~ /\/lib\/swift\// {print $3}' | xargs -r cp -L -t "$out/swift-lib"
    if [ "$id" = ai-worker ]; then
        cp -L "$engine_lib/libpingvas-sd.so" "$engine_lib/libstable-diffusion.so" "$out/engine/"
    fi
done
phase "context staged in $ctx (stripped executables, their Swift libraries, the engine for ai-worker)"

how="host $build build"
[ "$build" = debug ] && how="host debug build (the test build's), stripped"
[ "$build" = release ] && how="host release build, --static-swift-stdlib, stripped"
for entry in "${services[@]}"; do
    id="${entry%%:*}"; port="${entry##*:}"
    log="$work/build-$id.log"
    digest=$(inputs_digest "$ctx/out/$id" deploy/images/Dockerfile.prebuilt "$id" "$port" "$(sha256sum <deploy/healthcheck.sh)" "${format[@]}")
    if up_to_date "ghcr.io/pingvas/$id:$tag" "$digest"; then
        report "ghcr.io/pingvas/$id:$tag" "$id" "$how (up to date)"; continue
    fi
    if ! "$engine" build "${format[@]}" -f deploy/images/Dockerfile.prebuilt --label pingvas.inputs="$digest" --build-arg RUNTIME_IMAGE="$base_local" \
        --build-arg SERVICE="$id" --build-arg PORT="$port" -t "ghcr.io/pingvas/$id:$tag" "$ctx" >"$log" 2>&1; then
        tail -30 "$log" >&2
        say "building $id failed (log: $log)" >&2
        exit 1
    fi
    report "ghcr.io/pingvas/$id:$tag" "$id" "$how"
done
phase "seven images built (deploy/images/Dockerfile.prebuilt on $base_local)"
# Nothing of the toolchain inside: no swift, no compiler, no headers.
for entry in "${services[@]}"; do
    id="${entry%%:*}"
    if ! "$engine" run --rm --read-only --user 10001:10001 --entrypoint /bin/sh "ghcr.io/pingvas/$id:$tag" -c \
        '! command -v swift && ! command -v swiftc && ! command -v cc && ! command -v gcc && [ "$(id -u)" = 10001 ]' >/dev/null 2>&1; then
        say "$id: the image holds a toolchain or does not run as 10001" >&2; exit 1
    fi
done
for entry in "${services[@]}"; do
    id="${entry%%:*}"
    hc=$("$engine" image inspect --format '{{json .Config.Healthcheck}}' "ghcr.io/pingvas/$id:$tag" 2>/dev/null || true)
    case "$hc" in *pingvas-healthcheck*) ;; *) say "$id: the image lost its HEALTHCHECK ($hc)" >&2; exit 1 ;; esac
done
phase "checked: no toolchain in any image, user 10001, the HEALTHCHECK kept"
rm -rf "$ctx"
echo "images: done in $(( $(date +%s) - t0 )) s; sizes in $sizes"
