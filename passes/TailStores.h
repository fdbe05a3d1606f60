//===- TailStores.h - a vector's leading lanes as unmasked stores -*- C++
//-*-===//
//
// A vector whose last lanes fall past the end of a row (a window chunk of 16
// lanes for a 14-wide row, a direct convolution tile's run of 12 positions
// in a 16-lane vector) is stored by vector.transfer_write with those lanes
// masked off, which LLVM lowers to a masked store. On AMD's cores
// vmaskmovps to memory is microcoded (tens of cycles): it took 40% of a 3x3
// depthwise convolution's time on 14-wide rows on a Zen 3. Storing the
// leading lanes as whole vectors of decreasing powers of two (14 = 8 + 4 +
// 2) costs a few plain stores instead. Shared by anvil-vectorize-windows
// and anvil-direct-conv (their split-tail-stores options).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_TAILSTORES_H
#define ANVIL_PASSES_TAILSTORES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::anvil {

/// Writes the first `count` lanes of the 1-D `value` into `dest` at `at`
/// (the last index runs along the vector) as in-bounds writes of whole
/// vectors of powers of two, widest first; returns the written tensor.
inline Value writeLeadingLanes(OpBuilder &b, Location loc, Value value,
                               Value dest, SmallVector<Value> at,
                               int64_t count) {
  int64_t lanes = cast<VectorType>(value.getType()).getDimSize(0);
  Value x0 = at.back();
  int64_t offset = 0;
  for (int64_t piece = llvm::PowerOf2Ceil(lanes); piece >= 1; piece /= 2) {
    while (count - offset >= piece && piece <= lanes) {
      Value part = b.create<vector::ExtractStridedSliceOp>(
          loc, value, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{piece},
          ArrayRef<int64_t>{1});
      at.back() =
          offset == 0
              ? x0
              : b.createOrFold<arith::AddIOp>(
                    loc, x0, b.create<arith::ConstantIndexOp>(loc, offset));
      dest = b.create<vector::TransferWriteOp>(loc, part, dest, at,
                                               ArrayRef<bool>{true})
                 .getResult();
      offset += piece;
    }
  }
  return dest;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_TAILSTORES_H
