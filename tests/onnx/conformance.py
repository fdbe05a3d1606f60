#!/usr/bin/python3
"""ONNX conformance: ONNX's own backend node tests through `anvilc run`.

Runs every test of Debian's libonnx-testdata (node, pytorch-converted,
pytorch-operator and simple suites) whose ops all belong to the first-version
op list below, on every data set, comparing each output with the expected
one (dtype and shape exactly; floats with rtol 1e-3, atol 1e-7 unless the
test's data.json says otherwise, as onnx.backend.test does). Prints a per-op
table. Fails on any regression: a test that fails and is not in
known-failures.txt, and also a listed test that now passes (take it off the
list, so the count only grows).

The test data stops at opset 17, so each test of an op whose form changed
since (ReduceMean: axes became an input in opset 18) also runs rewritten to
that opset, as NAME_opset18.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = "/usr/share/libonnx-testdata/data"
SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
RELEVANT = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu",
    "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Conv", "MaxPool",
    "AveragePool", "GlobalAveragePool", "BatchNormalization", "Flatten",
    "Reshape", "Transpose", "Concat", "Gather", "LayerNormalization",
    "Dropout", "Identity", "Clip", "Exp", "Log", "Sqrt", "Pow", "ReduceMean",
    "ReduceSum", "Erf", "Gelu", "QuantizeLinear", "DequantizeLinear",
    "QLinearMatMul", "QLinearConv", "ConvInteger", "MatMulInteger",
    "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss",
    "HardSigmoid", "HardSwish", "Pad", "Split", "Expand", "Tile",
    "ConvTranspose", "Resize", "Upsample", "Einsum",
}


def read_known(path):
    known = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, reason = line.partition(":")
            known[name.strip()] = reason.strip()
    return known


def load(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def primary_op(model):
    ops = [n.op_type for n in model.graph.node if n.op_type != "Constant"]
    return "+".join(dict.fromkeys(ops)) or "Constant"


# Ops whose axes attribute became an input in opset 18.
AXES_INPUT_SINCE_18 = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                       "ReduceL1", "ReduceL2", "ReduceLogSum",
                       "ReduceLogSumExp", "ReduceSumSquare"}


def to_opset18(model):
    """`model` (opset 13 to 17) in its opset-18 form: the axes attributes of
    AXES_INPUT_SINCE_18 become int64 initializers."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for i, node in enumerate(model.graph.node):
        axes = [a for a in node.attribute if a.name == "axes"]
        if node.op_type in AXES_INPUT_SINCE_18 and axes:
            name = f"axes_{i}"
            model.graph.initializer.append(numpy_helper.from_array(
                np.array(axes[0].ints, np.int64), name))
            node.input.append(name)
            node.attribute.remove(axes[0])
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = 18
    model.ir_version = 8
    return model


def variants(test):
    """The names a test runs under: its own, and NAME_opset18 for a test at
    opset 13 to 17 of an op that changed in 18."""
    model = onnx.load(os.path.join(test, "model.onnx"))
    opset = max([e.version for e in model.opset_import
                 if e.domain in ("", "ai.onnx")] or [0])
    names = [(test, False)]
    if 13 <= opset <= 17 and any(n.op_type in AXES_INPUT_SINCE_18
                                 for n in model.graph.node):
        names.append((test, True))
    return names


def test_name(test, opset18):
    return os.path.basename(test) + ("_opset18" if opset18 else "")


def run_test(anvilc, test, workroot, opset18=False):
    """Returns (status, reason): PASS, FAIL or SKIP."""
    model = onnx.load(os.path.join(test, "model.onnx"))
    model_path = os.path.join(test, "model.onnx")
    if opset18:
        model = to_opset18(model)
        model_path = os.path.join(workroot, test_name(test, True) + ".onnx")
        onnx.save(model, model_path)
    for vi in list(model.graph.input) + list(model.graph.output):
        if not vi.type.HasField("tensor_type"):
            return "SKIP", "non-tensor graph input or output"
    rtol, atol = 1e-3, 1e-7
    meta = os.path.join(test, "data.json")
    if os.path.exists(meta):
        with open(meta) as f:
            data = json.load(f)
        rtol, atol = data.get("rtol", rtol), data.get("atol", atol)
    sets = sorted(glob.glob(os.path.join(test, "test_data_set_*")))
    name = test_name(test, opset18)
    for k, ds in enumerate(sets):
        inputs = sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                        key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
        expected = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                          key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
        out = os.path.join(workroot, f"{name}-{k}")
        os.makedirs(out)
        cmd = [anvilc, "run", model_path,
               "--inputs", ",".join(inputs), "--outputs", out]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or ["?"])
            return "FAIL", f"exit {p.returncode}: " + " / ".join(msg)[:300]
        for i, e in enumerate(expected):
            got_path = os.path.join(out, f"output_{i}.pb")
            if not os.path.exists(got_path):
                return "FAIL", f"no output_{i}.pb"
            want, got = load(e), load(got_path)
            if want.dtype != got.dtype or want.shape != got.shape:
                return "FAIL", (f"output {i}: {got.dtype}{list(got.shape)}, "
                                f"expected {want.dtype}{list(want.shape)}")
            if want.dtype.kind == "f":
                try:
                    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                               equal_nan=True)
                except AssertionError:
                    err = np.max(np.abs(got.astype(np.float64) - want))
                    return "FAIL", f"output {i}: max abs error {err:.3g}"
            elif not np.array_equal(got, want):
                return "FAIL", f"output {i}: values differ"
    return "PASS", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--known", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "known-failures.txt"))
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--filter", help="only tests whose name contains this")
    args = ap.parse_args()

    tests = []
    for suite in SUITES:
        for model in sorted(glob.glob(os.path.join(args.root, suite, "*",
                                                   "model.onnx"))):
            ops = {n.op_type for n in onnx.load(model).graph.node}
            if ops <= RELEVANT:
                tests.append(os.path.dirname(model))
    tests = [v for t in tests for v in variants(t)]
    if args.filter:
        tests = [t for t in tests if args.filter in test_name(*t)]
    if not tests:
        print(f"no ONNX tests found under {args.root}; install "
              "libonnx-testdata (scripts/install-deps.sh)", file=sys.stderr)
        return 1
    known = read_known(args.known)

    results = {}
    with tempfile.TemporaryDirectory(prefix="anvil-onnx-") as work:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(run_test, args.anvilc, t[0], work, t[1]): t
                       for t in tests}
            for f in concurrent.futures.as_completed(futures):
                try:
                    results[futures[f]] = f.result()
                except Exception as e:  # a harness problem counts as a failure
                    results[futures[f]] = ("FAIL", f"harness: {e!r}")

    table = defaultdict(lambda: [0, 0, 0])
    regressions, fixed = [], []
    for t in tests:
        status, reason = results[t]
        name = test_name(*t)
        op = primary_op(onnx.load(os.path.join(t[0], "model.onnx")))
        if t[1]:
            op += " (opset 18)"
        table[op][{"PASS": 0, "FAIL": 1, "SKIP": 2}[status]] += 1
        if status == "FAIL" and name not in known:
            regressions.append(f"{name}: {reason}")
        if status == "PASS" and name in known:
            fixed.append(name)
    print(f"{'op':34} {'pass':>5} {'fail':>5} {'skip':>5}")
    for op in sorted(table):
        p, f, s = table[op]
        print(f"{op[:34]:34} {p:5} {f:5} {s:5}")
    counts = [sum(1 for r in results.values() if r[0] == s)
              for s in ("PASS", "FAIL", "SKIP")]
    print(f"{counts[0]} passed, {counts[1]} failed ({counts[1] - len(regressions)}"
          f" known), {counts[2]} skipped, of {len(tests)} relevant tests")
    if regressions:
        print("\nREGRESSIONS (failing, not in known-failures.txt):")
        for r in regressions:
            print("  " + r)
    if fixed:
        print("\nNOW PASSING (take them off known-failures.txt):")
        for name in fixed:
            print("  " + name)
    return 1 if regressions or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
