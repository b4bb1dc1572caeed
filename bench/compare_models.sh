#!/usr/bin/env bash
# Side-by-side p50 latency of edgeai and ONNX Runtime 1.30 on the six reference models, through the peer
# benchmark in ../shared/bench (it installs onnxruntime-node from the npm registry once, into
# ~/.cache/edgeai-peer-bench). The models are read from ../shared/models at run time; nothing here is needed
# by the build or the tests.
#
#   bench/compare_models.sh [EDGEAI_BIN]          (default build/tools/edgeai)
#   THREADS="1 2" BATCHES="1 8" ROUNDS=1 bench/compare_models.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${EDGEAI_SHARED:-$root/../shared}"
bin="${1:-$root/build/tools/edgeai}"
if [[ ! -x "$shared/bench/compare.sh" ]]; then
  echo "compare_models.sh: $shared/bench/compare.sh not found (set EDGEAI_SHARED)" >&2
  exit 2
fi
models=()
for m in mobilenet_v2 resnet18 squeezenet1_1 transformer_enc4 mlp gru2; do
  models+=("$shared/models/$m.onnx")
done
export THREADS="${THREADS:-1 2}" BATCHES="${BATCHES:-1 8}" ROUNDS="${ROUNDS:-1}"
exec "$shared/bench/compare.sh" "$bin" "${models[@]}"
