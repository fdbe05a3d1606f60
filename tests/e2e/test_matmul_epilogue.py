#!/usr/bin/python3
"""Matmul epilogues (anvil-fuse-matmul-epilogue) against the unfused path.

Each function below is a convolution or Gemm followed by elementwise ops
that become the product's epilogue, run on its cache blocks or tiles: conv + bias +
relu, conv + residual add + relu, conv + bias + clip (relu6), Gemm + bias +
gelu, a batched-lhs Gemm + bias + sigmoid (its product reaches the bias add
through a reshape), and a product with a second user (not fused). Widths
that 16 does not divide (196 output pixels, 200 columns) take the peeled
register tiles. At batch 8: a convolution of 14x14 images (an scf.for over
the images, whose bias + residual add + relu move into the loop and become
each image's epilogue), of 7x7 images (one matmul over the batch, transposed
to NCHW: the relu commutes with the transpose; a residual add cannot and
stays after it) and of small 10x10 images (one image per thread, each
image's product too small for parallel blocks: with 16 output channels B is
packed and K = 144 one k block, so the epilogue still runs in its register
tiles; with 4, too few rows to pack for, it stays a loop after the product). The model is compiled with fusion and
with --no-fusion; every output must agree within 1e-5 relative, and the
fusion report must show the epilogues and the refusals (so that this test
fails if they silently stop being fused). A third build with
--no-epilogue-in-place (the epilogues write scratch blocks that are copied
out) must give bit-identical outputs to the default one, which runs them in
the result's blocks: only where the values are stored differs. So must a
build with --no-epilogue-in-tiles: by default a packed product whose K is
one k block (here the Gemm with K = 256, a 1x1 convolution on 128 channels
with a residual add, and a 3x3 one on 16 channels, K = 144, at batch 2 of
55x55) runs its epilogue on each register tile before storing it, which
the report says ("in its register tiles"); the others, and that build,
over each finished cache block.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import must

MODEL = """
module {
  func.func @conv_bias_relu(%x: tensor<1x64x14x14xf32>, %w: tensor<64x64x3x3xf32>, %b: tensor<64xf32>) -> tensor<1x64x14x14xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<1x64x14x14xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>
    %z = anvil.relu %y : tensor<1x64x14x14xf32>
    return %z : tensor<1x64x14x14xf32>
  }
  func.func @conv_add_relu(%x: tensor<1x64x14x14xf32>, %w: tensor<64x64x3x3xf32>, %r: tensor<1x64x14x14xf32>) -> tensor<1x64x14x14xf32> {
    %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<1x64x14x14xf32>, tensor<64x64x3x3xf32>
    %s = anvil.add %y, %r : tensor<1x64x14x14xf32>, tensor<1x64x14x14xf32>
    %z = anvil.relu %s : tensor<1x64x14x14xf32>
    return %z : tensor<1x64x14x14xf32>
  }
  func.func @conv_bias_relu6(%x: tensor<1x64x28x28xf32>, %w: tensor<64x64x3x3xf32>, %b: tensor<64xf32>) -> tensor<1x64x14x14xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x64x28x28xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>
    %z = anvil.clip %y {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x64x14x14xf32>
    return %z : tensor<1x64x14x14xf32>
  }
  func.func @gemm_bias_gelu(%a: tensor<128x512xf32>, %w: tensor<512x200xf32>, %b: tensor<200xf32>) -> tensor<128x200xf32> {
    %m = anvil.matmul %a, %w : tensor<128x512xf32>, tensor<512x200xf32>
    %s = anvil.add %m, %b : tensor<128x200xf32>, tensor<200xf32>
    %z = anvil.gelu %s : tensor<128x200xf32>
    return %z : tensor<128x200xf32>
  }
  func.func @gemm3d_bias_sigmoid(%a: tensor<2x32x256xf32>, %w: tensor<256x384xf32>, %b: tensor<384xf32>) -> tensor<2x32x384xf32> {
    %m = anvil.matmul %a, %w : tensor<2x32x256xf32>, tensor<256x384xf32>
    %s = anvil.add %m, %b : tensor<2x32x384xf32>, tensor<384xf32>
    %z = anvil.sigmoid %s : tensor<2x32x384xf32>
    return %z : tensor<2x32x384xf32>
  }
  func.func @b8_conv_bias_add_relu(%x: tensor<8x64x14x14xf32>, %w: tensor<64x64x3x3xf32>, %b: tensor<64xf32>, %r: tensor<8x64x14x14xf32>) -> tensor<8x64x14x14xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<8x64x14x14xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>
    %s = anvil.add %y, %r : tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>
    %z = anvil.relu %s : tensor<8x64x14x14xf32>
    return %z : tensor<8x64x14x14xf32>
  }
  func.func @b8_conv7x7_bias_relu(%x: tensor<8x128x7x7xf32>, %w: tensor<128x128x3x3xf32>, %b: tensor<128xf32>) -> tensor<8x128x7x7xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<8x128x7x7xf32>, tensor<128x128x3x3xf32>, tensor<128xf32>
    %z = anvil.relu %y : tensor<8x128x7x7xf32>
    return %z : tensor<8x128x7x7xf32>
  }
  func.func @b8_conv7x7_add_relu(%x: tensor<8x128x7x7xf32>, %w: tensor<128x128x3x3xf32>, %b: tensor<128xf32>, %r: tensor<8x128x7x7xf32>) -> tensor<8x128x7x7xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<8x128x7x7xf32>, tensor<128x128x3x3xf32>, tensor<128xf32>
    %s = anvil.add %y, %r : tensor<8x128x7x7xf32>, tensor<8x128x7x7xf32>
    %z = anvil.relu %s : tensor<8x128x7x7xf32>
    return %z : tensor<8x128x7x7xf32>
  }
  func.func @b8_small_conv_add_relu(%x: tensor<8x16x10x10xf32>, %w: tensor<16x16x3x3xf32>, %b: tensor<16xf32>, %r: tensor<8x16x10x10xf32>) -> tensor<8x16x10x10xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<8x16x10x10xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
    %s = anvil.add %y, %r : tensor<8x16x10x10xf32>, tensor<8x16x10x10xf32>
    %z = anvil.relu %s : tensor<8x16x10x10xf32>
    return %z : tensor<8x16x10x10xf32>
  }
  func.func @b8_small_conv4_add_relu(%x: tensor<8x16x10x10xf32>, %w: tensor<4x16x3x3xf32>, %b: tensor<4xf32>, %r: tensor<8x4x10x10xf32>) -> tensor<8x4x10x10xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<8x16x10x10xf32>, tensor<4x16x3x3xf32>, tensor<4xf32>
    %s = anvil.add %y, %r : tensor<8x4x10x10xf32>, tensor<8x4x10x10xf32>
    %z = anvil.relu %s : tensor<8x4x10x10xf32>
    return %z : tensor<8x4x10x10xf32>
  }
  func.func @pw_bias_add_relu(%x: tensor<1x128x28x28xf32>, %w: tensor<64x128x1x1xf32>, %b: tensor<64xf32>, %r: tensor<1x64x28x28xf32>) -> tensor<1x64x28x28xf32> {
    %y = anvil.conv2d %x, %w, %b : tensor<1x128x28x28xf32>, tensor<64x128x1x1xf32>, tensor<64xf32>
    %s = anvil.add %y, %r : tensor<1x64x28x28xf32>, tensor<1x64x28x28xf32>
    %z = anvil.relu %s : tensor<1x64x28x28xf32>
    return %z : tensor<1x64x28x28xf32>
  }
  func.func @b2_conv_k144_bias_relu(%x: tensor<2x16x55x55xf32>, %w: tensor<64x16x3x3xf32>, %b: tensor<64xf32>) -> tensor<2x64x55x55xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<2x16x55x55xf32>, tensor<64x16x3x3xf32>, tensor<64xf32>
    %z = anvil.relu %y : tensor<2x64x55x55xf32>
    return %z : tensor<2x64x55x55xf32>
  }
  func.func @second_user(%a: tensor<64x256xf32>, %w: tensor<256x256xf32>) -> (tensor<64x256xf32>, tensor<64x256xf32>) {
    %m = anvil.matmul %a, %w : tensor<64x256xf32>, tensor<256x256xf32>
    %z = anvil.relu %m : tensor<64x256xf32>
    return %z, %m : tensor<64x256xf32>, tensor<64x256xf32>
  }
}
"""

# function: (input shapes, number of outputs)
CASES = {
    "conv_bias_relu": ([(1, 64, 14, 14), (64, 64, 3, 3), (64,)], 1),
    "conv_add_relu": ([(1, 64, 14, 14), (64, 64, 3, 3), (1, 64, 14, 14)], 1),
    "conv_bias_relu6": ([(1, 64, 28, 28), (64, 64, 3, 3), (64,)], 1),
    "gemm_bias_gelu": ([(128, 512), (512, 200), (200,)], 1),
    "gemm3d_bias_sigmoid": ([(2, 32, 256), (256, 384), (384,)], 1),
    "b8_conv_bias_add_relu": ([(8, 64, 14, 14), (64, 64, 3, 3), (64,), (8, 64, 14, 14)], 1),
    "b8_conv7x7_bias_relu": ([(8, 128, 7, 7), (128, 128, 3, 3), (128,)], 1),
    "b8_conv7x7_add_relu": ([(8, 128, 7, 7), (128, 128, 3, 3), (128,), (8, 128, 7, 7)], 1),
    "b8_small_conv_add_relu": ([(8, 16, 10, 10), (16, 16, 3, 3), (16,), (8, 16, 10, 10)], 1),
    "b8_small_conv4_add_relu": ([(8, 16, 10, 10), (4, 16, 3, 3), (4,), (8, 4, 10, 10)], 1),
    "pw_bias_add_relu": ([(1, 128, 28, 28), (64, 128, 1, 1), (64,), (1, 64, 28, 28)], 1),
    "b2_conv_k144_bias_relu": ([(2, 16, 55, 55), (64, 16, 3, 3), (64,)], 1),
    "second_user": ([(64, 256), (256, 256)], 2),
}

# The epilogues the fusion report must show (one per fused function).
EXPECTED_EPILOGUES = [
    "+ epilogue relu on its cache blocks",
    "+ epilogue add+relu on its cache blocks",
    "+ epilogue clip on its cache blocks",
    "+ epilogue add+gelu on its cache blocks",
    "+ epilogue add+sigmoid in its register tiles",
    "add not fused into the conv2d before it: at batch 8 the convolution of 49-pixel images is one matmul over the whole batch",
    "add not fused into the conv2d before it: each image's product is below 8 MFLOP",
]

# Batch-8 kernels whose report line must show the epilogue.
EXPECTED_KERNELS = {
    "b8_conv_bias_add_relu": "+ epilogue add+relu on its cache blocks",
    "b8_conv7x7_bias_relu": "+ epilogue relu on its cache blocks",
    "pw_bias_add_relu": "+ epilogue add+relu in its register tiles",
    "b2_conv_k144_bias_relu": "+ epilogue relu in its register tiles",
    "b8_small_conv_add_relu": "+ epilogue add+relu in its register tiles",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "epilogue.mlir")
        with open(model, "w") as f:
            f.write(MODEL)
        fused, plain = os.path.join(tmp, "fused"), os.path.join(tmp, "plain")
        report = must([args.anvilc, model, "--fusion-report", "-o", fused])
        must([args.anvilc, model, "--no-fusion", "-o", plain])
        copied = os.path.join(tmp, "copied")
        must([args.anvilc, model, "--no-epilogue-in-place", "-o", copied])
        blocks = os.path.join(tmp, "blocks")
        blocks_report = must([args.anvilc, model, "--no-epilogue-in-tiles", "--fusion-report",
                              "-o", blocks])
        if "in its register tiles" in blocks_report:
            failures.append(f"--no-epilogue-in-tiles report still says 'in its register "
                            f"tiles':\n{blocks_report}")
        for line in EXPECTED_EPILOGUES:
            if line not in report:
                failures.append(f"fusion report lacks '{line}':\n{report}")
        for name, epilogue in EXPECTED_KERNELS.items():
            if not any(f"@{name}: conv2d" in l and epilogue in l
                       for l in report.splitlines()):
                failures.append(f"fusion report lacks @{name} with '{epilogue}':\n{report}")
        if "relu not fused into the matmul before it: its result has 2 users" not in report:
            failures.append(f"fusion report lacks the second user:\n{report}")
        for name, (shapes, outputs) in CASES.items():
            cmd_inputs = []
            for i, shape in enumerate(shapes):
                path = os.path.join(tmp, f"{name}.in{i}.npy")
                np.save(path, rng.uniform(-1.0, 1.0, shape).astype(np.float32))
                cmd_inputs += ["--input", path]
            results = {}
            for exe in (fused, plain, copied, blocks):
                outs = [os.path.join(tmp, f"{name}.{os.path.basename(exe)}.out{j}.npy")
                        for j in range(outputs)]
                cmd = [exe, "--function", name] + cmd_inputs
                for out in outs:
                    cmd += ["--output", out]
                must(cmd)
                results[exe] = [np.load(out) for out in outs]
            for j, (a, b) in enumerate(zip(results[fused], results[plain])):
                scale = max(float(np.abs(b).max()), 1e-30)
                err = float(np.abs(a.astype(np.float64) - b).max()) / scale
                status = "ok" if err <= 1e-5 else "FAIL"
                print(f"{status} {name} output {j}: max relative difference {err:.2e}")
                if err > 1e-5:
                    failures.append(f"{name} output {j}: {err:.2e} > 1e-5")
            for j, (a, c) in enumerate(zip(results[fused], results[copied])):
                if not np.array_equal(a, c):
                    failures.append(f"{name} output {j}: in place and copied "
                                    "epilogues differ")
            for j, (a, c) in enumerate(zip(results[fused], results[blocks])):
                if not np.array_equal(a, c):
                    failures.append(f"{name} output {j}: epilogues in the register "
                                    "tiles and on the blocks differ")
    if failures:
        sys.exit("\n".join(failures))
    print("all epilogues agree with --no-fusion")


if __name__ == "__main__":
    main()
