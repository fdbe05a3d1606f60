#!/usr/bin/env bash
# Installs the Debian 12 packages that `make sanitize` and `make fuzz` need on
# top of scripts/install-deps.sh: clang 19 and its compiler-rt (libFuzzer and
# the sanitizer runtimes). The default `make test` / `make demo` path does not
# need them. Idempotent: it asks dpkg what is missing and installs only that,
# running `apt-get update` first only when something is missing. Uses sudo
# only when not already root.
set -euo pipefail

PACKAGES=(clang-19 libclang-rt-19-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-fuzz-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-fuzz-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
