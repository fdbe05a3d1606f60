#!/usr/bin/python3
"""--wait-policy of compiled executables (runtime/WaitPolicy.h).

What idle OpenMP threads do between parallel loops changes no value: a
small model whose convolution and relu run as parallel loops gives, under
every policy at 1, 2 and 3 threads, exactly the output of `sleep` at 1
thread (and the reference interpreter's within 1e-4). Whether the policy
takes effect is seen in the voluntary context switches of a --bench run at
2 threads: sleeping threads switch out after every loop, spinning ones
almost never. The user's KMP_BLOCKTIME stands when --wait-policy is not
given, and --wait-policy overrides it. A bad value is one clear error.
"""
import os
import resource
import subprocess
import sys

import numpy as np

from checks import Checks, must, run, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @forward(%x: tensor<2x64x56x56xf32>, %w: tensor<64x1x3x3xf32>, %b: tensor<64xf32>) -> tensor<2x64x56x56xf32> {
    %r = anvil.relu %x : tensor<2x64x56x56xf32>
    %y = anvil.conv2d %r, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 64 : i64} : tensor<2x64x56x56xf32>, tensor<64x1x3x3xf32>, tensor<64xf32>
    return %y : tensor<2x64x56x56xf32>
  }
}
"""
SHAPES = [(2, 64, 56, 56), (64, 1, 3, 3), (64,)]
CALLS = 300


def voluntary_switches(cmd, env):
    """The voluntary context switches of running `cmd` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_nvcsw
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_nvcsw - before


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(11)
    check = Checks()
    with model_in_tempdir(MODEL, "model.mlir") as (tmp, model):
        exe = os.path.join(tmp, "model")
        must([anvilc, model, "-o", exe])

        inputs = []
        for i, shape in enumerate(SHAPES):
            path = os.path.join(tmp, f"in{i}.npy")
            np.save(path, rng.uniform(-1.0, 1.0, shape).astype(np.float32))
            inputs += ["--input", path]
        ref = os.path.join(tmp, "ref.npy")
        must([anvilc, "run", "--reference", model, *inputs, "--output", ref])
        base = None
        for policy in ("sleep", "spin", "auto"):
            for t in (1, 2, 3):
                out = os.path.join(tmp, f"{policy}.t{t}.npy")
                must([exe, "--wait-policy", policy, "--threads", str(t), *inputs,
                      "--output", out])
                got = np.load(out)
                if base is None:
                    base = got
                    check(np.allclose(got, np.load(ref), rtol=1e-4, atol=1e-4),
                          "sleep at 1 thread matches the reference")
                    continue
                check(np.array_equal(got, base),
                      f"{policy} at {t} threads equals sleep at 1 thread")

        # Which policy ran, seen in the context switches (the user's
        # OMP_WAIT_POLICY/KMP_BLOCKTIME/OMP_NUM_THREADS taken out first).
        env = {k: v for k, v in os.environ.items()
               if k not in ("KMP_BLOCKTIME", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
        bench = [exe, "--threads", "2", "--bench", str(CALLS)]
        sleep = voluntary_switches(bench + ["--wait-policy", "sleep"], env)
        spin = voluntary_switches(bench + ["--wait-policy", "spin"], env)
        check(sleep >= CALLS, f"sleep: {sleep} voluntary switches in {CALLS} calls (>= {CALLS})")
        # A spinning thread kept off its core for longer than the spin time
        # sleeps too, so a loaded machine allows a few.
        check(spin * 4 < sleep, f"spin: {spin} voluntary switches (< a quarter of sleep's)")
        user = dict(env, KMP_BLOCKTIME="200")
        stands = voluntary_switches(bench, user)
        check(stands * 4 < sleep, f"KMP_BLOCKTIME=200 stands without --wait-policy: {stands} "
                                  "voluntary switches (< a quarter of sleep's)")
        over = voluntary_switches(bench + ["--wait-policy", "sleep"], user)
        check(over >= CALLS, f"--wait-policy sleep overrides KMP_BLOCKTIME=200: {over} "
                             f"voluntary switches (>= {CALLS})")

        bad = run([exe, "--wait-policy", "passive", "--bench", "1"])
        check(bad.returncode == 1 and bad.stderr.endswith(
            "error: --wait-policy: 'passive' is not a wait policy; give auto, spin or sleep\n"),
            "a bad --wait-policy is one clear error")
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")
    print("all checks passed")


if __name__ == "__main__":
    main()
