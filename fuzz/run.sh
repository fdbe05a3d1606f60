#!/usr/bin/env bash
# Runs every libFuzzer harness of BUILD (default build-fuzz) for SECONDS
# (default 60) each, one after another, starting from fuzz/corpus/<name>/.
# New inputs go to BUILD/fuzz-corpus/<name>/, crashes to
# BUILD/fuzz-crashes/<name>-crash-<sha1> (reproduce: BUILD/bin/<harness> FILE).
# An input that runs over 120 s counts as a crash (a hang). Exits 1 if any
# harness found a crash. HARNESSES="npy csv" picks some; KEEP_GOING=1 fuzzes
# on past crashes (libFuzzer's -fork=1 -ignore_crashes=1), for long runs
# while a known bug is not fixed yet.
set -euo pipefail
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
HARNESSES=${HARNESSES:-onnx mlir npy weights idx csv}

failed=()
for name in $HARNESSES; do
  work="$BUILD/fuzz-corpus/$name"
  crashes="$BUILD/fuzz-crashes"
  mkdir -p "$work" "$crashes"
  extra=()
  if [ -f "$HERE/$name.dict" ]; then extra+=(-dict="$HERE/$name.dict"); fi
  if [ "${KEEP_GOING:-0}" = 1 ]; then
    extra+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  echo "== fuzz-$name for ${SECONDS_EACH}s"
  # Fork mode exits 0 after ignored crashes: count the inputs it saved.
  # Not the slow-unit-* ones: libFuzzer also keeps every input slower than
  # 10 s, which on a busy shared machine are stalls (each replays in about
  # a second); a real hang runs past -timeout and is saved as timeout-*.
  saved() { find "$crashes" -name "$name-*" ! -name "$name-slow-unit-*" | wc -l; }
  before=$(saved)
  # The first directory receives new inputs; the seeds are only read.
  if ! "$BUILD/bin/fuzz-$name" -max_total_time="$SECONDS_EACH" \
      -timeout=120 -print_final_stats=1 -artifact_prefix="$crashes/$name-" \
      "${extra[@]}" "$work" "$HERE/corpus/$name" ||
      [ "$(saved)" -ne "$before" ]; then
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in $BUILD/fuzz-crashes/)"
  exit 1
fi
echo "fuzz: no crashes"
