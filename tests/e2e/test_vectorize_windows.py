#!/usr/bin/python3
"""Strided pooling and depthwise convolutions, vectorized, against PyTorch.

anvil-vectorize-windows (passes/VectorizeWindows.cpp) rewrites windows read
with a stride along the row into vectors of 16 outputs: a loop over the
chunks whose reads fit whole, then static chunks of a power-of-two width
whose reads past the row's end are masked (masked-tails; with
--no-masked-tails, narrower chunks whose reads are moved back to end inside
the row, whose results must be bit-identical; row-blocks computes several
rows together, each vector the rows share read once, and must be
bit-identical to one row at a time, --no-window-row-blocks; a chunk that
overruns its row is stored as whole vectors of 8, 4, 2 and 1 lanes, not one
masked store, and must be bit-identical to --no-split-tail-stores). Each
case is a row width that exercises a
different split: widths below, at and above 16 and 32, odd ones (1, 5, 7,
11, 15, 17, 29, 57), strides 2 and 3, padding, ceil mode, dilation, and NaNs
that max pooling must propagate from the loop's chunks and from the tail's.
The cases are compiled once with anvilc (with the pass, which this checks
fired: the backend phase must hold vector.shuffle deinterleaves) and
compared as test_ops_vs_torch.py compares them (its Runner). Stride-1
depthwise convolutions whose rows are shorter than a vector (7, 14, ... wide,
one vector per row), followed by SiLU or relu6, and squeeze-and-excitation
scales (a broadcast sigmoid, which anvil-fuse-elementwise keeps out of the
multiply) are checked too, and so are stride-1 rows longer than a vector
but not a multiple of it (ragged-rows: 17, 28, 33, 56 wide).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ops_vs_torch import Runner, arr, t, ttype  # noqa: E402


def differences_from(exe, r, tmp, flag):
    """Runs every case of Runner `r` (already run, its outputs in
    tmp/case<k>) with executable `exe`, compiled with `flag`; the cases
    whose results differ in any bit."""
    failures = []
    for k, (name, inputs, wants, _, _, _, function) in enumerate(r.cases):
        case = os.path.join(tmp, f"case{k}")
        cmd = [exe, "--function", function]
        cmd += [a for i in range(len(inputs)) for a in ("--input", os.path.join(case, f"in{i}.npy"))]
        cmd += [a for i in range(len(wants)) for a in ("--output", os.path.join(case, f"other{i}.npy"))]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            failures.append(f"{name}: {flag} run failed: {run.stderr.strip()}")
            continue
        for i in range(len(wants)):
            if not os.path.exists(os.path.join(case, f"out{i}.npy")):
                continue  # (already reported by the Runner)
            got = np.load(os.path.join(case, f"out{i}.npy"))
            other = np.load(os.path.join(case, f"other{i}.npy"))
            if got.tobytes() != other.tobytes():
                failures.append(f"{name} (result {i}): differs from {flag}")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(11)

    def rand(*shape):
        return rng.uniform(-2.0, 2.0, shape).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        r = Runner(args.anvilc, None, tmp, "compiled")
        # (batch, channels, height, width, kernel, stride, pad, ceil mode);
        # output widths 14, 15, 56, 5, 22, 1, 11, 7, 17, 33.
        pools = [
            (2, 3, 28, 28, 2, 2, 0, False),
            (1, 3, 29, 31, 2, 2, 0, False),
            (1, 4, 112, 112, 3, 2, 1, False),
            (2, 2, 9, 9, 3, 2, 1, False),
            (1, 3, 23, 45, 3, 2, 1, False),
            (1, 2, 4, 3, 2, 2, 0, False),
            (1, 2, 20, 35, 3, 3, 0, False),
            (1, 2, 15, 15, 3, 2, 0, True),
            (2, 3, 33, 33, 3, 2, 1, False),
            (1, 2, 13, 66, 3, 2, 1, True),
        ]
        for n, c, h, w, k, s, p, ceil in pools:
            x = rand(n, c, h, w)
            cm = ", ceil_mode" if ceil else ""
            attrs = f"kernel = {arr(k, k)}, strides = {arr(s, s)}, pads = {arr(p, p, p, p)}{cm}"
            name = f"{n}x{c}x{h}x{w} k{k} s{s} p{p}{' ceil' if ceil else ''}"
            r.check(f"max_pool2d {name}", [x], f"anvil.max_pool2d %a0 {{{attrs}}} : {ttype(x)}",
                    F.max_pool2d(t(x), k, s, p, ceil_mode=ceil))
            r.check(f"avg_pool2d {name}", [x], f"anvil.avg_pool2d %a0 {{{attrs}}} : {ttype(x)}",
                    F.avg_pool2d(t(x), k, s, p, ceil_mode=ceil, count_include_pad=False))
        # NaNs in the first chunk of a row, in the looped chunks, in the last
        # (moved-back) chunk and at the very last column.
        for n, c, h, w, k, s, p in [(1, 2, 17, 37, 3, 2, 1), (1, 2, 9, 75, 2, 2, 0)]:
            x = rand(n, c, h, w)
            x[0, 0, 3, 2] = x[0, 0, 4, w - 1] = x[0, 1, 0, w // 2] = x[0, 1, h - 1, w - 4] = np.nan
            x[0, 1, 5, 33] = np.nan
            name = f"max_pool2d NaN {n}x{c}x{h}x{w} k{k} s{s} p{p}"
            r.check(name, [x],
                    f"anvil.max_pool2d %a0 {{kernel = {arr(k, k)}, strides = {arr(s, s)}, "
                    f"pads = {arr(p, p, p, p)}}} : {ttype(x)}", F.max_pool2d(t(x), k, s, p))
        # (batch, channels, height, width, kernel, stride, pad, dilation);
        # output widths 29, 18, 57, 7, 17, 4, 32.
        convs = [
            (1, 8, 57, 57, 3, 2, 1, 1),
            (1, 4, 35, 35, 5, 2, 2, 1),
            (2, 6, 113, 113, 3, 2, 1, 1),
            (1, 5, 14, 14, 3, 2, 1, 1),
            (1, 3, 35, 35, 3, 2, 1, 2),
            (1, 3, 12, 12, 3, 3, 1, 1),
            (2, 4, 64, 64, 3, 2, 1, 1),
        ]
        for n, c, h, w, k, s, p, d in convs:
            x, wt, b = rand(n, c, h, w), rand(c, 1, k, k), rand(c)
            attrs = (f"strides = {arr(s, s)}, pads = {arr(p, p, p, p)}, dilations = {arr(d, d)}, "
                     f"groups = {c} : i64")
            r.check(f"depthwise conv2d {n}x{c}x{h}x{w} k{k} s{s} p{p} d{d}", [x, wt, b],
                    f"anvil.conv2d %a0, %a1, %a2 {{{attrs}}} : {ttype(x)}, {ttype(wt)}, {ttype(b)}",
                    F.conv2d(t(x), t(wt), t(b), s, p, d, c), rtol=1e-4, atol=1e-4)
        # Short rows (anvil-vectorize-windows short-rows): stride-1 depthwise
        # convolutions whose output rows are narrower than 16 (one vector per
        # row), with the activations MobileNet and EfficientNet put after
        # them, and a squeeze-and-excitation scale over such rows.
        # (batch, channels, height, width, kernel, pad); output widths 7, 14,
        # 5, 9, 15, 4.
        shorts = [
            (2, 6, 7, 7, 5, 2),
            (1, 5, 14, 14, 3, 1),
            (3, 4, 5, 5, 3, 1),
            (1, 3, 11, 9, 5, 2),
            (2, 3, 9, 15, 3, 1),
            (1, 2, 6, 4, 3, 1),
        ]
        for n, c, h, w, k, p in shorts:
            x, wt, b = rand(n, c, h, w), rand(c, 1, k, k), rand(c)
            attrs = f"strides = {arr(1, 1)}, pads = {arr(p, p, p, p)}, groups = {c} : i64"
            conv = f"anvil.conv2d %a0, %a1, %a2 {{{attrs}}} : {ttype(x)}, {ttype(wt)}, {ttype(b)}"
            want = F.conv2d(t(x), t(wt), t(b), 1, p, 1, c)
            wt_ = ttype(want.numpy().astype(np.float32))
            name = f"{n}x{c}x{h}x{w} k{k} s1 p{p}"
            r.check(f"depthwise conv2d {name}", [x, wt, b], conv, want, rtol=1e-4, atol=1e-4)
            r.check(f"depthwise conv2d + SiLU {name}", [x, wt, b],
                    f"anvil.mul %y, %s : {wt_}, {wt_}", F.silu(want),
                    rtol=1e-4, atol=1e-4,
                    prelude=f"  %y = {conv}\n  %s = anvil.sigmoid %y : {wt_}\n")
            r.check(f"depthwise conv2d + relu6 {name}", [x, wt, b],
                    f"anvil.clip %y {{min = 0.0 : f64, max = 6.0 : f64}} : {wt_}",
                    F.relu6(want), rtol=1e-4, atol=1e-4, prelude=f"  %y = {conv}\n")
            # Squeeze-and-excitation: x * sigmoid(mean over the map), the
            # sigmoid of [N, C, 1, 1] broadcast over the rows.
            g = F.adaptive_avg_pool2d(t(x), 1)
            gt = ttype(g.numpy().astype(np.float32))
            r.check(f"squeeze-and-excitation scale {n}x{c}x{h}x{w}", [x],
                    f"anvil.mul %a0, %s : {ttype(x)}, {gt}", t(x) * torch.sigmoid(g),
                    prelude=f"  %g = anvil.global_avg_pool %a0 : {ttype(x)}\n"
                            f"  %s = anvil.sigmoid %g : {gt}\n")
        # Ragged rows (anvil-vectorize-windows ragged-rows): stride-1
        # depthwise convolutions whose output rows are longer than 16 but
        # not a multiple of it (28 = 16 + 12, 56 = 3 x 16 + 8, 17, 33),
        # with SiLU (EfficientNet's 5x5 at 28x28); LLVM ran them 4 lanes
        # wide.
        ragged = [(2, 3, 28, 28, 5, 2), (1, 2, 56, 56, 3, 1), (1, 3, 5, 17, 3, 1),
                  (1, 2, 4, 33, 3, 1)]
        for n, c, h, w, k, p in ragged:
            x, wt, b = rand(n, c, h, w), rand(c, 1, k, k), rand(c)
            attrs = f"strides = {arr(1, 1)}, pads = {arr(p, p, p, p)}, groups = {c} : i64"
            conv = f"anvil.conv2d %a0, %a1, %a2 {{{attrs}}} : {ttype(x)}, {ttype(wt)}, {ttype(b)}"
            want = F.conv2d(t(x), t(wt), t(b), 1, p, 1, c)
            wt_ = ttype(want.numpy().astype(np.float32))
            r.check(f"ragged rows: depthwise conv2d + SiLU {n}x{c}x{h}x{w} k{k} s1 p{p}",
                    [x, wt, b], f"anvil.mul %y, %s : {wt_}, {wt_}", F.silu(want),
                    rtol=1e-4, atol=1e-4,
                    prelude=f"  %y = {conv}\n  %s = anvil.sigmoid %y : {wt_}\n")
        r.run()
        failures = list(r.failures)
        # The cases must have gone through the pass: a test of the scalar
        # loops would pass just as well.
        backend = subprocess.run([args.anvilc, os.path.join(tmp, "model.mlir"), "--compile-to=backend"],
                                 capture_output=True, text=True)
        if "vector.shuffle" not in backend.stdout:
            failures.append(f"anvil-vectorize-windows did not fire: {backend.stderr.strip()}")
        # (masked-tails: 7-wide rows are 8 lanes, the 28-wide rows' 12-wide
        # tails 16, read past the operands' ends masked)
        if "vector<8xf32>" not in backend.stdout or "vector<7xf32>" in backend.stdout:
            failures.append("anvil-vectorize-windows did not vectorize the 7-wide rows as masked "
                            "8-lane vectors")
        unmasked = subprocess.run([args.anvilc, os.path.join(tmp, "model.mlir"), "--compile-to=backend",
                                   "--no-masked-tails"], capture_output=True, text=True)
        if "vector<7xf32>" not in unmasked.stdout:
            failures.append("--no-masked-tails: the 7-wide rows are not 7-lane vectors")
        if "vector<12xf32>" not in unmasked.stdout:
            failures.append("--no-masked-tails: the 28-wide rows' tails are not 12-lane vectors")
        # Rows computed together (row-blocks, whose reads the lit test
        # anvil-vectorize-windows-rows.mlir checks) must have applied: the
        # code differs from one row at a time.
        single = subprocess.run([args.anvilc, os.path.join(tmp, "model.mlir"), "--compile-to=backend",
                                 "--no-window-row-blocks"], capture_output=True, text=True)
        if single.returncode != 0 or single.stdout == backend.stdout:
            failures.append("--no-window-row-blocks changed nothing (or failed: "
                            f"{single.stderr.strip()})")
        # split-tail-stores: a chunk that overruns its row is stored as
        # whole vectors of 8, 4, 2 and 1 lanes; with --no-split-tail-stores
        # as one masked store (a transfer_write not in bounds).
        masked = subprocess.run([args.anvilc, os.path.join(tmp, "model.mlir"), "--compile-to=backend",
                                 "--no-split-tail-stores"], capture_output=True, text=True)
        def masked_writes(text):
            return [line for line in text.splitlines()
                    if "vector.transfer_write" in line and "in_bounds = [true]" not in line]
        if masked_writes(backend.stdout):
            failures.append(f"split-tail-stores: {len(masked_writes(backend.stdout))} masked "
                            "stores left in the backend phase")
        if masked.returncode != 0 or not masked_writes(masked.stdout):
            failures.append("--no-split-tail-stores: no masked stores (or failed: "
                            f"{masked.stderr.strip()})")
        # Masked tails compute the same lanes with the same operations as
        # the moved-back windows, rows together the same operations in the
        # same order per row as rows alone, and split stores store the same
        # lanes: the results must be bit-identical.
        for flag in ["--no-masked-tails", "--no-window-row-blocks", "--no-split-tail-stores"]:
            exe = os.path.join(tmp, "model" + flag)
            build = subprocess.run([args.anvilc, os.path.join(tmp, "model.mlir"), flag, "-o", exe],
                                   capture_output=True, text=True)
            if build.returncode != 0:
                failures.append(f"{flag}: anvilc failed: {build.stderr.strip()}")
            else:
                failures += differences_from(exe, r, tmp, flag)
        for f in failures:
            print("FAIL " + f)
        print(f"{len(r.cases) - len(failures)} of {len(r.cases)} strided window cases match PyTorch")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
