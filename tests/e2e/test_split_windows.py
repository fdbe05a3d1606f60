#!/usr/bin/python3
"""Window kernels split around a pad no producer writes (anvil-fold-pad-into-producer's split-windows).

Each function below has a depthwise convolution or a pool whose padded input
no producer can write into (a function argument, a matmul's result, a relu
whose rows are narrower than the fold's min-row): its kernel is split into
an interior that reads the unpadded input in place and border bands that
read small pads of it (bands at the rows' ends two columns or more wide
widened to 8, one vector per row; --no-wide-window-bands keeps them
narrow). The cases cover stride 1 and 2, 3x3 and 5x5 windows,
asymmetric padding, dilation, a max pool's -inf border and odd sizes whose
last output reads no high padding. Built with and without the split
(--no-split-windows), run on 1, 2 and 3 threads, every output must equal
the unsplit one at 1 thread exactly (each piece computes the same values
the same way), and the reference interpreter's within 1e-4.
"""
import os
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @dw_argument(%x: tensor<2x16x56x56xf32>, %w: tensor<16x1x3x3xf32>, %b: tensor<16xf32>) -> tensor<2x16x56x56xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<2x16x56x56xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>
    %r = anvil.relu %y : tensor<2x16x56x56xf32>
    return %r : tensor<2x16x56x56xf32>
  }
  func.func @dw_after_matmul(%x: tensor<2x8x45x45xf32>, %w1: tensor<24x8x1x1xf32>, %w: tensor<24x1x3x3xf32>) -> tensor<2x24x23x23xf32> {
    %h = anvil.conv2d %x, %w1 : tensor<2x8x45x45xf32>, tensor<24x8x1x1xf32>
    %r = anvil.relu %h : tensor<2x24x45x45xf32>
    %y = anvil.conv2d %r, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, groups = 24 : i64} : tensor<2x24x45x45xf32>, tensor<24x1x3x3xf32>
    return %y : tensor<2x24x23x23xf32>
  }
  func.func @dw_5x5_stride2(%x: tensor<1x8x40x40xf32>, %w: tensor<8x1x5x5xf32>) -> tensor<1x8x20x20xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 2, 2>, groups = 8 : i64} : tensor<1x8x40x40xf32>, tensor<8x1x5x5xf32>
    return %y : tensor<1x8x20x20xf32>
  }
  func.func @dw_asymmetric_dilated(%x: tensor<1x4x33x37xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x32x34xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 0, 2, 1>, dilations = array<i64: 2, 2>, groups = 4 : i64} : tensor<1x4x33x37xf32>, tensor<4x1x3x3xf32>
    return %y : tensor<1x4x32x34xf32>
  }
  func.func @relu_short_rows(%x: tensor<2x32x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>) -> tensor<2x32x28x28xf32> {
    %r = anvil.relu %x : tensor<2x32x28x28xf32>
    %y = anvil.conv2d %r, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 32 : i64} : tensor<2x32x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>
    return %y : tensor<2x32x28x28xf32>
  }
  func.func @dw_5x5_wide_bands(%x: tensor<2x16x28x28xf32>, %w: tensor<16x1x5x5xf32>, %b: tensor<16xf32>) -> tensor<2x16x28x28xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 2, 2, 2, 2>, groups = 16 : i64} : tensor<2x16x28x28xf32>, tensor<16x1x5x5xf32>, tensor<16xf32>
    return %y : tensor<2x16x28x28xf32>
  }
  func.func @max_pool_argument(%x: tensor<2x8x64x64xf32>) -> tensor<2x8x32x32xf32> {
    %y = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x8x64x64xf32>
    return %y : tensor<2x8x32x32xf32>
  }
}
"""

CASES = {
    "dw_argument": [(2, 16, 56, 56), (16, 1, 3, 3), (16,)],
    "dw_after_matmul": [(2, 8, 45, 45), (24, 8, 1, 1), (24, 1, 3, 3)],
    "dw_5x5_stride2": [(1, 8, 40, 40), (8, 1, 5, 5)],
    "dw_asymmetric_dilated": [(1, 4, 33, 37), (4, 1, 3, 3)],
    "relu_short_rows": [(2, 32, 28, 28), (32, 1, 3, 3), (32,)],
    "dw_5x5_wide_bands": [(2, 16, 28, 28), (16, 1, 5, 5), (16,)],
    "max_pool_argument": [(2, 8, 64, 64)],
}


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(11)
    check = Checks()
    with model_in_tempdir(MODEL, "windows.mlir") as (tmp, model):
        split, plain = os.path.join(tmp, "split"), os.path.join(tmp, "plain")
        must([anvilc, model, "-o", split])
        must([anvilc, model, "--no-split-windows", "-o", plain])
        # Every function's big pad must have been split away (so that this
        # test fails if the option silently stops applying): the unsplit
        # backend copies each pad (linalg.copy; --no-pad-rows, else the
        # short rows' pads are written row by row, with no copy), the split
        # one none.
        backend = must([anvilc, model, "--compile-to=backend"])
        plain_backend = must([anvilc, model, "--no-split-windows", "--no-pad-rows",
                              "--compile-to=backend"])
        check(plain_backend.count("linalg.copy") >= len(CASES) and
              backend.count("linalg.copy") == 0,
              "every pad's copy is gone "
              f"({plain_backend.count('linalg.copy')} -> {backend.count('linalg.copy')} copies)")
        compare_threads(check, anvilc, model, CASES, plain, split, "--no-split-windows",
                        tmp, rng)
        # Bands of only the columns that read the pad (the 5x5 window's two
        # at each row end; the default widens them to 8): the same values.
        narrow = os.path.join(tmp, "narrow-bands")
        must([anvilc, model, "--no-wide-window-bands", "-o", narrow])
        narrow_backend = must([anvilc, model, "--no-wide-window-bands",
                               "--compile-to=backend"])
        check("tensor<2x16x24x8xf32>" in backend and
              "tensor<2x16x24x8xf32>" not in narrow_backend and
              "tensor<2x16x24x2xf32>" in narrow_backend,
              "the 5x5 window's row-end bands are 8 columns wide, 2 with "
              "--no-wide-window-bands")
        compare_threads(check, anvilc, model, {"dw_5x5_wide_bands": CASES["dw_5x5_wide_bands"]},
                        plain, narrow, "--no-split-windows", tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
