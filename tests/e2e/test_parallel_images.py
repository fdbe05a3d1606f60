#!/usr/bin/python3
"""A batch's small convolutions, one image per thread (anvil-parallelize-images).

Each function below convolves a batch of 4 images: a padded 3x3 convolution
with a bias (its loop carries a padded image and writes an im2col matrix:
both get a slot per image), a stride-2 one, a 1x1 one without a bias (the
image is its own im2col matrix; the product starts from zeros), and two
convolutions in a row. Their per-image matmuls are below the pass's 8 MFLOP,
so the image loops become parallel. A batch of 64 images would need 5.4 MB
of per-image slots (over the pass's 1 MB): it runs in 8 chunks of 8 images,
each chunk a sequential loop reusing one padded image and im2col matrix
(chunk-images). A big convolution (58 MFLOP per image)
keeps its sequential loop with parallel blocks. The model is compiled with
the pass and with --no-parallel-images; both run on 1, 2 and 3 threads, and
every output must equal the --no-parallel-images one at 1 thread within
1e-5 relative, and the reference interpreter's within 1e-4.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import Checks, compare_threads, must

MODEL = """
module {
  func.func @conv_bias(%x: tensor<4x16x14x14xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>) -> tensor<4x32x14x14xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<4x16x14x14xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>
    return %y : tensor<4x32x14x14xf32>
  }
  func.func @conv_stride2(%x: tensor<4x8x20x20xf32>, %w: tensor<24x8x3x3xf32>, %b: tensor<24xf32>) -> tensor<4x24x10x10xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<4x8x20x20xf32>, tensor<24x8x3x3xf32>, tensor<24xf32>
    return %y : tensor<4x24x10x10xf32>
  }
  func.func @conv_pointwise(%x: tensor<4x24x12x12xf32>, %w: tensor<40x24x1x1xf32>) -> tensor<4x40x12x12xf32> {
    %y = anvil.conv2d %x, %w : tensor<4x24x12x12xf32>, tensor<40x24x1x1xf32>
    return %y : tensor<4x40x12x12xf32>
  }
  func.func @two_convs(%x: tensor<4x8x16x16xf32>, %w1: tensor<16x8x3x3xf32>, %w2: tensor<16x16x3x3xf32>, %b2: tensor<16xf32>) -> tensor<4x16x16x16xf32> {
    %y = anvil.conv2d %x, %w1 {pads = array<i64: 1, 1, 1, 1>} : tensor<4x8x16x16xf32>, tensor<16x8x3x3xf32>
    %r = anvil.relu %y : tensor<4x16x16x16xf32>
    %z = anvil.conv2d %r, %w2, %b2 {pads = array<i64: 1, 1, 1, 1>} : tensor<4x16x16x16xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>
    return %z : tensor<4x16x16x16xf32>
  }
  func.func @conv_chunks(%x: tensor<64x8x16x16xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<64x16x16x16xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<64x8x16x16xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>
    return %y : tensor<64x16x16x16xf32>
  }
  func.func @conv_big(%x: tensor<2x64x28x28xf32>, %w: tensor<64x64x3x3xf32>, %b: tensor<64xf32>) -> tensor<2x64x28x28xf32> {
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<2x64x28x28xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>
    return %y : tensor<2x64x28x28xf32>
  }
}
"""

CASES = {
    "conv_bias": [(4, 16, 14, 14), (32, 16, 3, 3), (32,)],
    "conv_stride2": [(4, 8, 20, 20), (24, 8, 3, 3), (24,)],
    "conv_pointwise": [(4, 24, 12, 12), (40, 24, 1, 1)],
    "two_convs": [(4, 8, 16, 16), (16, 8, 3, 3), (16, 16, 3, 3), (16,)],
    "conv_chunks": [(64, 8, 16, 16), (16, 8, 3, 3), (16,)],
    "conv_big": [(2, 64, 28, 28), (64, 64, 3, 3), (64,)],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(5)
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "images.mlir")
        with open(model, "w") as f:
            f.write(MODEL)
        images, plain = os.path.join(tmp, "images"), os.path.join(tmp, "plain")
        must([args.anvilc, model, "-o", images])
        must([args.anvilc, model, "--no-parallel-images", "-o", plain])
        # The pass must have made the small convolutions' loops parallel
        # (so that this test fails if it silently stops applying).
        backend = must([args.anvilc, model, "--compile-to=backend"])
        plain_backend = must([args.anvilc, model, "--no-parallel-images",
                              "--compile-to=backend"])
        check(backend.count("scf.forall") > plain_backend.count("scf.forall"),
              "anvil-parallelize-images adds parallel loops "
              f"({plain_backend.count('scf.forall')} -> {backend.count('scf.forall')})")
        check("scf.forall (%arg3) in (8)" in backend,
              "anvil-parallelize-images runs the 64 images in 8 chunks")
        compare_threads(check, args.anvilc, model, CASES, plain, images,
                        "--no-parallel-images", tmp, rng, rel_tol=1e-5)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
