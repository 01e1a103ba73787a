#!/usr/bin/env bash
# Installs the API contract tools (scripts/requirements-contract.txt: openapi-spec-validator,
# jsonschema, schemathesis, standardwebhooks) from PyPI into .run/venv-contract, again only when the
# requirements change. Used by make check-api (part of make test), the contract tests and make contract.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.run/venv-contract"
req="$here/scripts/requirements-contract.txt"
stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "contract-venv: installing tools into $venv"
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$stamp" >"$venv/.installed"
fi
