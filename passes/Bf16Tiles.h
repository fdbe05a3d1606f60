//===- Bf16Tiles.h - one product on the vdpbf16ps tiles ----------*- C++
//-*-===//
//
// The bf16 product that anvil-bf16-matmul builds for an `anvil.matmul
// {bf16}`, for the other code that has a 2-D product to run in bf16: the
// im2col products of the convolutions marked bf16 (Conv.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_BF16TILES_H
#define ANVIL_PASSES_BF16TILES_H

#include "mlir/IR/Builders.h"

namespace mlir::anvil {

/// `lhs [M, K] @ rhs [K, N]` of f32 tensors (lhs stored [K, M] with
/// `transposeA`, rhs [N, K] with `transposeB`) as the f32 [M, N] sums of
/// the bf16-rounded operands' products, on `vdpbf16ps` register tiles (see
/// Bf16Matmul.cpp): a constant rhs packed now, any other by a vector loop
/// before the tiles. `parallel`: a large product's column blocks run as an
/// scf.forall. `rowBias` (an f32 [M] tensor, optional) starts row r's sums
/// at rowBias[r]; `dest` (an f32 [M, N] tensor, optional) is written
/// rather than a new tensor.
Value buildBf16Matmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                      bool transposeA, bool transposeB, bool parallel = true,
                      Value rowBias = {}, Value dest = {});

} // namespace mlir::anvil

#endif // ANVIL_PASSES_BF16TILES_H
