#!/usr/bin/env bash
# Installs the API contract tools (scripts/requirements-contract.txt: openapi-spec-validator,
# jsonschema, schemathesis, standardwebhooks, selenium) from PyPI into .run/venv-contract, again only when the
# requirements change. Used by make check-api (part of make test), the contract tests, make contract and the studio's browser test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.run/venv-contract"
req="$here/scripts/requirements-contract.txt"
# Python 3.11 before 3.11.9 fails inside hypothesis (which schemathesis drives) with "AST constructor
# recursion depth mismatch" (CPython gh-106905): take a newer Python when the machine has one (also pyenv's).
python=python3
for candidate in python3.13 python3.12 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.1[23].*/bin/python3; do
    if "$candidate" -c 'import venv' >/dev/null 2>&1; then python="$candidate"; break; fi
done
stamp="$(sha256sum "$req" | cut -d' ' -f1) $("$python" --version 2>&1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "contract-venv: installing tools into $venv"
    if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-venv
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$stamp" >"$venv/.installed"
fi
