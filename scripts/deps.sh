#!/usr/bin/env bash
# Installs the system packages the project needs, when any is missing (Debian/Ubuntu).
set -euo pipefail
need=()
pkg-config --exists libpq 2>/dev/null || need+=(libpq-dev)
pkg-config --exists hiredis 2>/dev/null || need+=(libhiredis-dev)
pkg-config --exists libcurl 2>/dev/null || need+=(libcurl4-openssl-dev)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v redis-server >/dev/null || need+=(redis-server)
command -v curl >/dev/null || need+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# make bench: nginx (the static upstream and the proxy the gateway is compared with) and wrk (the load)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
# make engine: stable-diffusion.cpp is compiled from its PyPI sdist (CMake + Ninja) and the shim with gcc
command -v cmake >/dev/null || need+=(cmake)
command -v ninja >/dev/null || need+=(ninja-build)
command -v g++ >/dev/null || need+=(g++)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
# make check-deploy: promtool (checks and unit-tests the alert rules) ships only in Debian's prometheus
# package (which also installs the server; where systemd runs it, it starts one on :9090); PyYAML for
# scripts/check_metrics.py outside the check's virtualenv
command -v promtool >/dev/null || need+=(prometheus)
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
# the studio page's browser test (StudioBrowserTests): headless Chromium driven through chromedriver by
# selenium (from scripts/requirements-contract.txt); a font so the screenshots have readable text
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
fc-list 2>/dev/null | grep -q . || need+=(fonts-dejavu-core)
# make images / make compose-test (part of make test): podman where no docker daemon answers (runc: this
# kind of sandbox refuses crun's setrlimit), debootstrap for the Debian base when no registry answers,
# podman-compose from PyPI (Debian's 1.0.3 cannot override lists)
if ! { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }; then
    command -v podman >/dev/null || need+=(podman)
    command -v runc >/dev/null || need+=(runc)
    command -v debootstrap >/dev/null || need+=(debootstrap)
fi
# the S3 tests: moto's S3 server on loopback and botocore's SigV4 as the reference signer
pip_need=()
python3 -c 'import moto.server' 2>/dev/null || pip_need+=('moto[server]')
python3 -c 'import botocore' 2>/dev/null || pip_need+=(botocore)
command -v podman-compose >/dev/null || { command -v docker >/dev/null && docker compose version >/dev/null 2>&1; } || pip_need+=('podman-compose==1.6.0')
# the tracing test: its OTLP receiver decodes the exports with opentelemetry-proto
python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null || pip_need+=(opentelemetry-proto)
if [ ${#need[@]} -eq 0 ] && [ ${#pip_need[@]} -eq 0 ]; then echo "deps: all present"; exit 0; fi
if [ ${#need[@]} -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ${#pip_need[@]} -gt 0 ]; then
    echo "deps: pip installing ${pip_need[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${pip_need[@]}" 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${pip_need[@]}"
fi
