#!/usr/bin/python3
"""Activations that read the product twice, joined into its epilogue (anvil-fuse-matmul-epilogue's join-users).

A SiLU, x * sigmoid(x), or a hard swish, x * clip(x / 6 + 1/2, 0, 1) (what
ONNX's HardSigmoid and a Mul make), reads the convolution's or Gemm's
result twice: the product has two users. By default their chains, which
meet in the multiply, are joined into one epilogue that runs on the
product's tiles; with --no-join-epilogue-users each is a loop of its own
after the product. Each function below takes one of the epilogue's forms:
a 1x1 convolution of 28x28 images at batch 2 (a loop over the images, the
epilogue in its register tiles), one of 56x56 (parallel blocks), a 3x3 one
of 7x7 images at batch 4 (one matmul over the batch, transposed to NCHW:
the joined epilogue commutes with the transpose), a Gemm whose bias add
comes first (the add's result has the two users), and a hard swish. The
fusion reports must say which (so that this test fails if joining silently
stops), and both executables, at 1, 2 and 3 threads, must equal the
unjoined one at 1 thread within 1e-5 relative, and that one the reference
interpreter's within 1e-4.
"""
import os
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @silu_image_loop(%x: tensor<2x24x28x28xf32>, %w: tensor<144x24x1x1xf32>, %b: tensor<144xf32>) -> tensor<2x144x28x28xf32> {
    %y = anvil.conv2d %x, %w, %b : tensor<2x24x28x28xf32>, tensor<144x24x1x1xf32>, tensor<144xf32>
    %s = anvil.sigmoid %y : tensor<2x144x28x28xf32>
    %z = anvil.mul %y, %s : tensor<2x144x28x28xf32>, tensor<2x144x28x28xf32>
    return %z : tensor<2x144x28x28xf32>
  }
  func.func @silu_blocks(%x: tensor<1x16x56x56xf32>, %w: tensor<96x16x1x1xf32>) -> tensor<1x96x56x56xf32> {
    %y = anvil.conv2d %x, %w : tensor<1x16x56x56xf32>, tensor<96x16x1x1xf32>
    %s = anvil.sigmoid %y : tensor<1x96x56x56xf32>
    %z = anvil.mul %s, %y : tensor<1x96x56x56xf32>, tensor<1x96x56x56xf32>
    return %z : tensor<1x96x56x56xf32>
  }
  func.func @silu_batched(%x: tensor<4x16x7x7xf32>, %w: tensor<64x16x3x3xf32>, %b: tensor<64xf32>) -> tensor<4x64x7x7xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<4x16x7x7xf32>, tensor<64x16x3x3xf32>, tensor<64xf32>
    %s = anvil.sigmoid %y : tensor<4x64x7x7xf32>
    %z = anvil.mul %y, %s : tensor<4x64x7x7xf32>, tensor<4x64x7x7xf32>
    return %z : tensor<4x64x7x7xf32>
  }
  func.func @gemm_bias_silu(%x: tensor<16x256xf32>, %w: tensor<256x200xf32>, %b: tensor<200xf32>) -> tensor<16x200xf32> {
    %p = anvil.matmul %x, %w : tensor<16x256xf32>, tensor<256x200xf32>
    %y = anvil.add %p, %b : tensor<16x200xf32>, tensor<200xf32>
    %s = anvil.sigmoid %y : tensor<16x200xf32>
    %z = anvil.mul %y, %s : tensor<16x200xf32>, tensor<16x200xf32>
    return %z : tensor<16x200xf32>
  }
  func.func @hardswish(%x: tensor<2x32x14x14xf32>, %w: tensor<96x32x1x1xf32>, %b: tensor<96xf32>) -> tensor<2x96x14x14xf32> {
    %y = anvil.conv2d %x, %w, %b : tensor<2x32x14x14xf32>, tensor<96x32x1x1xf32>, tensor<96xf32>
    %k = anvil.constant dense<0.166666672> : tensor<f32>
    %h = anvil.constant dense<0.5> : tensor<f32>
    %t = anvil.mul %y, %k : tensor<2x96x14x14xf32>, tensor<f32>
    %u = anvil.add %t, %h : tensor<2x96x14x14xf32>, tensor<f32>
    %c = anvil.clip %u {min = 0.0 : f64, max = 1.0 : f64} : tensor<2x96x14x14xf32>
    %z = anvil.mul %y, %c : tensor<2x96x14x14xf32>, tensor<2x96x14x14xf32>
    return %z : tensor<2x96x14x14xf32>
  }
}
"""

CASES = {
    "silu_image_loop": [(2, 24, 28, 28), (144, 24, 1, 1), (144,)],
    "silu_blocks": [(1, 16, 56, 56), (96, 16, 1, 1)],
    "silu_batched": [(4, 16, 7, 7), (64, 16, 3, 3), (64,)],
    "gemm_bias_silu": [(16, 256), (256, 200), (200,)],
    "hardswish": [(2, 32, 14, 14), (96, 32, 1, 1), (96,)],
}

# The report's line for each function's product, joined: its epilogue
# names the activation's ops.
JOINED = ["+ epilogue sigmoid+mul", "+ epilogue sigmoid+mul", "+ epilogue sigmoid+mul",
          "+ epilogue add+sigmoid+mul", "+ epilogue mul+add+clip+mul"]
OFF_REASON = "users (--no-join-epilogue-users)"


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(17)
    check = Checks()
    with model_in_tempdir(MODEL, "joined.mlir") as (tmp, model):
        joined, apart = os.path.join(tmp, "joined"), os.path.join(tmp, "apart")
        # --split-batch 1: each function's product at its own batch.
        report = must([anvilc, model, "--split-batch", "1", "--fusion-report", "-o", joined])
        off_report = must([anvilc, model, "--split-batch", "1", "--no-join-epilogue-users",
                           "--fusion-report", "-o", apart])
        products = [line for line in report.splitlines()
                    if ("conv2d" in line or "matmul" in line) and line.startswith("#")]
        check(len(products) == len(CASES),
              f"one product per function in the report ({len(products)} for {len(CASES)})")
        for name, line, want in zip(CASES, products, JOINED):
            check(want in line and "separate loop" not in line,
                  f"{name}: the activation is the product's epilogue ({want!r})")
        check("not fused" not in report, "nothing is refused by default")
        off_products = [line for line in off_report.splitlines()
                        if ("conv2d" in line or "matmul" in line) and line.startswith("#")]
        check(not any("sigmoid" in line or "clip" in line for line in off_products),
              "--no-join-epilogue-users: no product takes its activation")
        check(off_report.count(OFF_REASON) >= len(CASES),
              f"--no-join-epilogue-users: the report says why ({off_report.count(OFF_REASON)} "
              f"refusals for {len(CASES)} functions)")
        compare_threads(check, anvilc, model, CASES, apart, joined,
                        "--no-join-epilogue-users", tmp, rng, rel_tol=1e-5)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
