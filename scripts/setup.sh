#!/usr/bin/env bash
# Sets up a Debian 12 machine for edgeai: installs the build dependencies (skipped when all are present),
# configures and builds into build/, then runs the bundled model once and prints its summary and latency.
set -euo pipefail
cd "$(dirname "$0")/.."

# The install line of shared/DEPENDENCIES.md.
PACKAGES=(
  cmake make ninja-build g++ ccache pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libonnx-dev python3-onnx python3-numpy
  libeigen3-dev libtbb-dev libspdlog-dev nlohmann-json3-dev catch2
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  prometheus-cpp-dev prometheus
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "setup.sh: not root and no sudo; cannot install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "setup.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
else
  echo "setup.sh: all ${#PACKAGES[@]} Debian packages already installed"
fi

# A build folder made by another generator cannot be reconfigured with Ninja: start it afresh.
if [[ -f build/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build/CMakeCache.txt; then
  rm -rf build
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C build -j"$(nproc)"

# The main job: run the bundled model on generated inputs.
build/tools/edgeai run models/mlp.onnx
