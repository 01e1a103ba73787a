#!/usr/bin/env bash
# `make engine`: builds stable-diffusion.cpp from the pinned PyPI package and the worker's shim.
#
#   $PINGVAS_ENGINE_DIR (default .run/engine)
#     pip/                          the package as pip installs it (Python API, used by make bench-engine)
#     include/stable-diffusion.h    the library's C header
#     lib/libstable-diffusion.so    the library
#     lib/libpingvas-sd.so          Shared/CStableDiffusion/engine/pingvas_sd_shim.cpp, linked to it: what the
#                                   ai-worker dlopens (PINGVAS_SD_LIBRARY)
#     lib/pkgconfig/stable-diffusion.pc
#
# Skips everything when a stamp records the same version, CMAKE_ARGS and shim source. pip keeps the
# wheel it built in its cache, so a second engine dir on the same machine takes seconds. CMAKE_ARGS
# (e.g. "-DSD_CUDA=ON -DGGML_NATIVE=OFF" for images) bypasses that cache: its key ignores CMAKE_ARGS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
version="0.4.7"   # the one place the library version is pinned
dir="${PINGVAS_ENGINE_DIR:-$here/.run/engine}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
shim_src="$here/Shared/CStableDiffusion/engine/pingvas_sd_shim.cpp"
shim_hdr="$here/Shared/CStableDiffusion/include/pingvas_sd.h"
stamp_text="stable-diffusion-cpp-python==$version|${CMAKE_ARGS:-}|$(cat "$shim_src" "$shim_hdr" | sha256sum | cut -c1-16)"

if [ -f "$dir/lib/libpingvas-sd.so" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp_text" ]; then
    echo "engine: up to date in $dir"
    exit 0
fi

for tool in cmake ninja g++ pkg-config; do
    command -v "$tool" >/dev/null || { echo "engine: $tool is missing (make deps installs it)" >&2; exit 1; }
done

if [ ! -f "$dir/pip/.installed-$version" ] || [ "$(cat "$dir/pip/.installed-$version")" != "${CMAKE_ARGS:-}" ]; then
    echo "engine: building stable-diffusion-cpp-python==$version (a few minutes the first time on this machine)"
    start=$(date +%s)
    rm -rf "$dir/pip"
    cache=()
    [ -n "${CMAKE_ARGS:-}" ] && cache=(--no-cache-dir)
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
        python3 -m pip install -q "${cache[@]}" --target "$dir/pip" "stable-diffusion-cpp-python==$version"
    printf '%s' "${CMAKE_ARGS:-}" > "$dir/pip/.installed-$version"
    echo "engine: library built in $(( $(date +%s) - start )) s"
fi

mkdir -p "$dir/lib/pkgconfig" "$dir/include"
cp "$dir/pip/include/stable-diffusion.h" "$dir/include/"
cp "$dir/pip/lib/libstable-diffusion.so" "$dir/lib/"

cat > "$dir/lib/pkgconfig/stable-diffusion.pc" <<PC
prefix=$dir
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: stable-diffusion
Description: stable-diffusion.cpp from stable-diffusion-cpp-python $version
Version: $version
Libs: -L\${libdir} -lstable-diffusion -Wl,-rpath,\${libdir}
Cflags: -I\${includedir}
PC

# The shim: a compile error here means the library's C API moved away from what the shim expects.
g++ -std=c++17 -O2 -Wall -Wextra -Werror -fPIC -shared \
    -DPINGVAS_SD_LIBRARY_VERSION="\"stable-diffusion-cpp-python $version\"" \
    -I"$here/Shared/CStableDiffusion/include" $(PKG_CONFIG_PATH="$dir/lib/pkgconfig" pkg-config --cflags stable-diffusion) \
    "$shim_src" -o "$dir/lib/libpingvas-sd.so" \
    -L"$dir/lib" -lstable-diffusion -Wl,-rpath,'$ORIGIN'
printf '%s' "$stamp_text" > "$dir/.stamp"
echo "engine: ready: $dir/lib/libpingvas-sd.so (PINGVAS_SD_LIBRARY)"
