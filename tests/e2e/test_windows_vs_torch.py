#!/usr/bin/python3
"""Depthwise convolutions and pooling, compiled, against PyTorch.

These lower to one elementwise generic over the window's taps
(passes/Conversion/AnvilToLinalg/DepthwiseConv.cpp and Pooling.cpp): each
case here is a shape that the tap maps, the loop extents linalg infers from
them, or the vectorized and thread-split loops could get wrong: strides 1
and 2, asymmetric padding, dilation, 3x3, 5x5 and 7x7 windows, batch > 1,
odd sizes (7x7, 14x14, 112x112 and outputs narrower than a vector), both
depthwise layouts (rows 8 to 15 wide are one masked vector per tap in
NCHW, deinterleaved when strided; they compute in NHWC with
--flag=--no-depthwise-stride1-nchw --flag=--no-depthwise-strided-nchw, the
ctest e2e-windows-vs-torch-channels-last),
channel multipliers 1 and 2 (2 keeps the grouped path), max pooling of
NaNs, ceil mode, count_include_pad. The model is compiled once with anvilc;
every case is checked as test_ops_vs_torch.py checks them (its Runner).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ops_vs_torch import Runner, arr, t, ttype  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--mode", choices=["reference", "compiled"], default="compiled")
    ap.add_argument("--flag", action="append", default=[],
                    help="an anvilc option for the compiled cases (repeatable)")
    args = ap.parse_args()
    rng = np.random.default_rng(7)

    def rand(*shape):
        return rng.uniform(-2.0, 2.0, shape).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        r = Runner(args.anvilc, None, tmp, args.mode)
        r.flags = args.flag
        # (batch, channels, height, width, kernel, stride, pads [t, l, b, r],
        # dilation, multiplier, bias)
        convs = [
            (1, 16, 112, 112, 3, 1, (1, 1, 1, 1), 1, 1, True),
            (2, 24, 56, 56, 3, 2, (1, 1, 1, 1), 1, 1, True),
            (1, 32, 14, 14, 5, 1, (2, 2, 2, 2), 1, 1, True),
            (3, 40, 14, 14, 5, 2, (2, 2, 2, 2), 1, 1, False),
            (2, 96, 7, 7, 3, 1, (1, 1, 1, 1), 1, 1, True),
            (1, 5, 7, 7, 7, 1, (3, 3, 3, 3), 1, 1, True),
            (2, 3, 13, 11, 3, 2, (0, 1, 2, 0), 1, 1, True),
            (1, 4, 9, 10, 3, 1, (2, 2, 2, 2), 2, 1, False),
            (1, 6, 15, 9, 3, (2, 1), (1, 0, 1, 0), 1, 1, True),
            (2, 4, 8, 8, 3, 1, (1, 1, 1, 1), 1, 2, True),
            (1, 8, 5, 5, 1, 1, (0, 0, 0, 0), 1, 1, True),
            # Rows 8 to 15 wide: one masked vector per tap's row (strided:
            # stride * 16 lanes, deinterleaved), or NHWC copies with
            # --no-depthwise-stride1-nchw / --no-depthwise-strided-nchw.
            (2, 24, 28, 28, 3, 2, (1, 1, 1, 1), 1, 1, True),
            (1, 12, 29, 29, 3, 2, (1, 1, 1, 1), 1, 1, False),
            (2, 8, 30, 30, 5, 3, (2, 2, 2, 2), 1, 1, True),
            (1, 10, 20, 27, 3, (1, 2), (1, 0, 1, 1), 1, 1, True),
            (3, 16, 18, 18, 5, 2, (1, 2, 2, 1), 1, 1, True),
            (1, 20, 11, 13, 3, 1, (1, 0, 2, 1), 1, 1, True),
            (2, 16, 14, 14, 3, 1, (2, 2, 2, 2), 2, 1, False),
        ]
        for n, c, h, w, k, s, pads, d, mult, with_bias in convs:
            sh, sw = (s, s) if isinstance(s, int) else s
            x, wt, b = rand(n, c, h, w), rand(c * mult, 1, k, k), rand(c * mult)
            attrs = (f"strides = {arr(sh, sw)}, pads = {arr(*pads)}, dilations = {arr(d, d)}, "
                     f"groups = {c} : i64")
            padded = F.pad(t(x), (pads[1], pads[3], pads[0], pads[2]))
            want = F.conv2d(padded, t(wt), t(b) if with_bias else None, (sh, sw), 0, d, c)
            ins, types = ([x, wt, b], "%a0, %a1, %a2") if with_bias else ([x, wt], "%a0, %a1")
            r.check(f"depthwise conv2d {n}x{c}x{h}x{w} k{k} s{s} pads {pads} d{d} x{mult}",
                    ins, f"anvil.conv2d {types} {{{attrs}}} : " + ", ".join(ttype(a) for a in ins),
                    want, rtol=1e-4, atol=1e-4)

        # A relu (or neg) before the padded window: anvil-fold-pad-into-producer
        # has it write into the padded buffer's interior and fills only the
        # border (zeros for the convolutions, -inf for max pooling).
        # (batch, channels, height, width, kernel, stride, pads [t, l, b, r])
        after_relu = [
            (1, 16, 56, 56, 3, 1, (1, 1, 1, 1)),
            (2, 24, 56, 56, 3, 2, (1, 1, 1, 1)),
            (3, 8, 36, 40, 5, 1, (2, 2, 2, 2)),
            (2, 8, 64, 64, 5, 2, (2, 2, 2, 2)),
            (2, 12, 20, 48, 3, 1, (0, 1, 2, 0)),
            # (rows narrower than its min-row keep the pad's copy)
            (2, 40, 14, 14, 5, 2, (2, 2, 2, 2)),
            (1, 6, 7, 7, 3, 1, (1, 1, 1, 1)),
        ]
        for n, c, h, w, k, s, pads in after_relu:
            x, wt, b = rand(n, c, h, w), rand(c, 1, k, k), rand(c)
            prelude = f"  %x = anvil.relu %a0 : {ttype(x)}\n"
            attrs = (f"strides = {arr(s, s)}, pads = {arr(*pads)}, dilations = {arr(1, 1)}, "
                     f"groups = {c} : i64")
            padded = F.pad(F.relu(t(x)), (pads[1], pads[3], pads[0], pads[2]))
            r.check(f"relu then depthwise conv2d {n}x{c}x{h}x{w} k{k} s{s} pads {pads}",
                    [x, wt, b], f"anvil.conv2d %x, %a1, %a2 {{{attrs}}} : {ttype(x)}, {ttype(wt)}, "
                    f"{ttype(b)}", F.conv2d(padded, t(wt), t(b), s, 0, 1, c),
                    rtol=1e-4, atol=1e-4, prelude=prelude)
            if pads[0] == pads[2] and pads[1] == pads[3]:
                # (negated: max pooling must see -inf, not 0, in the border)
                prelude = f"  %x = anvil.neg %a0 : {ttype(x)}\n"
                ph, pw = pads[0], pads[1]
                attrs = f"kernel = {arr(k, k)}, strides = {arr(s, s)}, pads = {arr(ph, pw, ph, pw)}"
                r.check(f"neg then max_pool2d {n}x{c}x{h}x{w} k{k} s{s} pads {pads}", [x],
                        f"anvil.max_pool2d %x {{{attrs}}} : {ttype(x)}",
                        F.max_pool2d(-t(x), k, s, (ph, pw)), prelude=prelude)

        # An activation after a depthwise convolution whose rows are 8 to 15
        # wide (channels-last when strided or with --no-depthwise-stride1-nchw): anvil-fuse-elementwise moves it above the
        # transpose back to NCHW, into the depthwise loop (a relu6, and a SiLU
        # whose x has two readers). (batch, channels, height, width, kernel,
        # stride, pad)
        channels_last = [
            (2, 32, 14, 14, 3, 1, 1),
            (1, 40, 28, 28, 5, 2, 2),
            (3, 12, 9, 9, 3, 1, 1),
        ]
        for n, c, h, w, k, s, p in channels_last:
            x, wt, b = rand(n, c, h, w), rand(c, 1, k, k), rand(c)
            attrs = (f"strides = {arr(s, s)}, pads = {arr(p, p, p, p)}, "
                     f"dilations = {arr(1, 1)}, groups = {c} : i64")
            y = F.conv2d(t(x), t(wt), t(b), s, p, 1, c)
            conv = (f"  %y = anvil.conv2d %a0, %a1, %a2 {{{attrs}}} : {ttype(x)}, {ttype(wt)}, "
                    f"{ttype(b)}\n")
            yt = ttype(y.detach().numpy().astype(np.float32))
            r.check(f"channels-last depthwise conv2d {n}x{c}x{h}x{w} k{k} s{s} then relu6",
                    [x, wt, b], f"anvil.clip %y {{min = 0.0 : f64, max = 6.0 : f64}} : {yt}",
                    F.relu6(y), rtol=1e-4, atol=1e-4, prelude=conv)
            r.check(f"channels-last depthwise conv2d {n}x{c}x{h}x{w} k{k} s{s} then silu",
                    [x, wt, b], f"anvil.mul %y, %s : {yt}, {yt}", F.silu(y), rtol=1e-4,
                    atol=1e-4, prelude=conv + f"  %s = anvil.sigmoid %y : {yt}\n")

        # (batch, channels, height, width, kernel, stride, pad, ceil mode)
        pools = [
            (1, 64, 112, 112, 3, 2, 1, False),
            (2, 8, 56, 56, 2, 2, 0, False),
            (1, 16, 28, 28, 3, 1, 1, False),
            (2, 5, 14, 14, 3, 2, 1, True),
            (1, 3, 7, 7, 3, 2, 0, True),
            (1, 4, 11, 9, (2, 3), (1, 2), (1, 1), True),
            (3, 2, 7, 7, 7, 1, 0, False),
        ]
        for n, c, h, w, k, s, p, ceil in pools:
            kh, kw = (k, k) if isinstance(k, int) else k
            sh, sw = (s, s) if isinstance(s, int) else s
            ph, pw = (p, p) if isinstance(p, int) else p
            x = rand(n, c, h, w)
            cm = ", ceil_mode" if ceil else ""
            attrs = f"kernel = {arr(kh, kw)}, strides = {arr(sh, sw)}, pads = {arr(ph, pw, ph, pw)}{cm}"
            name = f"{n}x{c}x{h}x{w} k{k} s{s} p{p}{' ceil' if ceil else ''}"
            r.check(f"max_pool2d {name}", [x], f"anvil.max_pool2d %a0 {{{attrs}}} : {ttype(x)}",
                    F.max_pool2d(t(x), (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil))
            for include in (False, True):
                ci = ", count_include_pad" if include else ""
                r.check(f"avg_pool2d {name}{ci}", [x],
                        f"anvil.avg_pool2d %a0 {{{attrs}{ci}}} : {ttype(x)}",
                        F.avg_pool2d(t(x), (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil,
                                     count_include_pad=include))
        # Dilated max pooling, and NaNs, which max pooling propagates (the
        # NaN-free windows must not see them).
        x = rand(2, 3, 12, 12)
        r.check("max_pool2d dilated", [x],
                f"anvil.max_pool2d %a0 {{kernel = {arr(3, 3)}, strides = {arr(1, 1)}, "
                f"pads = {arr(1, 1, 1, 1)}, dilations = {arr(2, 2)}}} : {ttype(x)}",
                F.max_pool2d(t(x), 3, 1, 1, dilation=2))
        x = rand(1, 2, 8, 8)
        x[0, 0, 1, 1] = x[0, 1, 6, 7] = np.nan
        want = F.max_pool2d(t(x), 2, 2)
        # (Runner checks that NaN is exactly where PyTorch has it.)
        r.check("max_pool2d NaN", [x],
                f"anvil.max_pool2d %a0 {{kernel = {arr(2, 2)}, strides = {arr(2, 2)}}} : {ttype(x)}",
                want)
        r.run()
        failures = r.failures
        for f in failures:
            print("FAIL " + f)
        print(f"{args.mode}: {len(r.cases) - len(failures)} of {len(r.cases)} window cases match PyTorch")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
