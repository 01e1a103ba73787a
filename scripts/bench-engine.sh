#!/usr/bin/env bash
# `make bench-engine`: see scripts/bench-engine.py. Builds the ai-worker in release mode (the mode images ship).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
config="${BENCH_CONFIG:-release}"
swift build -c "$config" --product ai-worker 2>&1 | tail -n 1
engine="${PINGVAS_ENGINE_DIR:-$here/.run/engine}"
python3 scripts/bench-engine.py "$(swift build -c "$config" --show-bin-path)/ai-worker" "$engine/lib/libpingvas-sd.so" \
    "$engine/pip" "$here/.run/test-model/model.ckpt" "$@"
