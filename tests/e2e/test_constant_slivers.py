#!/usr/bin/python3
"""Constant B read from column panels made at compile time
(anvil-tile-and-vectorize's pack-constant-b; anvilc --no-pack-constant-b
turns it off).

Each function below is a product whose B is a constant (a linear layer's
weights): the schedule copies it at compile time into panels of one
register tile's width (32 columns for AVX-512, 16 for AVX2), column block
by column block, k-major, the last panel of each block zero-padded, and
its register tiles read each panel's k block as one stream. A batch of 8
through weights stored [out, in] (`transpose_b`, as ONNX's Gemm has them:
the transpose is folded into the panels; two k blocks); 16 rows through
[400, 640] weights (parallel column blocks of 160, each 5 or 10 panels);
8 rows with a bias and a relu, K in one k block (the epilogue in the
register tiles); and two products that share one constant (one panel
copy). Each must have its panel constant in the backend IR by default and
none with --no-pack-constant-b, for register tiles sized for AVX-512 and
for AVX2 (--matmul-vector-bits), so that the test fails if the option
silently stops applying; the executables built with and without it run on
1, 2 and 3 threads, and every output must equal the option-off build's at
1 thread bit for bit (the same sums in the same order), and the reference
interpreter's within 1e-4.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import Checks, compare_threads, constant, must


def model(rng):
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    return f"""
module {{
  func.func @linear_t(%x: {t(8, 300)}) -> {t(8, 100)} {{
    %w = {constant(rng, (100, 300))}
    %y = anvil.matmul %x, %w {{transpose_b}} : {t(8, 300)}, {t(100, 300)}
    return %y : {t(8, 100)}
  }}
  func.func @blocks(%x: {t(16, 400)}) -> {t(16, 640)} {{
    %w = {constant(rng, (400, 640))}
    %y = anvil.matmul %x, %w : {t(16, 400)}, {t(400, 640)}
    return %y : {t(16, 640)}
  }}
  func.func @bias_relu(%x: {t(8, 64)}) -> {t(8, 48)} {{
    %w = {constant(rng, (64, 48))}
    %b = {constant(rng, (48,))}
    %y = anvil.matmul %x, %w : {t(8, 64)}, {t(64, 48)}
    %z = anvil.add %y, %b : {t(8, 48)}, {t(48)}
    %r = anvil.relu %z : {t(8, 48)}
    return %r : {t(8, 48)}
  }}
  func.func @shared(%x: {t(8, 96)}, %y: {t(8, 96)}) -> {t(8, 40)} {{
    %w = {constant(rng, (96, 40))}
    %p = anvil.matmul %x, %w : {t(8, 96)}, {t(96, 40)}
    %q = anvil.matmul %y, %w : {t(8, 96)}, {t(96, 40)}
    %s = anvil.add %p, %q : {t(8, 40)}, {t(8, 40)}
    return %s : {t(8, 40)}
  }}
}}
"""


CASES = {
    "linear_t": [(8, 300)],
    "blocks": [(16, 400)],
    "bias_relu": [(8, 64)],
    "shared": [(8, 96), (8, 96)],
}

# The panel constants, [N / nc * ceil(nc / width), K, width]: AVX-512's
# 32-column panels and AVX2's 16 (--matmul-vector-bits).
PANELS = {
    512: ["4x300x32", "20x400x32", "2x64x32", "2x96x32"],
    256: ["7x300x16", "40x400x16", "3x64x16", "3x96x16"],
}

OFF = "--no-pack-constant-b"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "slivers.mlir")
        with open(path, "w") as f:
            f.write(model(rng))
        for bits, shapes in PANELS.items():
            # The IR for both tile widths; the executables below get the
            # target's (AVX-512 code would not run on an AVX2 machine).
            width = f"--matmul-vector-bits={bits}"
            backend = must([args.anvilc, path, width, "--compile-to=backend"])
            plain_backend = must([args.anvilc, path, width, OFF, "--compile-to=backend"])
            for shape in shapes:
                decl = f": tensor<{shape}xf32>"
                check(decl in backend and decl not in plain_backend,
                      f"{bits} bits: the {shape} panel constant is made without {OFF} only")
            # One panel copy for the two products that share a constant.
            shared = f": tensor<{shapes[-1]}xf32>"
            check(sum(1 for line in backend.splitlines()
                      if "arith.constant" in line and shared in line) == 1,
                  f"{bits} bits: the shared constant has one panel copy")
        report = must([args.anvilc, path, "--fusion-report", "--compile-to=backend",
                       "-o", os.path.join(tmp, "report.mlir")])
        check("B read from panels made at compile time" in report,
              "the fusion report says which products read B's panels")
        slivers, plain = os.path.join(tmp, "slivers"), os.path.join(tmp, "plain")
        must([args.anvilc, path, "-o", slivers])
        must([args.anvilc, path, OFF, "-o", plain])
        compare_threads(check, args.anvilc, path, CASES, plain, slivers, OFF, tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")
    print(f"every product with a constant B equals its build with {OFF}")


if __name__ == "__main__":
    main()
