#!/usr/bin/python3
"""Executables compiled for several batches (anvilc --batch 1,8), end to end.

A small CNN at batch 8 whose weights are parameters (so that
anvil-mark-batch proves its samples independent) is compiled with
--batch 1,8 and with --batch 8. Checks that:
  - --list shows the function, its batch-1 variant and that they are
    variants; --print-memory-plan, the fusion report (text, and JSON that
    parses) and the library header list the variant;
  - 1, 3, 8, 13 and 17 samples through the two-variant executable equal the
    reference interpreter (within 1e-4) and the batch-8 executable, with
    the chosen mix and with each variant forced (--variant 1, --variant 8);
    --bench --samples says which chunks ran;
  - with --weights-file, the variants share the parameters: the weights file
    is the batch-8 model's, byte for byte;
  - bad --batch lists (0,8; 8,8; x), a list for a trainer and for a function
    that mixes its samples, and --variant 3 are each one clear error, with
    no output written;
  - `anvilc export` writes the batch as dim_param "batch" (onnx.checker
    passes), and the export re-imported at batches 3 and 5 matches the
    reference.
Exits non-zero on any failure.
"""
import json
import os
import sys

import numpy as np

from checks import Checks, anvilc_arg, model_in_tempdir, must, run

MODEL = """
module {
  func.func @forward(%x: tensor<8x3x16x16xf32>) -> tensor<8x10xf32> {
    %w1 = anvil.param "c1.w" init = "kaiming_uniform" : tensor<16x3x3x3xf32>
    %c1 = anvil.conv2d %x, %w1 {pads = array<i64: 1, 1, 1, 1>} : tensor<8x3x16x16xf32>, tensor<16x3x3x3xf32>
    %g1 = anvil.param "bn1.g" init = "normal" : tensor<16xf32>
    %h1 = anvil.param "bn1.h" init = "normal" : tensor<16xf32>
    %m1 = anvil.param "bn1.m" init = "normal" : tensor<16xf32>
    %v1 = anvil.param "bn1.v" init = "ones" : tensor<16xf32>
    %n1 = anvil.batch_norm %c1, %g1, %h1, %m1, %v1 : tensor<8x16x16x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
    %r1 = anvil.relu %n1 : tensor<8x16x16x16xf32>
    %p1 = anvil.max_pool2d %r1 {kernel = array<i64: 2, 2>} : tensor<8x16x16x16xf32>
    %w2 = anvil.param "c2.w" init = "kaiming_uniform" : tensor<32x16x3x3xf32>
    %b2 = anvil.param "c2.b" init = "normal" : tensor<32xf32>
    %c2 = anvil.conv2d %p1, %w2, %b2 {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<8x16x8x8xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>
    %r2 = anvil.relu %c2 : tensor<8x32x4x4xf32>
    %f = anvil.reshape %r2 {shape = array<i64: 8, 512>} : tensor<8x32x4x4xf32>
    %wf = anvil.param "fc.w" init = "xavier_uniform" : tensor<512x10xf32>
    %bf = anvil.param "fc.b" init = "normal" : tensor<10xf32>
    %m = anvil.matmul %f, %wf : tensor<8x512xf32>, tensor<512x10xf32>
    %y = anvil.add %m, %bf : tensor<8x10xf32>, tensor<10xf32>
    return %y : tensor<8x10xf32>
  }
}
"""

MIXING = """
func.func @forward(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %m = anvil.reduce_mean %x {axes = array<i64: 0>, keepdims} : tensor<4x3xf32>
  %y = anvil.sub %x, %m : tensor<4x3xf32>, tensor<1x3xf32>
  return %y : tensor<4x3xf32>
}
"""

SAMPLES = (1, 3, 8, 13, 17)


def reference(anvilc, model, x, tmp, batch=8, function="forward"):
    """The reference interpreter on `x`, `batch` samples at a time (padded)."""
    outs = []
    xin, ref = os.path.join(tmp, "ref-x.npy"), os.path.join(tmp, "ref-y.npy")
    for lo in range(0, len(x), batch):
        part = np.zeros((batch,) + x.shape[1:], np.float32)
        n = min(batch, len(x) - lo)
        part[:n] = x[lo:lo + n]
        np.save(xin, part)
        must([anvilc, "run", "--reference", model, "--function", function,
              "--input", xin, "--output", ref])
        outs.append(np.load(ref)[:n])
    return np.concatenate(outs)


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(17)
    check = Checks()
    with model_in_tempdir(MODEL, "cnn.mlir") as (tmp, model):
        multi, single = os.path.join(tmp, "multi"), os.path.join(tmp, "single")
        must([anvilc, model, "--batch", "1,8", "-o", multi])
        must([anvilc, model, "--batch", "8", "-o", single])

        listing = must([multi, "--list"])
        check("forward: f32[8,3,16,16]->f32[8,10] (any number of samples, 8 at a "
              "time); variants at batch 1, 8: each call runs the mix that takes "
              "least time" in listing,
              "--list shows @forward at batch 8 with its variants: " + listing.strip())
        check("forward__b1: f32[1,3,16,16]->f32[1,10] (forward compiled for batch 1)" in listing,
              "--list shows the batch-1 variant as a variant of forward")

        plan = must([anvilc, model, "--batch", "1,8", "--print-memory-plan",
                     "--compile-to=bufferize"])
        check("memory plan of @forward__b1" in plan and "(@forward compiled for batch 1)" in plan,
              "--print-memory-plan shows the variant's plan and says it is one")
        report = must([anvilc, model, "--batch", "1,8", "--fusion-report",
                       "--compile-to=bufferize"])
        check("@forward__b1: @forward compiled for batch 1 (anvil-batch-variants)" in report
              and "@forward__b1: conv2d" in report,
              "the fusion report says @forward__b1 is a variant and lists its kernels")
        single_report = must([anvilc, model, "--batch", "8", "--fusion-report",
                              "--compile-to=bufferize"])
        total = [l for l in report.splitlines() if l.startswith("total:")]
        single_total = [l for l in single_report.splitlines() if l.startswith("total:")]
        check(total and single_total and
              total[0].split(" kernels, ")[1].split(" moved")[0] ==
              single_total[0].split(" kernels, ")[1].split(" moved")[0],
              "the report's totals count @forward alone: " + (total[0] if total else "none"))
        js = must([anvilc, model, "--batch", "1,8", "--fusion-report=json",
                   "--compile-to=bufferize"])
        try:
            # (--compile-to prints the IR after the report.)
            doc, _ = json.JSONDecoder().raw_decode(js)
            check(doc.get("batch_variants") == [
                {"function": "forward__b1", "variant_of": "forward", "batch": 1}]
                  and any(k["function"] == "forward__b1" for k in doc["kernels"]),
                  "the JSON fusion report parses and lists the variant")
        except json.JSONDecodeError as e:
            check(False, f"the JSON fusion report parses: {e}")
        lib = os.path.join(tmp, "libcnn.a")
        must([anvilc, model, "--batch", "1,8", "--emit=lib", "-o", lib])
        header = open(os.path.join(tmp, "cnn.h")).read()
        check("void anvil_forward__b1(const float *input0, float *result0);" in header
              and "@forward compiled for batch 1" in header
              and "void anvil_forward(const float *input0, float *result0);" in header,
              "the library header declares @forward and its variant, and says so")

        xin, out = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        for n in SAMPLES:
            x = rng.uniform(-1.0, 1.0, (n, 3, 16, 16)).astype(np.float32)
            np.save(xin, x)
            want = reference(anvilc, model, x, tmp)
            must([single, "--input", xin, "--output", out])
            one = np.load(out)
            for flags, what in (([], "the chosen mix"), (["--variant", "1"], "--variant 1"),
                                (["--variant", "8"], "--variant 8")):
                r = run([multi, "--input", xin, "--output", out] + flags)
                if r.returncode != 0:
                    check(False, f"{n} samples, {what}: {r.stderr.strip()}")
                    continue
                got = np.load(out)
                check(got.shape == (n, 10) and
                      np.allclose(got, want, rtol=1e-4, atol=1e-4) and
                      np.allclose(got, one, rtol=1e-5, atol=1e-5),
                      f"{n} samples, {what}: equal to the reference and to "
                      f"--batch 8 (max diff {float(np.max(np.abs(got - want))):.2e})")

        bench = run([multi, "--bench", "2", "--samples", "13"])
        check(bench.returncode == 0 and "samples 13 as " in bench.stdout and
              "measured call time" in bench.stdout,
              "--bench --samples 13 says which chunks ran: " + bench.stdout.strip())
        forced = run([multi, "--bench", "2", "--samples", "3", "--variant", "1"])
        check(forced.returncode == 0 and "as 3x1: --variant 1" in forced.stdout,
              "--bench --variant 1 runs batch-1 chunks only: " + forced.stdout.strip())
        bad = run([multi, "--input", xin, "--output", out + ".bad.npy", "--variant", "3"])
        check(bad.returncode != 0 and "--variant 3" in bad.stderr and
              "compiled for batch 1, 8" in bad.stderr and
              not os.path.exists(out + ".bad.npy"),
              "--variant 3 is one clear error: " + bad.stderr.strip())

        # The variants share their parameters: one weights-file entry each.
        wm, ws = os.path.join(tmp, "m.weights"), os.path.join(tmp, "s.weights")
        must([anvilc, model, "--batch", "1,8", "--weights-file", wm, "-o", multi + "w"])
        must([anvilc, model, "--batch", "8", "--weights-file", ws, "-o", single + "w"])
        check(open(wm, "rb").read() == open(ws, "rb").read(),
              "--weights-file: the variants share the batch-8 model's weights file")
        x = rng.uniform(-1.0, 1.0, (13, 3, 16, 16)).astype(np.float32)
        np.save(xin, x)
        must([multi + "w", "--input", xin, "--output", out])
        check(np.allclose(np.load(out), reference(anvilc, model, x, tmp),
                          rtol=1e-4, atol=1e-4),
              "--weights-file: 13 samples through the variants match the reference")

        for value, says in (("0,8", "--batch must be a positive size, not 0 (in '0,8')"),
                            ("8,8", "--batch lists 8 twice ('8,8'); give each size once"),
                            ("x", "--batch wants a size or a comma-separated list of sizes")):
            exe = os.path.join(tmp, "bad-" + value.replace(",", "_"))
            r = run([anvilc, model, "--batch", value, "-o", exe])
            check(r.returncode != 0 and says in r.stderr and not os.path.exists(exe),
                  f"--batch {value} is one clear error: {r.stderr.strip()}")
        trainer = os.path.join(tmp, "trainer")
        r = run([anvilc, "train", model, "--batch", "1,8", "-o", trainer])
        check(r.returncode != 0 and "a trainer is compiled for one batch" in r.stderr
              and not os.path.exists(trainer),
              "a trainer refuses a list of batches: " + r.stderr.strip())

        # ONNX export with a symbolic batch, re-imported at two batches.
        import onnx
        exported = os.path.join(tmp, "cnn.onnx")
        must([anvilc, "export", model, "--function", "forward", "-o", exported])
        m = onnx.load(exported)
        try:
            onnx.checker.check_model(m, full_check=True)
            check(True, "the export passes onnx.checker (with shape inference)")
        except Exception as e:  # noqa: BLE001 - any checker failure fails the check
            check(False, f"the export passes onnx.checker: {e}")
        dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
                for v in list(m.graph.input) + list(m.graph.output)]
        check(dims == [["batch", 3, 16, 16], ["batch", 10]],
              f"the export's inputs and outputs have a symbolic batch: {dims}")
        for b in (3, 5):
            exe = os.path.join(tmp, f"onnx{b}")
            must([anvilc, exported, "--batch", str(b), "-o", exe])
            x = rng.uniform(-1.0, 1.0, (b, 3, 16, 16)).astype(np.float32)
            np.save(xin, x)
            must([exe, "--input", xin, "--output", out])
            got = np.load(out)
            want = reference(anvilc, model, x, tmp)
            check(got.shape == (b, 10) and np.allclose(got, want, rtol=1e-4, atol=1e-4),
                  f"the export re-imported at batch {b} matches the reference")

    with model_in_tempdir(MIXING, "mixing.mlir") as (tmp, model):
        exe = os.path.join(tmp, "mixing")
        r = run([anvilc, model, "--batch", "1,4", "-o", exe])
        check(r.returncode != 0 and "@forward cannot be compiled for more than one batch"
              in r.stderr and not os.path.exists(exe),
              "a function that mixes its samples refuses a list: " + r.stderr.strip())
        exported = os.path.join(tmp, "mixing.onnx")
        must([anvilc, "export", model, "-o", exported])
        import onnx
        dims = [d.dim_value for d in onnx.load(exported).graph.input[0].type.tensor_type.shape.dim]
        check(dims == [4, 3], f"its export keeps the static batch: {dims}")

    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
