#!/usr/bin/env bash
# `make test-model`: writes the tiny random-weight model and LoRA the engine tests use:
#   .run/test-model/model.ckpt, .run/test-model/lora.safetensors, the ESRGAN upscalers, for ControlNet an
#   SD1-layout model-sd1.ckpt with controlnet.ckpt, and an SDXL (Vega layout) model-sdxl.ckpt with
#   lora-sdxl.safetensors (never committed; deterministic).
# Needs numpy; installs it into .run/pytools from PyPI when the system Python lacks it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="${PINGVAS_TEST_MODEL_DIR:-$here/.run/test-model}"
stamp="$(sha256sum scripts/make-test-model.py | cut -c1-16)"
files="model.ckpt lora.safetensors esrgan-x2.safetensors esrgan-x4.safetensors model-sd1.ckpt controlnet.ckpt model-sdxl.ckpt lora-sdxl.safetensors"
up_to_date=yes
for f in $files; do [ -f "$out/$f" ] || up_to_date=no; done
if [ "$up_to_date" = yes ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "test-model: up to date in $out"
    exit 0
fi
if ! python3 -c "import numpy" 2>/dev/null; then
    if ! PYTHONPATH="$here/.run/pytools" python3 -c "import numpy" 2>/dev/null; then
        echo "test-model: installing numpy into .run/pytools"
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --target "$here/.run/pytools" numpy
    fi
    export PYTHONPATH="$here/.run/pytools${PYTHONPATH:+:$PYTHONPATH}"
fi
mkdir -p "$out"
python3 scripts/make-test-model.py "$out" --with-controlnet --with-sdxl "$@"
printf '%s' "$stamp" > "$out/.stamp"
