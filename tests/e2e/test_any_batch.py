#!/usr/bin/python3
"""Executables take any number of samples, end to end.

Compiles examples/lenet.mlir (built-in weights) for batch 8 and for batch 1,
then runs 1, 7, 8, 20 and 0 samples through the batch-8 executable: its
outputs must equal running each sample alone through the batch-1 executable
(the two share their weights: same parameters, same seed). Also checks that
a function that mixes its samples (a mean over the batch) refuses another
number of samples with one clear error and writes nothing, and that inputs
with different numbers of samples are refused. Exits non-zero on any failure.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import Checks, run

MIXING = """
func.func @forward(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %m = anvil.reduce_mean %x {axes = array<i64: 0>, keepdims} : tensor<4x3xf32>
  %y = anvil.sub %x, %m : tensor<4x3xf32>, tensor<1x3xf32>
  return %y : tensor<4x3xf32>
}
"""

TWO_INPUTS = """
func.func @forward(%x: tensor<4x3xf32>, %y: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %s = anvil.add %x, %y : tensor<4x3xf32>, tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    check = Checks()
    failures = check.failures

    with tempfile.TemporaryDirectory() as tmp:
        lenet = os.path.join(args.examples, "lenet.mlir")
        exe8, exe1 = os.path.join(tmp, "lenet8"), os.path.join(tmp, "lenet1")
        for exe, batch in ((exe8, 8), (exe1, 1)):
            r = run([args.anvilc, lenet, "--batch", str(batch), "-o", exe])
            if r.returncode != 0:
                print(r.stderr)
                return 1
        listing = run([exe8, "--list"]).stdout
        check("any number of samples, 8 at a time" in listing,
              "--list says the function runs in chunks: " + listing.strip())
        rng = np.random.default_rng(0)
        for n in (1, 7, 8, 20):
            x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
            xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
            np.save(xin, x)
            r = run([exe8, "--input", xin, "--output", yout])
            if r.returncode != 0:
                check(False, f"{n} samples: {r.stderr.strip()}")
                continue
            y = np.load(yout)
            want = []
            for i in range(n):
                np.save(xin, x[i:i + 1])
                one = os.path.join(tmp, "one.npy")
                r1 = run([exe1, "--input", xin, "--output", one])
                if r1.returncode != 0:
                    check(False, f"sample {i} at batch 1: {r1.stderr.strip()}")
                    break
                want.append(np.load(one))
            if len(want) < n:
                continue
            want = np.concatenate(want)
            err = float(np.max(np.abs(y - want))) if n else 0.0
            check(y.shape == (n, 10) and np.allclose(y, want, rtol=1e-5,
                                                      atol=1e-5),
                  f"{n} samples through batch 8 = one at a time "
                  f"(shape {y.shape}, max abs err {err:.2e})")
        xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y0.npy")
        np.save(xin, np.zeros((0, 1, 28, 28), np.float32))
        r = run([exe8, "--input", xin, "--output", yout])
        check(r.returncode == 0 and np.load(yout).shape == (0, 10),
              "0 samples give an empty result " + r.stderr.strip())
        np.save(xin, np.zeros((3, 1, 28, 27), np.float32))
        r = run([exe8, "--input", xin, "--output", yout + "x"])
        check(r.returncode == 1 and "f32[N, 1, 28, 28]" in r.stderr and
              not os.path.exists(yout + "x"),
              "a wrong sample shape names the accepted shapes: " +
              r.stderr.strip())

        def compile_text(name, text):
            """Compiles `text` as tmp/<name>.mlir into tmp/<name>."""
            model, exe = os.path.join(tmp, name + ".mlir"), os.path.join(tmp, name)
            with open(model, "w") as f:
                f.write(text)
            r = run([args.anvilc, model, "-o", exe])
            check(r.returncode == 0, f"the {name} model compiles " + r.stderr)
            return exe

        exe = compile_text("mixing", MIXING)
        np.save(xin, np.ones((6, 3), np.float32))
        out = os.path.join(tmp, "m.npy")
        r = run([exe, "--input", xin, "--output", out])
        check(r.returncode == 1 and r.stderr.count("\n") == 1 and
              "does not keep the samples of its batch apart" in r.stderr and
              "--batch 6" in r.stderr and not os.path.exists(out),
              "a mixing function refuses 6 samples: " + r.stderr.strip())

        exe = compile_text("two-input", TWO_INPUTS)
        a, b = os.path.join(tmp, "a.npy"), os.path.join(tmp, "b.npy")
        np.save(a, np.ones((6, 3), np.float32))
        np.save(b, np.ones((5, 3), np.float32))
        r = run([exe, "--input", a, "--input", b, "--output", out])
        check(r.returncode == 1 and "same number of samples" in r.stderr and
              not os.path.exists(out),
              "inputs with 6 and 5 samples are refused: " + r.stderr.strip())
        np.save(b, np.full((6, 3), 2, np.float32))
        r = run([exe, "--input", a, "--input", b, "--output", out])
        check(r.returncode == 0 and np.array_equal(np.load(out),
                                                   np.full((6, 3), 3)),
              "two inputs of 6 samples run in chunks of 4 " + r.stderr)

    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
