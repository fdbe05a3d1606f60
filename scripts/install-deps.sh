#!/usr/bin/env bash
# Installs every Debian 12 package Anvil needs to build, test and run its demo.
# Idempotent: it asks dpkg what is missing and installs only that, running
# `apt-get update` first only when something is missing. Uses sudo only when
# not already root. Nothing is downloaded from anywhere but Debian's archive.
# With arguments it installs those packages instead (scripts/install-fuzz-deps.sh).
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build ccache g++ make pkg-config python3 clang-format
  # LLVM / MLIR 19 (shared libLLVM/libMLIR, TableGen, FileCheck, lit)
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools libomp-19-dev
  # libraries
  libdnnl-dev libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev
  libgtest-dev libgmock-dev
  # data: Fashion-MNIST and ONNX's conformance tests
  dataset-fashion-mnist libonnx-testdata
  # tests and benchmarks
  python3-numpy python3-onnx python3-torch
)

if [ $# -gt 0 ]; then PACKAGES=("$@"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
