"""What the end-to-end tests that drive anvilc and its executables share:
running a command (output captured as text), one that must succeed, a list of named checks,
each printed as it is made, whose failures decide the exit status, and the comparison of an
optimized executable with its off switch's at several thread counts."""

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def must(cmd):
    """Runs a command that has to succeed (a compile, a run whose output is
    checked next): its stdout, or the test ends naming the command."""
    result = run(cmd)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout



def constant(rng, shape):
    """An anvil.constant of uniform values in [-1, 1], as raw hex."""
    values = rng.uniform(-1.0, 1.0, shape).astype("<f4")
    type_ = "x".join(map(str, shape)) + "xf32"
    return f'anvil.constant dense<"0x{values.tobytes().hex().upper()}"> : tensor<{type_}>'


def anvilc_arg(doc):
    """The command line of a test that takes only --anvilc PATH: that path."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--anvilc", required=True)
    return ap.parse_args().anvilc


@contextlib.contextmanager
def model_in_tempdir(text, name):
    """A temporary folder with `text` written to NAME in it: (folder, path)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        yield tmp, path

class Checks:
    """`check(ok, what)` prints ok/FAIL and what was checked; the failed
    ones stay in `check.failures`."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)


def compare_threads(check, anvilc, model, cases, plain, optimized, off_flag, tmp, rng,
                    rel_tol=0.0):
    """For each function `name` of `model` with input shapes `cases[name]`
    (uniform in [-1, 1]): `plain` (built with `off_flag`) at 1 thread must
    match the reference interpreter within 1e-4, and `plain` and `optimized`
    at 1, 2 and 3 threads must equal that output (bit for bit with `rel_tol`
    0, else within `rel_tol` relative)."""
    for name, shapes in cases.items():
        inputs = []
        for i, shape in enumerate(shapes):
            path = os.path.join(tmp, f"{name}.in{i}.npy")
            np.save(path, rng.uniform(-1.0, 1.0, shape).astype(np.float32))
            inputs += ["--input", path]
        ref = os.path.join(tmp, f"{name}.ref.npy")
        must([anvilc, "run", "--reference", model, "--function", name, *inputs, "--output", ref])
        want = np.load(ref)
        base = None
        for exe in (plain, optimized):
            for t in (1, 2, 3):
                out = os.path.join(tmp, f"{name}.{os.path.basename(exe)}.t{t}.npy")
                must([exe, "--function", name, "--threads", str(t), *inputs, "--output", out])
                got = np.load(out)
                if base is None:
                    base = got
                    check(np.allclose(got, want, rtol=1e-4, atol=1e-4),
                          f"{name}: {off_flag} at 1 thread matches the reference")
                    continue
                what = f"{name}: {os.path.basename(exe)} at {t} threads"
                if rel_tol == 0.0:
                    check(got.shape == base.shape and np.array_equal(got, base),
                          f"{what} equals {off_flag} at 1 thread")
                else:
                    err = np.max(np.abs(got - base) / (np.abs(base) + 1e-6))
                    check(got.shape == base.shape and err <= rel_tol,
                          f"{what} within {rel_tol:g} relative of {off_flag} at 1 thread ({err:.2g})")
