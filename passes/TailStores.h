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

/// `rows` (1-D vectors of one length), or the first `count` lanes of each,
/// as one vector<rows x lanes> (one vector<lanes> for a single row) built by
/// vector.insert.
inline Value stackRows(OpBuilder &b, Location loc, ArrayRef<Value> rows,
                       int64_t offset, int64_t count) {
  auto slice = [&](Value row) -> Value {
    if (offset == 0 && count == cast<VectorType>(row.getType()).getDimSize(0))
      return row;
    return b.create<vector::ExtractStridedSliceOp>(
        loc, row, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{count},
        ArrayRef<int64_t>{1});
  };
  if (rows.size() == 1)
    return slice(rows.front());
  Type element = cast<VectorType>(rows.front().getType()).getElementType();
  auto type = VectorType::get({int64_t(rows.size()), count}, element);
  Value block = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type));
  for (auto [i, row] : llvm::enumerate(rows))
    block = b.create<vector::InsertOp>(loc, slice(row), block, int64_t(i));
  return block;
}

/// Writes the first `count` lanes of each 1-D vector of `rows` into `dest`
/// at `at` (the last index runs along the vectors; with several rows, the
/// one before it along the rows: row i at at[-2] + i) as in-bounds writes
/// of whole vectors of powers of two, widest first; returns the written
/// tensor. Several rows go as one 2-D write per piece, unrolled into rows
/// only after bufferization: each write is a link in the chain of writes
/// into `dest` that one-shot bufferization's analysis walks for every
/// write it places (its time grows with the cube of the chain's length:
/// ResNet's 3x3 convolutions on 7 x 7 maps, 80 1-D writes each, took 0.9 s
/// apiece).
inline Value writeLeadingLanes(OpBuilder &b, Location loc, ArrayRef<Value> rows,
                               Value dest, SmallVector<Value> at,
                               int64_t count) {
  int64_t lanes = cast<VectorType>(rows.front().getType()).getDimSize(0);
  Value x0 = at.back();
  int64_t offset = 0;
  for (int64_t piece = llvm::PowerOf2Ceil(lanes); piece >= 1; piece /= 2) {
    while (count - offset >= piece && piece <= lanes) {
      Value part = stackRows(b, loc, rows, offset, piece);
      at.back() =
          offset == 0
              ? x0
              : b.createOrFold<arith::AddIOp>(
                    loc, x0, b.create<arith::ConstantIndexOp>(loc, offset));
      SmallVector<bool> inBounds(rows.size() == 1 ? 1 : 2, true);
      dest = b.create<vector::TransferWriteOp>(loc, part, dest, at, inBounds)
                 .getResult();
      offset += piece;
    }
  }
  return dest;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_TAILSTORES_H
