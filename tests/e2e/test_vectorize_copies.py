#!/usr/bin/python3
"""Small static copies as vector moves (anvil-vectorize-copies).

Bufferization turns every slice it cannot write in place into a linalg.copy:
the matmul schedule's packed B slivers (16 floats of each of K rows), a
concat's parts, a pad's interior. anvil-vectorize-copies makes those of at
most 1024 elements with contiguous rows one vector read and one vector
write. Functions that make such copies: a 1x1 convolution at 56x56 (K = 32,
packed slivers), one with 7 input channels (a 7-row sliver), a padded 3x3
convolution beside a concat of two of them, and a matmul whose width (100)
leaves a 4-column tail. Each is compiled by default and with
--no-vectorize-copies; the two must differ in their LLVM IR (so that this
test fails if the pass stops applying), the unvectorized build must match
the reference interpreter within 1e-4, and both, on 1, 2 and 3 threads, must
equal it bit for bit: a copy moves the same floats either way.
"""
import os
import sys

import numpy as np

from checks import Checks, anvilc_arg, compare_threads, model_in_tempdir, must

MODEL = """
module {
  func.func @pointwise(%x: tensor<2x32x56x56xf32>) -> tensor<2x16x56x56xf32> {
    %w = anvil.param "pw.w" init = "kaiming_uniform" : tensor<16x32x1x1xf32>
    %c = anvil.conv2d %x, %w : tensor<2x32x56x56xf32>, tensor<16x32x1x1xf32>
    return %c : tensor<2x16x56x56xf32>
  }
  func.func @seven(%x: tensor<2x7x28x28xf32>) -> tensor<2x24x28x28xf32> {
    %w = anvil.param "s.w" init = "kaiming_uniform" : tensor<24x7x1x1xf32>
    %b = anvil.param "s.b" init = "normal" : tensor<24xf32>
    %c = anvil.conv2d %x, %w, %b : tensor<2x7x28x28xf32>, tensor<24x7x1x1xf32>, tensor<24xf32>
    %r = anvil.relu %c : tensor<2x24x28x28xf32>
    return %r : tensor<2x24x28x28xf32>
  }
  func.func @concat(%x: tensor<2x8x14x14xf32>) -> tensor<2x24x14x14xf32> {
    %w1 = anvil.param "c1.w" init = "kaiming_uniform" : tensor<16x8x3x3xf32>
    %c1 = anvil.conv2d %x, %w1 {pads = array<i64: 1, 1, 1, 1>} : tensor<2x8x14x14xf32>, tensor<16x8x3x3xf32>
    %cat = anvil.concat %c1, %x {axis = 1 : i64} : tensor<2x16x14x14xf32>, tensor<2x8x14x14xf32>
    return %cat : tensor<2x24x14x14xf32>
  }
  func.func @tail(%x: tensor<8x64xf32>) -> tensor<8x100xf32> {
    %w = anvil.param "t.w" init = "xavier_uniform" : tensor<64x100xf32>
    %m = anvil.matmul %x, %w : tensor<8x64xf32>, tensor<64x100xf32>
    return %m : tensor<8x100xf32>
  }
}
"""

CASES = {
    "pointwise": [(2, 32, 56, 56)],
    "seven": [(2, 7, 28, 28)],
    "concat": [(2, 8, 14, 14)],
    "tail": [(8, 64)],
}


def main():
    anvilc = anvilc_arg(__doc__)
    rng = np.random.default_rng(18)
    check = Checks()
    with model_in_tempdir(MODEL, "copies.mlir") as (tmp, model):
        on = must([anvilc, model, "--compile-to=llvm"])
        off = must([anvilc, model, "--no-vectorize-copies", "--compile-to=llvm"])
        check(on != off, "--no-vectorize-copies changes the generated code")
        vectorized, plain = os.path.join(tmp, "vectorized"), os.path.join(tmp, "plain")
        must([anvilc, model, "-o", vectorized])
        must([anvilc, model, "--no-vectorize-copies", "-o", plain])
        compare_threads(check, anvilc, model, CASES, plain, vectorized,
                        "--no-vectorize-copies", tmp, rng)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
