#!/usr/bin/python3
"""Window loops kept out of a batched 1x1 convolution's im2col copy
(anvil-fuse-elementwise's windows-read-in-order).

Each function below has a depthwise convolution (or a max pool) on images
under 64 pixels, followed by a 1x1 convolution: at a batch of more than
one, that convolution is one matmul over the whole batch, whose im2col
copy reads the window's NCHW result as [C, 1, 1, N, OH, OW]. By default
the window keeps its own loop, vectorized along its rows, and the copy is
a copy; with --no-windows-read-in-order the window is fused into the copy,
a scalar loop in the copy's order. A 3x3 depthwise convolution with a
relu6 on 7x7 images (MobileNetV2's last blocks), a stride-2 one from 14x14
down to 7x7, and a 3x3 max pool on 6x6 images. The backend IR must show
the fused scalar multiply-adds with the option off only (so that this test
fails if the option silently stops applying), and both executables, at 1,
2 and 3 threads, must equal the fused one at 1 thread bit for bit (the
same sums in the same order), and that one the reference interpreter's
within 1e-4.
"""
import os
import re
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @dw_relu6_7(%x: tensor<4x32x7x7xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>, %p: tensor<24x32x1x1xf32>) -> tensor<4x24x7x7xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 32 : i64} : tensor<4x32x7x7xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>
    %r = anvil.clip %y {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x32x7x7xf32>
    %z = anvil.conv2d %r, %p {pads = array<i64: 0, 0, 0, 0>} : tensor<4x32x7x7xf32>, tensor<24x32x1x1xf32>
    return %z : tensor<4x24x7x7xf32>
  }
  func.func @dw_stride2(%x: tensor<2x16x14x14xf32>, %w: tensor<16x1x3x3xf32>, %p: tensor<40x16x1x1xf32>) -> tensor<2x40x7x7xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, groups = 16 : i64} : tensor<2x16x14x14xf32>, tensor<16x1x3x3xf32>
    %z = anvil.conv2d %y, %p {pads = array<i64: 0, 0, 0, 0>} : tensor<2x16x7x7xf32>, tensor<40x16x1x1xf32>
    return %z : tensor<2x40x7x7xf32>
  }
  func.func @pool_6(%x: tensor<3x8x6x6xf32>, %p: tensor<16x8x1x1xf32>) -> tensor<3x16x6x6xf32> {
    %y = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<3x8x6x6xf32>
    %z = anvil.conv2d %y, %p {pads = array<i64: 0, 0, 0, 0>} : tensor<3x8x6x6xf32>, tensor<16x8x1x1xf32>
    return %z : tensor<3x16x6x6xf32>
  }
}
"""

CASES = {
    "dw_relu6_7": [(4, 32, 7, 7), (32, 1, 3, 3), (32,), (24, 32, 1, 1)],
    "dw_stride2": [(2, 16, 14, 14), (16, 1, 3, 3), (40, 16, 1, 1)],
    "pool_6": [(3, 8, 6, 6), (16, 8, 1, 1)],
}

OFF = "--no-windows-read-in-order"
# A multiply-add or a max's comparison on scalars: the window computed in
# the copy's order (in order, anvil-vectorize-windows makes them vectors).
SCALAR = re.compile(r"= (math\.fma|arith\.cmpf ogt,) [^:]*: f32$", re.M)


def functions(ir):
    """{name: text} of the functions of `ir`, each up to the next one."""
    parts = re.split(r"^\s*func\.func (?:\w+ )*@", ir, flags=re.M)[1:]
    return {p.split("(", 1)[0]: p for p in parts}


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(17)
    check = Checks()
    with model_in_tempdir(MODEL, "windows.mlir") as (tmp, model):
        args = [anvilc, model, "--compile-to=backend"]
        apart, fused = functions(must(args)), functions(must(args + [OFF]))
        for name in CASES:
            check(not SCALAR.search(apart[name]) and SCALAR.search(fused[name]),
                  f"{name}: the window is fused into the im2col copy with {OFF} only")
        ordered, fused = os.path.join(tmp, "ordered"), os.path.join(tmp, "fused")
        must([anvilc, model, "-o", ordered])
        must([anvilc, model, OFF, "-o", fused])
        compare_threads(check, anvilc, model, CASES, fused, ordered, OFF, tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")
    print(f"every window before a batched 1x1 convolution equals its build with {OFF}")


if __name__ == "__main__":
    main()
