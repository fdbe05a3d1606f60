#!/usr/bin/python3
"""`anvilc quantize --method` and `--tolerance` end to end.

Methods, on one matmul whose input is the calibration data itself (so the
layer's range is a range of the data): Laplace samples (scale 1) with one
huge outlier (1000, in the first sample, which fixes the histogram's bin
width at 1000 / 2048). Checks:
  - minmax's range is the data's minimum and maximum exactly;
  - percentile's threshold is numpy's percentile of |x| within two bins;
  - entropy's is far below the outlier (<= 10% of it) and above the bulk
    (numpy's 99th percentile of |x|); mse's clips the outlier and its real
    u8 error is within 5% of the best clip numpy finds by brute force;
  - the scale is the chosen range / 255, the report names the method;
  - all-zero, constant and single-sample data quantize without error, under
    every method; a NaN or an infinity in the activations is one error
    naming the layer, and no output; --percentile's errors.
Tolerance, on the MLP of test_quantize.py with fc2 made badly quantizable
per tensor (one output column of fc2 times 1000, the matching row of fc3
divided by 1000: the same fp32 function, as ReLU commutes with scaling):
  - without --tolerance int8 accuracy falls more than 1 point;
  - with --tolerance 1 it is within 1 point, fc2 is kept f32 with the
    reason, fc1 stays int8, the report and JSON say so; without labels the
    tolerance is on top-1 agreement and the report says so.
Exits non-zero on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import test_quantize as tq
from checks import Checks

F32 = np.float32
BATCH, K, N = 16, 32, 8
OUTLIER = 1000.0
METHODS = ("minmax", "percentile", "entropy", "mse")


def quant_mse(x, lo, hi):
    """The mean squared error of u8 quantization over [lo, hi] (widened to
    hold 0), as anvil-quantize does it."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255)
    zp = np.clip(np.round(-lo / scale), 0, 255)
    q = np.clip(np.round(x / scale) + zp, 0, 255)
    return float(np.mean(((q - zp) * scale - x) ** 2))


def linear_model():
    w = np.random.default_rng(3).normal(0, 0.3, (K, N)).astype(F32)
    t = f"tensor<{K}x{N}xf32>"
    return f"""module {{
  func.func @forward(%x: tensor<{BATCH}x{K}xf32>) -> tensor<{BATCH}x{N}xf32> {{
    %w = anvil.param "lin.weight" init = "dense" {{value = {tq.dense(w)} : {t}}} : {t}
    %y = anvil.matmul %x, %w : tensor<{BATCH}x{K}xf32>, {t}
    return %y : tensor<{BATCH}x{N}xf32>
  }}
}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    anvilc = args.anvilc
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        def quantize(model, data, *extra, out="q.mlir", report="r.json"):
            cmd = [anvilc, "quantize", path(model), "--calibrate", path(data),
                   "-o", path(out), "--report-json", path(report),
                   "--no-layer-times"]
            p = subprocess.run(cmd + list(extra), capture_output=True,
                               text=True)
            r = (json.load(open(path(report)))
                 if p.returncode == 0 and os.path.exists(path(report))
                 else None)
            return p, r

        with open(path("lin.mlir"), "w") as f:
            f.write(linear_model())
        x = np.random.default_rng(11).laplace(0, 1, (1024, K)).astype(F32)
        x[0, 5] = OUTLIER
        np.save(path("laplace.npy"), x)
        a = np.abs(x).ravel()
        bin_width = OUTLIER / 2048
        bulk = float(np.percentile(a, 99))
        thresholds = {}
        for m in METHODS:
            p, r = quantize("lin.mlir", "laplace.npy", "--method", m,
                            "--samples", "1024", report=f"r-{m}.json")
            check(p.returncode == 0 and r is not None,
                  f"--method {m} runs " + p.stderr.strip())
            if r is None:
                continue
            layer = r["layers"][0]
            lo, hi = layer["range_min"], layer["range_max"]
            thresholds[m] = max(-lo, hi)
            check(r["method"] == m and f"calibration ({m}" in p.stdout,
                  f"{m}: the report names the method")
            check(layer["input_min"] == float(x.min()) and
                  layer["input_max"] == OUTLIER,
                  f"{m}: observed range = the data's min and max")
            scale = (max(hi, 0) - min(lo, 0)) / 255
            check(abs(layer["input_scale"] - scale) <= 1e-6 * scale,
                  f"{m}: scale {layer['input_scale']:.4g} = range "
                  f"[{lo:.4g}, {hi:.4g}] / 255")
            print(f"     {m}: range [{lo:.4g}, {hi:.4g}], SQNR "
                  f"{r['sqnr_db']} dB")
        if len(thresholds) == len(METHODS):
            check(thresholds["minmax"] == OUTLIER,
                  "minmax: the range reaches the outlier")
            want = float(np.percentile(a, 99.99))
            check(abs(thresholds["percentile"] - want) <= 2 * bin_width,
                  f"percentile 99.99: {thresholds['percentile']:.4g} ~ "
                  f"numpy's {want:.4g}")
            for m in ("percentile", "entropy"):
                check(bulk <= thresholds[m] <= 0.1 * OUTLIER,
                      f"{m}: threshold {thresholds[m]:.4g} in "
                      f"[{bulk:.3g} (99th pct), {0.1 * OUTLIER}]")
            # mse: one outlier among 32768 values still weighs (1000 - T)^2,
            # so the best clip is well above the bulk; check it against a
            # brute-force search of the real u8 error in numpy.
            xs = x.ravel().astype(np.float64)
            best = min(quant_mse(xs, max(x.min(), -t), min(x.max(), t))
                       for t in np.geomspace(0.5, OUTLIER, 600))
            got = quant_mse(xs, max(x.min(), -thresholds["mse"]),
                            min(x.max(), thresholds["mse"]))
            check(thresholds["mse"] < OUTLIER and got <= 1.05 * best,
                  f"mse: threshold {thresholds['mse']:.4g} clips the "
                  f"outlier; its error {got:.4g} within 5% of numpy's best "
                  f"clip's {best:.4g}")
        p, r = quantize("lin.mlir", "laplace.npy", "--method", "percentile",
                        "--percentile", "99", report="r-p99.json")
        check(r is not None and r["percentile"] == 99 and
              abs(max(-r["layers"][0]["range_min"],
                      r["layers"][0]["range_max"]) -
                  np.percentile(np.abs(x[:512]), 99)) <= 2 * bin_width and
              "percentile 99% of |x|" in p.stdout,
              "--percentile 99 (of the first 512 samples) "
              + p.stderr.strip())

        # Edge cases: no method crashes on degenerate data.
        edge = {"zeros": np.zeros((64, K), F32),
                "constant": np.full((64, K), 3.0, F32),
                "single": x[1:2]}
        for name, data in edge.items():
            np.save(path(f"{name}.npy"), data)
            for m in METHODS:
                p, r = quantize("lin.mlir", f"{name}.npy", "--method", m,
                                out=f"q-{name}.mlir", report=f"r-{name}.json")
                ok = p.returncode == 0 and r is not None
                if ok and name != "single":
                    lo = r["layers"][0]["range_min"]
                    hi = r["layers"][0]["range_max"]
                    v = float(data.flat[0])
                    ok = lo == v and hi == v
                check(ok, f"{name} data, --method {m}: quantizes "
                      + p.stderr.strip())
        for name, bad in (("NaN", np.nan), ("infinity", np.inf)):
            data = x[:64].copy()
            data[40, 3] = bad
            np.save(path("bad.npy"), data)
            for m in ("minmax", "entropy"):
                p, _ = quantize("lin.mlir", "bad.npy", "--method", m,
                                out="bad.mlir", report="bad.json")
                lines = p.stderr.strip().splitlines()
                check(p.returncode == 1 and len(lines) == 1 and
                      "lin.weight" in lines[0] and name in lines[0] and
                      not os.path.exists(path("bad.mlir")),
                      f"{name} in the data, --method {m}: one error naming "
                      f"the layer: {p.stderr.strip()}")
        for extra, message in (
                (["--method", "percentile", "--percentile", "0"],
                 "--percentile must be in (0, 100]"),
                (["--method", "percentile", "--percentile", "101"],
                 "--percentile must be in (0, 100]"),
                (["--method", "entropy", "--percentile", "99"],
                 "--percentile goes with --method percentile"),
                (["--tolerance", "-1"], "--tolerance must be >= 0"),
                (["--method", "kl"], "--method must be minmax, percentile")):
            p, _ = quantize("lin.mlir", "laplace.npy", *extra,
                            out="bad.mlir", report="bad.json")
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 1 and len(lines) == 1 and
                  message in lines[0] and not os.path.exists(path("bad.mlir")),
                  f"{' '.join(extra)} refused: {p.stderr.strip()}")

        # --tolerance: the MLP with fc2 badly quantizable per tensor.
        rng = np.random.default_rng(17)
        xt, yt = tq.make_data(rng, 2000)
        params = tq.train(xt, yt)
        w1, b1, w2, b2, w3, b3 = params
        w2, b2, w3 = w2.copy(), b2.copy(), w3.copy()
        j = int(np.argmax(np.abs(w3).sum(1)))  # a column that matters
        w2[:, j] *= 1000
        b2[j] *= 1000
        w3[j, :] /= 1000
        bad_params = [w1, b1, w2, b2, w3, b3]
        with open(path("mlp.mlir"), "w") as f:
            f.write(tq.model_text(bad_params))
        xcal, ycal = tq.make_data(rng, 400)
        np.save(path("x.npy"), xcal)
        np.save(path("y.npy"), ycal)
        labelled = ["--labels", path("y.npy"), "--samples", "400"]
        p, r = quantize("mlp.mlir", "x.npy", *labelled, report="t0.json")
        drop = (100 * (r["accuracy_fp32"] - r["accuracy_int8"])
                if r else None)
        check(r is not None and drop > 1,
              f"fc2 x1000: all int8 loses {drop} > 1 point of accuracy "
              + p.stderr.strip())
        p, r = quantize("mlp.mlir", "x.npy", *labelled, "--tolerance", "1",
                        out="t1.mlir", report="t1.json")
        check(p.returncode == 0 and r is not None,
              "--tolerance 1 runs " + p.stderr.strip())
        if r is not None:
            print(p.stdout)
            t = r["tolerance"]
            drop = 100 * (r["accuracy_fp32"] - r["accuracy_int8"])
            check(drop <= 1 and t["loss"] == drop and t["metric"] ==
                  "accuracy" and t["loss_all_int8"] > 1,
                  f"--tolerance 1: accuracy within 1 point ({drop:.2f}), "
                  f"{t['loss_all_int8']:.2f} with every layer int8")
            reasons = {e["name"]: e["reason"] for e in r["excluded"]}
            kept = t["kept_f32"]
            int8 = [l["name"] for l in r["layers"] if l["int8"]]
            check("fc2.weight" in kept and "fc1.weight" in int8 and
                  all(reasons[k].startswith("--tolerance 1.00: the most "
                                            "sensitive layer") for k in kept)
                  and all(k in reasons for k in kept),
                  f"kept f32: {kept} (fc2 among them, fc1 int8), with why")
            ir = open(path("t1.mlir")).read()
            check(ir.count("anvil.qmatmul") == len(int8) == 3 - len(kept) and
                  ir.count("anvil.matmul") == len(kept),
                  "the written model has exactly the kept layers in f32")
            check("--tolerance 1.00 points of top-1 accuracy" in p.stdout and
                  "kept f32: " + " ".join(kept) in p.stdout,
                  "the report says which layers stayed f32 and why")
        p, r = quantize("mlp.mlir", "x.npy", "--tolerance", "0.5",
                        out="t2.mlir", report="t2.json")
        check(r is not None and r["tolerance"]["metric"] == "agreement" and
              "fc2.weight" in r["tolerance"]["kept_f32"] and
              100 * (1 - r["top1_agreement"]) <= 0.5 and
              "top-1 agreement (no labels)" in p.stdout,
              "--tolerance without labels: on top-1 agreement "
              + p.stderr.strip())
    print(f"{len(check.failures)} failure(s)")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
