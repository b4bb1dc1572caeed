#!/usr/bin/env bash
# Generates the ONNX node suite (once per build folder) and runs it; every case in expected_pass.txt must pass.
# usage: run.sh EDGEAI_BIN WORK_DIR
set -euo pipefail
bin=$1; work=$2
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f "$work/.complete" ]]; then
  rm -rf "$work"
  mkdir -p "$work"
  /usr/bin/python3 "$here/generate.py" "$work/suite" >/dev/null
  touch "$work/.complete"
fi
"$bin" conformance "$work/suite" --expect "$here/expected_pass.txt" --json "$work/results.json" \
  --report "$work/report.md"
