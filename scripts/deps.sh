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
[ ${#need[@]} -eq 0 ] && { echo "deps: all present"; exit 0; }
echo "deps: installing ${need[*]}"
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
