#!/usr/bin/python3
"""Quantized convolutions: anvil.qconv2d exact, and `anvilc quantize` on CNNs.

1. The kernel: one anvil.qconv2d (ui8 input, constant i8 OIHW weights) per
   case, over channel counts 1..33, kernels 1x1/3x3/5x5, stride 1 and 2,
   padding (the input's zero point, a quantized 0), a dilation, batch 1..3,
   returning its i32 accumulators. Compiled (anvil-int8-matmul's tiles:
   vpdpbusd with VNNI, else AVX2's vpmaddwd; with VNNI and channels that 4
   divides, the direct convolution, and for the others without a dilation
   along the rows the direct one by filter-row runs, else an im2col) at 1
   and 2 threads, with --no-int8-direct-conv (the im2col),
   --no-int8-direct-runs (the im2col where 4 does not divide C),
   --no-int8-vector-rows (the
   im2col as the generic copy, not vector copies of window rows),
   --no-int8-narrow (up to 16 output channels on the two-block tile, not the
   one-block tiles of 16 rows that write NCHW), --no-int8-pairs (up to 8
   output channels one position per accumulator, not two),
   --int8-matmul=portable (AVX2's tiles), --no-int8-conv and
   --int8-matmul=generic (the portable generic), and on
   the reference interpreter, each must equal numpy's exact int64
   convolution of the differences bit for bit. A per-channel nonzero weight
   zero point takes the generic and must match too.
2. `anvilc quantize` on a small CNN (conv 3x3 pad 1 + bias, ReLU, conv 3x3
   stride 2 pad 1 + bias, residual-free; a depthwise conv; global average
   pool; a matmul): both one-group convolutions and the matmul become int8,
   the depthwise stays f32 and the report says why; the quantized model
   compiled equals the reference interpreter of the same IR (1 and 2
   threads); int8 vs fp32 output SQNR > 25 dB; the dequantized int8 conv
   stage equals a numpy int8 model; QDQ ONNX export (-o x.onnx) has a Conv
   fed by three DequantizeLinear per int8 conv (weights int8, axis 0; the
   bias int32 by scale_x * scale_w, axis 0, and no Add left), passes
   onnx.checker, and on the reference gives the .mlir int8 model's outputs.
   `anvilc cnn.mlir --int8 --calibrate DATA -o EXE` reports and compiles
   what `anvilc quantize` + `anvilc q.mlir` do (the same outputs, bit for
   bit); its options without --int8, or --int8 without data, are errors.
3. A max pool then a quantize (fused, a ui8 body): vectorized by
   anvil-vectorize-windows, equal to numpy, the reference and
   --no-vectorize-windows.
Exits non-zero on any failure.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks

F32 = np.float32
# anvilc compiles for the host: VNNI tiles (and direct convolutions) here.
HAS_VNNI = "avx512_vnni" in open("/proc/cpuinfo").read()


def tensor(shape, dtype):
    return "tensor<" + "x".join(map(str, shape)) + ("x" if shape else "") \
        + dtype + ">"


def out_size(n, pad0, pad1, k, stride, dilation):
    return (n + pad0 + pad1 - dilation * (k - 1) - 1) // stride + 1


def numpy_qconv(x, xzp, w, wzp, strides, pads, dilations):
    """Exact integer convolution of the differences (int64), NCHW/OIHW,
    the padding the zero point (a difference of 0)."""
    xd = x.astype(np.int64) - xzp
    wd = w.astype(np.int64) - np.asarray(wzp, np.int64).reshape(-1, 1, 1, 1)
    xd = np.pad(xd, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wi = x.shape
    o, _, kh, kw = w.shape
    oh = out_size(h, pads[0], pads[2], kh, strides[0], dilations[0])
    ow = out_size(wi, pads[1], pads[3], kw, strides[1], dilations[1])
    out = np.zeros((n, o, oh, ow), np.int64)
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilations[0], j * dilations[1]
            patch = xd[:, :, y0:y0 + strides[0] * (oh - 1) + 1:strides[0],
                       x0:x0 + strides[1] * (ow - 1) + 1:strides[1]]
            out += np.einsum("nchw,oc->nohw", patch, wd[:, :, i, j])
    return out


def dense_attr(a, dtype):
    """An MLIR dense literal of `a` (integers or f32 as hex)."""
    if dtype == "f32":
        return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'
    return "dense<" + np.array2string(
        a, separator=", ", threshold=1 << 30, max_line_width=1 << 30) + ">"


def qconv_model(xshape, w, xzp, wzp, strides, pads, dilations):
    """@forward(x f32) -> i32: x (integers) quantized by scale 1 with zero
    point xzp (so q = x + xzp exactly), then one anvil.qconv2d."""
    n, c, h, wi = xshape
    o, _, kh, kw = w.shape
    oh = out_size(h, pads[0], pads[2], kh, strides[0], dilations[0])
    ow = out_size(wi, pads[1], pads[3], kw, strides[1], dilations[1])
    wz = np.asarray(wzp, np.int8)
    wz_type = tensor(list(wz.shape), "i8")
    attrs = (f"{{strides = array<i64: {strides[0]}, {strides[1]}>, "
             f"pads = array<i64: {', '.join(map(str, pads))}>, "
             f"dilations = array<i64: {dilations[0]}, {dilations[1]}>}}")
    return f"""func.func @forward(%x: {tensor(xshape, 'f32')}) -> {tensor([n, o, oh, ow], 'i32')} {{
  %s = anvil.constant dense<1.0> : tensor<f32>
  %zx = anvil.constant dense<{xzp}> : tensor<ui8>
  %q = anvil.quantize %x, %s, %zx : {tensor(xshape, 'f32')}, tensor<f32>, tensor<ui8>
  %w = anvil.constant {dense_attr(w, 'i8')} : {tensor(list(w.shape), 'i8')}
  %zw = anvil.constant {dense_attr(wz, 'i8')} : {wz_type}
  %y = anvil.qconv2d %q, %w, %zx, %zw {attrs} : {tensor(xshape, 'ui8')}, {tensor(list(w.shape), 'i8')}, tensor<ui8>, {wz_type}
  return %y : {tensor([n, o, oh, ow], 'i32')}
}}
"""


# (batch, C, H, W, O, kernel, strides, pads, dilations)
KERNEL_CASES = [
    (2, 3, 9, 9, 8, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    (1, 8, 10, 7, 17, 3, (2, 2), (1, 1, 1, 1), (1, 1)),
    (3, 1, 12, 12, 5, 5, (1, 1), (2, 2, 2, 2), (1, 1)),
    (1, 17, 6, 6, 33, 1, (1, 1), (0, 0, 0, 0), (1, 1)),
    (2, 16, 8, 8, 32, 1, (2, 2), (0, 0, 0, 0), (1, 1)),
    (1, 4, 11, 9, 6, 3, (2, 1), (0, 2, 1, 0), (2, 1)),
    # Enough work for parallel column groups (threads).
    (2, 32, 16, 16, 64, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    # Direct convolutions written NCHW from the tiles (channels 4 divides,
    # O a multiple of 16) whose images' positions (49, 9) end in a shorter
    # tile: no tile spans two images; O = 16 and 48, whose last column group
    # has one block of channels and one of the packing's zeros.
    (2, 8, 7, 7, 32, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    (3, 4, 9, 9, 64, 3, (2, 2), (1, 0, 0, 1), (2, 2)),
    (2, 8, 6, 6, 16, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    (2, 16, 20, 20, 48, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    # O = 48 in parallel column groups (32 MFLOP): the last group's slice
    # is 16 channels wide.
    (2, 32, 24, 24, 48, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    # 16 and 32 channels in, copied NHWC straight into their padded image
    # (anvil-int8-matmul's nhwcByBlocks) with pads that differ on every
    # side, on row-aligned tiles (7 and 14 output columns).
    (2, 16, 9, 11, 16, 3, (1, 2), (2, 1, 0, 3), (1, 1)),
    (1, 32, 5, 13, 32, 3, (1, 1), (0, 2, 1, 1), (1, 1)),
    # An im2col by vector copies of window rows with a dilation along them
    # (every 2nd element of a 16-element read), and a 7x7 stride-2 filter
    # on 3 channels (ResNet's first).
    (2, 3, 11, 12, 8, 3, (1, 1), (1, 2, 0, 1), (1, 2)),
    (1, 3, 20, 20, 16, 7, (2, 2), (3, 3, 3, 3), (1, 1)),
]


def run_model(anvilc, model, inputs, out, flags, env=None):
    cmd = [anvilc, "run"] + flags + [model]
    for i in inputs:
        cmd += ["--input", i]
    p = subprocess.run(cmd + ["--output", out], capture_output=True,
                       text=True, env=env)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return np.load(out), ""


def kernel_cases(anvilc, tmp, check, rng):
    for k, (n, c, h, wi, o, ks, strides, pads, dil) in enumerate(KERNEL_CASES):
        xzp = int(rng.integers(0, 256))
        xq = rng.integers(0, 256, (n, c, h, wi))
        w = rng.integers(-127, 128, (o, c, ks, ks)).astype(np.int8)
        # Extreme values where they fit: 255 inputs against -127/127.
        xq.flat[0] = 255
        w.flat[0] = -127
        path = os.path.join(tmp, f"qconv{k}.mlir")
        with open(path, "w") as f:
            f.write(qconv_model([n, c, h, wi], w, xzp, 0, strides, pads, dil))
        xin = os.path.join(tmp, f"qconv{k}.x.npy")
        np.save(xin, (xq - xzp).astype(F32))
        want = numpy_qconv(xq, xzp, w, [0], strides, pads, dil)
        name = (f"qconv2d N{n} C{c} {h}x{wi} O{o} k{ks} s{strides} p{pads} "
                f"d{dil}")
        modes = [("compiled, 1 thread", [],
                  dict(os.environ, OMP_NUM_THREADS="1")),
                 ("compiled, 2 threads", [],
                  dict(os.environ, OMP_NUM_THREADS="2")),
                 ("--no-int8-conv", ["--no-int8-conv"], None),
                 ("--no-int8-direct-conv", ["--no-int8-direct-conv"], None),
                 ("--no-int8-direct-runs", ["--no-int8-direct-runs"], None),
                 ("--no-int8-vector-rows", ["--no-int8-vector-rows"], None),
                 ("--no-int8-narrow", ["--no-int8-narrow"], None),
                 ("--no-int8-pairs", ["--no-int8-pairs"], None),
                 ("--int8-matmul=portable", ["--int8-matmul=portable"], None),
                 ("reference", ["--reference"], None)]
        if k == 0:
            modes.append(("--int8-matmul=generic", ["--int8-matmul=generic"],
                          None))
        for mode, flags, env in modes:
            got, err = run_model(anvilc, path, [xin],
                                 os.path.join(tmp, "y.npy"), flags, env)
            ok = got is not None and got.dtype == np.int32 and \
                np.array_equal(got, want)
            check(ok, f"{name} ({mode}) = numpy's exact sums" +
                  (f": {err}" if got is None else "" if ok else
                   f": max difference {np.abs(got.astype(np.int64) - want).max()}"
                   if got.shape == want.shape else f": shape {got.shape}"))
        # With VNNI, channels that 4 divides take the direct convolution
        # (its input transposed to NHWC, no im2col), and so do the others
        # without a dilation along the rows (by runs of each filter row's
        # kw * C bytes; one channel is NHWC as it is, no copy); the flag keeps
        # the im2col. Without VNNI neither transposes the input. The NHWC
        # copy: by 16 x 16 blocks in registers where 16 divides C (16-byte
        # writes of a position's channels), else linalg.transpose;
        # --no-int8-vector-rows: linalg.transpose.
        blocks = re.compile(rf"vector<16xui8>, tensor<1x\d+x{c}xui8>")
        ir, kinds = {}, {}
        for flags in ([], ["--no-int8-direct-conv"], ["--no-int8-vector-rows"]):
            p = subprocess.run([anvilc, path, "--compile-to=backend"] + flags,
                               capture_output=True, text=True)
            transposes = p.stdout.count("permutation = [0, 2, 3, 1]")
            by_blocks = bool(blocks.search(p.stdout))
            ir[" ".join(flags)] = transposes + int(by_blocks)
            kinds[" ".join(flags)] = ("blocks" if by_blocks else
                                      "transpose" if transposes else "none")
        direct = HAS_VNNI and (c % 4 == 0 or dil[1] == 1)
        check(ir[""] == int(direct and c > 1) and ir["--no-int8-direct-conv"] == 0,
              f"{name}: {'direct' if direct else 'im2col'} by default, "
              f"im2col with --no-int8-direct-conv (NHWC copies: {ir})")
        if direct and c > 1:
            want = "blocks" if c % 16 == 0 else "transpose"
            check(kinds[""] == want and
                  kinds["--no-int8-vector-rows"] == "transpose",
                  f"{name}: the NHWC copy by {want}, linalg.transpose with "
                  f"--no-int8-vector-rows ({kinds})")
        # Its im2col, where it has one: vector copies of window rows, into
        # [positions, K + 8] (8 columns for the last copy's spill), unless
        # --no-int8-vector-rows.
        # (Channels that 4 does not divide: the im2col with
        # --no-int8-direct-runs.)
        if HAS_VNNI and c % 4 and ks <= 8 and c * ks <= 64:
            # (Positions: the batch may be split into chunks per thread.)
            wide = re.compile(rf"tensor<\d+x{c * ks * ks + 8}xui8>")
            rows = {}
            for flags in ([], ["--no-int8-vector-rows"]):
                p = subprocess.run([anvilc, path, "--compile-to=backend",
                                    "--no-int8-direct-runs"] + flags,
                                   capture_output=True, text=True)
                rows[bool(flags)] = bool(wide.search(p.stdout))
            check(rows == {False: True, True: False},
                  f"{name}: the im2col by vector copies of window rows, "
                  f"the generic copy with --no-int8-vector-rows: {rows}")
    # A per-channel nonzero weight zero point: the portable generic.
    n, c, h, wi, o = 1, 3, 5, 5, 4
    xzp = 9
    xq = rng.integers(0, 256, (n, c, h, wi))
    w = rng.integers(-128, 128, (o, c, 3, 3)).astype(np.int8)
    wzp = np.array([0, 3, -2, 7], np.int8)
    path = os.path.join(tmp, "qconv_wzp.mlir")
    with open(path, "w") as f:
        f.write(qconv_model([n, c, h, wi], w, xzp, wzp, (1, 1), (1, 1, 1, 1),
                            (1, 1)))
    xin = os.path.join(tmp, "qconv_wzp.x.npy")
    np.save(xin, (xq - xzp).astype(F32))
    want = numpy_qconv(xq, xzp, w, wzp, (1, 1), (1, 1, 1, 1), (1, 1))
    for mode, flags in [("compiled", []), ("reference", ["--reference"])]:
        got, err = run_model(anvilc, path, [xin], os.path.join(tmp, "y.npy"),
                             flags)
        check(got is not None and np.array_equal(got, want),
              f"qconv2d per-channel weight zero points ({mode})" +
              (f": {err}" if got is None else ""))


BATCH = 8


def cnn_text(p):
    """A small CNN on [8, 3, 12, 12]: two one-group convs, a depthwise one,
    a global average pool and a classifier matmul."""
    def param(name):
        v = p[name]
        t = tensor(list(v.shape), "f32")
        return (f'anvil.param "{name}" init = "dense" {{value = '
                f'{dense_attr(v, "f32")} : {t}}} : {t}')
    return f"""module {{
  func.func @forward(%x: tensor<8x3x12x12xf32>) -> tensor<8x10xf32> {{
    %k1 = {param("conv1.weight")}
    %b1 = {param("conv1.bias")}
    %c1 = anvil.conv2d %x, %k1, %b1 {{pads = array<i64: 1, 1, 1, 1>}} : tensor<8x3x12x12xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>
    %r1 = anvil.relu %c1 : tensor<8x16x12x12xf32>
    %k2 = {param("conv2.weight")}
    %b2 = {param("conv2.bias")}
    %c2 = anvil.conv2d %r1, %k2, %b2 {{strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}} : tensor<8x16x12x12xf32>, tensor<24x16x3x3xf32>, tensor<24xf32>
    %r2 = anvil.relu %c2 : tensor<8x24x6x6xf32>
    %k3 = {param("dw.weight")}
    %c3 = anvil.conv2d %r2, %k3 {{groups = 24 : i64, pads = array<i64: 1, 1, 1, 1>}} : tensor<8x24x6x6xf32>, tensor<24x1x3x3xf32>
    %r3 = anvil.relu %c3 : tensor<8x24x6x6xf32>
    %g = anvil.global_avg_pool %r3 : tensor<8x24x6x6xf32>
    %f = anvil.flatten %g : tensor<8x24x1x1xf32>
    %w = {param("fc.weight")}
    %b = {param("fc.bias")}
    %m = anvil.matmul %f, %w : tensor<8x24xf32>, tensor<24x10xf32>
    %y = anvil.add %m, %b : tensor<8x10xf32>, tensor<10xf32>
    return %y : tensor<8x10xf32>
  }}
}}
"""


def cnn_params(rng):
    def kaiming(*shape):
        fan = np.prod(shape[1:])
        return rng.normal(0, np.sqrt(2 / fan), shape).astype(F32)
    return {"conv1.weight": kaiming(16, 3, 3, 3),
            "conv1.bias": rng.normal(0, 0.1, 16).astype(F32),
            "conv2.weight": kaiming(24, 16, 3, 3),
            "conv2.bias": rng.normal(0, 0.1, 24).astype(F32),
            "dw.weight": kaiming(24, 1, 3, 3),
            "fc.weight": kaiming(24, 10),
            "fc.bias": rng.normal(0, 0.1, 10).astype(F32)}


def numpy_quant(x, scale, zp):
    return np.clip(np.rint(x / F32(scale)) + zp, 0, 255)


def cnn_case(anvilc, tmp, check, rng):
    def path(name):
        return os.path.join(tmp, name)
    params = cnn_params(rng)
    with open(path("cnn.mlir"), "w") as f:
        f.write(cnn_text(params))
    xcal = rng.normal(0.5, 1.0, (64, 3, 12, 12)).astype(F32)
    np.save(path("cal.npy"), xcal)
    p = subprocess.run([anvilc, "quantize", path("cnn.mlir"), "--calibrate",
                        path("cal.npy"), "--samples", "64", "--report-json",
                        path("r.json"), "-o", path("q.mlir")],
                       capture_output=True, text=True)
    check(p.returncode == 0, "anvilc quantize cnn.mlir: " + p.stderr.strip())
    if p.returncode != 0:
        return
    print(p.stdout)
    ir = open(path("q.mlir")).read()
    check(ir.count("anvil.qconv2d") == 2 and ir.count("anvil.qmatmul") == 1
          and ir.count("anvil.conv2d") == 1,
          "two qconv2d, one qmatmul, the depthwise conv2d left f32")
    report = json.load(open(path("r.json")))
    ops = [(l["name"], l["op"]) for l in report["layers"]]
    check(ops == [("conv1.weight", "conv2d"), ("conv2.weight", "conv2d"),
                  ("fc.weight", "matmul")], f"report's int8 layers {ops}")
    ex = report["excluded"]
    check(len(ex) == 1 and ex[0]["name"] == "dw.weight" and
          "grouped convolution (groups 24, depthwise)" in ex[0]["reason"],
          f"report's f32 layers and why: {ex}")
    check("excluded (f32): dw.weight: a grouped convolution" in p.stdout,
          "the text report lists the depthwise conv as f32 with why")
    check(report["sqnr_db"] is not None and report["sqnr_db"] > 25,
          f"int8 vs fp32 output SQNR {report['sqnr_db']} dB > 25")
    # conv1's input is the signed data: zero point where 0 falls; conv2's
    # is a ReLU's (zero point 0).
    zp = [l["input_zero_point"] for l in report["layers"]]
    check(zp[0] > 0 and zp[1] == 0, f"zero points {zp[:2]}: > 0, then 0")
    # Each layer (a convolution with its bias too) compiled alone, timed.
    times = [(l["f32_ms"], l["int8_ms"]) for l in report["layers"]]
    check(all(isinstance(t, float) and 0 < t < 1e4 for pair in times
              for t in pair), f"every layer's f32 and int8 ms {times}")
    # --only-faster: the layers whose int8 alone took > 1.1x f32 (its own
    # run's times) stay f32, and only those.
    p = subprocess.run([anvilc, "quantize", path("cnn.mlir"), "--calibrate",
                        path("cal.npy"), "--samples", "64", "--only-faster",
                        "--no-layer-sqnr", "--report-json", path("rf.json"),
                        "-o", path("qf.mlir")], capture_output=True, text=True)
    check(p.returncode == 0, "--only-faster: " + p.stderr.strip())
    if p.returncode == 0:
        rf = json.load(open(path("rf.json")))
        slow = sorted(l["name"] for l in rf["layers"]
                      if l["int8_ms"] > 1.1 * l["f32_ms"])
        kept = sorted(rf["only_faster_kept_f32"])
        irf = open(path("qf.mlir")).read()
        ints = irf.count("anvil.qconv2d") + irf.count("anvil.qmatmul")
        check(kept == slow and ints == 3 - len(kept) and
              all(l["int8"] == (l["name"] not in kept) for l in rf["layers"]),
              f"--only-faster kept f32 exactly the slower layers {slow} "
              f"(kept {kept}, {ints} integer ops left)")
    # The layers compiled alone to time them do not print the user's
    # reports: one fusion report, the executable's.
    p = subprocess.run([anvilc, path("cnn.mlir"), "--int8", "--calibrate",
                        path("cal.npy"), "--samples", "64", "--no-layer-sqnr",
                        "--fusion-report", "-o", path("fr-exe")],
                       capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.count("fusion report:") == 1,
          "--int8 with layer times and --fusion-report: one report "
          f"({p.stdout.count('fusion report:')}) " + p.stderr.strip())
    p = subprocess.run([anvilc, "quantize", path("cnn.mlir"), "--calibrate",
                        path("cal.npy"), "--only-faster", "--no-layer-times",
                        "-o", path("qe.mlir")], capture_output=True, text=True)
    check(p.returncode != 0 and "cannot go with --no-layer-times" in p.stderr
          and not os.path.exists(path("qe.mlir")),
          "--only-faster with --no-layer-times: " + p.stderr.strip())

    # Compiled int8 = the reference on the same IR, at 1 and 2 threads.
    x = rng.normal(0.5, 1.0, (BATCH, 3, 12, 12)).astype(F32)
    np.save(path("x.npy"), x)
    ref, err = run_model(anvilc, path("q.mlir"), [path("x.npy")],
                         path("ref.npy"), ["--reference"])
    check(ref is not None, "reference on q.mlir " + err)
    for t in ("1", "2"):
        got, err = run_model(anvilc, path("q.mlir"), [path("x.npy")],
                             path("got.npy"), [],
                             dict(os.environ, OMP_NUM_THREADS=t))
        ok = got is not None and ref is not None and np.allclose(
            got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        check(ok, f"compiled int8 CNN = reference, {t} thread(s)" +
              (f": {err}" if got is None else "" if ok else
               f": max difference {np.abs(got - ref).max()}"))

    # The first int8 stage against a numpy int8 model: quantize, exact i32
    # sums, dequantize, bias, ReLU.
    l1 = report["layers"][0]
    sx, zx = l1["input_scale"], l1["input_zero_point"]
    w1 = params["conv1.weight"]
    sw = np.maximum(np.abs(w1).reshape(16, -1).max(1), 0) / F32(127)
    sw = sw.astype(F32)
    wq = np.clip(np.rint(w1 / sw.reshape(-1, 1, 1, 1)), -127, 127)
    acc = numpy_qconv(numpy_quant(x, sx, zx).astype(np.int64), zx,
                      wq.astype(np.int8), [0], (1, 1), (1, 1, 1, 1), (1, 1))
    # The bias on the accumulators' grid (QLinearConv's int32 bias).
    s_acc = (F32(sx) * sw).astype(F32)
    bias = (np.rint(params["conv1.bias"].astype(np.float64) / s_acc) *
            s_acc).astype(F32)
    stage = np.maximum(
        acc.astype(F32) * s_acc.reshape(1, -1, 1, 1) +
        bias.reshape(1, -1, 1, 1), 0)
    with open(path("stage.mlir"), "w") as f:
        text = ir
        # The quantized model cut after its first ReLU: return it.
        lines = text.splitlines()
        cut = []
        for line in lines:
            cut.append(line)
            if "anvil.relu" in line:
                name = line.split("=")[0].strip()
                cut.append(f"    return {name} : tensor<8x16x12x12xf32>")
                cut.append("  }")
                cut.append("}")
                break
        f.write("\n".join(cut).replace("-> tensor<8x10xf32>",
                                       "-> tensor<8x16x12x12xf32>") + "\n")
    got, err = run_model(anvilc, path("stage.mlir"), [path("x.npy")],
                         path("stage.npy"), [])
    ok = got is not None and np.allclose(got, stage, rtol=1e-5,
                                         atol=1e-5 * np.abs(stage).max())
    check(ok, "compiled int8 conv1 + bias + ReLU = numpy's int8 model" +
          (f": {err}" if got is None else "" if ok else
           f": max difference {np.abs(got - stage).max()}"))

    # QDQ ONNX: a Conv of DequantizeLinear(x) and DequantizeLinear(W_i8).
    p = subprocess.run([anvilc, "quantize", path("cnn.mlir"), "--calibrate",
                        path("cal.npy"), "--samples", "64", "--no-layer-times", "-o",
                        path("q.onnx")], capture_output=True, text=True)
    check(p.returncode == 0, "anvilc quantize -o q.onnx: " + p.stderr.strip())
    if p.returncode != 0:
        return
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path("q.onnx"))
    onnx.checker.check_model(m)
    producers = {o: n for n in m.graph.node for o in n.output}
    inits = {i.name: i for i in m.graph.initializer}
    qdq = 0
    for n in m.graph.node:
        if n.op_type != "Conv":
            continue
        feeds = [producers.get(i) for i in n.input[:2]]
        if all(f is not None and f.op_type == "DequantizeLinear"
               for f in feeds):
            wdq = feeds[1]
            axis = [a.i for a in wdq.attribute if a.name == "axis"]
            w = inits.get(wdq.input[0])
            # The bias: DQ(int32, scale_x * scale_w, axis 0), which ONNX
            # Runtime needs to fuse the Conv into QLinearConv.
            bdq = producers.get(n.input[2]) if len(n.input) > 2 else None
            b = inits.get(bdq.input[0]) if bdq is not None and \
                bdq.op_type == "DequantizeLinear" else None
            bscale = inits.get(bdq.input[1]) if b is not None else None
            if w is not None and w.data_type == onnx.TensorProto.INT8 and \
                    axis == [0] and b is not None and \
                    b.data_type == onnx.TensorProto.INT32 and \
                    [a.i for a in bdq.attribute if a.name == "axis"] == [0]:
                wscale = numpy_helper.to_array(inits[wdq.input[1]])
                xscale = numpy_helper.to_array(
                    inits.get(feeds[0].input[1]) or next(
                        a.t for a in producers[feeds[0].input[1]].attribute))
                check(np.allclose(numpy_helper.to_array(bscale),
                                  xscale * wscale, rtol=1e-6),
                      "QDQ ONNX: the bias scale is scale_x * scale_w")
                qdq += 1
    check(qdq == 2, f"QDQ ONNX: {qdq} Conv(DQ(x), DQ(W int8, axis 0), "
          "DQ(bias int32, axis 0)) of 2")
    # No Add after a Conv (through the Identity of its dequantize).
    adds = [n for n in m.graph.node if n.op_type == "Add" and any(
        producers.get(i) is not None and producers[i].op_type == "Identity"
        and producers.get(producers[i].input[0]) is not None and
        producers[producers[i].input[0]].op_type == "Conv" for i in n.input)]
    check(not adds, f"QDQ ONNX: the biases are the Convs' inputs, yet "
          f"{len(adds)} Add node(s) follow a Conv")
    got, err = run_model(anvilc, path("q.onnx"), [path("x.npy")],
                         path("onnx.npy"), ["--reference"])
    ok = got is not None and ref is not None and np.allclose(
        got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    check(ok, "QDQ ONNX on the reference = the int8 .mlir model" +
          (f": {err}" if got is None else "" if ok else
           f": max difference {np.abs(got - ref).max()}"))

    # anvilc MODEL --int8 --calibrate DATA -o EXE: quantizes as anvilc
    # quantize does, then compiles; the same outputs as `anvilc q.mlir`.
    env1 = dict(os.environ, OMP_NUM_THREADS="1")
    want, err = run_model(anvilc, path("q.mlir"), [path("x.npy")],
                          path("want.npy"), [], env1)
    p = subprocess.run([anvilc, path("cnn.mlir"), "--int8", "--calibrate",
                        path("cal.npy"), "--samples", "64", "--no-layer-sqnr",
                        "--no-layer-times", "-o", path("int8-exe")], capture_output=True,
                       text=True)
    check(p.returncode == 0 and "anvilc --int8: " in p.stdout and
          "3 of 4 layers int8" in p.stdout,
          "anvilc cnn.mlir --int8 --calibrate: compiles and reports " +
          p.stderr.strip() + p.stdout[:300])
    if p.returncode == 0:
        q = subprocess.run([path("int8-exe"), "--input", path("x.npy"),
                            "--output", path("int8-exe.npy")],
                           capture_output=True, text=True, env=env1)
        got = np.load(path("int8-exe.npy")) if q.returncode == 0 else None
        check(got is not None and want is not None and
              np.array_equal(got, want),
              "anvilc --int8's executable = anvilc q.mlir's, bit for bit" +
              (": " + q.stderr.strip() + err if got is None else ""))
    for flags, says in ((["--calibrate", path("cal.npy")], "go with --int8"),
                        (["--int8"], "--calibrate DATA"),
                        (["--int8", "--calibrate", path("cal.npy"),
                          "--samples", "0"], "--samples must be > 0")):
        p = subprocess.run([anvilc, path("cnn.mlir")] + flags +
                           ["-o", path("bad-exe")], capture_output=True,
                           text=True)
        check(p.returncode != 0 and says in p.stderr and
              not os.path.exists(path("bad-exe")),
              f"anvilc cnn.mlir {' '.join(flags[:1])}...: one error saying "
              f"'{says}', nothing written: {p.stderr.strip()}")


POOL_QUANTIZE = """module {{
  func.func @forward(%x: tensor<2x8x{h}x{h}xf32>) -> tensor<2x8x{o}x{o}xf32> {{
    %p = anvil.max_pool2d %x {{kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}} : tensor<2x8x{h}x{h}xf32>
    %s = anvil.constant dense<0.05> : tensor<f32>
    %z = anvil.constant dense<3> : tensor<ui8>
    %q = anvil.quantize %p, %s, %z : tensor<2x8x{o}x{o}xf32>, tensor<f32>, tensor<ui8>
    %d = anvil.dequantize %q, %s, %z : tensor<2x8x{o}x{o}xui8>, tensor<f32>, tensor<ui8>
    return %d : tensor<2x8x{o}x{o}xf32>
  }}
}}
"""


def pool_quantize_case(anvilc, tmp, check, rng):
    """A max pool whose result is quantized (LeNet's, in int8): the fused
    window kernel with a ui8 body is vector code (anvil-vectorize-windows:
    its ui8 <-> i8 casts as vector casts), equal to the reference and to
    --no-vectorize-windows bit for bit, and to numpy."""
    for h in (28, 14):
        o = h // 2
        path = os.path.join(tmp, f"poolq{h}.mlir")
        with open(path, "w") as f:
            f.write(POOL_QUANTIZE.format(h=h, o=o))
        x = rng.normal(0, 4, (2, 8, h, h)).astype(F32)
        xin = os.path.join(tmp, f"poolq{h}.x.npy")
        np.save(xin, x)
        pooled = x.reshape(2, 8, o, 2, o, 2).max(axis=(3, 5))
        want = ((np.clip(np.rint(pooled / F32(0.05)) + 3, 0, 255) - 3) *
                F32(0.05)).astype(F32)
        p = subprocess.run([anvilc, path, "--compile-to=backend"],
                           capture_output=True, text=True)
        check("vector<16xui8>" in p.stdout or "vector<8xui8>" in p.stdout,
              f"pool {h}x{h} + quantize: a vectorized window kernel (ui8 "
              "vectors)")
        for mode, flags in (("compiled", []),
                            ("--no-vectorize-windows",
                             ["--no-vectorize-windows"]),
                            ("reference", ["--reference"])):
            got, err = run_model(anvilc, path, [xin],
                                 os.path.join(tmp, "poolq.npy"), flags)
            check(got is not None and np.array_equal(got, want),
                  f"pool {h}x{h} + quantize ({mode}) = numpy" +
                  (f": {err}" if got is None else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    check = Checks()
    rng = np.random.default_rng(23)
    with tempfile.TemporaryDirectory() as tmp:
        kernel_cases(args.anvilc, tmp, check, rng)
        cnn_case(args.anvilc, tmp, check, rng)
        pool_quantize_case(args.anvilc, tmp, check, rng)
    print(f"{len(check.failures)} failure(s)")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
