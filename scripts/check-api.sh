#!/usr/bin/env bash
# make check-api (part of make test): the OpenAPI document is up to date with docs/openapi.yaml,
# valid OpenAPI 3.1, and documents exactly the public routes the code serves (scripts/check_api.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/contract-venv.sh"
exec "$here/.run/venv-contract/bin/python" "$here/scripts/check_api.py" "$@"
