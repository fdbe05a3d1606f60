#!/usr/bin/env bash
# Installs what bench/run.py needs beyond `make test`'s packages, and nothing
# else: OpenBLAS (Debian's libblas.so.3 alternative then points at it, so that
# PyTorch's matmuls run at full speed, not on the reference BLAS),
# torchvision (the model zoo), node and npm, and ONNX Runtime's CPU build from
# the npm registry (onnxruntime-node, which ships libonnxruntime.so.1) into
# bench/.cache/ort, which git ignores. Idempotent: Debian packages go through
# scripts/install-deps.sh (only what is missing; sudo only when not root), and
# npm runs only when that version of onnxruntime-node is not there yet.
# --ignore-scripts skips the package's install script, which only fetches GPU
# parts from outside the registry.
#
# Usage: bench/setup.sh            (ORT_VERSION=1.30.0 by default)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORT_VERSION="${ORT_VERSION:-1.30.0}"
ORT_DIR="$ROOT/bench/.cache/ort"

PACKAGES=(libopenblas0-pthread python3-torchvision)
# A node from elsewhere (nodesource's nodejs carries npm) is used as it is;
# Debian's comes in two packages.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PACKAGES+=(nodejs npm); fi
"$ROOT/scripts/install-deps.sh" "${PACKAGES[@]}"

installed="$(node -p "try { require('$ORT_DIR/node_modules/onnxruntime-node/package.json').version } catch (e) { '' }")"
if [ "$installed" = "$ORT_VERSION" ]; then
  echo "bench/setup.sh: onnxruntime-node $ORT_VERSION present in $ORT_DIR"
else
  echo "bench/setup.sh: installing onnxruntime-node $ORT_VERSION into $ORT_DIR"
  mkdir -p "$ORT_DIR"
  [ -f "$ORT_DIR/package.json" ] || echo '{"name": "anvil-bench-ort", "private": true}' > "$ORT_DIR/package.json"
  (cd "$ORT_DIR" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ORT_VERSION")
fi
