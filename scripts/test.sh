#!/usr/bin/env bash
# Builds edgeai if needed (configuring build/ the first time) and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
ninja -C build -j"$(nproc)"

# PoCL caches compiled OpenCL kernels; keep that cache out of the home folder and away from other runs.
if [[ -z "${POCL_CACHE_DIR:-}" ]]; then
  POCL_CACHE_DIR="$(mktemp -d)"
  export POCL_CACHE_DIR
  trap 'rm -rf "$POCL_CACHE_DIR"' EXIT
fi
ctest --test-dir build --output-on-failure -j2
