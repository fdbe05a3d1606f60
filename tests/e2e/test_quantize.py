#!/usr/bin/python3
"""`anvilc quantize` end to end, on a small MLP trained here.

A 32-64-32-4 MLP (ReLU) is trained with numpy on four Gaussian clusters
(labelled), written as Anvil IR with its weights, then quantized with
calibration data (.npy samples and labels). Checks:
  - the quantized IR has an anvil.qmatmul for each matmul and no f32 matmul
    left (with --exclude: the excluded one stays, listed with why);
  - compiled, it equals the reference interpreter running the same IR
    (within 1e-5), at 1 and 2 threads;
  - int8 vs fp32 (compiled) top-1 agreement on held-out data >= 97%;
  - the report's fields: fp32 accuracy as numpy computes it, int8 accuracy,
    agreement and SQNR in range, per-layer names, scales and SQNRs, the
    flag below 30 dB;
  - a folder of .npy inputs calibrates too (no labels: no accuracy);
  - -o q.onnx writes QDQ ONNX (per tensor and per channel) that
    onnx.checker accepts: QuantizeLinear/DequantizeLinear around each
    matmul's activations, int8 weight initializers with DequantizeLinear
    (axis 1 per channel); `anvilc check` takes it, and on the reference it
    gives the outputs of the .mlir int8 model within one int8 step; an
    ONNX MatMulInteger exports back as MatMulInteger (same outputs);
  - bad input gives one error naming the option or file, and no output.
Exits non-zero on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks

F32 = np.float32
BATCH, IN, H1, H2, CLASSES = 16, 32, 64, 32, 4


def make_data(rng, n):
    centers = np.random.default_rng(5).normal(0, 1.5, (CLASSES, IN))
    y = rng.integers(0, CLASSES, n)
    x = centers[y] + rng.normal(0, 1.0, (n, IN))
    return x.astype(F32), y.astype(np.int64)


def forward(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    return h1, h2, h2 @ w3 + b3


def train(x, y):
    """Full-batch gradient descent on softmax cross-entropy."""
    rng = np.random.default_rng(1)
    params = [rng.normal(0, np.sqrt(2 / IN), (IN, H1)), np.zeros(H1),
              rng.normal(0, np.sqrt(2 / H1), (H1, H2)), np.zeros(H2),
              rng.normal(0, np.sqrt(1 / H2), (H2, CLASSES)), np.zeros(CLASSES)]
    onehot = np.eye(CLASSES)[y]
    for _ in range(300):
        w1, b1, w2, b2, w3, b3 = params
        h1, h2, z = forward(params, x)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g3 = (p - onehot) / len(x)
        g2 = (g3 @ w3.T) * (h2 > 0)
        g1 = (g2 @ w2.T) * (h1 > 0)
        grads = [x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g3,
                 g3.sum(0)]
        params = [v - 0.1 * g for v, g in zip(params, grads)]
    return [p.astype(F32) for p in params]


def dense(a):
    return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'


def model_text(params):
    names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
             "fc3.bias"]
    p = {}
    for name, v in zip(names, params):
        t = "tensor<" + "x".join(map(str, v.shape)) + "xf32>"
        p[name] = (f'anvil.param "{name}" init = "dense" {{value = {dense(v)} '
                   f': {t}}} : {t}')
    return f"""module {{
  func.func @forward(%x: tensor<{BATCH}x{IN}xf32>) -> tensor<{BATCH}x{CLASSES}xf32> {{
    %w1 = {p["fc1.weight"]}
    %b1 = {p["fc1.bias"]}
    %m1 = anvil.matmul %x, %w1 : tensor<{BATCH}x{IN}xf32>, tensor<{IN}x{H1}xf32>
    %a1 = anvil.add %m1, %b1 : tensor<{BATCH}x{H1}xf32>, tensor<{H1}xf32>
    %h1 = anvil.relu %a1 : tensor<{BATCH}x{H1}xf32>
    %w2 = {p["fc2.weight"]}
    %b2 = {p["fc2.bias"]}
    %m2 = anvil.matmul %h1, %w2 : tensor<{BATCH}x{H1}xf32>, tensor<{H1}x{H2}xf32>
    %a2 = anvil.add %m2, %b2 : tensor<{BATCH}x{H2}xf32>, tensor<{H2}xf32>
    %h2 = anvil.relu %a2 : tensor<{BATCH}x{H2}xf32>
    %w3 = {p["fc3.weight"]}
    %b3 = {p["fc3.bias"]}
    %m3 = anvil.matmul %h2, %w3 : tensor<{BATCH}x{H2}xf32>, tensor<{H2}x{CLASSES}xf32>
    %y = anvil.add %m3, %b3 : tensor<{BATCH}x{CLASSES}xf32>, tensor<{CLASSES}xf32>
    return %y : tensor<{BATCH}x{CLASSES}xf32>
  }}
}}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    anvilc = args.anvilc
    check = Checks()
    rng = np.random.default_rng(17)
    x, y = make_data(rng, 2000)
    params = train(x, y)
    xcal, ycal = make_data(rng, 200)
    xeval, _ = make_data(rng, 4 * BATCH)
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        with open(path("mlp.mlir"), "w") as f:
            f.write(model_text(params))
        np.save(path("x.npy"), xcal)
        np.save(path("y.npy"), ycal)

        def quantize(*extra, out="q.mlir", times=False):
            cmd = [anvilc, "quantize", path("mlp.mlir"), "-o", path(out)]
            if not times:
                cmd.append("--no-layer-times")
            return subprocess.run(cmd + list(extra), capture_output=True,
                                  text=True)

        # Quantize, per channel, with a JSON report (and the layer times).
        p = quantize("--calibrate", path("x.npy"), "--labels", path("y.npy"),
                     "--samples", "200", "--per-channel", "--report-json",
                     path("r.json"), times=True)
        check(p.returncode == 0, "anvilc quantize: " + p.stderr.strip())
        if p.returncode != 0:
            return 1
        print(p.stdout)
        ir = open(path("q.mlir")).read()
        check(ir.count("anvil.qmatmul") == 3 and "anvil.matmul" not in ir,
              "every matmul became anvil.qmatmul")
        report = json.load(open(path("r.json")))

        # The report against numpy: fp32 accuracy exactly; int8 near it.
        logits = forward([p.astype(F32) for p in params], xcal)[2]
        fp32_acc = float(np.mean(logits.argmax(1) == ycal))
        check(abs(report["accuracy_fp32"] - fp32_acc) < 1e-9 and
              fp32_acc > 0.9,
              f"report's fp32 accuracy {report['accuracy_fp32']} = numpy's "
              f"{fp32_acc}")
        check(abs(report["accuracy_int8"] - fp32_acc) <= 0.02,
              f"int8 accuracy {report['accuracy_int8']} within 2 points")
        check(report["top1_agreement"] >= 0.97,
              f"top-1 agreement {report['top1_agreement']} >= 97%")
        check(report["sqnr_db"] is not None and report["sqnr_db"] > 25,
              f"output SQNR {report['sqnr_db']} dB > 25")
        names = [l["name"] for l in report["layers"]]
        check(names == ["fc1.weight", "fc2.weight", "fc3.weight"],
              f"layers named by their weights: {names}")
        for l in report["layers"]:
            lo, hi = l["range_min"], l["range_max"]
            ok = lo == l["input_min"] and hi == l["input_max"]  # minmax
            scale = l["input_scale"]
            ok = ok and (abs(scale - (max(hi, 0) - min(lo, 0)) / 255) <= 1e-6 * scale
                  and l["weight_scale_min"] <= l["weight_scale_max"] and
                  l["sqnr_alone_db"] is not None and
                  l["sqnr_alone_db"] >= report["sqnr_db"] - 3 and
                  l["flagged"] == (l["sqnr_alone_db"] < 30))
            check(ok, f"layer {l['name']}: range [{lo:.3g}, {hi:.3g}], "
                      f"scale {scale:.3g}, SQNR alone {l['sqnr_alone_db']}")
        # Each layer compiled alone and timed, f32 and int8.
        for l in report["layers"]:
            check(all(isinstance(l[k], float) and 0 < l[k] < 1e4
                      for k in ("f32_ms", "int8_ms")),
                  f"layer {l['name']}: f32 {l['f32_ms']} ms, int8 "
                  f"{l['int8_ms']} ms, measured")
        check("f32 ms" in p.stdout and "int8 ms" in p.stdout and
              "layer times in" in p.stdout, "the text report has the times")
        # The accuracy change with only fc1 int8 is what quantizing only
        # fc1 (--exclude the others) does to the accuracy.
        p1 = quantize("--calibrate", path("x.npy"), "--labels", path("y.npy"),
                      "--samples", "200", "--per-channel", "--exclude",
                      "fc2|fc3", "--report-json", path("r1.json"),
                      out="q1.mlir")
        check(p1.returncode == 0, "--exclude fc2|fc3: " + p1.stderr.strip())
        if p1.returncode == 0:
            r1 = json.load(open(path("r1.json")))
            want = 100 * (r1["accuracy_int8"] - r1["accuracy_fp32"])
            got = report["layers"][0]["accuracy_change_alone_points"]
            check(got is not None and abs(got - want) < 1e-9,
                  f"fc1's accuracy change alone {got} = only fc1 int8's "
                  f"{want}")
            check(r1["layers"][0]["f32_ms"] is None,
                  "--no-layer-times: no times (null)")

        # fc2's input is fc1's ReLU output: zero point 0; fc1's input is
        # signed: its zero point is where 0 falls.
        check(report["layers"][1]["input_zero_point"] == 0 and
              report["layers"][0]["input_zero_point"] > 0,
              "zero points: 0 after ReLU, > 0 for signed inputs")
        check(abs(report["layers"][0]["input_min"] - xcal.min()) < 1e-6 and
              abs(report["layers"][0]["input_max"] - xcal.max()) < 1e-6,
              "fc1's range is the data's min and max")

        # Compiled int8 = the reference on the same IR; threads agree.
        p = subprocess.run([anvilc, path("q.mlir"), "-o", path("q")],
                           capture_output=True, text=True)
        check(p.returncode == 0, "anvilc q.mlir -o q: " + p.stderr.strip())
        p = subprocess.run([anvilc, path("mlp.mlir"), "-o", path("f")],
                           capture_output=True, text=True)
        check(p.returncode == 0, "anvilc mlp.mlir -o f: " + p.stderr.strip())
        agree = total = 0
        for b in range(4):
            xb = path(f"xb{b}.npy")
            np.save(xb, xeval[b * BATCH:(b + 1) * BATCH])
            outs = {}
            for name, cmd, env in (
                    ("int8", [path("q")], {"OMP_NUM_THREADS": "1"}),
                    ("int8 2 threads", [path("q")], {"OMP_NUM_THREADS": "2"}),
                    ("fp32", [path("f")], {}),
                    ("reference", [anvilc, "run", "--reference",
                                   path("q.mlir")], {})):
                out = path(f"out-{b}-{len(outs)}.npy")
                p = subprocess.run(cmd + ["--input", xb, "--output", out],
                                   capture_output=True, text=True,
                                   env=dict(os.environ, **env))
                check(p.returncode == 0, f"{name} batch {b} ran: "
                      + p.stderr.strip())
                outs[name] = np.load(out) if p.returncode == 0 else None
            if any(v is None for v in outs.values()):
                continue
            err = np.abs(outs["int8"] - outs["reference"]).max()
            bound = 1e-5 * max(1.0, np.abs(outs["reference"]).max())
            check(err <= bound, f"batch {b}: compiled int8 = reference of "
                  f"the quantized IR (max |diff| {err:.2g})")
            check(np.array_equal(outs["int8"], outs["int8 2 threads"]),
                  f"batch {b}: 1 and 2 threads bit-equal")
            agree += np.sum(outs["int8"].argmax(1) == outs["fp32"].argmax(1))
            total += BATCH
        check(total and agree / total >= 0.97,
              f"held-out int8 vs fp32 top-1 agreement {agree}/{total}")

        # QDQ ONNX out, per tensor and per channel.
        import onnx
        from onnx import numpy_helper
        for pc in ([], ["--per-channel"]):
            tag = "per channel" if pc else "per tensor"
            outs = {}
            for out in ("qq.mlir", "qq.onnx"):
                p = quantize("--calibrate", path("x.npy"), "--samples", "64",
                             "--report-json", path("rq.json"), *pc, out=out)
                check(p.returncode == 0, f"-o {out} ({tag}) "
                      + p.stderr.strip())
            if p.returncode != 0:
                continue
            rq = json.load(open(path("rq.json")))
            m = onnx.load(path("qq.onnx"))
            try:
                onnx.checker.check_model(m, full_check=True)
                ok = True
            except Exception as e:  # noqa: BLE001
                ok = False
                print(e)
            check(ok, f"onnx.checker accepts the QDQ model ({tag})")
            types = [n.op_type for n in m.graph.node]
            inits = {i.name: numpy_helper.to_array(i)
                     for i in m.graph.initializer}
            int8_inits = [k for k, v in inits.items()
                          if v.dtype == np.int8 and v.ndim == 2]
            dq_w = [n for n in m.graph.node if n.op_type == "DequantizeLinear"
                    and n.input[0] in int8_inits]
            # No f32 weights left, nothing unread.
            check(types.count("QuantizeLinear") == 3 and
                  types.count("MatMul") == 3 and len(int8_inits) == 3 and
                  len(dq_w) == 3 and types.count("DequantizeLinear") == 6 and
                  "MatMulInteger" not in types and
                  not any(v.dtype == np.float32 and v.ndim == 2
                          for v in inits.values()) and
                  set(inits) <= {i for n in m.graph.node for i in n.input} and
                  all(n.output[0] in {i for k in m.graph.node
                                      for i in k.input}
                      for n in m.graph.node if n.op_type == "Constant") and
                  all(any(a.name == "axis" and a.i == 1 for a in n.attribute)
                      == bool(pc) for n in dq_w),
                  f"QDQ form ({tag}): {types.count('QuantizeLinear')} "
                  f"QuantizeLinear, {len(dq_w)} int8 weights with "
                  f"DequantizeLinear, opset {m.opset_import[0].version}")
            p = subprocess.run([anvilc, "check", path("qq.onnx")],
                               capture_output=True, text=True)
            check(p.returncode == 0, f"anvilc check qq.onnx ({tag}) "
                  + p.stderr.strip())
            # One int8 step of the output: fc3's accumulator scale.
            last = rq["layers"][-1]
            step = last["input_scale"] * last["weight_scale_max"]
            worst = 0.0
            for b in range(2):
                xb = path(f"xb{b}.npy")
                np.save(xb, xeval[b * BATCH:(b + 1) * BATCH])
                for name in ("qq.mlir", "qq.onnx"):
                    p = subprocess.run(
                        [anvilc, "run", "--reference", path(name), "--input",
                         xb, "--output", path(name + ".npy")],
                        capture_output=True, text=True)
                    check(p.returncode == 0, f"run {name} " + p.stderr.strip())
                if p.returncode == 0:
                    diff = np.abs(np.load(path("qq.onnx.npy")) -
                                  np.load(path("qq.mlir.npy"))).max()
                    worst = max(worst, float(diff))
            check(worst <= step, f"QDQ ONNX = the .mlir int8 model within "
                  f"one int8 step ({tag}): max |diff| {worst:.3g} <= "
                  f"{step:.3g}")

        # A qmatmul not in anvil-quantize's form (an ONNX MatMulInteger with
        # zero points) exports as MatMulInteger: same outputs re-imported.
        from onnx import helper, TensorProto
        w = rng.integers(-127, 128, (8, 4)).astype(np.int8)
        g = helper.make_graph(
            [helper.make_node("MatMulInteger", ["a", "w", "azp", "wzp"],
                              ["acc"]),
             helper.make_node("DequantizeLinear", ["acc", "s"], ["y"])], "g",
            [helper.make_tensor_value_info("a", TensorProto.UINT8, [2, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
            [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array(3, np.uint8), "azp"),
             numpy_helper.from_array(np.array(1, np.int8), "wzp"),
             numpy_helper.from_array(np.array(0.5, F32), "s")])
        onnx.save(helper.make_model(
            g, opset_imports=[helper.make_opsetid("", 17)]), path("mmi.onnx"))
        np.save(path("a.npy"), rng.integers(0, 256, (2, 8)).astype(np.uint8))
        p = subprocess.run([anvilc, "export", path("mmi.onnx"), "-o",
                            path("back.onnx")], capture_output=True, text=True)
        same = p.returncode == 0
        if same:
            back = onnx.load(path("back.onnx"))
            onnx.checker.check_model(back, full_check=True)
            same = "MatMulInteger" in [n.op_type for n in back.graph.node]
        for name in ("mmi", "back"):
            p = subprocess.run([anvilc, "run", "--reference",
                                path(name + ".onnx"), "--input", path("a.npy"),
                                "--output", path(name + ".npy")],
                               capture_output=True, text=True)
            same = same and p.returncode == 0
        check(same and np.array_equal(np.load(path("mmi.npy")),
                                      np.load(path("back.npy"))),
              "MatMulInteger exports as MatMulInteger, same outputs "
              + p.stderr.strip())

        # --exclude keeps a layer f32 and says why.
        p = quantize("--calibrate", path("x.npy"), "--samples", "32",
                     "--exclude", "fc2", "--report-json", path("r2.json"),
                     out="q2.mlir")
        ir = open(path("q2.mlir")).read() if p.returncode == 0 else ""
        r2 = json.load(open(path("r2.json"))) if p.returncode == 0 else {}
        check(p.returncode == 0 and ir.count("anvil.qmatmul") == 2 and
              ir.count("anvil.matmul") == 1 and
              r2["excluded"] == [{"name": "fc2.weight", "op": "matmul",
                                  "reason": "--exclude matches its name"}] and
              "accuracy_int8" not in r2 and "excluded (f32): fc2.weight" in
              p.stdout,
              "--exclude fc2: fc2 stays f32, listed with why; no labels, no "
              "accuracy " + p.stderr.strip())

        # A folder of .npy inputs (one batch per file).
        os.makedirs(path("inputs"))
        for b in range(3):
            np.save(path(f"inputs/{b}.npy"), xcal[b * BATCH:(b + 1) * BATCH])
        p = quantize("--calibrate", path("inputs"), out="q3.mlir")
        check(p.returncode == 0 and "48 samples" in p.stdout,
              "a folder of .npy inputs calibrates (48 samples) "
              + p.stderr.strip())

        # Bad input: one error naming the option or file, no output written.
        np.save(path("wrong.npy"), np.zeros((10, 31), F32))
        for what, extra, message in (
                ("missing data", ["--calibrate", path("nope.npy")],
                 "--calibrate " + path("nope.npy") + ": no such file"),
                ("wrong input shape", ["--calibrate", path("wrong.npy")],
                 "samples have 31 values, but @forward takes"),
                ("--samples 0", ["--calibrate", path("x.npy"), "--samples",
                                 "0"], "--samples must be > 0"),
                ("bad regex", ["--calibrate", path("x.npy"), "--exclude",
                               "fc("], "bad --exclude regex 'fc('"),
                ("no --calibrate", [], "--calibrate DATA"),
                ("--method", ["--calibrate", path("x.npy"), "--method",
                              "minmaxx"], "--method must be minmax"),
                ("other output", ["--calibrate", path("x.npy")],
                 "writes Anvil IR (-o NAME.mlir) or ONNX")):
            out = "bad.txt" if what == "other output" else "bad.mlir"
            p = quantize(*extra, out=out)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 1 and len(lines) == 1 and
                  message in lines[0] and not os.path.exists(path(out)),
                  f"{what} refused: {p.stderr.strip()}")
    print(f"{len(check.failures)} failure(s)")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
