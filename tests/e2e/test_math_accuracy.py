#!/usr/bin/python3
"""Accuracy of compiled exp, tanh and erf (anvil-approximate-math).

Compiled f32 exp, tanh and erf are polynomial approximations, not libm
calls (see the pass in passes/Passes.td). This runs them through
`anvilc run` on 40,000 points over [-100, 100] plus the special values and
compares them with float64 numpy/math results rounded to f32:
  - exp within 8 ulp (5 is reached next to overflow) wherever the result is a normal float; where it would
    be subnormal (x below about -87.3) the approximation flushes towards
    zero, so there only |result| <= FLT_MIN is required;
  - tanh and erf within 4 ulp or 3e-7 absolute (near zero, where ulps are
    tiny, the absolute bound applies);
  - infinities, NaN and zeros exactly as libm gives them (erf(-0) may
    come out +0: the sign of a zero is not kept);
  - the sigmoid and the SiLU (x * sigmoid(x)), whose division is a
    reciprocal estimate and a Newton step (anvilc --sigmoid-reciprocal):
    within 4 ulp of the exact division (the default)
    and 12 ulp of float64 (exp's 8 plus the division's) wherever the
    result is a normal float; where the exact sigmoid is below FLT_MIN
    (x below about -87.3, or -inf) the clamped one is at most FLT_MIN
    (and the SiLU at most |x| * FLT_MIN). At -inf the SiLU is -inf where
    the estimate of 1 / 2^126 is FLT_MIN (vrcp14ps, AVX-512), and NaN,
    as the exact division's -inf * 0, where it is flushed to 0 (AVX2's
    vrcpps flushes estimates below FLT_MIN).
Exits non-zero on any violation.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

FLT_MIN = np.finfo(np.float32).tiny


def ulps(got, want):
    """Distance in units of the last place of the f32 `want`."""
    return np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anvilc", required=True)
    args = parser.parse_args()
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72, 88.8, 89.0, -87.3,
                -103.0, -104.0, -150.0, 1e-30, -1e-30, 1e-45, 3.9, 4.0, 9.0,
                10.0, -10.0, 0.5, -0.5]
    x = np.concatenate([np.linspace(-100, 100, 20001), np.linspace(-10, 10, 20001),
                        np.linspace(-1, 1, 2001), specials]).astype(np.float32)
    t = f"tensor<{x.size}xf32>"
    failures = []
    names = ("exp", "tanh", "erf", "sigmoid", "silu")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.mlir")
        with open(model, "w") as f:
            f.write(f"func.func @forward(%x: {t}) -> ({t}, {t}, {t}, {t}, {t}) {{\n"
                    f"  %e = anvil.exp %x : {t}\n  %h = anvil.tanh %x : {t}\n"
                    f"  %r = anvil.erf %x : {t}\n  %s = anvil.sigmoid %x : {t}\n"
                    f"  %u = anvil.mul %x, %s : {t}, {t}\n"
                    f"  return %e, %h, %r, %s, %u : {t}, {t}, {t}, {t}, {t}\n}}\n")
        np.save(os.path.join(tmp, "x.npy"), x)

        def run(*flags):
            outs = [os.path.join(tmp, f"{k}.npy") for k in names]
            cmd = [args.anvilc, "run", model, *flags, "--input", os.path.join(tmp, "x.npy")]
            for o in outs:
                cmd += ["--output", o]
            subprocess.run(cmd, check=True)
            return {k: np.load(o).astype(np.float64) for k, o in zip(names, outs)}

        got = run("--sigmoid-reciprocal")
        exact = run()
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        want = {"exp": np.exp(x64).astype(np.float32).astype(np.float64),
                "tanh": np.tanh(x64).astype(np.float32).astype(np.float64),
                "erf": np.array([math.erf(v) for v in x64]).astype(np.float32).astype(np.float64)}
        sig = 1.0 / (1.0 + np.exp(-x64))
        want["sigmoid"] = sig.astype(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):
        want["silu"] = (x64 * sig).astype(np.float32).astype(np.float64)
    for name in ("sigmoid", "silu"):
        g, w, e = got[name], want[name], exact[name]
        # Where the exact sigmoid is below FLT_MIN (x < -87.3, -inf): the
        # clamped one is at most FLT_MIN, the SiLU at most |x| * FLT_MIN
        # (-inf at -inf, or NaN there as the exact division gives it: the
        # estimate may flush to 0, and -inf * 0 is NaN).
        tiny = ~(want["sigmoid"] >= FLT_MIN) & (x64 < -80)
        for i in np.where(tiny)[0]:
            bound = FLT_MIN * (1.0 if name == "sigmoid" else abs(x64[i]))
            if not (abs(g[i]) <= bound or (np.isnan(g[i]) and np.isnan(e[i]) and np.isinf(x64[i]))):
                failures.append(f"{name}({x[i]!r}) = {g[i]!r}, exact {w[i]!r}")
        for i in np.where(~tiny & ~np.isfinite(w))[0]:
            if not ((np.isnan(g[i]) and np.isnan(w[i])) or g[i] == w[i]):
                failures.append(f"{name}({x[i]!r}) = {g[i]!r}, exact {w[i]!r}")
        normal = ~tiny & np.isfinite(w) & (np.abs(w) >= FLT_MIN)
        err, err_exact = ulps(g[normal], w[normal]), ulps(g[normal], e[normal])
        rel = np.abs(g[normal] - e[normal]) / np.abs(e[normal])
        for i in np.where((err > 12) | (err_exact > 4))[0][:5]:
            failures.append(f"{name}({x[normal][i]!r}) = {g[normal][i]!r}: {err[i]:.0f} ulp "
                            f"from float64, {err_exact[i]:.0f} from the exact division")
        print(f"{name}: max {err.max():.0f} ulp from float64, {err_exact.max():.0f} ulp "
              f"(relative {rel.max():.1e}) from the exact division over {normal.sum()} "
              f"normal results")
    for name in ("exp", "tanh", "erf"):
        g, w = got[name], want[name]
        special = ~np.isfinite(w) | ~np.isfinite(g) | (w == 0)
        for i in np.where(special)[0]:
            same = (np.isnan(g[i]) and np.isnan(w[i])) or g[i] == w[i]
            flushed = name == "exp" and w[i] == 0 and g[i] == 0
            if not (same or flushed):
                failures.append(f"{name}({x[i]!r}) = {g[i]!r}, libm gives {w[i]!r}")
        normal = ~special & (np.abs(w) >= FLT_MIN)
        if name == "exp":
            err = ulps(g[normal], w[normal])
            bad = err > 8
            tiny = ~special & (np.abs(w) < FLT_MIN)
            for i in np.where(tiny)[0]:
                if abs(g[i]) > FLT_MIN:
                    failures.append(f"exp({x[i]!r}) = {g[i]!r}, libm gives subnormal {w[i]!r}")
        else:
            err = ulps(g[normal], w[normal])
            bad = (err > 4) & (np.abs(g[normal] - w[normal]) > 3e-7)
        for i in np.where(bad)[0][:5]:
            xi = x[normal][i]
            failures.append(f"{name}({xi!r}) = {g[normal][i]!r}, libm gives "
                            f"{w[normal][i]!r} ({err[i]:.0f} ulp)")
        print(f"{name}: max {err.max():.0f} ulp over {normal.sum()} normal results, "
              f"{special.sum()} special values")
    for f in failures:
        print("FAIL:", f)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
