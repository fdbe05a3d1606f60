#!/usr/bin/python3
"""The quantized ONNX ops against numpy, compiled and on the reference.

Each case is a one-node ONNX model (QuantizeLinear, DequantizeLinear,
MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv) with random data
plus the edge cases by hand (ties at +-0.5, +-2.5, saturation at both ends of
i8 and u8, per-channel parameters), run through `anvilc run` compiled and
with --reference (the integer matmuls also through each --int8-matmul
path). Each must equal the numpy implementation of the ONNX
formula below bit for bit: integer outputs exactly, f32 outputs too (each is
one f32 product of exact operands). A contraction too long for exact f32
sums (a convolution; the matmuls are anvil.qmatmul, exact at any K) must be
refused with a message. Exits non-zero on any mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
RANGE = {np.uint8: (0, 255), np.int8: (-128, 127)}
ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT,
             np.dtype(np.uint8): TensorProto.UINT8,
             np.dtype(np.int8): TensorProto.INT8,
             np.dtype(np.int32): TensorProto.INT32}


def per_channel(p, rank, axis):
    """A rank-0 or rank-1 parameter shaped to broadcast along `axis`."""
    p = np.asarray(p)
    if p.ndim == 0:
        return p
    shape = [1] * rank
    shape[axis] = p.size
    return p.reshape(shape)


def quantize(x, scale, zp, axis=1):
    lo, hi = RANGE[zp.dtype.type]
    s = per_channel(scale, x.ndim, axis)
    z = per_channel(zp, x.ndim, axis).astype(F32)
    # f32 division, rounding half to even, as ONNX's formula.
    return np.clip(np.rint(x / s) + z, lo, hi).astype(zp.dtype)


def dequantize(q, scale, zp, axis=1):
    d = q.astype(np.int64) - per_channel(zp, q.ndim, axis).astype(np.int64)
    return d.astype(F32) * per_channel(scale, q.ndim, axis)


def integer_matmul(a, azp, b, bzp):
    return np.matmul(a.astype(np.int64) - azp, b.astype(np.int64) - bzp)


def integer_conv(x, xzp, w, wzp, pads):
    """NCHW, stride 1: the exact integer convolution of the differences,
    padded with the zero point (real 0)."""
    xd = x.astype(np.int64) - xzp
    wd = w.astype(np.int64) - per_channel(wzp, 4, 0)
    xd = np.pad(xd, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wid = xd.shape
    m, _, kh, kw = wd.shape
    out = np.zeros((n, m, h - kh + 1, wid - kw + 1), np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xd[:, :, i:i + out.shape[2], j:j + out.shape[3]]
            out += np.einsum("nchw,mc->nmhw", patch, wd[:, :, i, j])
    return out


def requantize(acc, multiplier, yzp):
    real = acc.astype(F32) * multiplier
    lo, hi = RANGE[yzp.dtype.type]
    return np.clip(np.rint(real) + F32(yzp), lo, hi).astype(yzp.dtype)


def model(op, inputs, out_dtype, out_shape, opset=13, consts=(), **attrs):
    """A one-node model; the inputs named in `consts` are initializers (an
    executable takes at most 8 inputs and outputs together)."""
    names = [n for n, _ in inputs]
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node], op,
        [helper.make_tensor_value_info(n, ONNX_TYPE[v.dtype], v.shape)
         for n, v in inputs if n not in consts],
        [helper.make_tensor_value_info("y", ONNX_TYPE[np.dtype(out_dtype)],
                                       out_shape)],
        [numpy_helper.from_array(v, n) for n, v in inputs if n in consts])
    return helper.make_model(graph,
                             opset_imports=[helper.make_opsetid("", opset)])


def cases(rng):
    """(name, model, inputs, expected output)."""
    out = []
    # Ties and saturation, u8 and i8, per tensor.
    x = np.array([0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e9, -1e9, 127.5, -128.5,
                  254.6, 0.49999997], F32)
    for dtype, zp in ((np.uint8, 0), (np.uint8, 128), (np.int8, 0),
                      (np.int8, -3)):
        s, z = F32(1.0), np.array(zp, dtype)
        out.append((f"QuantizeLinear ties {np.dtype(dtype).name} zp {zp}",
                    [("x", x), ("s", np.array(s)), ("z", z)],
                    "QuantizeLinear", {}, quantize(x, s, z)))
    # Random, per channel along axis 1 and along the last axis (negative).
    x = rng.normal(0, 3, (2, 3, 4)).astype(F32)
    s = rng.uniform(0.01, 0.2, 3).astype(F32)
    z = rng.integers(-20, 20, 3).astype(np.int8)
    out.append(("QuantizeLinear i8 per channel axis 1",
                [("x", x), ("s", s), ("z", z)], "QuantizeLinear", {},
                quantize(x, s, z, 1)))
    s4 = rng.uniform(0.01, 0.2, 4).astype(F32)
    z4 = rng.integers(0, 255, 4).astype(np.uint8)
    out.append(("QuantizeLinear u8 per channel axis -1",
                [("x", x), ("s", s4), ("z", z4)], "QuantizeLinear",
                {"axis": -1}, quantize(x, s4, z4, 2)))
    # Dequantize: u8 per tensor, i8 per channel along 0, i32 accumulators.
    q = rng.integers(0, 256, (3, 5)).astype(np.uint8)
    out.append(("DequantizeLinear u8",
                [("q", q), ("s", np.array(F32(0.1))),
                 ("z", np.array(200, np.uint8))], "DequantizeLinear", {},
                dequantize(q, F32(0.1), np.array(200, np.uint8))))
    qi = rng.integers(-128, 128, (3, 5)).astype(np.int8)
    s3 = rng.uniform(0.01, 1, 3).astype(F32)
    z3 = np.array([-128, 0, 127], np.int8)
    out.append(("DequantizeLinear i8 per channel axis 0",
                [("q", qi), ("s", s3), ("z", z3)], "DequantizeLinear",
                {"axis": 0}, dequantize(qi, s3, z3, 0)))
    acc = rng.integers(-100000, 100000, (4,)).astype(np.int32)
    out.append(("DequantizeLinear i32",
                [("q", acc), ("s", np.array(F32(0.003)))], "DequantizeLinear",
                {}, dequantize(acc, F32(0.003), np.array(0, np.int32))))
    # MatMulInteger (anvil.qmatmul, exact i32 sums at any K): u8 x i8, the
    # extremes in every product of row 0 and column 0, odd M and N, K not a
    # multiple of 4 (1001, 37) and beyond f32's exact sums (258 was the
    # longest). Constant weights with zero point 0 (given or left out) take
    # anvil-int8-matmul's tiles (vpdpbusd, or the portable AVX2 path: both
    # run, see INT8_PATHS); the others the generic: an input, a nonzero or
    # per-column zero point. Row 0 of 255s times columns of -128 and of 127:
    # the largest products of both signs, where a saturating i16 pair sum
    # (vpmaddubsw) would clip. M, N and K not multiples of the tiles (AVX2:
    # 6 rows, 16 columns, k pairs; VNNI: 8, 32, groups of 4), K = 1 (only
    # the masked last pair), M = 7 (one row past a tile).
    for m, k, n, const, azp, bzp in (
            (3, 258, 5, False, 0, np.array(127, np.int8)),
            (3, 1001, 7, True, 128, np.array(0, np.int8)),
            (19, 37, 40, True, 3, None),
            (3, 37, 3, True, 0, np.array([-3, 0, 100], np.int8)),
            (5, 1, 9, True, 200, None),
            (7, 2, 17, True, 0, np.array(0, np.int8)),
            # Large enough for threads (8.4 MFLOP): an scf.forall over
            # column pairs, run at 1, 2 and 3 threads (THREADS).
            (70, 300, 200, True, 9, np.array(0, np.int8))):
        a = rng.integers(0, 256, (m, k)).astype(np.uint8)
        b = rng.integers(-128, 128, (k, n)).astype(np.int8)
        a[0, :] = 255
        b[:, 0] = -128
        b[:, 1:2] = 127
        inputs = [("a", a), ("b", b), ("azp", np.array(azp, np.uint8))]
        if bzp is not None:
            inputs.append(("bzp", bzp))
        out.append((f"MatMulInteger {m}x{k}x{n} azp {azp}" +
                    (" const" if const else "") +
                    (" no bzp" if bzp is None else ""),
                    inputs, "MatMulInteger",
                    {"consts": ("b", "bzp") if const else ()},
                    integer_matmul(a, azp, b, 0 if bzp is None else bzp)
                    .astype(np.int32)))
    # Batched activations [2, 5, 64] by shared constant weights [64, 33].
    a = rng.integers(0, 256, (2, 5, 64)).astype(np.uint8)
    b = rng.integers(-128, 128, (64, 33)).astype(np.int8)
    out.append(("MatMulInteger batched const",
                [("a", a), ("b", b), ("azp", np.array(77, np.uint8))],
                "MatMulInteger", {"consts": ("b",)},
                integer_matmul(a, 77, b, 0).astype(np.int32)))
    # Weights all within [-64, 64]: without VNNI, anvil-int8-matmul's
    # vpmaddubsw tile, exact only for them (2 x 255 x 64 = 32640 fits its i16
    # pair sums), at the bounds: rows of 255 by columns of 64 and of -64.
    # One weight of -65 sends the same matrix to the vpmaddwd tile (a
    # vpmaddubsw there would saturate: 255 x -65 x 2 < -32768).
    for m, k, n, low in ((11, 67, 21, None), (11, 67, 21, -65)):
        a = rng.integers(0, 256, (m, k)).astype(np.uint8)
        b = rng.integers(-64, 65, (k, n)).astype(np.int8)
        a[0, :] = 255
        b[:, 0] = 64
        b[:, 1] = -64
        if low is not None:
            b[:, 2] = low
        out.append((f"MatMulInteger {m}x{k}x{n} weights within [-64, 64]" +
                    (f" but {low}" if low is not None else ""),
                    [("a", a), ("b", b), ("azp", np.array(5, np.uint8))],
                    "MatMulInteger", {"consts": ("b",)},
                    integer_matmul(a, 5, b, 0).astype(np.int32)))
    # Zero points left out: 0 of each operand's type (u8 x u8 here), K = 300.
    a = rng.integers(0, 256, (2, 300)).astype(np.uint8)
    b = rng.integers(0, 256, (300, 3)).astype(np.uint8)
    out.append(("MatMulInteger u8 x u8 no zero points",
                [("a", a), ("b", b)], "MatMulInteger", {},
                integer_matmul(a, 0, b, 0).astype(np.int32)))
    # QuantizeLinear without a zero point: uint8, zero point 0 (a ui8
    # constant).
    x = np.array([-1.0, 0.4, 0.6, 300.0], F32)
    out.append(("QuantizeLinear default zero point",
                [("x", x), ("s", np.array(F32(1.0)))], "QuantizeLinear", {},
                quantize(x, F32(1.0), np.array(0, np.uint8))))
    # QLinearMatMul, batched, per-tensor, K = 300 (beyond f32's exact sums).
    a = rng.integers(0, 256, (2, 3, 300)).astype(np.uint8)
    b = rng.integers(0, 256, (2, 300, 4)).astype(np.uint8)
    sa, sb, sy = F32(0.02), F32(0.03), F32(0.5)
    za, zb, zy = (np.array(v, np.uint8) for v in (110, 130, 100))
    mult = F32(sa * sb) / sy
    out.append(("QLinearMatMul",
                [("a", a), ("sa", np.array(sa)), ("za", za), ("b", b),
                 ("sb", np.array(sb)), ("zb", zb), ("sy", np.array(sy)),
                 ("zy", zy)], "QLinearMatMul", {"consts": ("sa", "sb", "sy")},
                requantize(integer_matmul(a, 110, b, 130), mult, zy)))
    # ConvInteger with padding; QLinearConv with per-channel weight scales,
    # symmetric i8 weights and a bias.
    x = rng.integers(0, 256, (1, 3, 5, 5)).astype(np.uint8)
    w = rng.integers(0, 256, (2, 3, 3, 3)).astype(np.uint8)
    xzp, wzp = np.array(7, np.uint8), np.array(128, np.uint8)
    out.append(("ConvInteger padded",
                [("x", x), ("w", w), ("xzp", xzp), ("wzp", wzp)],
                "ConvInteger", {"pads": [1, 1, 1, 1]},
                integer_conv(x, 7, w, 128, [1, 1, 1, 1]).astype(np.int32)))
    wi = rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    sw = rng.uniform(0.001, 0.01, 4).astype(F32)
    zw = np.zeros(4, np.int8)
    bias = rng.integers(-2000, 2000, 4).astype(np.int32)
    sx, sy = F32(0.05), F32(0.2)
    zy = np.array(120, np.uint8)
    acc = integer_conv(x, 7, wi, zw, [0, 1, 2, 1]) + bias.reshape(1, 4, 1, 1)
    mult = (sx * sw / sy).astype(F32).reshape(1, 4, 1, 1)
    out.append(("QLinearConv",
                [("x", x), ("sx", np.array(sx)), ("xzp", xzp), ("w", wi),
                 ("sw", sw), ("zw", zw), ("sy", np.array(sy)), ("zy", zy),
                 ("bias", bias)], "QLinearConv",
                {"pads": [0, 1, 2, 1],
                 "consts": ("sx", "sw", "zw", "sy", "bias")},
                requantize(acc, mult, zy)))
    return out


# The integer matmul's other compiled paths (the default is
# anvil-int8-matmul's vpdpbusd tiles where the CPU has AVX-512 VNNI, else
# its AVX2 vpmaddwd tiles, or vpmaddubsw for weights within [-64, 64]):
# the AVX2 tiles, the portable i32 generic, and vpmaddwd for small weights
# too. Each must give the same i32 results.
INT8_PATHS = ["--int8-matmul=portable", "--int8-matmul=generic",
              "--no-int8-small-weights"]
# The products large enough for parallel column blocks also run at these
# thread counts (OMP_NUM_THREADS): each accumulator is one thread's, the
# same bits at any count.
THREADS = [1, 2, 3]


def run(anvilc, path, inputs, out_dir, flags, env=None):
    files = []
    for name, value in inputs:
        f = os.path.join(out_dir, name + ".pb")
        with open(f, "wb") as fh:
            fh.write(numpy_helper.from_array(value, name).SerializeToString())
        files.append(f)
    res = os.path.join(out_dir, "out" + str(len(os.listdir(out_dir))))
    os.makedirs(res, exist_ok=True)
    cmd = [anvilc, "run"] + flags + [
        path, "--inputs", ",".join(files), "--outputs", res]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return None, p.stderr.strip()
    t = onnx.TensorProto()
    with open(os.path.join(res, "output_0.pb"), "rb") as fh:
        t.ParseFromString(fh.read())
    return numpy_helper.to_array(t), ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, inputs, op, attrs, want) in enumerate(cases(rng)):
            attrs = dict(attrs)
            opset = attrs.pop("opset", 13)
            consts = attrs.pop("consts", ())
            m = model(op, inputs, want.dtype, want.shape, opset, consts,
                      **attrs)
            inputs = [(n, v) for n, v in inputs if n not in consts]
            path = os.path.join(tmp, f"case{k}.onnx")
            onnx.save(m, path)
            modes = [("compiled", [], None)]
            if op in ("MatMulInteger", "QLinearMatMul"):
                modes += [(f"compiled {flag}", [flag], None)
                          for flag in INT8_PATHS]
            if inputs[0][1].shape[0] >= 70:
                modes += [(f"compiled, {t} threads", [],
                           dict(os.environ, OMP_NUM_THREADS=str(t)))
                          for t in THREADS]
            modes.append(("reference", ["--reference"], None))
            for mode, flags, env in modes:
                got, err = run(args.anvilc, path, inputs, tmp, flags, env)
                if got is None:
                    print(f"FAIL {name} ({mode}): {err}")
                    failures += 1
                elif got.dtype != want.dtype or not np.array_equal(got, want):
                    bad = np.argwhere(got != want)[:3].tolist() \
                        if got.shape == want.shape else "shape"
                    print(f"FAIL {name} ({mode}): {got.dtype}{got.shape} vs "
                          f"{want.dtype}{want.shape}, first differences {bad}")
                    failures += 1
                else:
                    print(f"ok   {name} ({mode})")
        path = os.path.join(tmp, "refused.onnx")

        def refused(m, message, what):
            """1 unless `anvilc check` refuses model `m` with `message`."""
            onnx.save(m, path)
            p = subprocess.run([args.anvilc, "check", path],
                               capture_output=True, text=True)
            if p.returncode == 0 or message not in p.stderr:
                print(f"FAIL {what} not refused: {p.stderr.strip()}")
                return 1
            print(f"ok   {what} refused")
            return 0

        # A convolution contracting 270 8-bit products may exceed 2^24 in
        # its f32 sums: refused (the matmul has its integer form).
        x = np.zeros((1, 30, 3, 3), np.uint8)
        w = np.zeros((1, 30, 3, 3), np.uint8)
        failures += refused(
            model("ConvInteger", [("x", x), ("w", w)], np.int32,
                  (1, 1, 1, 1)),
            "longer than f32 sums hold exactly", "long conv contraction")

        # The target decides the default path: vpdpbusd where the CPU has
        # AVX-512 VNNI, the AVX2 vpmaddwd tiles where it has AVX2, the
        # generic elsewhere (either instruction on a CPU without it would be
        # an illegal instruction); asking for vnni or portable on a CPU
        # without it is refused, naming the option.
        qmm = next(k for k, c in enumerate(cases(np.random.default_rng(11)))
                   if c[2] == "MatMulInteger" and "b" in dict(c[3]).get("consts", ()))
        qpath = os.path.join(tmp, f"case{qmm}.onnx")
        for cpu, want in (("x86-64", None), ("haswell", "vpmaddwd"),
                          ("cascadelake", "vpdpbusd")):
            p = subprocess.run([args.anvilc, qpath, "--target-cpu", cpu,
                                "--compile-to=llvm"], capture_output=True, text=True)
            used = [i for i in ("vpdpbusd", "vpmaddwd") if i in p.stdout]
            ok = p.returncode == 0 and used == ([want] if want else [])
            print(("ok   " if ok else "FAIL ") +
                  f"--target-cpu {cpu}: {used or 'neither instruction'} by default")
            failures += not ok
        # Without VNNI, vpmaddubsw only where every weight is within
        # [-64, 64] (the pass checks the constant).
        for label, want in (("within [-64, 64]", True), ("but -65", False)):
            k = next(k for k, c in enumerate(cases(np.random.default_rng(11)))
                     if c[0].endswith(label))
            p = subprocess.run([args.anvilc, os.path.join(tmp, f"case{k}.onnx"),
                                "--target-cpu", "haswell", "--compile-to=llvm"],
                               capture_output=True, text=True)
            has = "vpmaddubsw" in p.stdout
            ok = p.returncode == 0 and has == want
            print(("ok   " if ok else "FAIL ") + f"weights {label}: "
                  f"vpmaddubsw {'used' if has else 'not used'} on haswell")
            failures += not ok
        for flag, message in (("vnni", "needs AVX-512 VNNI"),
                              ("portable", "needs AVX2")):
            p = subprocess.run([args.anvilc, qpath, "--target-cpu", "x86-64",
                                f"--int8-matmul={flag}", "--compile-to=llvm"],
                               capture_output=True, text=True)
            ok = p.returncode != 0 and f"--int8-matmul={flag} {message}" in p.stderr
            print(("ok   " if ok else "FAIL ") + f"--int8-matmul={flag} refused for x86-64: "
                  + p.stderr.strip())
            failures += not ok
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
