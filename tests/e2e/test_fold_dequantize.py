#!/usr/bin/python3
"""Inference batch norms folded into the dequantize before them (anvil-fold-batch-norm).

A model quantized by `anvilc quantize` keeps each batch norm after its
quantized convolution's dequantize (the convolution's filter was quantized
unfolded). anvil-fold-batch-norm takes the norm's per-channel factor into
the dequantize's scale and leaves its shift as an add. Two functions: a
quantized convolution (u8 input from a quantize, constant i8 filter, i32
result) then dequantize (per channel) -> batch_norm -> relu, and an i32
argument dequantized per tensor -> batch_norm. The optimize phase must
show the fold (the dequantize marked `anvil.fused = ["batch_norm"]`, no
batch_norm left), and --no-fusion none; the executables with and without
the fold at 1, 2 and 3 threads must agree within 1e-4 relative element by
element and 1e-5 of the largest output (the same function, rounded
differently), and with the reference interpreter within 1e-4.
"""
import os
import sys
import tempfile

import numpy as np

from checks import Checks, anvilc_arg, compare_threads, must


def dense(a, kind="f32"):
    if kind == "f32":
        return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'
    return "dense<[" + ", ".join(str(int(v)) for v in a.ravel()) + "]>"


def model(rng):
    w = rng.integers(-127, 128, (16, 8, 3, 3))
    wtext = "dense<" + str(w.tolist()) + ">"
    scale = rng.uniform(0.001, 0.01, 16).astype(np.float32)
    g, b, m = (rng.uniform(-1, 1, 16).astype(np.float32) for _ in range(3))
    v = rng.uniform(0.1, 2, 16).astype(np.float32)
    g2, b2, m2 = (rng.uniform(-1, 1, 4).astype(np.float32) for _ in range(3))
    v2 = rng.uniform(0.1, 2, 4).astype(np.float32)
    t16 = "tensor<16xf32>"
    t4 = "tensor<4xf32>"
    return f"""module {{
  func.func @qconv_bn(%x: tensor<2x8x12x12xf32>) -> tensor<2x16x12x12xf32> {{
    %s = anvil.constant dense<0.02> : tensor<f32>
    %z = anvil.constant dense<128> : tensor<ui8>
    %q = anvil.quantize %x, %s, %z : tensor<2x8x12x12xf32>, tensor<f32>, tensor<ui8>
    %w = anvil.constant {wtext} : tensor<16x8x3x3xi8>
    %wz = anvil.constant dense<0> : tensor<i8>
    %acc = anvil.qconv2d %q, %w, %z, %wz {{pads = array<i64: 1, 1, 1, 1>}} : tensor<2x8x12x12xui8>, tensor<16x8x3x3xi8>, tensor<ui8>, tensor<i8>
    %ds = anvil.constant {dense(scale)} : {t16}
    %dz = anvil.constant dense<0> : tensor<16xi32>
    %y = anvil.dequantize %acc, %ds, %dz : tensor<2x16x12x12xi32>, {t16}, tensor<16xi32>
    %g = anvil.constant {dense(g)} : {t16}
    %b = anvil.constant {dense(b)} : {t16}
    %m = anvil.constant {dense(m)} : {t16}
    %v = anvil.constant {dense(v)} : {t16}
    %n = anvil.batch_norm %y, %g, %b, %m, %v : tensor<2x16x12x12xf32>, {t16}, {t16}, {t16}, {t16}
    %r = anvil.relu %n : tensor<2x16x12x12xf32>
    return %r : tensor<2x16x12x12xf32>
  }}
  func.func @per_tensor(%x: tensor<3x4x5x5xf32>) -> tensor<3x4x5x5xf32> {{
    %k = anvil.constant dense<1000.0> : tensor<3x4x5x5xf32>
    %xs = anvil.mul %x, %k : tensor<3x4x5x5xf32>, tensor<3x4x5x5xf32>
    %i = anvil.cast %xs : tensor<3x4x5x5xf32> to i32
    %s = anvil.constant dense<0.001> : tensor<f32>
    %z = anvil.constant dense<7> : tensor<i32>
    %y = anvil.dequantize %i, %s, %z : tensor<3x4x5x5xi32>, tensor<f32>, tensor<i32>
    %g = anvil.constant {dense(g2)} : {t4}
    %b = anvil.constant {dense(b2)} : {t4}
    %m = anvil.constant {dense(m2)} : {t4}
    %v = anvil.constant {dense(v2)} : {t4}
    %n = anvil.batch_norm %y, %g, %b, %m, %v : tensor<3x4x5x5xf32>, {t4}, {t4}, {t4}, {t4}
    return %n : tensor<3x4x5x5xf32>
  }}
}}
"""


CASES = {"qconv_bn": [(2, 8, 12, 12)], "per_tensor": [(3, 4, 5, 5)]}


def main():
    anvilc = anvilc_arg(__doc__)
    check = Checks()
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fold.mlir")
        with open(path, "w") as f:
            f.write(model(rng))
        opt = must([anvilc, path, "--compile-to=optimize", "-o", "-"])
        plain_opt = must([anvilc, path, "--no-fusion", "--compile-to=optimize", "-o", "-"])
        check(opt.count('anvil.fused = ["batch_norm"]') == 2 and "anvil.batch_norm" not in opt,
              "both batch norms fold into their dequantize")
        check(plain_opt.count("anvil.batch_norm") == 2 and "anvil.fused" not in plain_opt,
              "--no-fusion keeps both batch norms")
        folded, plain = os.path.join(tmp, "folded"), os.path.join(tmp, "plain")
        must([anvilc, path, "-o", folded])
        must([anvilc, path, "--no-fusion", "-o", plain])
        # (Element by element relative to itself: where the shift cancels
        # the product, a rounding of the product is relatively larger; 1e-5
        # of the largest output is checked below.)
        compare_threads(check, anvilc, path, CASES, plain, folded, "--no-fusion", tmp, rng,
                        rel_tol=1e-4)
        for name, shapes in CASES.items():
            x = os.path.join(tmp, f"{name}.x.npy")
            np.save(x, rng.uniform(-1, 1, shapes[0]).astype(np.float32))
            outs = []
            for exe in (plain, folded):
                out = os.path.join(tmp, f"{name}.{os.path.basename(exe)}.npy")
                must([exe, "--function", name, "--input", x, "--output", out])
                outs.append(np.load(out))
            err = np.abs(outs[1] - outs[0]).max() / np.abs(outs[0]).max()
            check(err <= 1e-5, f"{name}: folded within 1e-5 of the largest output ({err:.2g})")
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
