#!/usr/bin/python3
"""A batch as independent chunks, one per thread (anvil-split-batch).

Zoo-like models at batch 8, whose weights are parameters (so that
anvil-mark-batch proves their samples independent): a small CNN whose batch
norms fold into its convolutions, a MobileNet block (expand 1x1, depthwise
3x3 with relu6, project 1x1, residual add), an MLP (at batch 32), and multi-head
attention with the batch behind the sequence and merged with the heads. Each is compiled as
it is (split into 2 chunks of 4) and with --split-batch 1; the split must
really happen (the chunk function exists, the fusion report says so), and
both executables run on 1, 2 and 3 threads: every output must equal the
unsplit one at 1 thread bit for bit (a chunk runs the same kernels on its
rows: each output element sums the same products in the same order) and the
reference interpreter within 1e-4. A batch-3 model is not split (and the
report says why), and the executable's any-batch chunking (45 samples
through the batch-32 split MLP: one full call and one padded) still
matches the reference. By default (whole-tail), @cnn's classifier (its
weights 5 KB, a chunk's convolutions 1.5 MFLOP: under 1000 FLOPs per byte)
runs once on the whole batch after the chunks, outside its chunk (the split and
unsplit executables compared below are built with it; so is one with
--no-split-whole-tail). An MLP at batch 8 is not split either: a chunk of 4
does too little work per byte of the weights every chunk reads (the report
says so).
"""
import os
import sys

import numpy as np

from checks import (Checks, anvilc_arg, compare_threads, model_in_tempdir, must,
                    run)

MODEL = """
module {
  func.func @cnn(%x: tensor<8x3x16x16xf32>) -> tensor<8x40xf32> {
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
    %a = anvil.reduce_mean %r2 {axes = array<i64: 2, 3>} : tensor<8x32x4x4xf32>
    %wf = anvil.param "fc.w" init = "xavier_uniform" : tensor<32x40xf32>
    %bf = anvil.param "fc.b" init = "normal" : tensor<40xf32>
    %m = anvil.matmul %a, %wf : tensor<8x32xf32>, tensor<32x40xf32>
    %y = anvil.add %m, %bf : tensor<8x40xf32>, tensor<40xf32>
    return %y : tensor<8x40xf32>
  }
  func.func @block(%x: tensor<8x16x14x14xf32>) -> tensor<8x16x14x14xf32> {
    %we = anvil.param "e.w" init = "kaiming_uniform" : tensor<64x16x1x1xf32>
    %be = anvil.param "e.b" init = "normal" : tensor<64xf32>
    %e = anvil.conv2d %x, %we, %be : tensor<8x16x14x14xf32>, tensor<64x16x1x1xf32>, tensor<64xf32>
    %re = anvil.clip %e {min = 0.0 : f64, max = 6.0 : f64} : tensor<8x64x14x14xf32>
    %wd = anvil.param "d.w" init = "kaiming_uniform" : tensor<64x1x3x3xf32>
    %bd = anvil.param "d.b" init = "normal" : tensor<64xf32>
    %d = anvil.conv2d %re, %wd, %bd {pads = array<i64: 1, 1, 1, 1>, groups = 64 : i64} : tensor<8x64x14x14xf32>, tensor<64x1x3x3xf32>, tensor<64xf32>
    %rd = anvil.clip %d {min = 0.0 : f64, max = 6.0 : f64} : tensor<8x64x14x14xf32>
    %wp = anvil.param "p.w" init = "kaiming_uniform" : tensor<16x64x1x1xf32>
    %p = anvil.conv2d %rd, %wp : tensor<8x64x14x14xf32>, tensor<16x64x1x1xf32>
    %y = anvil.add %p, %x : tensor<8x16x14x14xf32>, tensor<8x16x14x14xf32>
    return %y : tensor<8x16x14x14xf32>
  }
  func.func @mlp(%x: tensor<32x64xf32>) -> tensor<32x10xf32> {
    %w1 = anvil.param "l1.w" init = "kaiming_uniform" : tensor<64x96xf32>
    %b1 = anvil.param "l1.b" init = "normal" : tensor<96xf32>
    %m1 = anvil.matmul %x, %w1 : tensor<32x64xf32>, tensor<64x96xf32>
    %a1 = anvil.add %m1, %b1 : tensor<32x96xf32>, tensor<96xf32>
    %h1 = anvil.relu %a1 : tensor<32x96xf32>
    %w2 = anvil.param "l2.w" init = "xavier_uniform" : tensor<96x10xf32>
    %m2 = anvil.matmul %h1, %w2 : tensor<32x96xf32>, tensor<96x10xf32>
    %s = anvil.softmax %m2 : tensor<32x10xf32>
    return %s : tensor<32x10xf32>
  }
  func.func @attention(%x: tensor<8x4x8xf32>) -> tensor<8x4x8xf32> {
    %w = anvil.param "qkv.w" init = "xavier_uniform" : tensor<8x24xf32>
    %t = anvil.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<8x4x8xf32>
    %qkv = anvil.matmul %t, %w : tensor<4x8x8xf32>, tensor<8x24xf32>
    %q = anvil.slice %qkv {starts = array<i64: 0, 0, 0>, ends = array<i64: 4, 8, 8>, steps = array<i64: 1, 1, 1>} : tensor<4x8x24xf32>
    %k = anvil.slice %qkv {starts = array<i64: 0, 0, 8>, ends = array<i64: 4, 8, 16>, steps = array<i64: 1, 1, 1>} : tensor<4x8x24xf32>
    %v = anvil.slice %qkv {starts = array<i64: 0, 0, 16>, ends = array<i64: 4, 8, 24>, steps = array<i64: 1, 1, 1>} : tensor<4x8x24xf32>
    %qh = anvil.reshape %q {shape = array<i64: 4, 16, 4>} : tensor<4x8x8xf32>
    %qt = anvil.transpose %qh {perm = array<i64: 1, 0, 2>} : tensor<4x16x4xf32>
    %kh = anvil.reshape %k {shape = array<i64: 4, 16, 4>} : tensor<4x8x8xf32>
    %kt = anvil.transpose %kh {perm = array<i64: 1, 2, 0>} : tensor<4x16x4xf32>
    %s = anvil.matmul %qt, %kt : tensor<16x4x4xf32>, tensor<16x4x4xf32>
    %p = anvil.softmax %s : tensor<16x4x4xf32>
    %vh = anvil.reshape %v {shape = array<i64: 4, 16, 4>} : tensor<4x8x8xf32>
    %vt = anvil.transpose %vh {perm = array<i64: 1, 0, 2>} : tensor<4x16x4xf32>
    %o = anvil.matmul %p, %vt : tensor<16x4x4xf32>, tensor<16x4x4xf32>
    %ot = anvil.transpose %o {perm = array<i64: 1, 0, 2>} : tensor<16x4x4xf32>
    %om = anvil.reshape %ot {shape = array<i64: 4, 8, 8>} : tensor<4x16x4xf32>
    %y = anvil.transpose %om {perm = array<i64: 1, 0, 2>} : tensor<4x8x8xf32>
    return %y : tensor<8x4x8xf32>
  }
}
"""

# (@attention holds its batch behind the sequence, merged with 2 heads, as
# torch's multi-head attention does: the chunk's reshapes and slices follow
# it there.)
CASES = {
    "cnn": [(8, 3, 16, 16)],
    "block": [(8, 16, 14, 14)],
    "mlp": [(32, 64)],
    "attention": [(8, 4, 8)],
}

# Left whole: a batch of 3 (not a multiple of 2 chunks), and an MLP at batch
# 8, whose chunk of 4 would do 2 FLOPs per weight byte (both threads would
# stream the same weights).
WHOLE = """
module {
  func.func @forward(%x: tensor<3x64xf32>) -> tensor<3x10xf32> {
    %w = anvil.param "w" init = "kaiming_uniform" : tensor<64x10xf32>
    %m = anvil.matmul %x, %w : tensor<3x64xf32>, tensor<64x10xf32>
    %r = anvil.relu %m : tensor<3x10xf32>
    return %r : tensor<3x10xf32>
  }
  func.func @narrow(%x: tensor<8x64xf32>) -> tensor<8x96xf32> {
    %w = anvil.param "n.w" init = "kaiming_uniform" : tensor<64x96xf32>
    %m = anvil.matmul %x, %w : tensor<8x64xf32>, tensor<64x96xf32>
    %r = anvil.relu %m : tensor<8x96xf32>
    return %r : tensor<8x96xf32>
  }
}
"""

def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(15)
    check = Checks()
    with model_in_tempdir(MODEL, "zoo.mlir") as (tmp, model):
        split, whole = os.path.join(tmp, "split"), os.path.join(tmp, "whole")
        must([anvilc, model, "-o", split])
        must([anvilc, model, "--split-batch", "1", "-o", whole])
        # The split must have happened (so that this test fails if it
        # silently stops applying), and the report must say so.
        graph = must([anvilc, model, "--compile-to=graph"])
        for name in CASES:
            check(f"func.call @{name}__chunk" in graph and
                  f"func.func private @{name}__chunk" in graph,
                  f"{name}: split into chunks at the graph phase")
        report = must([anvilc, model, "--fusion-report", "--compile-to=bufferize"])
        split_lines = [line for line in report.splitlines() if line.startswith("@") and
                       ("split batch 8 into 2 chunks of 4, one per thread" in line or
                        "split batch 32 into 2 chunks of 16, one per thread" in line)]
        check(len(split_lines) == len(CASES),
              "the fusion report says each function was split")
        check("@cnn__chunk: conv2d" in report and "batch_norm folded" in report,
              "the fusion report lists the chunk's kernels, batch norm folded")
        # whole-tail: @cnn's classifier (a chunk of 4 would do 2 FLOPs per
        # weight byte) runs once on the whole batch after the chunks.
        check(any(line.startswith("@cnn:") and "run once on the whole batch after them "
                  "(whole-tail)" in line for line in report.splitlines()),
              "the fusion report says @cnn's classifier runs on the whole batch")
        check("anvil.matmul" not in graph.split("func.func private @cnn__chunk")[1]
              .split("func.func")[0],
              "@cnn's chunk does not hold the classifier")
        plan = must([anvilc, model, "--print-memory-plan", "--compile-to=bufferize"])
        check("cnn__chunk" in plan, "--print-memory-plan lists the chunk's plan")
        # --no-fusion keeps the split (a schedule, not a fusion).
        nofusion = must([anvilc, model, "--no-fusion", "--compile-to=graph"])
        check("func.call @cnn__chunk" in nofusion, "--no-fusion keeps the split")
        compare_threads(check, anvilc, model, CASES, whole, split, "--split-batch 1",
                        tmp, rng)
        # --no-split-whole-tail: the classifier in each chunk, the same
        # results.
        tailoff = os.path.join(tmp, "tailoff")
        must([anvilc, model, "--no-split-whole-tail", "-o", tailoff])
        offgraph = must([anvilc, model, "--compile-to=graph", "--no-split-whole-tail"])
        check("anvil.matmul" in offgraph.split("func.func private @cnn__chunk")[1]
              .split("func.func")[0],
              "--no-split-whole-tail: @cnn's chunk holds the classifier")
        compare_threads(check, anvilc, model, CASES, whole, tailoff, "--split-batch 1",
                        tmp, rng)

        # Any batch at run time: 45 samples = one call of 32 and one padded.
        x = rng.uniform(-1.0, 1.0, (45, 64)).astype(np.float32)
        xin, out, ref = (os.path.join(tmp, n) for n in ("x45.npy", "y45.npy", "r45.npy"))
        np.save(xin, x)
        must([split, "--function", "mlp", "--threads", "2", "--input", xin, "--output", out])
        refs = []
        for lo in (0, 32):
            part = np.zeros((32, 64), np.float32)
            part[:min(32, 45 - lo)] = x[lo:lo + 32]
            np.save(xin + ".part.npy", part)
            must([anvilc, "run", "--reference", model, "--function", "mlp",
                  "--input", xin + ".part.npy", "--output", ref])
            refs.append(np.load(ref))
        want = np.concatenate(refs)[:45]
        got = np.load(out)
        check(got.shape == (45, 10) and np.allclose(got, want, rtol=1e-4, atol=1e-4),
              "45 samples through the split batch-32 model match the reference")

    with model_in_tempdir(WHOLE, "whole.mlir") as (tmp, model):
        report = must([anvilc, model, "--fusion-report", "--compile-to=bufferize"])
        check("not split into chunks: batch 3 is not a multiple of 2 chunks" in report,
              "a batch of 3 is not split, and the report says why")
        check("not split into chunks: a chunk of 4 would do 2.0 FLOPs per byte of "
              "the weights that every chunk reads, below 8" in report,
              "an MLP at batch 8 is not split, and the report says why")
        exe = os.path.join(tmp, "whole")
        must([anvilc, model, "-o", exe])
        compare_threads(check, anvilc, model, {"forward": [(3, 64)], "narrow": [(8, 64)]},
                        exe, exe, "not split", tmp, rng)
        bad = run([anvilc, model, "--split-batch", "0", "-o", exe])
        check(bad.returncode != 0 and "--split-batch" in bad.stderr,
              f"--split-batch 0 is refused: {bad.stderr.strip()}")

    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
