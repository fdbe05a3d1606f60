#!/usr/bin/env bash
# Installs the Debian 12 packages that `make sanitize` and `make fuzz` need on
# top of scripts/install-deps.sh: clang 19 and its compiler-rt (libFuzzer and
# the sanitizer runtimes). The default `make test` / `make demo` path does not
# need them. install-deps.sh does the work: idempotent, sudo only when not
# root.
set -euo pipefail

exec "$(dirname "$0")/install-deps.sh" clang-19 libclang-rt-19-dev
