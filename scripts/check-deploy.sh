#!/usr/bin/env bash
# The offline deployment check: renders k8s/ and helm/pingvas, validates them and
# docker-compose.yml, scans them with checkov and fails when they drift from each other or from
# the Swift sources; checks and unit-tests the alert rules (promtool), the dashboards and the metric
# names they use, the ArgoCD Applications and the spot drain (scripts/check_monitoring.py). Needs no
# cluster, Docker engine or helm binary: its tools come from PyPI into .run/venv-deploy (reinstalled
# only when deploy/requirements-check.txt changes), promtool from apt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.run/venv-deploy"
req="$here/deploy/requirements-check.txt"
start=$(date +%s)

stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "check-deploy: installing tools into $venv"
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$stamp" >"$venv/.installed"
fi

# promtool (alert rules: check and unit tests) comes from Debian's prometheus package (scripts/deps.sh).
if ! command -v promtool >/dev/null; then
    echo "check-deploy: installing promtool (Debian package prometheus)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
fi

status=0
"$venv/bin/python" "$here/scripts/check_deploy.py" "$@" || status=$?
echo "check-deploy: finished in $(( $(date +%s) - start )) s"
exit $status
