#!/usr/bin/python3
"""Pads not folded into their producer, split for threads (anvil-fold-pad-into-producer's copy-others).

Each function below pads a tensor that cannot take its producer's writes:
a depthwise convolution of a function argument, a relu whose rows (28
wide) are narrower than the fold's min-row before a depthwise convolution,
a negation before a padded max pooling (-inf border), and a small 7x7 one
whose copy stays on one thread. With the option, each pad becomes a border
fill and a copy into the interior that anvil-parallelize-loops splits;
with --no-parallel-pads bufferization fills and copies on one thread. Both
executables run on 1, 2 and 3 threads; every output must equal the
--no-parallel-pads one at 1 thread exactly (a copy changes no value), and
the reference interpreter's within 1e-4. Everything is built with
--no-split-windows, which would otherwise split the first two functions'
depthwise convolutions around their pads instead of copying them (that
option has its own test, test_split_windows.py).
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import Checks, compare_threads, must

MODEL = """
module {
  func.func @pad_argument(%x: tensor<2x64x56x56xf32>, %w: tensor<64x1x3x3xf32>, %b: tensor<64xf32>) -> tensor<2x64x56x56xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 64 : i64} : tensor<2x64x56x56xf32>, tensor<64x1x3x3xf32>, tensor<64xf32>
    return %y : tensor<2x64x56x56xf32>
  }
  func.func @relu_short_rows(%x: tensor<4x96x28x28xf32>, %w: tensor<96x1x3x3xf32>, %b: tensor<96xf32>) -> tensor<4x96x28x28xf32> {
    %r = anvil.relu %x : tensor<4x96x28x28xf32>
    %y = anvil.conv2d %r, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 96 : i64} : tensor<4x96x28x28xf32>, tensor<96x1x3x3xf32>, tensor<96xf32>
    return %y : tensor<4x96x28x28xf32>
  }
  func.func @neg_max_pool(%x: tensor<4x96x28x28xf32>) -> tensor<4x96x14x14xf32> {
    %n = anvil.neg %x : tensor<4x96x28x28xf32>
    %y = anvil.max_pool2d %n {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<4x96x28x28xf32>
    return %y : tensor<4x96x14x14xf32>
  }
  func.func @small(%x: tensor<1x4x7x7xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x7x7xf32> {
    %r = anvil.relu %x : tensor<1x4x7x7xf32>
    %y = anvil.conv2d %r, %w {pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : tensor<1x4x7x7xf32>, tensor<4x1x3x3xf32>
    return %y : tensor<1x4x7x7xf32>
  }
}
"""

CASES = {
    "pad_argument": [(2, 64, 56, 56), (64, 1, 3, 3), (64,)],
    "relu_short_rows": [(4, 96, 28, 28), (96, 1, 3, 3), (96,)],
    "neg_max_pool": [(4, 96, 28, 28)],
    "small": [(1, 4, 7, 7), (4, 1, 3, 3)],
}


NO_SPLIT = "--no-split-windows"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "pads.mlir")
        with open(model, "w") as f:
            f.write(MODEL)
        pads, plain = os.path.join(tmp, "pads"), os.path.join(tmp, "plain")
        must([args.anvilc, model, NO_SPLIT, "-o", pads])
        must([args.anvilc, model, NO_SPLIT, "--no-parallel-pads", "-o", plain])
        # The option must have replaced the pads by copies split for
        # threads (so that this test fails if it silently stops applying).
        backend = must([args.anvilc, model, NO_SPLIT, "--compile-to=backend"])
        plain_backend = must([args.anvilc, model, NO_SPLIT, "--no-parallel-pads",
                              "--compile-to=backend"])
        check(plain_backend.count("tensor.pad") == 4 and
              backend.count("tensor.pad") == 0,
              "the four pads become copies "
              f"({plain_backend.count('tensor.pad')} -> {backend.count('tensor.pad')} pads)")
        check(backend.count("scf.forall") >= plain_backend.count("scf.forall") + 3,
              "the three big pads' copies are split for threads "
              f"({plain_backend.count('scf.forall')} -> {backend.count('scf.forall')} parallel loops)")
        compare_threads(check, args.anvilc, model, CASES, plain, pads, "--no-parallel-pads",
                        tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
