#!/usr/bin/python3
"""Activations with an exp, tanh or erf kept out of window loops (anvil-fuse-elementwise's math-out-of-windows).

Each function below has a depthwise convolution followed by an activation
that computes an exp, a tanh or an erf: a SiLU (x * sigmoid(x), as in
EfficientNet) on 28-, 14- and 7-wide rows and after a stride-2
convolution (14-wide rows, deinterleaved), a GELU (erf and tanh forms), a tanh, and a SiLU after a relu
that writes the padded buffer. By default the activation is a loop of its
own; with --no-math-out-of-windows it joins the convolution's loop. The
fusion reports must say which (so that this test fails if the option
silently stops applying), and both executables, at 1, 2 and 3 threads, must
equal the fused one at 1 thread within 1e-5 relative, and that one the
reference interpreter's within 1e-4.
"""
import os
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @silu_28(%x: tensor<2x24x28x28xf32>, %w: tensor<24x1x5x5xf32>, %b: tensor<24xf32>) -> tensor<2x24x28x28xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 2, 2, 2, 2>, groups = 24 : i64} : tensor<2x24x28x28xf32>, tensor<24x1x5x5xf32>, tensor<24xf32>
    %s = anvil.sigmoid %y : tensor<2x24x28x28xf32>
    %z = anvil.mul %y, %s : tensor<2x24x28x28xf32>, tensor<2x24x28x28xf32>
    return %z : tensor<2x24x28x28xf32>
  }
  func.func @silu_14(%x: tensor<3x16x14x14xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<3x16x14x14xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<3x16x14x14xf32>, tensor<16x1x3x3xf32>
    %s = anvil.sigmoid %y : tensor<3x16x14x14xf32>
    %z = anvil.mul %y, %s : tensor<3x16x14x14xf32>, tensor<3x16x14x14xf32>
    return %z : tensor<3x16x14x14xf32>
  }
  func.func @silu_7(%x: tensor<2x40x7x7xf32>, %w: tensor<40x1x5x5xf32>, %b: tensor<40xf32>) -> tensor<2x40x7x7xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 2, 2, 2, 2>, groups = 40 : i64} : tensor<2x40x7x7xf32>, tensor<40x1x5x5xf32>, tensor<40xf32>
    %s = anvil.sigmoid %y : tensor<2x40x7x7xf32>
    %z = anvil.mul %y, %s : tensor<2x40x7x7xf32>, tensor<2x40x7x7xf32>
    return %z : tensor<2x40x7x7xf32>
  }
  func.func @silu_strided(%x: tensor<2x16x28x28xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<2x16x14x14xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, groups = 16 : i64} : tensor<2x16x28x28xf32>, tensor<16x1x3x3xf32>
    %s = anvil.sigmoid %y : tensor<2x16x14x14xf32>
    %z = anvil.mul %y, %s : tensor<2x16x14x14xf32>, tensor<2x16x14x14xf32>
    return %z : tensor<2x16x14x14xf32>
  }
  func.func @gelu_erf(%x: tensor<2x8x20x20xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<2x8x20x20xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 8 : i64} : tensor<2x8x20x20xf32>, tensor<8x1x3x3xf32>
    %z = anvil.gelu %y : tensor<2x8x20x20xf32>
    return %z : tensor<2x8x20x20xf32>
  }
  func.func @gelu_tanh(%x: tensor<2x8x20x20xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<2x8x20x20xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 8 : i64} : tensor<2x8x20x20xf32>, tensor<8x1x3x3xf32>
    %z = anvil.gelu %y {tanh_approx} : tensor<2x8x20x20xf32>
    return %z : tensor<2x8x20x20xf32>
  }
  func.func @tanh_after(%x: tensor<1x12x9x9xf32>, %w: tensor<12x1x3x3xf32>) -> tensor<1x12x9x9xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 12 : i64} : tensor<1x12x9x9xf32>, tensor<12x1x3x3xf32>
    %z = anvil.tanh %y : tensor<1x12x9x9xf32>
    return %z : tensor<1x12x9x9xf32>
  }
  func.func @silu_folded_pad(%x: tensor<2x16x56x56xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<2x16x56x56xf32> {
    %r = anvil.relu %x : tensor<2x16x56x56xf32>
    %y = anvil.conv2d %r, %w {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<2x16x56x56xf32>, tensor<16x1x3x3xf32>
    %s = anvil.sigmoid %y : tensor<2x16x56x56xf32>
    %z = anvil.mul %y, %s : tensor<2x16x56x56xf32>, tensor<2x16x56x56xf32>
    return %z : tensor<2x16x56x56xf32>
  }
}
"""

CASES = {
    "silu_28": [(2, 24, 28, 28), (24, 1, 5, 5), (24,)],
    "silu_14": [(3, 16, 14, 14), (16, 1, 3, 3)],
    "silu_7": [(2, 40, 7, 7), (40, 1, 5, 5), (40,)],
    "silu_strided": [(2, 16, 28, 28), (16, 1, 3, 3)],
    "gelu_erf": [(2, 8, 20, 20), (8, 1, 3, 3)],
    "gelu_tanh": [(2, 8, 20, 20), (8, 1, 3, 3)],
    "tanh_after": [(1, 12, 9, 9), (12, 1, 3, 3)],
    "silu_folded_pad": [(2, 16, 56, 56), (16, 1, 3, 3)],
}

REASON = "a depthwise convolution's loop takes no exp, tanh or erf"


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(13)
    check = Checks()
    with model_in_tempdir(MODEL, "math.mlir") as (tmp, model):
        apart, fused = os.path.join(tmp, "apart"), os.path.join(tmp, "fused")
        report = must([anvilc, model, "--fusion-report", "-o", apart])
        fused_report = must([anvilc, model, "--no-math-out-of-windows",
                             "--fusion-report", "-o", fused])
        # One refusal per function by default; with the option off, every
        # depthwise line carries its activation and nothing is refused.
        check(report.count(REASON) == len(CASES),
              f"each activation is a loop of its own ({report.count(REASON)} refusals "
              f"for {len(CASES)} functions)")
        in_loop = [line for line in fused_report.splitlines()
                   if "depthwise" in line and "in its loop" in line]
        check(REASON not in fused_report and len(in_loop) == len(CASES),
              f"--no-math-out-of-windows fuses them ({len(in_loop)} depthwise loops "
              f"with their activation for {len(CASES)} functions)")
        compare_threads(check, anvilc, model, CASES, fused, apart,
                        "--no-math-out-of-windows", tmp, rng, rel_tol=1e-5)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
