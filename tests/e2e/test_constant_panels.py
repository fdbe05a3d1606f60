#!/usr/bin/python3
"""Constant weights read from row panels (anvil-tile-and-vectorize's pack-constant-a;
anvilc --pack-constant-a, off by default).

Each function below is a packed product whose A is a constant: the
schedule copies it at compile time into panels of mr rows, k-major
([M/mr, K, mr]), which its register tiles read as one stream. A 40x600
product (parallel blocks, three k blocks, the first peeled), a 20x577 one
(prime K: one k block; tiles of 5 rows), a 1x1 convolution with a bias
(SqueezeNet's 64 -> 64 at 14x14), a 3x3 one with a bias and a relu
epilogue, a batch of 2 such convolutions (one image per thread), and two
products that share one constant (one panel copy). Each must have its
panel constant in the backend IR with the option and none without it,
for register tiles sized for AVX-512 and for AVX2 (--matmul-vector-bits:
up to 8 and 6 rows), so that the test fails if the option silently stops
applying (all with --no-direct-conv, which would take the 3x3 convolutions
off the matmul at 512 bits); the
executables built with and without it run on 1, 2 and 3 threads, and every
output must equal the default (option off) one at 1 thread bit for bit (the
same sums in the same order), and the reference interpreter's within 1e-4.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import Checks, compare_threads, constant, must


def model(rng):
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    conv1 = "{pads = array<i64: 0, 0, 0, 0>}"
    conv3 = "{pads = array<i64: 1, 1, 1, 1>}"
    return f"""
module {{
  func.func @blocks_k600(%b: {t(600, 196)}) -> {t(40, 196)} {{
    %w = {constant(rng, (40, 600))}
    %p = anvil.matmul %w, %b : {t(40, 600)}, {t(600, 196)}
    return %p : {t(40, 196)}
  }}
  func.func @prime_k_rows5(%b: {t(577, 49)}) -> {t(20, 49)} {{
    %w = {constant(rng, (20, 577))}
    %p = anvil.matmul %w, %b : {t(20, 577)}, {t(577, 49)}
    return %p : {t(20, 49)}
  }}
  func.func @conv1x1_bias(%x: {t(1, 64, 14, 14)}) -> {t(1, 64, 14, 14)} {{
    %w = {constant(rng, (64, 64, 1, 1))}
    %bias = {constant(rng, (64,))}
    %y = anvil.conv2d %x, %w, %bias {conv1} : {t(1, 64, 14, 14)}, {t(64, 64, 1, 1)}, {t(64)}
    return %y : {t(1, 64, 14, 14)}
  }}
  func.func @conv3x3_relu(%x: {t(1, 16, 28, 28)}) -> {t(1, 48, 28, 28)} {{
    %w = {constant(rng, (48, 16, 3, 3))}
    %bias = {constant(rng, (48,))}
    %y = anvil.conv2d %x, %w, %bias {conv3} : {t(1, 16, 28, 28)}, {t(48, 16, 3, 3)}, {t(48)}
    %r = anvil.relu %y : {t(1, 48, 28, 28)}
    return %r : {t(1, 48, 28, 28)}
  }}
  func.func @conv3x3_batch2(%x: {t(2, 24, 14, 14)}) -> {t(2, 32, 14, 14)} {{
    %w = {constant(rng, (32, 24, 3, 3))}
    %bias = {constant(rng, (32,))}
    %y = anvil.conv2d %x, %w, %bias {conv3} : {t(2, 24, 14, 14)}, {t(32, 24, 3, 3)}, {t(32)}
    return %y : {t(2, 32, 14, 14)}
  }}
  func.func @shared(%b: {t(96, 64)}, %c: {t(96, 64)}) -> {t(24, 64)} {{
    %w = {constant(rng, (24, 96))}
    %p = anvil.matmul %w, %b : {t(24, 96)}, {t(96, 64)}
    %q = anvil.matmul %w, %c : {t(24, 96)}, {t(96, 64)}
    %s = anvil.add %p, %q : {t(24, 64)}, {t(24, 64)}
    return %s : {t(24, 64)}
  }}
}}
"""


CASES = {
    "blocks_k600": [(600, 196)],
    "prime_k_rows5": [(577, 49)],
    "conv1x1_bias": [(1, 64, 14, 14)],
    "conv3x3_relu": [(1, 16, 28, 28)],
    "conv3x3_batch2": [(2, 24, 14, 14)],
    "shared": [(96, 64), (96, 64)],
}

# The panel constants, [M / mr, K, mr], for register tiles sized for
# AVX-512 (up to 8 rows) and for AVX2 (up to 6; --matmul-vector-bits).
PANELS = {
    512: ["5x600x8", "4x577x5", "8x64x8", "6x144x8", "4x216x8", "3x96x8"],
    256: ["8x600x5", "4x577x5", "16x64x4", "8x144x6", "8x216x4", "4x96x6"],
}

ON = "--pack-constant-a"


NO_DIRECT = "--no-direct-conv"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "panels.mlir")
        with open(path, "w") as f:
            f.write(model(rng))
        for bits, shapes in PANELS.items():
            # The IR for both tile sizes; the executables below get the
            # target's (AVX-512 code would not run on an AVX2 machine).
            # (The 3x3 convolutions would run on anvil-direct-conv's tiles
            # at 512 bits, which pack their filters their own way: off
            # here, whose subject is the matmul's panels.)
            width = [f"--matmul-vector-bits={bits}", NO_DIRECT]
            backend = must([args.anvilc, path, *width, ON, "--compile-to=backend"])
            plain_backend = must([args.anvilc, path, *width, "--compile-to=backend"])
            for shape in shapes:
                decl = f": tensor<{shape}xf32>"
                check(decl in backend and decl not in plain_backend,
                      f"{bits} bits: the {shape} panel constant is made with the option only")
        panels, plain = os.path.join(tmp, "panels"), os.path.join(tmp, "plain")
        must([args.anvilc, path, ON, NO_DIRECT, "-o", panels])
        must([args.anvilc, path, NO_DIRECT, "-o", plain])
        compare_threads(check, args.anvilc, path, CASES, plain, panels, "the default", tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")
    print("every product with constant weights equals its build without --pack-constant-a")


if __name__ == "__main__":
    main()
