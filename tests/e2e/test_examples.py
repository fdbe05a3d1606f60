#!/usr/bin/python3
"""End-to-end check of the example models, on the reference and compiled.

For each example (examples/mlp.mlir, examples/lenet.mlir) this draws random
weights for every anvil.param, runs @forward and @loss through
`anvilc run --reference --params DIR`, and compares the outputs with the same
network written independently in PyTorch (Debian's python3-torch). It checks
that running with the models' own initializers is deterministic, and that the
executable `anvilc MODEL -o EXE` makes (run as a user runs it, on .npy files)
computes what the reference computes from the same initial weights, with
bit-identical results for 1, 2 and 3 threads. A
training-mode dropout model checks that compiled code draws the reference's
mask bit for bit. Exits non-zero on any mismatch.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

PARAM = re.compile(r'anvil\.param "([^"]+)" init = "[a-z_]+" : tensor<([0-9x]+)xf32>')


def params_of(model):
    """name -> shape of every anvil.param in the model text."""
    with open(model) as f:
        return {name: tuple(int(d) for d in dims.split("x"))
                for name, dims in PARAM.findall(f.read())}


def torch_mlp(x, p):
    h = x.reshape(x.shape[0], -1)
    h = F.relu(h @ p["fc1.weight"] + p["fc1.bias"])
    h = F.relu(h @ p["fc2.weight"] + p["fc2.bias"])
    return h @ p["fc3.weight"] + p["fc3.bias"]


def torch_lenet(x, p):
    h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2.weight"], p["conv2.bias"])), 2)
    h = h.reshape(h.shape[0], -1)
    h = F.relu(h @ p["fc1.weight"] + p["fc1.bias"])
    h = F.relu(h @ p["fc2.weight"] + p["fc2.bias"])
    return h @ p["fc3.weight"] + p["fc3.bias"]


def anvil_run(anvilc, model, inputs, output, *extra):
    cmd = [anvilc, "run", "--reference", model, *extra]
    for i in inputs:
        cmd += ["--input", i]
    cmd += ["--output", output]
    subprocess.run(cmd, check=True)
    return np.load(output)


def check_close(what, got, want, failures, truth="PyTorch"):
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        err = np.max(np.abs(got - want)) if got.shape == want.shape else "shape"
        failures.append(f"{what}: anvil and {truth} differ (max abs error {err})")
    else:
        print(f"ok   {what}: matches {truth} (max abs error {np.max(np.abs(got - want)):.2e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, reference in (("mlp", torch_mlp), ("lenet", torch_lenet)):
            model = os.path.join(args.examples, name + ".mlir")
            pdir = os.path.join(tmp, name + "-params")
            os.makedirs(pdir)
            params = {}
            for pname, shape in params_of(model).items():
                fan_in = np.prod(shape[1:]) if len(shape) == 4 else shape[0]
                value = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
                np.save(os.path.join(pdir, pname + ".npy"), value)
                params[pname] = torch.from_numpy(value)
            x = rng.random((64, 1, 28, 28), dtype=np.float32)
            labels = rng.integers(0, 10, 64)
            xp, lp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "labels.npy")
            np.save(xp, x)
            np.save(lp, labels)

            logits = anvil_run(args.anvilc, model, [xp], os.path.join(tmp, "y.npy"),
                               "--params", pdir)
            want = reference(torch.from_numpy(x), params).numpy()
            check_close(f"{name} @forward", logits, want, failures)

            yp = os.path.join(tmp, "y.npy")
            loss = anvil_run(args.anvilc, model, [yp, lp], os.path.join(tmp, "loss.npy"),
                             "--function", "loss")
            want_loss = F.cross_entropy(torch.from_numpy(logits),
                                        torch.from_numpy(labels)).numpy()
            check_close(f"{name} @loss", loss, want_loss, failures)

            # The models' own initializers: deterministic for a seed, and
            # different for another one.
            a = anvil_run(args.anvilc, model, [xp], os.path.join(tmp, "a.npy"))
            b = anvil_run(args.anvilc, model, [xp], os.path.join(tmp, "b.npy"))
            c = anvil_run(args.anvilc, model, [xp], os.path.join(tmp, "c.npy"),
                          "--seed", "1")
            if not np.array_equal(a, b) or np.array_equal(a, c) or not np.all(np.isfinite(a)):
                failures.append(f"{name}: initializers are not deterministic per seed")
            else:
                print(f"ok   {name}: initializers deterministic per seed")

            # The compiled executable, from the same initial weights.
            exe = os.path.join(tmp, name)
            subprocess.run([args.anvilc, model, "-o", exe], check=True)
            out = os.path.join(tmp, name + "-compiled.npy")
            subprocess.run([exe, "--input", xp, "--output", out], check=True)
            check_close(f"{name} compiled @forward vs reference", np.load(out), a,
                        failures, "the reference")
            # Parallel loops split only independent work (never a sum):
            # every thread count computes the same bits.
            by_threads = []
            for t in (1, 2, 3):
                tout = os.path.join(tmp, f"{name}-t{t}.npy")
                subprocess.run([exe, "--threads", str(t), "--input", xp, "--output", tout],
                               check=True)
                by_threads.append(np.load(tout))
            if not all(np.array_equal(by_threads[0], o) for o in by_threads[1:]):
                failures.append(f"{name}: --threads 1, 2 and 3 give different outputs")
            else:
                print(f"ok   {name}: --threads 1, 2 and 3 give bit-identical outputs")
            subprocess.run([exe, "--function", "loss", "--input", out, "--input", lp,
                            "--output", out + ".loss.npy"], check=True)
            ref_loss = anvil_run(args.anvilc, model, [out, lp], os.path.join(tmp, "rl.npy"),
                                 "--function", "loss")
            check_close(f"{name} compiled @loss vs reference", np.load(out + ".loss.npy"),
                        ref_loss, failures, "the reference")

        # Training-mode dropout: the compiled mask is the reference's.
        model = os.path.join(tmp, "dropout.mlir")
        with open(model, "w") as f:
            f.write("func.func @forward(%x: tensor<8x33xf32>) -> (tensor<8x33xf32>, tensor<8x33xi1>) {\n"
                    "  %y:2 = anvil.dropout %x {ratio = 0.4 : f64, training, seed = 5 : i64} : tensor<8x33xf32>\n"
                    "  return %y#0, %y#1 : tensor<8x33xf32>, tensor<8x33xi1>\n}\n")
        xp = os.path.join(tmp, "dx.npy")
        np.save(xp, rng.random((8, 33), dtype=np.float32) + 1)
        outs = {}
        for mode in ("--reference", None):
            tag = "ref" if mode else "compiled"
            cmd = [args.anvilc, "run", model, "--input", xp,
                   "--output", os.path.join(tmp, tag + "-y.npy"),
                   "--output", os.path.join(tmp, tag + "-m.npy")] + ([mode] if mode else [])
            subprocess.run(cmd, check=True)
            outs[tag] = (np.load(os.path.join(tmp, tag + "-y.npy")),
                         np.load(os.path.join(tmp, tag + "-m.npy")))
        if (not np.array_equal(outs["ref"][1], outs["compiled"][1])
                or not np.allclose(outs["ref"][0], outs["compiled"][0], rtol=1e-6)
                or not 0.3 < 1 - outs["ref"][1].mean() < 0.5):
            failures.append("dropout: the compiled mask differs from the reference's")
        else:
            print(f"ok   dropout: compiled mask equals the reference's "
                  f"({int((~outs['ref'][1]).sum())} of 264 dropped)")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
