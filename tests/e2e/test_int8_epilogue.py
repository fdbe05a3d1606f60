#!/usr/bin/python3
"""An int8 convolution's dequantize .. quantize chain computed in its tiles (anvil-int8-matmul's epilogue).

anvil-int8-matmul's VNNI tiles that write a convolution's NCHW result take
the ops after it (passes/Int8Epilogue.h): dequantize, a per-channel add, a
residual add, relu and a per-tensor quantize to ui8, each the only user of
the one before. Four functions cover the chain's shapes and the tiles':

- u8_residual: the whole chain, its residual the function's f32 input, on
  13-wide rows (one-block tiles of 16 rows: a 13-position segment per row),
  then a stride-2 convolution to 32 channels (8 x 2-block tiles, 7-wide
  rows) whose dequantize (per tensor) and relu end in f32;
- narrow6: 6 output channels (one block, masked), whole 5-wide rows three
  to a tile, a [6, 1, 1] bias, then an im2col convolution (6 channels in,
  which 4 does not divide) whose tiles take its dequantize too;
- parallel64: 64 channels on 20-wide rows (segments of 7, 7 and 6) in an
  scf.forall over channel groups (3 images: not split into chunks), each
  tile reading its channels' scales by their index in the whole result;
- two_users: a relu that a residual add reads too, so the tiles store it as
  f32 and its quantize runs after;
- pooled: LeNet's shape: relu -> max_pool2d (3x3, stride 2, padded) ->
  quantize, then relu -> max_pool2d (2x2, ceil mode) -> flatten -> quantize.
  anvil-hoist-quantize moves each quantize before the pool (and the
  flatten), so the tiles quantize and the pools run on ui8;
- wide_pool: a ui8 max pool of 64 taps (the generic that reduces over the
  window, not the taps' elementwise one);
- lanes_lenet, lanes_residual: one-channel images at stride 1 (LeNet's
  conv1 on 20-wide rows; a 3x3 stem of 16 channels on 17-wide rows with a
  residual), whose tiles hold 16 positions of one channel each
  (Int8LaneConv.h; segments that overlap where 16 does not divide the
  row).

The fusion report must show the chains in the tiles' stores and say why
the two_users quantize is not; the executables with the epilogue, without
it (--no-fusion) and without row-aligned tiles (--no-int8-row-tiles) must
give the same values bit for bit at 1, 2 and 3 threads, and --no-fusion
the reference interpreter's within 1e-4; so must, for pooled, the
executable with the pools on f32 (--no-hoist-quantize), and for the lane
cases the one without lane tiles (--no-int8-lanes).
"""
import os
import sys
import tempfile

import numpy as np

from checks import Checks, anvilc_arg, compare_threads, must


def dense(a):
    if a.dtype == np.float32:
        return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'
    return "dense<" + str(a.tolist()) + ">"


def conv(rng, name, x, o, c, k, pads, strides, in_type, out_type, zx="%z0"):
    """A qconv2d of `x` by a random [o, c, k, k] int8 filter (its result
    type, `out_type`, is inferred)."""
    w = rng.integers(-127, 128, (o, c, k, k)).astype(np.int8)
    return (f"    %{name}w = anvil.constant {dense(w)} : tensor<{o}x{c}x{k}x{k}xi8>\n"
            f"    %{name} = anvil.qconv2d {x}, %{name}w, {zx}, %wz {{pads = array<i64: "
            f"{pads}, {pads}, {pads}, {pads}>, strides = array<i64: {strides}, {strides}>}} : "
            f"{in_type}, tensor<{o}x{c}x{k}x{k}xi8>, tensor<ui8>, tensor<i8>\n")


def scales(rng, n, lo, hi):
    return dense(rng.uniform(lo, hi, n).astype(np.float32))


def dequantize(rng, name, shape, lo, hi):
    """%{name}d: the i32 %{name} [N, O, H, W] dequantized per channel by
    random scales in [lo, hi) and zero points 0."""
    o = shape[1]
    acc = "x".join(map(str, shape))
    return (f"    %{name}s = anvil.constant {scales(rng, o, lo, hi)} : tensor<{o}xf32>\n"
            f"    %{name}z = anvil.constant dense<0> : tensor<{o}xi32>\n"
            f"    %{name}d = anvil.dequantize %{name}, %{name}s, %{name}z : tensor<{acc}xi32>, "
            f"tensor<{o}xf32>, tensor<{o}xi32>\n")


def t(shape, e="f32"):
    return f"tensor<{'x'.join(map(str, shape))}x{e}>"


def quantized_block(rng, x_shape, o, k, pads, bias_shape, residual=None):
    """%q: the function's input %x quantized (%s0, %z0); %a: its qconv2d
    to `o` channels (k x k, stride 1, padded by `pads`); %ad dequantized per
    channel; %a1 plus a random bias of `bias_shape`; %a2 plus `residual`
    when given; %a3 its relu. Returns the text and the f32 result type."""
    n, c, h, w = x_shape
    out = [n, o, h + 2 * pads - k + 1, w + 2 * pads - k + 1]
    f = t(out)
    bias = t(bias_shape)
    text = (f"    %q = anvil.quantize %x, %s0, %z0 : {t(x_shape)}, tensor<f32>, tensor<ui8>\n" +
            conv(rng, "a", "%q", o, c, k, pads, 1, t(x_shape, "ui8"), t(out, "i32")) +
            dequantize(rng, "a", out, 5e-4, 2e-3) +
            f"    %ab = anvil.constant {scales(rng, o, -0.5, 0.5)} : {bias}\n"
            f"    %a1 = anvil.add %ad, %ab : {f}, {bias}\n")
    last = "%a1"
    if residual:
        text += f"    %a2 = anvil.add %a1, {residual} : {f}, {f}\n"
        last = "%a2"
    return text + f"    %a3 = anvil.relu {last} : {f}\n", f


def model(rng):
    head = """    %wz = anvil.constant dense<0> : tensor<i8>
    %z0 = anvil.constant dense<128> : tensor<ui8>
    %s0 = anvil.constant dense<0.01> : tensor<f32>
    %s1 = anvil.constant dense<0.05> : tensor<f32>
    %z1 = anvil.constant dense<3> : tensor<ui8>
"""
    u8 = t([2, 16, 13, 13])
    u8_residual = (
        f"  func.func @u8_residual(%x: {u8}) -> {t([2, 32, 7, 7])} {{\n" + head +
        f"    %q = anvil.quantize %x, %s0, %z0 : {u8}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "a", "%q", 16, 16, 3, 1, 1, t([2, 16, 13, 13], "ui8"),
             t([2, 16, 13, 13], "i32")) +
        dequantize(rng, "a", [2, 16, 13, 13], 2e-4, 6e-4) +
        f"    %ab = anvil.constant {scales(rng, 16, -0.5, 0.5)} : tensor<1x16x1x1xf32>\n"
        f"    %a1 = anvil.add %ad, %ab : {u8}, tensor<1x16x1x1xf32>\n"
        f"    %a2 = anvil.add %a1, %x : {u8}, {u8}\n"
        f"    %a3 = anvil.relu %a2 : {u8}\n"
        f"    %aq = anvil.quantize %a3, %s1, %z1 : {u8}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "b", "%aq", 32, 16, 3, 1, 2, t([2, 16, 13, 13], "ui8"),
             t([2, 32, 7, 7], "i32"), zx="%z1") +
        f"    %bs = anvil.constant dense<0.0004> : tensor<f32>\n"
        f"    %bz = anvil.constant dense<5> : tensor<i32>\n"
        f"    %bd = anvil.dequantize %b, %bs, %bz : {t([2, 32, 7, 7], 'i32')}, tensor<f32>, tensor<i32>\n"
        f"    %br = anvil.relu %bd : {t([2, 32, 7, 7])}\n"
        f"    return %br : {t([2, 32, 7, 7])}\n  }}\n")
    n6 = t([3, 6, 5, 5])
    narrow6 = (
        f"  func.func @narrow6(%x: {t([3, 4, 5, 5])}) -> {t([3, 16, 5, 5])} {{\n" + head +
        f"    %q = anvil.quantize %x, %s0, %z0 : {t([3, 4, 5, 5])}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "a", "%q", 6, 4, 3, 1, 1, t([3, 4, 5, 5], "ui8"), t([3, 6, 5, 5], "i32")) +
        dequantize(rng, "a", [3, 6, 5, 5], 5e-4, 2e-3) +
        f"    %ab = anvil.constant {scales(rng, 6, -0.5, 0.5)} : tensor<6x1x1xf32>\n"
        f"    %a1 = anvil.add %ad, %ab : {n6}, tensor<6x1x1xf32>\n"
        f"    %a3 = anvil.relu %a1 : {n6}\n"
        f"    %aq = anvil.quantize %a3, %s1, %z1 : {n6}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "b", "%aq", 16, 6, 3, 1, 1, t([3, 6, 5, 5], "ui8"), t([3, 16, 5, 5], "i32"),
             zx="%z1") +
        dequantize(rng, "b", [3, 16, 5, 5], 2e-4, 6e-4) +
        f"    return %bd : {t([3, 16, 5, 5])}\n  }}\n")
    p64 = t([3, 64, 20, 20])
    parallel64 = (
        f"  func.func @parallel64(%x: {t([3, 32, 20, 20])}) -> {p64} {{\n" + head +
        f"    %q = anvil.quantize %x, %s0, %z0 : {t([3, 32, 20, 20])}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "a", "%q", 64, 32, 3, 1, 1, t([3, 32, 20, 20], "ui8"), t([3, 64, 20, 20], "i32")) +
        dequantize(rng, "a", [3, 64, 20, 20], 1e-4, 4e-4) +
        f"    %ab = anvil.constant {scales(rng, 64, -0.5, 0.5)} : tensor<1x64x1x1xf32>\n"
        f"    %a1 = anvil.add %ad, %ab : {p64}, tensor<1x64x1x1xf32>\n"
        f"    %a3 = anvil.relu %a1 : {p64}\n"
        f"    return %a3 : {p64}\n  }}\n")
    two = t([2, 16, 8, 8])
    two_users = (
        f"  func.func @two_users(%x: {two}) -> {two} {{\n" + head +
        f"    %q = anvil.quantize %x, %s0, %z0 : {two}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "a", "%q", 16, 16, 3, 1, 1, t([2, 16, 8, 8], "ui8"), t([2, 16, 8, 8], "i32")) +
        dequantize(rng, "a", [2, 16, 8, 8], 2e-4, 6e-4) +
        f"    %a3 = anvil.relu %ad : {two}\n"
        f"    %aq = anvil.quantize %a3, %s1, %z1 : {two}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "b", "%aq", 16, 16, 3, 1, 1, t([2, 16, 8, 8], "ui8"), t([2, 16, 8, 8], "i32"),
             zx="%z1") +
        f"    %bd = anvil.dequantize %b, %as, %az : {t([2, 16, 8, 8], 'i32')}, tensor<16xf32>, tensor<16xi32>\n"
        f"    %b2 = anvil.add %bd, %a3 : {two}, {two}\n"
        f"    return %b2 : {two}\n  }}\n")
    block, p1 = quantized_block(rng, [2, 3, 14, 14], 6, 5, 2, [6, 1, 1])
    p2 = t([2, 16, 7, 7])
    pooled = (
        f"  func.func @pooled(%x: {t([2, 3, 14, 14])}) -> {t([2, 256])} {{\n" + head + block +
        f"    %ap = anvil.max_pool2d %a3 {{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, "
        f"pads = array<i64: 1, 1, 1, 1>}} : {p1}\n"
        f"    %aq = anvil.quantize %ap, %s1, %z1 : {t([2, 6, 7, 7])}, tensor<f32>, tensor<ui8>\n" +
        conv(rng, "b", "%aq", 16, 6, 3, 1, 1, t([2, 6, 7, 7], "ui8"), p2, zx="%z1") +
        dequantize(rng, "b", [2, 16, 7, 7], 2e-4, 6e-4) +
        f"    %b3 = anvil.relu %bd : {p2}\n"
        f"    %bp = anvil.max_pool2d %b3 {{kernel = array<i64: 2, 2>, ceil_mode}} : {p2}\n"
        f"    %bf = anvil.flatten %bp : {t([2, 16, 4, 4])}\n"
        f"    %bq = anvil.quantize %bf, %s1, %z1 : {t([2, 256])}, tensor<f32>, tensor<ui8>\n"
        f"    %out = anvil.dequantize %bq, %s1, %z1 : {t([2, 256], 'ui8')}, tensor<f32>, tensor<ui8>\n"
        f"    return %out : {t([2, 256])}\n  }}\n")
    wide = (
        f"  func.func @wide_pool(%x: {t([1, 3, 9, 9])}) -> {t([1, 3, 2, 2])} {{\n" + head +
        f"    %q = anvil.quantize %x, %s0, %z0 : {t([1, 3, 9, 9])}, tensor<f32>, tensor<ui8>\n"
        f"    %p = anvil.max_pool2d %q {{kernel = array<i64: 8, 8>, strides = array<i64: 1, 1>}} : "
        f"{t([1, 3, 9, 9], 'ui8')}\n"
        f"    %y = anvil.dequantize %p, %s0, %z0 : {t([1, 3, 2, 2], 'ui8')}, tensor<f32>, tensor<ui8>\n"
        f"    return %y : {t([1, 3, 2, 2])}\n  }}\n")
    block1, l1 = quantized_block(rng, [2, 1, 20, 20], 6, 5, 2, [6, 1, 1])
    block2, l2 = quantized_block(rng, [2, 1, 17, 17], 16, 3, 1, [1, 16, 1, 1], residual="%r")
    lanes = (
        f"  func.func @lanes_lenet(%x: {t([2, 1, 20, 20])}) -> {t([2, 6, 10, 10])} {{\n" + head +
        block1 +
        f"    %ap = anvil.max_pool2d %a3 {{kernel = array<i64: 2, 2>}} : {l1}\n"
        f"    %aq = anvil.quantize %ap, %s1, %z1 : {t([2, 6, 10, 10])}, tensor<f32>, tensor<ui8>\n"
        f"    %y = anvil.dequantize %aq, %s1, %z1 : {t([2, 6, 10, 10], 'ui8')}, tensor<f32>, tensor<ui8>\n"
        f"    return %y : {t([2, 6, 10, 10])}\n  }}\n"
        f"  func.func @lanes_residual(%x: {t([2, 1, 17, 17])}, %r: {l2}) -> {l2} {{\n" + head +
        block2 + f"    return %a3 : {l2}\n  }}\n")
    return ("module {\n" + u8_residual + narrow6 + parallel64 + two_users + pooled + wide +
            lanes + "}\n")


CASES = {"u8_residual": [(2, 16, 13, 13)], "narrow6": [(3, 4, 5, 5)],
         "parallel64": [(3, 32, 20, 20)], "two_users": [(2, 16, 8, 8)],
         "pooled": [(2, 3, 14, 14)], "wide_pool": [(1, 3, 9, 9)],
         "lanes_lenet": [(2, 1, 20, 20)], "lanes_residual": [(2, 1, 17, 17), (2, 16, 17, 17)]}

# anvilc compiles for the host: the VNNI tiles, which take the epilogue, here.
HAS_VNNI = "avx512_vnni" in open("/proc/cpuinfo").read()

# The report's kernels that must carry their chains (with VNNI).
# (Without the batch: anvil-split-batch may run the images in chunks.)
REPORTED = ["x16x13x13 + epilogue dequantize+add+add+relu+quantize in its tiles' stores",
            "x32x7x7 + epilogue dequantize+relu in its tiles' stores",
            "x6x5x5 + epilogue dequantize+add+relu+quantize in its tiles' stores",
            "x16x5x5 + epilogue dequantize in its tiles' stores",
            "x64x20x20 + epilogue dequantize+add+relu in its tiles' stores",
            "x16x8x8 + epilogue dequantize+relu in its tiles' stores",
            "x16x8x8 + epilogue dequantize+add in its tiles' stores",
            "quantize not fused with the relu: its input has 2 users",
            "x6x14x14 + epilogue dequantize+add+relu+quantize in its tiles' stores",
            "x16x7x7 + epilogue dequantize+relu+quantize in its tiles' stores",
            "x6x7x7 on 8-bit values (anvil-hoist-quantize moved the quantize after it "
            "before it)",
            "x16x4x4 on 8-bit values (anvil-hoist-quantize moved the quantize after it "
            "before it)"]
# The lane cases' kernels: lane tiles where anvilc's host target has
# AVX512_VBMI (vpermb), the other tiles elsewhere.
HAS_VBMI = "avx512vbmi" in open("/proc/cpuinfo").read().split()
LANES = " [lane tiles: 16 positions of one channel per accumulator]" if HAS_VBMI else ""
REPORTED += [f"x6x20x20{LANES} + epilogue dequantize+add+relu+quantize in its tiles' stores",
             f"x16x17x17{LANES} + epilogue dequantize+add+add+relu in its tiles' stores"]


def main():
    anvilc = anvilc_arg(__doc__)
    check = Checks()
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "epilogue.mlir")
        with open(path, "w") as f:
            f.write(model(rng))
        fused, plain, unaligned = (os.path.join(tmp, n) for n in ("fused", "plain", "unaligned"))
        report = must([anvilc, path, "--fusion-report", "-o", fused])
        if HAS_VNNI:
            for line in REPORTED:
                check(line in report, f"the fusion report says '{line}'")
        else:
            check("+ epilogue" not in report and "only VNNI tiles" in report,
                  "without VNNI: no epilogue, and the report says why")
        plain_report = must([anvilc, path, "--no-fusion", "--fusion-report", "-o", plain])
        check("+ epilogue" not in plain_report and
              "dequantize not fused into the qconv2d before it: epilogue fusion is off "
              "(--no-fusion)" in plain_report, "--no-fusion: no epilogue, and the report says why")
        must([anvilc, path, "--no-int8-row-tiles", "-o", unaligned])
        unhoisted = os.path.join(tmp, "unhoisted")
        unhoisted_report = must([anvilc, path, "--no-hoist-quantize", "--fusion-report",
                                 "-o", unhoisted])
        check("on 8-bit values" not in unhoisted_report and
              "quantize not moved before the max_pool2d: anvil-hoist-quantize is off"
              in unhoisted_report, "--no-hoist-quantize: the pools stay f32, and the "
              "report says why")
        compare_threads(check, anvilc, path, CASES, plain, fused, "--no-fusion", tmp, rng)
        compare_threads(check, anvilc, path, CASES, unaligned, fused, "--no-int8-row-tiles",
                        tmp, rng)
        compare_threads(check, anvilc, path, {"pooled": CASES["pooled"]}, unhoisted, fused,
                        "--no-hoist-quantize", tmp, rng)
        no_lanes = os.path.join(tmp, "no_lanes")
        must([anvilc, path, "--no-int8-lanes", "-o", no_lanes])
        compare_threads(check, anvilc, path,
                        {k: CASES[k] for k in ("lanes_lenet", "lanes_residual")}, no_lanes,
                        fused, "--no-int8-lanes", tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
