#!/usr/bin/python3
"""Short padded rows written in one pass (anvil-fold-pad-into-producer's
pad-rows-lanes; anvilc --no-pad-rows turns it off).

Each function below pads short rows that a depthwise convolution or a
pool reads, where the pad cannot be folded into its producer (a 1x1
convolution, a function argument): by default each source row is written
whole into its padded row, border columns included, a vector register at a
time; with --no-pad-rows a fill per border column and a copy of the
interior. A 3x3 depthwise convolution after a 1x1 one on 14x14 and on 7x7
maps (MobileNetV2's), a 5x5 one with two border columns on 7x7, an
asymmetric pad (one column on the right only), a 3x3 max pool of an
argument on 12x12, and 30-wide rows padded to 32 read by two windows. The
backend IR must hold the interior copies with --no-pad-rows only (so that
this test fails if the option silently stops applying), and both
executables, at 1, 2 and 3 threads, must equal the option-off one at 1
thread bit for bit, and that one the reference interpreter's within 1e-4;
so must a build with AVX2's 8-lane chunks (--matmul-vector-bits=256).
"""
import os
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @dw_14(%x: tensor<2x8x14x14xf32>, %p: tensor<24x8x1x1xf32>, %w: tensor<24x1x3x3xf32>) -> tensor<2x24x14x14xf32> {
    %e = anvil.conv2d %x, %p {pads = array<i64: 0, 0, 0, 0>} : tensor<2x8x14x14xf32>, tensor<24x8x1x1xf32>
    %r = anvil.clip %e {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x24x14x14xf32>
    %y = anvil.conv2d %r, %w {pads = array<i64: 1, 1, 1, 1>, groups = 24 : i64} : tensor<2x24x14x14xf32>, tensor<24x1x3x3xf32>
    return %y : tensor<2x24x14x14xf32>
  }
  func.func @dw_7(%x: tensor<3x8x7x7xf32>, %p: tensor<16x8x1x1xf32>, %w: tensor<16x1x3x3xf32>, %b: tensor<16xf32>) -> tensor<3x16x7x7xf32> {
    %e = anvil.conv2d %x, %p {pads = array<i64: 0, 0, 0, 0>} : tensor<3x8x7x7xf32>, tensor<16x8x1x1xf32>
    %y = anvil.conv2d %e, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<3x16x7x7xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>
    return %y : tensor<3x16x7x7xf32>
  }
  func.func @dw5_7(%x: tensor<2x12x7x7xf32>, %w: tensor<12x1x5x5xf32>) -> tensor<2x12x7x7xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 2, 2, 2, 2>, groups = 12 : i64} : tensor<2x12x7x7xf32>, tensor<12x1x5x5xf32>
    return %y : tensor<2x12x7x7xf32>
  }
  func.func @dw_right(%x: tensor<2x8x14x14xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<2x8x7x7xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>, groups = 8 : i64} : tensor<2x8x14x14xf32>, tensor<8x1x3x3xf32>
    return %y : tensor<2x8x7x7xf32>
  }
  func.func @pool_12(%x: tensor<2x6x12x12xf32>) -> tensor<2x6x12x12xf32> {
    %y = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x6x12x12xf32>
    return %y : tensor<2x6x12x12xf32>
  }
  func.func @two_readers_30(%x: tensor<1x4x30x30xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x30x30xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : tensor<1x4x30x30xf32>, tensor<4x1x3x3xf32>
    %m = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x30x30xf32>
    %s = anvil.add %y, %m : tensor<1x4x30x30xf32>, tensor<1x4x30x30xf32>
    return %s : tensor<1x4x30x30xf32>
  }
}
"""

CASES = {
    "dw_14": [(2, 8, 14, 14), (24, 8, 1, 1), (24, 1, 3, 3)],
    "dw_7": [(3, 8, 7, 7), (16, 8, 1, 1), (16, 1, 3, 3), (16,)],
    "dw5_7": [(2, 12, 7, 7), (12, 1, 5, 5)],
    "dw_right": [(2, 8, 14, 14), (8, 1, 3, 3)],
    "pool_12": [(2, 6, 12, 12)],
    "two_readers_30": [(1, 4, 30, 30), (4, 1, 3, 3)],
}

OFF = "--no-pad-rows"


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(19)
    check = Checks()
    with model_in_tempdir(MODEL, "pads.mlir") as (tmp, model):
        args = [anvilc, model, "--compile-to=backend"]
        rows, copies = must(args), must(args + [OFF])
        check("linalg.copy" not in rows and "linalg.copy" in copies,
              f"the interiors are copied with {OFF} only")
        check("vector.shuffle" in rows and rows.count("vector.transfer_write") >
              copies.count("vector.transfer_write"),
              "by default the padded rows are written as vectors")
        fast, plain = os.path.join(tmp, "rows"), os.path.join(tmp, "plain")
        must([anvilc, model, "-o", fast])
        must([anvilc, model, OFF, "-o", plain])
        compare_threads(check, anvilc, model, CASES, plain, fast, OFF, tmp, rng)
        # AVX2's 8-lane chunks (--matmul-vector-bits=256: 256-bit code,
        # which runs on an AVX-512 machine too).
        narrow = os.path.join(tmp, "rows8")
        must([anvilc, model, "--matmul-vector-bits=256", "-o", narrow])
        compare_threads(check, anvilc, model, CASES, plain, narrow, OFF, tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")
    print(f"every short padded row equals its build with {OFF}")


if __name__ == "__main__":
    main()
