#!/usr/bin/python3
"""End-to-end checks of anvilc's answers to bad models, options and outputs.

Each case runs anvilc (and sometimes the executable it makes) as a user
would and checks one thing: a user error is one `anvilc: error:` line (or a
file:line:col diagnostic) that says what to do, exit status 1, no crash, and
no output or temporary file left behind; or that an edge case the compiler
used to get wrong now computes what the reference interpreter computes.
Cases: duplicate parameter names, sizes past the limits, zero-size matmuls,
bad ONNX attributes, out-of-range indices (at run time and compile time),
targets and CPUs, outputs on a full disk or in a missing directory, `run` and
`check` usability, and `train`'s option ranges. The full-disk case mounts a
small tmpfs and skips itself when not root. Exits non-zero on any failure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FAILURES = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        print("     " + detail.replace("\n", "\n     "))
        FAILURES.append(name)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True,
                          text=True, **kw)


def expect_error(name, cmd, *needles, not_exist=()):
    """cmd exits 1 with every needle in its stderr, no crash, and none of
    `not_exist` exists afterwards."""
    r = run(cmd)
    err = r.stderr
    ok = (r.returncode == 1 and all(n in err for n in needles)
          and "LLVM ERROR" not in err and "Stack dump" not in err
          and not any(os.path.exists(p) for p in not_exist))
    check(name, ok, f"rc={r.returncode}\nstderr: {err.strip()[-1500:]}\n"
                    f"left: {[p for p in not_exist if os.path.exists(p)]}")
    return r


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def leftovers(directory):
    return [f for f in os.listdir(directory) if "tmp" in f or f.endswith(".o")]


# --- A: parameter names ------------------------------------------------------

def test_duplicate_params(anvilc, d):
    model = write(f"{d}/dup.mlir", """
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %a = anvil.param "w" init = "zeros" : tensor<2x3xf32>
  %b = anvil.param "w" init = "ones" : tensor<2x3xf32>
  %s = anvil.add %a, %b : tensor<2x3xf32>, tensor<2x3xf32>
  %y = anvil.add %x, %s : tensor<2x3xf32>, tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
""")
    expect_error("A: two params named 'w' are a verifier error",
                 [anvilc, model, "-o", f"{d}/dup"],
                 "dup.mlir:4:8: error:", "parameter 'w' is read a second time",
                 not_exist=[f"{d}/dup"])
    expect_error("A: ... and so for train",
                 [anvilc, "train", model, "--loss", "mse", "-o", f"{d}/duptr"],
                 "parameter 'w' is read a second time",
                 not_exist=[f"{d}/duptr", f"{d}/duptr.weights"])


# --- B: sizes ----------------------------------------------------------------

def test_sizes(anvilc, d):
    huge = write(f"{d}/huge.mlir", """
func.func @forward(%x: tensor<4294967296x4294967296xf32>) -> tensor<4294967296x4294967296xf32> {
  %y = anvil.relu %x : tensor<4294967296x4294967296xf32>
  return %y : tensor<4294967296x4294967296xf32>
}
""")
    expect_error("B: a tensor of 2^64 elements is an error",
                 [anvilc, huge, "-o", f"{d}/huge"],
                 "huge.mlir:3:8: error:", "more elements than a 64-bit count",
                 not_exist=[f"{d}/huge"])
    big = write(f"{d}/bigparam.mlir", """
func.func @forward(%x: tensor<1000000x1000000xf32>) -> tensor<1000000x1000000xf32> {
  %w = anvil.param "w" init = "zeros" : tensor<1000000x1000000xf32>
  %y = anvil.add %x, %w : tensor<1000000x1000000xf32>, tensor<1000000x1000000xf32>
  return %y : tensor<1000000x1000000xf32>
}
""")
    expect_error("B: a 1e12-element param gives its size",
                 [anvilc, big, "-o", f"{d}/big"],
                 "4000000000000 bytes", "2^40 bytes",
                 not_exist=[f"{d}/big"])
    # ConstantOfShape [1e9, 1e9]
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill"),
         helper.make_node("Add", ["x", "c"], ["y"], name="add")],
        "cos", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])],
        [numpy_helper.from_array(np.array([10**9, 10**9], np.int64), "shape")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              f"{d}/cos.onnx")
    expect_error("B: ONNX ConstantOfShape [1e9, 1e9] is an error, not a crash",
                 [anvilc, "check", f"{d}/cos.onnx"],
                 "tensor<1000000000x1000000000xf32>", "2^40 bytes", "'fill'")
    # A moderate ConstantOfShape still works (a splat constant).
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill",
                          value=numpy_helper.from_array(np.array([2.5], np.float32))),
         helper.make_node("Add", ["x", "c"], ["y"], name="add")],
        "cos2", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [100, 100])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [100, 100])],
        [numpy_helper.from_array(np.array([100, 100], np.int64), "shape")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              f"{d}/cos2.onnx")
    x = np.random.default_rng(0).standard_normal((100, 100)).astype(np.float32)
    np.save(f"{d}/cosx.npy", x)
    r = run([anvilc, "run", f"{d}/cos2.onnx", "--input", f"{d}/cosx.npy",
             "--output", f"{d}/cosy.npy"])
    check("B: ConstantOfShape [100, 100] still runs", r.returncode == 0 and
          np.allclose(np.load(f"{d}/cosy.npy"), x + 2.5), r.stderr)
    # Static storage past 2 GiB: refused before linking, naming the size.
    expect_error("B: --batch so large the storage exceeds 2 GiB",
                 [anvilc, EXAMPLES + "/mlp.mlir", "--batch=100000000", "-o",
                  f"{d}/mlpbig"],
                 "bytes of static storage", "2 GiB", "smaller --batch",
                 not_exist=[f"{d}/mlpbig"])
    check("B: nothing left behind", not leftovers(d), str(leftovers(d)))


# --- C: zero-size dimensions --------------------------------------------------

def test_zero_k(anvilc, d):
    # Zero-size tensors inside a model (slices of nothing here): a matmul
    # with K = 0 is zeros, 2-D (tiled) and batched (a generic).
    for name, a, b, lhs, rhs in [
            ("2-D", "3x2", "2x4", (3, 0), (0, 4)),
            ("batched", "2x3x2", "2x2x4", (2, 3, 0), (2, 0, 4))]:
        out = "x".join(str(v) for v in lhs[:-1] + rhs[-1:])
        lt, rt = ("x".join(map(str, t)) for t in (lhs, rhs))
        rank = len(lhs)
        zeros, ones = [0] * rank, [1] * rank
        model = write(f"{d}/k0.mlir", f"""
func.func @forward(%a: tensor<{a}xf32>, %b: tensor<{b}xf32>) -> tensor<{out}xf32> {{
  %a0 = anvil.slice %a {{starts = array<i64: {', '.join(map(str, zeros))}>, ends = array<i64: {', '.join(map(str, lhs))}>, steps = array<i64: {', '.join(map(str, ones))}>}} : tensor<{a}xf32>
  %b0 = anvil.slice %b {{starts = array<i64: {', '.join(map(str, zeros))}>, ends = array<i64: {', '.join(map(str, rhs))}>, steps = array<i64: {', '.join(map(str, ones))}>}} : tensor<{b}xf32>
  %y = anvil.matmul %a0, %b0 : tensor<{lt}xf32>, tensor<{rt}xf32>
  return %y : tensor<{out}xf32>
}}
""")
        np.save(f"{d}/a.npy", np.ones([int(v) for v in a.split("x")], np.float32))
        np.save(f"{d}/b.npy", np.ones([int(v) for v in b.split("x")], np.float32))
        outs = []
        for mode in (["--reference"], []):
            r = run([anvilc, "run", *mode, model, "--input", f"{d}/a.npy",
                     "--input", f"{d}/b.npy", "--output", f"{d}/y.npy"])
            outs.append(np.load(f"{d}/y.npy") if r.returncode == 0 else None)
            if r.returncode != 0:
                print(r.stderr)
        shape = tuple(int(v) for v in out.split("x"))
        ok = all(o is not None and o.shape == shape and not o.any() for o in outs)
        check(f"C: a {name} matmul with K = 0 gives zeros, compiled as the reference", ok)
    # Empty arguments and results of the entry point itself (one whose size
    # 0 is not leading has no bare-pointer layout of its own).
    model = write(f"{d}/empty.mlir", """
func.func @forward(%a: tensor<3x0xf32>, %b: tensor<0x4xf32>) -> (tensor<3x4xf32>, tensor<3x0xf32>) {
  %y = anvil.matmul %a, %b : tensor<3x0xf32>, tensor<0x4xf32>
  %z = anvil.relu %a : tensor<3x0xf32>
  return %y, %z : tensor<3x4xf32>, tensor<3x0xf32>
}
""")
    np.save(f"{d}/a.npy", np.zeros((3, 0), np.float32))
    np.save(f"{d}/b.npy", np.zeros((0, 4), np.float32))
    r = run([anvilc, "run", model, "--input", f"{d}/a.npy", "--input", f"{d}/b.npy",
             "--output", f"{d}/y.npy", "--output", f"{d}/z.npy"])
    ok = r.returncode == 0
    if ok:
        y, z = np.load(f"{d}/y.npy"), np.load(f"{d}/z.npy")
        ok = y.shape == (3, 4) and not y.any() and z.shape == (3, 0)
    check("C: empty arguments and results of an entry point, compiled", ok, r.stderr)


# --- D: ONNX attributes -------------------------------------------------------

def conv_model(path, **attrs):
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0", **attrs)],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "h", "w"])],
        [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_onnx_stride_zero(anvilc, d):
    for label, attrs in [("explicit pads", dict(strides=[0, 1])),
                         ("SAME_UPPER", dict(strides=[0, 1], auto_pad="SAME_UPPER")),
                         ("dilation 0", dict(dilations=[1, 0]))]:
        model = conv_model(f"{d}/stride0.onnx", **attrs)
        expect_error(f"D: ONNX Conv with a zero stride or dilation ({label})",
                     [anvilc, "check", model], "must be >= 1", "'conv0'")



def test_onnx_fuzz_crashes(anvilc, d):
    """Models the fuzzer found crashing anvilc (fuzz/corpus/onnx/)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2 ** 40],
                       raw_data=b"\0" * 4)
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])],
                              "huge", [x], [y], [huge])
    path = f"{d}/huge.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              path)
    r = expect_error("D: an initializer claiming 4 TiB, holding 4 bytes",
                     [anvilc, "check", path], "huge.onnx: initializer 'w'",
                     "has 1 values for shape [1099511627776]")
    check("D: ... is one error line",
          r.stderr.count("anvilc: error:") == 1, r.stderr)

    # libonnx 1.12's version converter dereferences null on this output.
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"])],
                              "dangling", [x], [y])
    path = f"{d}/dangling.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)]),
              path)
    expect_error("D: opset 6, a graph output no node produces",
                 [anvilc, "check", path],
                 "graph output 'y' is produced by no node")
    # A graph input passed straight through to an output is legal ONNX.
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"])],
                              "through", [x], [x, helper.make_tensor_value_info(
                                  "r", TensorProto.FLOAT, [1])])
    path = f"{d}/through.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)]),
              path)
    r = run([anvilc, "check", path])
    check("D: opset 6, a graph input as a graph output", r.returncode == 0,
          r.stderr)

    # libonnx 1.12's Conv shape inference indexes past its arrays when the
    # input's and the weight's ranks differ.
    for op, weight in [("Conv", [1, 1, 2, 2, 2]), ("ConvTranspose", [4])]:
        graph = helper.make_graph(
            [helper.make_node(op, ["x", "w"], ["c"], name="conv3d",
                              auto_pad="SAME_UPPER")],
            "rank", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 4]),
                     helper.make_tensor_value_info("w", TensorProto.FLOAT, weight)],
            [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["n", "c", "h", "w"])])
        path = f"{d}/rank.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                  path)
        expect_error(f"D: {op} whose input and weight ranks differ, SAME_UPPER",
                     [anvilc, "check", path], "'conv3d'")

    # libonnx 1.12's LayerNormalization shape inference indexes the input's
    # dimensions from its axis unchecked: a rank-0 input was a SIGSEGV
    # (found by fuzz-onnx).
    graph = helper.make_graph(
        [helper.make_node("LayerNormalization", ["x", "s"], ["y", "m", "v"],
                          name="ln0")],
        "ln", [helper.make_tensor_value_info("x", TensorProto.FLOAT, []),
               helper.make_tensor_value_info("s", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4])
         for n in ("y", "m", "v")])
    path = f"{d}/ln0.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              path)
    expect_error("D: LayerNormalization of a rank-0 input", [anvilc, "check", path],
                 "'ln0'")


# --- E: indices -----------------------------------------------------------------

def test_indices(anvilc, d):
    model = write(f"{d}/idx.mlir", """
func.func @forward(%x: tensor<4x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3x3xf32> {
  %y = anvil.gather %x, %i {axis = 0 : i64} : tensor<4x3xf32>, tensor<2x3xi64>
  return %y : tensor<2x3x3xf32>
}
func.func @loss(%x: tensor<6x10xf32>, %t: tensor<6xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %x, %t : tensor<6x10xf32>, tensor<6xi64>
  return %l : tensor<f32>
}
func.func @nll(%x: tensor<6x10xf32>, %t: tensor<6xi64>) -> tensor<f32> {
  %l = anvil.nll_loss %x, %t : tensor<6x10xf32>, tensor<6xi64>
  return %l : tensor<f32>
}
""")
    r = run([anvilc, model, "-o", f"{d}/idx"])
    check("E: the index model compiles", r.returncode == 0, r.stderr)
    rng = np.random.default_rng(1)
    np.save(f"{d}/x.npy", rng.standard_normal((4, 3)).astype(np.float32))
    np.save(f"{d}/logits.npy", rng.standard_normal((6, 10)).astype(np.float32))
    good = np.array([[0, 3, -1], [2, -4, 1]], np.int64)  # negatives wrap
    np.save(f"{d}/good.npy", good)
    r = run([f"{d}/idx", "--input", f"{d}/x.npy", "--input", f"{d}/good.npy",
             "--output", f"{d}/g.npy"])
    x = np.load(f"{d}/x.npy")
    check("E: in-range (and negative) gather indices still work",
          r.returncode == 0 and np.allclose(np.load(f"{d}/g.npy"), x[good]), r.stderr)
    bad = good.copy()
    bad[1, 2] = 4
    np.save(f"{d}/bad.npy", bad)
    r = run([f"{d}/idx", "--input", f"{d}/x.npy", "--input", f"{d}/bad.npy",
             "--output", f"{d}/g.npy"])
    check("E: a gather index past the end stops the executable, naming it",
          r.returncode == 1 and "error: @forward: argument 1 (indices) position 5 "
          "holds 4, outside [-4, 4)" in r.stderr, r.stderr)
    labels = np.array([0, 1, 2, 3, 4, 12], np.int64)
    np.save(f"{d}/labels.npy", labels)
    for fn in ("loss", "nll"):
        r = run([f"{d}/idx", "--function", fn, "--input", f"{d}/logits.npy",
                 "--input", f"{d}/labels.npy", "--output", f"{d}/l.npy"])
        check(f"E: a label >= the class count stops @{fn}",
              r.returncode == 1 and f"error: @{fn}: argument 1 (labels) position 5 "
              "holds 12, outside [0, 10)" in r.stderr, r.stderr)
    # A constant index out of range: a compile-time error, and `check` says so.
    graph = helper.make_graph(
        [helper.make_node("Gather", ["x", "i"], ["y"], name="pick", axis=1)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 1])],
        [numpy_helper.from_array(np.array([5], np.int64), "i")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              f"{d}/gather5.onnx")
    expect_error("E: anvilc check reports a constant Gather index out of range",
                 [anvilc, "check", f"{d}/gather5.onnx"],
                 "indices (operand #1) position 0 holds 5, outside [-2, 2)", "'pick'")


# --- F: targets -------------------------------------------------------------------

def test_targets(anvilc, d):
    small = SMALL
    expect_error("F: an unknown --target-cpu is an error with a way to list",
                 [anvilc, small, "--target-cpu=garbage", "-o", f"{d}/t"],
                 "unknown --target-cpu 'garbage'", "--target-cpu=help",
                 not_exist=[f"{d}/t"])
    r = run([anvilc, "--target-cpu=help"])
    check("F: --target-cpu=help lists CPUs", r.returncode == 0 and
          "skylake-avx512" in r.stdout, r.stderr)
    r = run([anvilc, "--target-triple=aarch64-linux-gnu", "--target-cpu=help"])
    check("F: ... for another triple too", r.returncode == 0 and
          "cortex-a53" in r.stdout, r.stderr)
    r = run([anvilc, small, "--target-triple=aarch64-linux-gnu",
             "--compile-to=object", "-o", f"{d}/small-arm.o"])
    head = open(f"{d}/small-arm.o", "rb").read(20) if r.returncode == 0 else b""
    check("F: an aarch64 object (ELF machine 183)", r.returncode == 0 and
          head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 183,
          r.stderr)
    r = run([anvilc, small, "--target-triple=aarch64-linux-gnu", "--emit=lib",
             "-o", f"{d}/libsmallarm.a"])
    check("F: an aarch64 library", r.returncode == 0 and
          os.path.exists(f"{d}/smallarm.h"), r.stderr)
    expect_error("F: an executable for a foreign triple is refused",
                 [anvilc, small, "--target-triple=aarch64-linux-gnu", "-o",
                  f"{d}/armexe"],
                 "cannot link an executable for aarch64-linux-gnu",
                 not_exist=[f"{d}/armexe"])
    expect_error("F: an unknown triple lists the known architectures",
                 [anvilc, small, "--target-triple=nonsense-foo-bar", "-o", f"{d}/t"],
                 "unknown --target-triple 'nonsense-foo-bar'", "x86-64")


# --- G: outputs ---------------------------------------------------------------------

def test_outputs(anvilc, d):
    expect_error("G: --weights-file into a missing directory: nothing is written",
                 [anvilc, SMALL, "--weights-file=/nodir/w", "-o", f"{d}/nw"],
                 "/nodir/w", "does not exist", not_exist=[f"{d}/nw"])
    r = run([anvilc, SMALL, f"--weights-file={d}/ok.weights", "-o", f"{d}/okexe"])
    check("G: --weights-file writes both", r.returncode == 0 and
          os.path.exists(f"{d}/ok.weights") and os.path.exists(f"{d}/okexe"), r.stderr)
    # A killed anvilc leaves nothing: interrupt it while it compiles LeNet.
    import signal
    import time
    for sig in (signal.SIGINT, signal.SIGTERM):
        sub = f"{d}/kill{sig}"
        os.makedirs(sub)
        p = subprocess.Popen([anvilc, EXAMPLES + "/lenet.mlir", "-o", f"{sub}/lenet",
                              f"--weights-file={sub}/lenet.weights"],
                             stderr=subprocess.DEVNULL)
        time.sleep(0.4)
        p.send_signal(sig)
        p.wait()
        check(f"G: signal {int(sig)} leaves no file behind",
              os.listdir(sub) == [] or p.returncode == 0, str(os.listdir(sub)))
    if os.geteuid() != 0:
        print("skip G: full disk (needs root to mount a tmpfs)")
        return
    full = f"{d}/full"
    os.makedirs(full)
    if run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", full]).returncode:
        print("skip G: full disk (mount failed)")
        return
    try:
        for label, cmd in [
                ("object", [anvilc, EXAMPLES + "/mlp.mlir", "--compile-to=object",
                            "-o", f"{full}/mlp.o"]),
                ("executable", [anvilc, EXAMPLES + "/mlp.mlir", "-o", f"{full}/mlp"]),
                ("weights", [anvilc, EXAMPLES + "/mlp.mlir", "-o", f"{d}/mlpw",
                             f"--weights-file={full}/mlp.weights"]),
                ("library", [anvilc, EXAMPLES + "/mlp.mlir", "--emit=lib",
                             "-o", f"{full}/libmlp.a"]),
                ("IR", [anvilc, EXAMPLES + "/mlp.mlir", "--compile-to=bufferize",
                        "-o", f"{full}/mlp.mlir"]),
                ("ONNX", [anvilc, "export", EXAMPLES + "/mlp.mlir",
                          "-o", f"{full}/mlp.onnx"])]:
            needles = (["anvilc: error: cannot write", "No space left"]
                       if label != "weights" else
                       [f"anvilc: error: {full}/mlp.weights: write failed"])
            r = expect_error(f"G: full disk ({label}): one error, no file",
                             cmd, *needles)
            check(f"G: full disk ({label}): the directory is empty",
                  os.listdir(full) == [] and not os.path.exists(f"{d}/mlpw"),
                  str(os.listdir(full)))
            for f in os.listdir(full):
                os.remove(os.path.join(full, f))
    finally:
        run(["umount", full])


# --- H: run and check ----------------------------------------------------------------

def test_usability(anvilc, d):
    np.save(f"{d}/wrong.npy", np.ones((3, 2), np.float32))
    r = expect_error("H: run checks input shapes before compiling",
                     [anvilc, "run", SMALL, "--input", f"{d}/wrong.npy",
                      "--output", f"{d}/y.npy"],
                     f"{d}/wrong.npy: holds a f32 array of shape [3, 2]")
    check("H: ... and names no temporary path", "anvilc-run" not in r.stderr, r.stderr)
    expect_error("H: --batch=-1 says what it wants",
                 [anvilc, SMALL, "--batch=-1", "-o", f"{d}/b"],
                 "--batch must be a positive size, not -1")
    expect_error("H: an option of another subcommand is an error",
                 [anvilc, "run", "--batch", "1", SMALL, "--input", f"{d}/wrong.npy",
                  "--output", f"{d}/y.npy"],
                 "--batch is not an option of `anvilc run`")
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "anon",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              f"{d}/anon.onnx")
    r = expect_error("H: an unnamed dynamic dimension does not ask for --bind ''",
                     [anvilc, f"{d}/anon.onnx", "-o", f"{d}/anon"],
                     "dimension 0 has neither a size nor a name")
    check("H: ... no --bind NAME advice", "--bind ''" not in r.stderr, r.stderr)
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "sym",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              f"{d}/sym.onnx")
    r = run([anvilc, "check", f"{d}/sym.onnx"])
    check("H: check without --bind reports ops and the symbolic dimensions",
          r.returncode == 0 and "OK" in r.stdout and "relu x1" in r.stdout and
          "symbolic dimensions: batch" in r.stdout, r.stdout + r.stderr)


# --- I: train options ----------------------------------------------------------------

def test_train_options(anvilc, d):
    mlp = EXAMPLES + "/mlp.mlir"
    for args, needle in [(["--lr", "-1"], "--lr must be a finite number > 0, not -1"),
                         (["--lr", "inf"], "--lr must be a finite number > 0"),
                         (["--momentum", "5"], "--momentum must be in [0, 1), not 5"),
                         (["--clip-norm", "-3"], "--clip-norm must be >= 0"),
                         (["--weight-decay", "-1"], "--weight-decay must be >= 0"),
                         (["--freeze", "nothing.*here"],
                          "--freeze 'nothing.*here' matches no parameter")]:
        expect_error(f"I: train {' '.join(args)}",
                     [anvilc, "train", mlp, *args, "-o", f"{d}/tr"], needle,
                     not_exist=[f"{d}/tr", f"{d}/tr.weights"])


def main():
    global EXAMPLES, SMALL
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--anvilc", required=True)
    parser.add_argument("--examples", required=True)
    parser.add_argument("--inputs", required=True, help="tests/tools/Inputs")
    args = parser.parse_args()
    EXAMPLES = args.examples
    SMALL = os.path.join(args.inputs, "small.mlir")
    tests = [test_duplicate_params, test_sizes, test_zero_k, test_onnx_stride_zero,
             test_onnx_fuzz_crashes, test_indices, test_targets, test_outputs,
             test_usability, test_train_options]
    for test in tests:
        with tempfile.TemporaryDirectory() as d:
            test(args.anvilc, d)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
