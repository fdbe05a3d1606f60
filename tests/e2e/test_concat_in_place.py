#!/usr/bin/python3
"""Concats whose pieces are computed into them (anvil-sink-concat and anvil-write-concat-in-place).

Each function below ends a concat in elementwise ops, as DenseNet's
pre-activation layers do (concat -> batch_norm -> relu -> conv2d): two dense
layers whose concats share their inputs, a concat along rows followed by a
sigmoid, and a concat of an activation that has a second user, a function
argument, a tanh and a sum of the first (the first two are copied by
parallel loops, the others computed in place). The batch norms' parameters are computed from function
arguments (a variance made positive by an exp), so their slices are
computed, not folded. The model is compiled by default and with --no-fusion (which turns
both passes off); the IR must show that the ops moved before the concats
and that the concats' buffers are written in place, the --no-fusion
executable must match the reference interpreter within 1e-4, and the
default one at 1, 2 and 3 threads the --no-fusion one within 1e-5 relative.
"""
import os
import sys

import numpy as np

from checks import Checks, compare_threads, must, anvilc_arg, model_in_tempdir

MODEL = """
module {
  func.func @dense_layers(%x: tensor<2x16x12x12xf32>, %w1: tensor<8x16x3x3xf32>, %p2: tensor<24xf32>, %w2: tensor<8x24x1x1xf32>, %p3: tensor<32xf32>) -> tensor<2x32x12x12xf32> {
    %y1 = anvil.conv2d %x, %w1 {pads = array<i64: 1, 1, 1, 1>} : tensor<2x16x12x12xf32>, tensor<8x16x3x3xf32>
    %c1 = anvil.concat %x, %y1 {axis = 1 : i64} : tensor<2x16x12x12xf32>, tensor<2x8x12x12xf32>
    %b2 = anvil.neg %p2 : tensor<24xf32>
    %v2 = anvil.exp %p2 : tensor<24xf32>
    %n2 = anvil.batch_norm %c1, %p2, %b2, %p2, %v2 : tensor<2x24x12x12xf32>, tensor<24xf32>, tensor<24xf32>, tensor<24xf32>, tensor<24xf32>
    %r2 = anvil.relu %n2 : tensor<2x24x12x12xf32>
    %y2 = anvil.conv2d %r2, %w2 : tensor<2x24x12x12xf32>, tensor<8x24x1x1xf32>
    %c2 = anvil.concat %x, %y1, %y2 {axis = 1 : i64} : tensor<2x16x12x12xf32>, tensor<2x8x12x12xf32>, tensor<2x8x12x12xf32>
    %b3 = anvil.neg %p3 : tensor<32xf32>
    %v3 = anvil.exp %p3 : tensor<32xf32>
    %n3 = anvil.batch_norm %c2, %b3, %p3, %b3, %v3 {epsilon = 1.0e-3 : f64} : tensor<2x32x12x12xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
    %r3 = anvil.relu %n3 : tensor<2x32x12x12xf32>
    return %r3 : tensor<2x32x12x12xf32>
  }
  func.func @rows_then_sigmoid(%a: tensor<3x40xf32>, %b: tensor<5x40xf32>) -> tensor<8x40xf32> {
    %ea = anvil.exp %a : tensor<3x40xf32>
    %c = anvil.concat %ea, %b {axis = 0 : i64} : tensor<3x40xf32>, tensor<5x40xf32>
    %s = anvil.sigmoid %c : tensor<8x40xf32>
    return %s : tensor<8x40xf32>
  }
  func.func @shared_piece(%a: tensor<2x4x9x9xf32>, %b: tensor<2x3x9x9xf32>, %c: tensor<2x5x9x9xf32>) -> tensor<2x16x9x9xf32> {
    %ra = anvil.relu %a : tensor<2x4x9x9xf32>
    %tc = anvil.tanh %c : tensor<2x5x9x9xf32>
    %twice = anvil.add %ra, %ra : tensor<2x4x9x9xf32>, tensor<2x4x9x9xf32>
    %j = anvil.concat %ra, %b, %tc, %twice {axis = 1 : i64} : tensor<2x4x9x9xf32>, tensor<2x3x9x9xf32>, tensor<2x5x9x9xf32>, tensor<2x4x9x9xf32>
    return %j : tensor<2x16x9x9xf32>
  }
}
"""

C = (2, 16, 12, 12)
CASES = {
    "dense_layers": [C, (8, 16, 3, 3), (24,), (8, 24, 1, 1), (32,)],
    "rows_then_sigmoid": [(3, 40), (5, 40)],
    "shared_piece": [(2, 4, 9, 9), (2, 3, 9, 9), (2, 5, 9, 9)],
}


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(11)
    check = Checks()
    with model_in_tempdir(MODEL, "concat.mlir") as (tmp, model):
        fused, plain = os.path.join(tmp, "fused"), os.path.join(tmp, "plain")
        must([anvilc, model, "-o", fused])
        must([anvilc, model, "--no-fusion", "-o", plain])
        # The passes must have applied (so that this test fails if they
        # silently stop): every batch norm, relu and sigmoid after a concat
        # now runs on its inputs (2 + 3 batch norms, not 2), and each
        # concat's buffer is an alloc_tensor its pieces are written into.
        graph = must([anvilc, model, "--compile-to=optimize"])
        check(graph.count("anvil.batch_norm ") == 5 and graph.count("anvil.relu ") == 6 and
              graph.count("anvil.sigmoid ") == 2,
              "batch norms, relus and the sigmoid moved before the concats "
              f"({graph.count('anvil.batch_norm ')} batch norms, "
              f"{graph.count('anvil.relu ')} relus, {graph.count('anvil.sigmoid ')} sigmoids)")
        backend = must([anvilc, model, "--compile-to=backend"])
        plain_backend = must([anvilc, model, "--no-fusion", "--compile-to=backend"])
        check(backend.count("bufferization.alloc_tensor") == 4 and
              "bufferization.alloc_tensor" not in plain_backend,
              "the four concats are written in place "
              f"({backend.count('bufferization.alloc_tensor')} alloc_tensors)")
        report = must([anvilc, model, "--split-batch", "1", "--fusion-report", "-o",
                       os.path.join(tmp, "reported")])
        for line in ("concat 2x24x12x12: 2 of its 2 inputs computed into it in place",
                     "concat 2x32x12x12: 3 of its 3 inputs computed into it in place",
                     "concat 8x40: 2 of its 2 inputs computed into it in place",
                     "concat 2x16x9x9: 2 of its 4 inputs computed into it in place"):
            check(line in report, f"the fusion report says '{line}'")
        compare_threads(check, anvilc, model, CASES, plain, fused, "--no-fusion", tmp, rng,
                        rel_tol=1e-5)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
