#!/usr/bin/python3
"""bf16 mixed precision: `anvil.matmul {bf16}` and `--precision bf16`.

1. The kernel: one `anvil.matmul {bf16}` per case (2-D, transpose_a,
   transpose_b, both, a batched lhs, K odd, N not a multiple of 16 or 32,
   a product large enough for parallel column groups; the rhs an argument,
   packed at run time, or a constant, packed at compile time), and each
   one-group convolution (forward, with and without bias, one image at a
   time and the whole batch; both gradients) marked bf16. Compiled
   (anvil-bf16-matmul's vdpbf16ps tiles where the CPU has AVX512_BF16) at
   1 and 2 threads, with --bf16-matmul=rounded (the f32 tiles on rounded
   operands), and on the reference interpreter: each must equal numpy's
   product of the operands rounded to bf16 (to nearest even; for a
   convolution, the reference interpreter's f32 convolution of operands
   rounded by numpy) within f32 accumulation error, and must differ from the
   unrounded product by about bf16's rounding (the rounding is really done).
2. `anvilc --precision bf16` marks every matmul of an MLP (`{bf16}` in the
   optimize phase; `anvilc train`'s @train_step: the forward and gradient
   products), the backend has vdpbf16ps (or none with
   --bf16-matmul=rounded), and the MLP's outputs stay within bf16 error of
   f32's.
3. Training: the MLP trained one epoch on Fashion-MNIST with
   --precision bf16 reaches f32's test accuracy within 1.5 points (one
   epoch's noise; the bench measures five epochs against 0.3).
4. The report: `anvilc quantize --precision bf16` on the MLP (with labels)
   and on LeNet: every matmul bf16 and marked so in the written IR, the
   convolutions left f32 with why, --exclude keeps a layer f32, the output
   SQNR and per-layer SQNR far above int8's (bf16 keeps 8 bits), each layer's
   f32 and bf16 milliseconds in the JSON; `anvilc MODEL --precision bf16
   --calibrate DATA` compiles what `anvilc quantize ... -o q.mlir && anvilc
   q.mlir` does (the same outputs, bit for bit).
5. Errors: --precision fp16, --bf16-matmul=x, --method with bf16, -o x.onnx
   with bf16, --int8 with --precision bf16.
Exits non-zero on any failure.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks

F32 = np.float32
HAS_BF16 = "avx512_bf16" in open("/proc/cpuinfo").read()


def bf16(x):
    """x rounded to the nearest bf16 (ties to even), as f32."""
    b = np.asarray(x, F32).view(np.uint32).astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return b.astype(np.uint32).view(F32)


def tensor(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def dense(a):
    return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'


# (lhs shape, rhs shape, transpose_a, transpose_b, rhs constant)
CASES = [
    ((64, 96), (96, 64), False, False, False),
    ((7, 5), (5, 10), False, False, False),
    ((33, 17), (17, 3), False, False, True),
    ((64, 9), (64, 48), True, False, False),
    ((64, 128), (10, 128), False, True, False),
    ((5, 9), (33, 5), True, True, False),
    ((2, 3, 5), (5, 40), False, False, False),
    ((40, 31), (31, 70), False, False, True),
    ((19, 24), (50, 24), False, True, True),
    # transpose_b packed at run time 16 x 32 at a time: full and partial
    # blocks of columns, a padding block, full chunks of k and a tail.
    ((16, 70), (40, 70), False, True, False),
    # Parallel column groups (anvil-tile-and-vectorize's threshold).
    ((256, 256), (256, 256), False, False, False),
    ((256, 200), (256, 96), True, False, False),
]


def matmul_model(a_shape, b_shape, ta, tb, const_b, b_value):
    m = a_shape[-1] if ta else a_shape[-2]
    n = b_shape[-2] if tb else b_shape[-1]
    out = list(a_shape[:-2]) + [m, n]
    attrs = ["bf16"] + (["transpose_a"] if ta else []) + \
        (["transpose_b"] if tb else [])
    args = f"%a: {tensor(a_shape)}" + ("" if const_b else
                                      f", %b: {tensor(b_shape)}")
    body = (f"  %b = anvil.constant {dense(b_value)} : {tensor(b_shape)}\n"
            if const_b else "")
    return (f"func.func @forward({args}) -> {tensor(out)} {{\n{body}"
            f"  %y = anvil.matmul %a, %b {{{', '.join(attrs)}}} : "
            f"{tensor(a_shape)}, {tensor(b_shape)}\n"
            f"  return %y : {tensor(out)}\n}}\n")


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def kernel_cases(anvilc, tmp, check, rng):
    for k, (a_shape, b_shape, ta, tb, const_b) in enumerate(CASES):
        a = rng.uniform(-1, 1, a_shape).astype(F32)
        b = rng.uniform(-1, 1, b_shape).astype(F32)
        path = os.path.join(tmp, f"mm{k}.mlir")
        with open(path, "w") as f:
            f.write(matmul_model(a_shape, b_shape, ta, tb, const_b, b))
        inputs = []
        for name, v in (("a", a), ("b", b))[:1 if const_b else 2]:
            p = os.path.join(tmp, f"mm{k}.{name}.npy")
            np.save(p, v)
            inputs += ["--input", p]
        op_a = np.swapaxes(a, -1, -2) if ta else a
        op_b = b.T if tb else b
        want = np.matmul(bf16(op_a).astype(np.float64),
                         bf16(op_b).astype(np.float64))
        exact = np.matmul(op_a.astype(np.float64), op_b.astype(np.float64))
        # f32 accumulation over K of products of magnitude <= 1.
        kdim = op_a.shape[-1]
        tol = 4e-7 * kdim + 1e-6
        name = (f"matmul {a_shape}{' ^T' if ta else ''} x {b_shape}"
                f"{' ^T' if tb else ''}{' (constant rhs)' if const_b else ''}")
        modes = [("compiled, 1 thread", [], dict(os.environ, OMP_NUM_THREADS="1")),
                 ("compiled, 2 threads", [], dict(os.environ, OMP_NUM_THREADS="2")),
                 ("--bf16-matmul=rounded", ["--bf16-matmul=rounded"], None),
                 ("reference", ["--reference"], None)]
        for mode, flags, env in modes:
            out = os.path.join(tmp, "y.npy")
            p = run([anvilc, "run"] + flags + [path] + inputs +
                    ["--output", out], env)
            if p.returncode != 0:
                check(False, f"{name} ({mode}): {p.stderr.strip()}")
                continue
            got = np.load(out)
            err = np.abs(got - want).max() if got.shape == want.shape else None
            check(err is not None and err <= tol,
                  f"{name} ({mode}) = numpy on bf16-rounded operands "
                  f"(max error {err:.3g}, tolerance {tol:.3g})")
            # bf16 keeps 8 bits: products of unrounded operands differ by
            # about 2^-9 relative per operand; over K terms, well above tol.
            if mode == "compiled, 1 thread" and kdim >= 16:
                off = np.abs(got - exact).max()
                check(off > 10 * tol,
                      f"{name}: differs from the unrounded f32 product by "
                      f"bf16's rounding ({off:.3g})")
        backend = run([anvilc, path, "--compile-to=backend"]).stdout
        check(("vdpbf16ps" in backend) == HAS_BF16,
              f"{name}: vdpbf16ps tiles {'with' if HAS_BF16 else 'without'} "
              "AVX512_BF16")


# Convolutions marked bf16: (name, op, operand shapes, attributes, weight
# constant). The batch-8 forward with 16x16 outputs runs one image at a
# time, the 4x4 one (under 64 pixels) the whole batch at once.
CONV_CASES = [
    ("conv2d, padded, bias", "conv2d", [(8, 3, 16, 16), (8, 3, 3, 3), (8,)],
     "pads = array<i64: 1, 1, 1, 1>", False),
    ("conv2d, stride 2, O=20", "conv2d", [(4, 5, 9, 9), (20, 5, 3, 3)],
     "strides = array<i64: 2, 2>", False),
    ("conv2d, 4x4 outputs, whole batch", "conv2d",
     [(8, 6, 8, 8), (16, 6, 5, 5), (16,)], "", False),
    ("conv2d, constant weights", "conv2d", [(2, 4, 12, 12), (10, 4, 5, 5)],
     "pads = array<i64: 2, 2, 2, 2>", True),
    ("conv2d, row stride 2, dilation 2 along the rows, 20 wide", "conv2d",
     [(3, 2, 13, 24), (5, 2, 3, 3)],
     "strides = array<i64: 2, 1>, dilations = array<i64: 1, 2>", False),
    ("conv2d_grad_filter, padded", "conv2d_grad_filter",
     [(8, 3, 14, 14), (8, 6, 14, 14)],
     "kernel = array<i64: 5, 5>, pads = array<i64: 2, 2, 2, 2>", False),
    ("conv2d_grad_filter, K odd, stride 2", "conv2d_grad_filter",
     [(3, 7, 11, 11), (3, 17, 5, 5)],
     "kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>", False),
    ("conv2d_grad_input", "conv2d_grad_input", [(8, 16, 10, 10), (16, 6, 5, 5)],
     "input_size = array<i64: 14, 14>", False),
    ("conv2d_grad_input, padded", "conv2d_grad_input",
     [(4, 9, 12, 12), (9, 5, 3, 3)],
     "input_size = array<i64: 12, 12>, pads = array<i64: 1, 1, 1, 1>", False),
]


def conv_out_shape(op, shapes, attrs):
    def arr(name, default):
        m = re.search(name + r" = array<i64: ([\d, ]+)>", attrs)
        return [int(v) for v in m.group(1).split(",")] if m else default
    strides, pads = arr("strides", [1, 1]), arr("pads", [0, 0, 0, 0])
    dil = arr("dilations", [1, 1])
    if op == "conv2d":
        (n, _, h, w), (o, _, kh, kw) = shapes[0], shapes[1]
        return (n, o, (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1,
                (w + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1)
    if op == "conv2d_grad_filter":
        (_, c, _, _), (_, o, _, _) = shapes[0], shapes[1]
        return (o, c) + tuple(arr("kernel", None))
    (n, _, _, _), (_, c, _, _) = shapes[0], shapes[1]
    return (n, c) + tuple(arr("input_size", None))


def conv_model(op, shapes, attrs, bf16_mark, const_w, values):
    """The op alone; with `const_w` its weight an anvil.constant."""
    out = conv_out_shape(op, shapes, attrs)
    names = [f"%a{i}" for i in range(len(shapes))]
    args = [f"{names[i]}: {tensor(s)}" for i, s in enumerate(shapes)
            if not (const_w and i == 1)]
    body = (f"  %a1 = anvil.constant {dense(values[1])} : {tensor(shapes[1])}\n"
            if const_w else "")
    a = ", ".join(x for x in (["bf16"] if bf16_mark else []) + [attrs] if x)
    return (f"func.func @forward({', '.join(args)}) -> {tensor(out)} {{\n"
            f"{body}  %y = anvil.{op} {', '.join(names)} {{{a}}} : "
            f"{', '.join(tensor(s) for s in shapes)}\n"
            f"  return %y : {tensor(out)}\n}}\n")


def conv_cases(anvilc, tmp, check, rng):
    """Each convolution marked bf16, compiled (the tiles at 1 and 2 threads;
    rounded operands) and on the reference interpreter, against the
    reference interpreter's f32 convolution of operands rounded here (numpy's
    rounding, not the compiler's): the same within f32 accumulation error,
    and away from the unrounded convolution by bf16's rounding."""
    for k, (name, op, shapes, attrs, const_w) in enumerate(CONV_CASES):
        values = [rng.uniform(-1, 1, s).astype(F32) for s in shapes]
        files = {}
        for mark in (True, False):
            files[mark] = os.path.join(tmp, f"conv{k}-{mark}.mlir")
            with open(files[mark], "w") as f:
                f.write(conv_model(op, shapes, attrs, mark, const_w, values))

        def inputs(vals, tag):
            flags = []
            for i, v in enumerate(vals):
                if const_w and i == 1:
                    continue
                p = os.path.join(tmp, f"conv{k}-{tag}{i}.npy")
                np.save(p, v)
                flags += ["--input", p]
            return flags

        def result(path, flags, ins, env=None):
            out = os.path.join(tmp, "cy.npy")
            p = run([anvilc, "run"] + flags + [path] + ins + ["--output", out],
                    env)
            if p.returncode != 0:
                check(False, f"{name} ({' '.join(flags)}): {p.stderr.strip()}")
                return None
            return np.load(out).astype(np.float64)

        # The oracle: the unmarked op on rounded operands (the bias, the
        # third operand, stays f32). A constant weight is rounded in the
        # model itself.
        rounded = [bf16(v) if i < 2 else v for i, v in enumerate(values)]
        oracle_path = os.path.join(tmp, f"conv{k}-oracle.mlir")
        with open(oracle_path, "w") as f:
            f.write(conv_model(op, shapes, attrs, False, const_w, rounded))
        want = result(oracle_path, ["--reference"], inputs(rounded, "r"))
        exact = result(files[False], ["--reference"], inputs(values, "x"))
        if want is None or exact is None:
            continue
        ins = inputs(values, "x")
        # Terms per output: the product's K.
        kdim = {"conv2d": shapes[1][1] * shapes[1][2] * shapes[1][3],
                "conv2d_grad_filter": shapes[1][0] * shapes[1][2] * shapes[1][3],
                "conv2d_grad_input": shapes[0][1] * shapes[1][2] * shapes[1][3]}[op]
        tol = 4e-7 * kdim + 1e-6
        for mode, flags, env in (
                ("compiled, 1 thread", [], dict(os.environ, OMP_NUM_THREADS="1")),
                ("compiled, 2 threads", [], dict(os.environ, OMP_NUM_THREADS="2")),
                ("--bf16-matmul=rounded", ["--bf16-matmul=rounded"], None),
                ("reference", ["--reference"], None)):
            got = result(files[True], flags, ins, env)
            if got is None:
                continue
            err = np.abs(got - want).max() if got.shape == want.shape else None
            check(err is not None and err <= tol,
                  f"{name} ({mode}) = the f32 convolution of bf16-rounded "
                  f"operands (max error {err:.3g}, tolerance {tol:.3g})")
            if mode == "compiled, 1 thread":
                off = np.abs(got - exact).max()
                check(off > 10 * tol,
                      f"{name}: differs from the unrounded convolution by "
                      f"bf16's rounding ({off:.3g})")
        backend = run([anvilc, files[True], "--compile-to=backend"]).stdout
        check(("vdpbf16ps" in backend) == HAS_BF16,
              f"{name}: vdpbf16ps tiles {'with' if HAS_BF16 else 'without'} "
              "AVX512_BF16")


MLP = """func.func @forward(%x: tensor<16x64xf32>) -> tensor<16x10xf32> {
  %w1 = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<64x32xf32>
  %m1 = anvil.matmul %x, %w1 : tensor<16x64xf32>, tensor<64x32xf32>
  %h1 = anvil.relu %m1 : tensor<16x32xf32>
  %w2 = anvil.param "fc2.weight" init = "kaiming_uniform" : tensor<32x10xf32>
  %y = anvil.matmul %h1, %w2 : tensor<16x32xf32>, tensor<32x10xf32>
  return %y : tensor<16x10xf32>
}
func.func @loss(%logits: tensor<16x10xf32>, %labels: tensor<16xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %logits, %labels : tensor<16x10xf32>, tensor<16xi64>
  return %l : tensor<f32>
}
"""


def precision_flag(anvilc, tmp, check, rng, examples):
    path = os.path.join(tmp, "mlp.mlir")
    with open(path, "w") as f:
        f.write(MLP)
    opt = run([anvilc, path, "--precision", "bf16", "--compile-to=optimize"])
    marked = len(re.findall(r"anvil\.matmul[^\n]*\{bf16\}", opt.stdout))
    check(opt.returncode == 0 and marked == 2,
          f"--precision bf16 marks both matmuls of @forward ({marked})")
    plain = run([anvilc, path, "--compile-to=optimize"]).stdout
    check("bf16" not in plain, "without it, no matmul is bf16")
    phases = os.path.join(tmp, "phases")
    run([anvilc, "train", path, "--precision", "bf16", "-o",
         os.path.join(tmp, "trainer"), "--dump-phases-to", phases])
    with open(os.path.join(phases, "03-optimize.mlir")) as f:
        train = f.read()
    step = train[train.find("@train_step"):]
    step = step[:step.find("func.func", 10)] if "func.func" in step[10:] else step
    total = step.count("anvil.matmul")
    marked = len(re.findall(r"anvil\.matmul[^\n]*\{[^\n]*bf16", step))
    # Forward 2, gradients: dW1, dW2, dX2 (the input's gradient is not needed).
    check(total == 5 and marked == 5,
          f"anvilc train --precision bf16: every product of @train_step is "
          f"bf16 ({marked} of {total})")
    llvm = {}
    for flags in ([], ["--bf16-matmul=rounded"]):
        llvm[bool(flags)] = run([anvilc, path, "--precision", "bf16",
                                 "--compile-to=backend"] + flags).stdout
    check(("vdpbf16ps" in llvm[False]) == HAS_BF16 and
          "vdpbf16ps" not in llvm[True],
          "vdpbf16ps by default (with AVX512_BF16), none with "
          "--bf16-matmul=rounded")
    # LeNet's trainer: its convolutions and their gradients marked too.
    run([anvilc, "train", os.path.join(examples, "lenet.mlir"), "--precision",
         "bf16", "-o", os.path.join(tmp, "lenet-trainer"), "--dump-phases-to",
         phases])
    with open(os.path.join(phases, "03-optimize.mlir")) as f:
        train = f.read()
    step = train[train.find("@train_step"):]
    step = step[:step.find("func.func", 10)] if "func.func" in step[10:] else step
    convs = re.findall(r"anvil\.conv2d\w* [^\n]*", step)
    marked = [c for c in convs if re.search(r"\{bf16", c)]
    # conv1, conv2; conv2's input gradient; both filter gradients.
    check(len(convs) == 5 and len(marked) == 5,
          f"LeNet's @train_step: every convolution and convolution gradient "
          f"bf16 ({len(marked)} of {len(convs)})")
    # Outputs: bf16 within its rounding of f32's.
    x = rng.uniform(-1, 1, (16, 64)).astype(F32)
    xin = os.path.join(tmp, "x.npy")
    np.save(xin, x)
    outs = {}
    for mode, flags in (("f32", []), ("bf16", ["--precision", "bf16"])):
        exe = os.path.join(tmp, f"mlp-{mode}")
        p = run([anvilc, path, "-o", exe] + flags)
        if p.returncode != 0:
            check(False, f"compile --precision {mode}: {p.stderr.strip()}")
            return
        out = os.path.join(tmp, f"y-{mode}.npy")
        p = run([exe, "--input", xin, "--output", out])
        outs[mode] = np.load(out) if p.returncode == 0 else None
    if outs["f32"] is not None and outs["bf16"] is not None:
        rel = np.abs(outs["bf16"] - outs["f32"]).max() / np.abs(outs["f32"]).max()
        check(1e-5 < rel < 3e-2,
              f"the MLP in bf16 within bf16 error of f32 (relative {rel:.3g})")
    # Without AVX512_BF16, --precision bf16 says once that it is slower than
    # f32 (haswell lacks it, sapphirerapids has it: compiling needs neither).
    for cpu, noted in (("haswell", True), ("sapphirerapids", False)):
        p = run([anvilc, path, "--precision", "bf16", "--target-cpu", cpu, "-o",
                 os.path.join(tmp, f"mlp-{cpu}")])
        said = "lacks AVX512_BF16" in p.stderr and "slower than --precision f32" in p.stderr
        check(p.returncode == 0 and said == noted,
              f"--precision bf16 for {cpu}: "
              f"{'a note that it is slower than f32' if noted else 'no note'}"
              f" ({p.stderr.strip() or 'nothing on stderr'})")


def training(anvilc, tmp, check, examples):
    acc = {}
    for mode, flags in (("f32", []), ("bf16", ["--precision", "bf16"])):
        exe = os.path.join(tmp, f"train-{mode}")
        p = run([anvilc, "train", os.path.join(examples, "mlp.mlir"), "--lr",
                 "0.05", "--momentum", "0.9", "-o", exe] + flags)
        if p.returncode != 0:
            check(False, f"anvilc train --precision {mode}: {p.stderr.strip()}")
            return
        p = run([exe, "--epochs", "1"])
        m = re.search(r"test accuracy ([\d.]+)%", p.stdout + p.stderr)
        acc[mode] = float(m.group(1)) if m else None
        check(p.returncode == 0 and m is not None,
              f"the {mode} MLP trainer runs an epoch")
    if None not in acc.values():
        check(abs(acc["bf16"] - acc["f32"]) <= 1.5,
              f"bf16 training's test accuracy {acc['bf16']:.2f}% within 1.5 "
              f"points of f32's {acc['f32']:.2f}%")


def report(anvilc, tmp, check, rng, examples):
    path = os.path.join(tmp, "mlp.mlir")
    x = rng.uniform(0, 1, (64, 64)).astype(F32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    xin, yin = os.path.join(tmp, "rx.npy"), os.path.join(tmp, "ry.npy")
    np.save(xin, x)
    np.save(yin, y)
    out = os.path.join(tmp, "q.mlir")
    rj = os.path.join(tmp, "r.json")
    p = run([anvilc, "quantize", path, "--precision", "bf16", "--calibrate",
             xin, "--labels", yin, "-o", out, "--report-json", rj])
    if p.returncode != 0:
        check(False, f"anvilc quantize --precision bf16: {p.stderr.strip()}")
        return
    # It compiles every layer alone to time it: the note of a CPU without
    # AVX512_BF16 still comes once.
    notes = p.stderr.count("lacks AVX512_BF16")
    check(notes == (0 if HAS_BF16 else 1),
          f"anvilc quantize --precision bf16: the no-AVX512_BF16 note {notes} time(s)")
    import json
    with open(rj) as f:
        r = json.load(f)
    layers = r.get("layers", [])
    check(r.get("precision") == "bf16" and len(layers) == 2 and
          all(l["bf16"] for l in layers),
          "report: both matmuls bf16 (precision bf16 in the JSON)")
    check("2 of 2 layers bf16" in p.stdout and "fp32 vs bf16" in p.stdout,
          "report text: '2 of 2 layers bf16', 'fp32 vs bf16'")
    check(r.get("sqnr_db") is not None and r["sqnr_db"] > 40 and
          all(l["sqnr_alone_db"] > 40 for l in layers),
          f"bf16 output SQNR {r.get('sqnr_db')} dB and per layer > 40 dB")
    check(all(l["f32_ms"] and l["bf16_ms"] for l in layers),
          "each layer's f32 and bf16 milliseconds measured")
    check("accuracy_bf16" in r and "accuracy_fp32" in r and
          "method" not in r, "accuracy of both; no int8 method in the JSON")
    with open(out) as f:
        text = f.read()
    check(len(re.findall(r"anvil\.matmul[^\n]*\{bf16\}", text)) == 2,
          "the written IR marks both matmuls bf16")
    p = run([anvilc, "quantize", path, "--precision", "bf16", "--calibrate",
             xin, "-o", out, "--exclude", "fc2", "--no-layer-times"])
    with open(out) as f:
        text = f.read()
    check(p.returncode == 0 and "1 of 2 layers bf16" in p.stdout and
          len(re.findall(r"\{bf16\}", text)) == 1,
          "--exclude fc2 keeps it f32")
    # Compiled at once = quantize then compile, bit for bit.
    ys = {}
    for mode in ("once", "twice"):
        exe = os.path.join(tmp, f"bf-{mode}")
        if mode == "once":
            p = run([anvilc, path, "--precision", "bf16", "--calibrate", xin,
                     "--no-layer-times", "--exclude", "fc2", "-o", exe])
        else:
            p = run([anvilc, out, "-o", exe])
        yout = os.path.join(tmp, f"y-{mode}.npy")
        q = run([exe, "--input", xin, "--output", yout]) if p.returncode == 0 \
            else p
        ys[mode] = np.load(yout) if q.returncode == 0 else None
    check(ys["once"] is not None and ys["twice"] is not None and
          np.array_equal(ys["once"], ys["twice"]),
          "anvilc --precision bf16 --calibrate = anvilc quantize + anvilc")
    # LeNet: its convolutions bf16 too, marked in the written IR.
    p = run([anvilc, "quantize", os.path.join(examples, "lenet.mlir"),
             "--precision", "bf16", "--calibrate",
             "/usr/share/datasets/fashion-mnist", "--samples", "64",
             "--no-layer-times", "-o", out])
    with open(out) as f:
        text = f.read()
    check(p.returncode == 0 and "5 of 5 layers bf16" in p.stdout and
          len(re.findall(r"anvil\.conv2d [^\n]*\{bf16", text)) == 2,
          "LeNet: 3 matmuls and both convolutions bf16")
    # A depthwise convolution stays f32, and the report says why; the
    # pointwise one after it is bf16.
    dw = os.path.join(tmp, "dw.mlir")
    with open(dw, "w") as f:
        f.write('func.func @forward(%x: tensor<4x8x6x6xf32>) -> tensor<4x4x6x6xf32> {\n'
                '  %w = anvil.param "dw.weight" init = "kaiming_uniform" : tensor<8x1x3x3xf32>\n'
                '  %d = anvil.conv2d %x, %w {groups = 8 : i64, pads = array<i64: 1, 1, 1, 1>} : '
                'tensor<4x8x6x6xf32>, tensor<8x1x3x3xf32>\n'
                '  %p = anvil.param "pw.weight" init = "kaiming_uniform" : tensor<4x8x1x1xf32>\n'
                '  %y = anvil.conv2d %d, %p : tensor<4x8x6x6xf32>, tensor<4x8x1x1xf32>\n'
                '  return %y : tensor<4x4x6x6xf32>\n}\n')
    dx = os.path.join(tmp, "dwx.npy")
    np.save(dx, rng.uniform(-1, 1, (4, 8, 6, 6)).astype(F32))
    p = run([anvilc, "quantize", dw, "--precision", "bf16", "--calibrate", dx,
             "--no-layer-times", "-o", out])
    check(p.returncode == 0 and "1 of 2 layers bf16" in p.stdout and
          "no bf16 grouped kernel" in p.stdout,
          "a depthwise convolution stays f32, with why; a pointwise one bf16")


def errors(anvilc, tmp, check):
    path = os.path.join(tmp, "mlp.mlir")
    xin = os.path.join(tmp, "rx.npy")
    for flags, want in ((["--precision", "fp16"], "--precision must be f32 or bf16"),
                        (["--precision", "bf16", "--bf16-matmul=x"],
                         "--bf16-matmul must be auto, dpbf16 or rounded"),
                        (["--precision", "bf16", "--calibrate", xin,
                          "--method", "entropy"],
                         "--method chooses int8 ranges or scales"),
                        (["--precision", "bf16", "--int8", "--calibrate", xin],
                         "--int8 and --precision bf16 are two precisions")):
        p = run([anvilc, path, "-o", os.path.join(tmp, "never")] + flags)
        check(p.returncode != 0 and want in p.stderr and
              not os.path.exists(os.path.join(tmp, "never")),
              f"{' '.join(flags)}: '{want}', nothing written")
    p = run([anvilc, "quantize", path, "--precision", "bf16", "--calibrate",
             xin, "-o", os.path.join(tmp, "never.onnx")])
    check(p.returncode != 0 and "a bf16 model is written as Anvil IR" in
          p.stderr and not os.path.exists(os.path.join(tmp, "never.onnx")),
          "anvilc quantize --precision bf16 -o x.onnx: an error, nothing "
          "written")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    check = Checks()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        kernel_cases(args.anvilc, tmp, check, rng)
        conv_cases(args.anvilc, tmp, check, rng)
        precision_flag(args.anvilc, tmp, check, rng, args.examples)
        report(args.anvilc, tmp, check, rng, args.examples)
        errors(args.anvilc, tmp, check)
        training(args.anvilc, tmp, check, args.examples)
    if check.failures:
        print(f"{len(check.failures)} check(s) failed")
        return 1
    print("all bf16 checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
