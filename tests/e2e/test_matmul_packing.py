#!/usr/bin/python3
"""The matmul schedule's packed and peeled register tiles against NumPy.

anvil-tile-and-vectorize copies B's 32-column slivers into contiguous buffers
per cache block and k block (its `pack` option, anvilc --no-pack-matmul to
turn it off). Each function below is one product whose shape takes a
different path through that schedule: a convolution-like width with a 4-column
tail panel (196), a width of 49 (one panel and a 17-column tail: a 16-lane
tile and a peeled 1-lane one), 784 in blocks of 196, 3136 in one serial
block of 98 panels, M that 8 does not divide (register tiles of 6 and 5
rows), K in several k blocks and a prime K (one k block), a batched product
(a loop of matmuls) with a 1-column tail, a product whose bias and relu run
as its epilogue on the packed blocks, and a small one that is not packed.
Every function is compiled with packing and with --no-pack-matmul, and both
must match float64 NumPy within 1e-5 of the output's largest magnitude.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import must

# name: (M, N, K, batch or 0, epilogue)
CASES = {
    "n196_m36_k600": (36, 196, 600, 0, False),
    "n49_m20_kprime": (20, 49, 577, 0, False),
    "n49_m128_k1200": (128, 49, 1200, 0, False),
    "n784_m24_k300": (24, 784, 300, 0, False),
    "n3136_m16_k64": (16, 3136, 64, 0, False),
    "n100_m8_unpacked": (8, 100, 64, 0, False),
    "batched_n33": (40, 33, 70, 2, False),
    "epilogue_n200": (48, 200, 512, 0, True),
}


def function(name, m, n, k, batch, epilogue):
    pre = f"{batch}x" if batch else ""
    a, b, c = f"tensor<{pre}{m}x{k}xf32>", f"tensor<{pre}{k}x{n}xf32>", f"tensor<{pre}{m}x{n}xf32>"
    if epilogue:
        return (f"  func.func @{name}(%a: {a}, %b: {b}, %bias: tensor<{n}xf32>) -> {c} {{\n"
                f"    %p = anvil.matmul %a, %b : {a}, {b}\n"
                f"    %s = anvil.add %p, %bias : {c}, tensor<{n}xf32>\n"
                f"    %r = anvil.relu %s : {c}\n"
                f"    return %r : {c}\n  }}\n")
    return (f"  func.func @{name}(%a: {a}, %b: {b}) -> {c} {{\n"
            f"    %p = anvil.matmul %a, %b : {a}, {b}\n"
            f"    return %p : {c}\n  }}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "packing.mlir")
        with open(model, "w") as f:
            f.write("module {\n" + "".join(function(name, *case) for name, case in CASES.items())
                    + "}\n")
        packed, unpacked = os.path.join(tmp, "packed"), os.path.join(tmp, "unpacked")
        must([args.anvilc, model, "-o", packed])
        must([args.anvilc, model, "--no-pack-matmul", "-o", unpacked])
        for name, (m, n, k, batch, epilogue) in CASES.items():
            pre = (batch,) if batch else ()
            inputs = [rng.uniform(-1.0, 1.0, pre + (m, k)).astype(np.float32),
                      rng.uniform(-1.0, 1.0, pre + (k, n)).astype(np.float32)]
            if epilogue:
                inputs.append(rng.uniform(-1.0, 1.0, (n,)).astype(np.float32))
            expected = inputs[0].astype(np.float64) @ inputs[1].astype(np.float64)
            if epilogue:
                expected = np.maximum(expected + inputs[2], 0.0)
            cmd_inputs = []
            for i, x in enumerate(inputs):
                path = os.path.join(tmp, f"{name}.in{i}.npy")
                np.save(path, x)
                cmd_inputs += ["--input", path]
            for exe in (packed, unpacked):
                out = os.path.join(tmp, f"{name}.{os.path.basename(exe)}.npy")
                must([exe, "--function", name] + cmd_inputs + ["--output", out])
                got = np.load(out)
                if got.shape != expected.shape:
                    failures.append(f"{name} ({os.path.basename(exe)}): shape {got.shape}, "
                                    f"expected {expected.shape}")
                    continue
                scale = max(float(np.abs(expected).max()), 1e-30)
                err = float(np.abs(got - expected).max()) / scale
                status = "ok" if err <= 1e-5 else "FAIL"
                print(f"{status} {name} {os.path.basename(exe)}: max relative difference "
                      f"{err:.2e}")
                if err > 1e-5:
                    failures.append(f"{name} ({os.path.basename(exe)}): {err:.2e} > 1e-5")
    if failures:
        sys.exit("\n".join(failures))
    print("every product matches NumPy, packed and not")


if __name__ == "__main__":
    main()
