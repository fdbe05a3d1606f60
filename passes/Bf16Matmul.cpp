//===- Bf16Matmul.cpp - bf16 matmuls as vdpbf16ps register tiles ---------===//
//
// Rewrites a 2-D `anvil.matmul {bf16}` (or a batched lhs by a 2-D rhs,
// the batch folded into M) into anvil-int8-matmul's register tiles
// (DotTiles.h) with `vdpbf16ps` as the step: 8 rows by 2 blocks of 16
// columns, 16 vector<16xf32> accumulators; each k pair broadcasts one dword
// of a row (its two bf16) and adds, in every lane, the two products with the
// column's pair. No zero point, no correction: the accumulators are the
// result.
//
// The rhs is packed into `[blocks, ceil(K/2), 16 x 2]` bf16 (stored as i16;
// blocks of 16 columns, their number rounded up to even, the padding
// zeros): a constant at compile time (dialects/Bf16.h's rounding, the
// reference's), else at run time by a vector loop before the tiles: rows
// 2g and 2g+1 of a block read as two vector<16xf32>, rounded (`arith.truncf`
// to bf16: vcvtneps2bf16), interleaved into one 64-byte line. A
// `transpose_b` rhs (stored [N, K]: a gradient's W^T, a convolution's
// im2col) packs 16 columns by 32 k at a time: 16 rows of 32 read, rounded,
// and transposed in registers as 16 x 16 dwords (packTransposed).
//
// The lhs is rounded to a bf16 [M, K] copy (one elementwise generic), whose
// row r's pair g is the dword at [r, 2g] (K odd: the last pair read
// masked); a `transpose_a` lhs (stored [K, M]: a weight gradient's X^T)
// becomes `[ceil(K/2), 2M]`, rows 2g and 2g+1 of the stored matrix
// interleaved, so that the tile's rows read consecutive dwords of one line
// (TileBuilder's `pairsOuter`).
//
//===----------------------------------------------------------------------===//

#include "dialects/AnvilOps.h"
#include "dialects/Bf16.h"
#include "passes/Bf16Tiles.h"
#include "passes/DotTiles.h"
#include "passes/MatmulSchedule.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_BF16MATMULPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Builds the bf16 operands of one product.
struct Bf16Operands {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  VectorType f32s(int64_t n) { return VectorType::get({n}, b.getF32Type()); }

  /// An f32 vector rounded to bf16, as i16 bits.
  Value bits(Value v) {
    auto n = cast<VectorType>(v.getType()).getNumElements();
    Value h = b.create<arith::TruncFOp>(
        loc, VectorType::get({n}, b.getBF16Type()), v);
    return b.create<vector::BitCastOp>(loc,
                                       VectorType::get({n}, b.getI16Type()), h);
  }

  /// Two vectors of 16 as one of 32: a0 b0 a1 b1 ... (pairs).
  Value interleave(Value lo, Value hi) {
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < 16; ++i)
      mask.append({i, i + 16});
    return b.create<vector::ShuffleOp>(loc, lo, hi, mask);
  }

  /// 16 f32 of row `row` of the 2-D `m` from column `col` (masked past its
  /// end unless `inBounds`), or zeros when `row` is null.
  Value read16(Value m, Value row, Value col, bool inBounds) {
    if (!row)
      return b.create<arith::ConstantOp>(loc, b.getZeroAttr(f32s(16)));
    Value pad = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
    return b.create<vector::TransferReadOp>(
        loc, f32s(16), m, ValueRange{row, col}, pad, ArrayRef<bool>{inBounds});
  }

  /// A loop `for g in [0, pairs)` over k pairs whose body `pair(g, row0,
  /// row1, out)` writes pair g, then (K odd) the last pair with no second
  /// row (row1 null); `out` carried through.
  Value overPairs(Value out, int64_t k,
                  function_ref<Value(Value, Value, Value, Value)> pair) {
    auto loop = b.create<scf::ForOp>(loc, index(0), index(k / 2), index(1),
                                     ValueRange{out});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value g = loop.getInductionVar();
      Value r0 = b.create<arith::MulIOp>(loc, g, index(2));
      Value r1 = b.create<arith::AddIOp>(loc, r0, index(1));
      b.create<scf::YieldOp>(loc, pair(g, r0, r1, loop.getRegionIterArg(0)));
    }
    out = loop.getResult(0);
    if (k % 2)
      out = pair(index(k / 2), index(k - 1), Value(), out);
    return out;
  }

  /// A `transpose_b` rhs (stored [N, K]) packed: per block of 16 columns
  /// (rows of the stored matrix) and 32 k, the 16 rows read as vectors of
  /// 32 f32, rounded to 16 dwords of bf16 pairs each, and transposed in
  /// registers (transposeSquare): line l is then pair l of the 16 columns, one
  /// packed line. Columns past N are zeros (a last block of padding filled
  /// first), K's tail read masked.
  Value packTransposed(Value rhs, const PackedWeights &w, Value out) {
    if (w.blocks * 16 > (w.n + 15) / 16 * 16) {
      Value zero = b.create<arith::ConstantOp>(loc, b.getI16IntegerAttr(0));
      out = b.create<linalg::FillOp>(loc, zero, out).getResult(0);
    }
    auto dwords = VectorType::get({16}, b.getI32Type());
    auto line = VectorType::get({32}, b.getI16Type());
    Value pad = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.0f));
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(dwords));
    // The lines of pairs g0.. (`lines` of them) of block `block`, whose
    // first `real` columns exist.
    auto chunk = [&](Value o, Value block, int64_t real, Value g0,
                     int64_t lines, bool inBounds) {
      Value n0 = b.create<arith::MulIOp>(loc, block, index(16));
      Value k0 = b.create<arith::MulIOp>(loc, g0, index(2));
      SmallVector<Value> rows(16, zeros);
      for (int64_t r = 0; r < real; ++r) {
        Value n = b.create<arith::AddIOp>(loc, n0, index(r));
        Value v = b.create<vector::TransferReadOp>(loc, f32s(32), rhs,
                                                   ValueRange{n, k0}, pad,
                                                   ArrayRef<bool>{inBounds});
        rows[r] = b.create<vector::BitCastOp>(loc, dwords, bits(v));
      }
      rows = transposeSquare(b, loc, rows);
      for (int64_t l = 0; l < lines; ++l) {
        Value g = b.create<arith::AddIOp>(loc, g0, index(l));
        o = b.create<vector::TransferWriteOp>(
                 loc, b.create<vector::BitCastOp>(loc, line, rows[l]), o,
                 ValueRange{block, g, index(0)}, ArrayRef<bool>{true})
                .getResult();
      }
      return o;
    };
    int64_t fullChunks = w.k / 32, tailLines = w.groups - fullChunks * 16;
    // Block `block`'s lines, its first `real` columns real.
    auto perBlock = [&](Value o, Value block, int64_t real) {
      if (fullChunks > 0) {
        auto chunks = b.create<scf::ForOp>(loc, index(0), index(fullChunks),
                                           index(1), ValueRange{o});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(chunks.getBody());
        Value g0 =
            b.create<arith::MulIOp>(loc, chunks.getInductionVar(), index(16));
        b.create<scf::YieldOp>(loc, chunk(chunks.getRegionIterArg(0), block,
                                          real, g0, 16,
                                          /*inBounds=*/true));
        b.setInsertionPointAfter(chunks);
        o = chunks.getResult(0);
      }
      if (tailLines > 0)
        o = chunk(o, block, real, index(fullChunks * 16), tailLines,
                  /*inBounds=*/false);
      return o;
    };
    int64_t fullBlocks = w.n / 16;
    if (fullBlocks > 0) {
      auto blocks = b.create<scf::ForOp>(loc, index(0), index(fullBlocks),
                                         index(1), ValueRange{out});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(blocks.getBody());
      b.create<scf::YieldOp>(loc, perBlock(blocks.getRegionIterArg(0),
                                           blocks.getInductionVar(), 16));
      b.setInsertionPointAfter(blocks);
      out = blocks.getResult(0);
    }
    if (w.n % 16)
      out = perBlock(out, index(fullBlocks), w.n % 16);
    return out;
  }

  /// The [K, N] rhs (stored [N, K] with `transposed`) packed at run time
  /// into [blocks, groups, 32] i16.
  Value packRhs(Value rhs, bool transposed, const PackedWeights &w) {
    auto type = RankedTensorType::get({w.blocks, w.groups, 32}, b.getI16Type());
    Value out = b.create<tensor::EmptyOp>(loc, type.getShape(), b.getI16Type());
    if (transposed)
      return packTransposed(rhs, w, out);
    // Per block of 16 columns (past N: masked reads, zeros), its pairs.
    bool whole = w.n % 16 == 0 && w.blocks * 16 == w.n;
    auto blocks = b.create<scf::ForOp>(loc, index(0), index(w.blocks), index(1),
                                       ValueRange{out});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blocks.getBody());
    Value block = blocks.getInductionVar();
    Value n0 = b.create<arith::MulIOp>(loc, block, index(16));
    b.create<scf::YieldOp>(
        loc, overPairs(blocks.getRegionIterArg(0), w.k,
                       [&](Value g, Value r0, Value r1, Value o) {
                         Value line =
                             interleave(bits(read16(rhs, r0, n0, whole)),
                                        bits(read16(rhs, r1, n0, whole)));
                         return b
                             .create<vector::TransferWriteOp>(
                                 loc, line, o, ValueRange{block, g, index(0)},
                                 ArrayRef<bool>{true})
                             .getResult();
                       }));
    return blocks.getResult(0);
  }

  /// A `transpose_a` lhs (stored [K, M]) as [groups, 2M] i16: rows 2g and
  /// 2g+1 interleaved, 16 columns at a time.
  Value pairRows(Value lhs, int64_t m, int64_t k) {
    int64_t groups = (k + 1) / 2;
    auto type = RankedTensorType::get({groups, 2 * m}, b.getI16Type());
    Value out = b.create<tensor::EmptyOp>(loc, type.getShape(), b.getI16Type());
    bool whole = m % 16 == 0;
    auto cols = b.create<scf::ForOp>(loc, index(0), index(m), index(16),
                                     ValueRange{out});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(cols.getBody());
    Value m0 = cols.getInductionVar();
    Value at = b.create<arith::MulIOp>(loc, m0, index(2));
    b.create<scf::YieldOp>(
        loc,
        overPairs(cols.getRegionIterArg(0), k,
                  [&](Value g, Value r0, Value r1, Value o) {
                    Value line = interleave(bits(read16(lhs, r0, m0, whole)),
                                            bits(read16(lhs, r1, m0, whole)));
                    return b
                        .create<vector::TransferWriteOp>(loc, line, o,
                                                         ValueRange{g, at},
                                                         ArrayRef<bool>{whole})
                        .getResult();
                  }));
    return cols.getResult(0);
  }

  /// A [rows, K] lhs rounded to bf16 bits, one elementwise generic.
  Value roundRows(Value lhs) {
    auto type = cast<RankedTensorType>(lhs.getType());
    Value init =
        b.create<tensor::EmptyOp>(loc, type.getShape(), b.getI16Type());
    AffineMap id = b.getMultiDimIdentityMap(type.getRank());
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return b
        .create<linalg::GenericOp>(
            loc, init.getType(), lhs, init, ArrayRef<AffineMap>{id, id},
            iterators,
            [](OpBuilder &nb, Location l, ValueRange args) {
              Value h =
                  nb.create<arith::TruncFOp>(l, nb.getBF16Type(), args[0]);
              nb.create<linalg::YieldOp>(
                  l, ValueRange{
                         nb.create<arith::BitcastOp>(l, nb.getI16Type(), h)});
            })
        .getResult(0);
  }
};

/// The constant [K, N] rhs (`values` row-major, [N, K] with `transposed`)
/// packed now into the tiles' layout.
DenseElementsAttr packConstant(DenseElementsAttr values, bool transposed,
                               const PackedWeights &w, OpBuilder &b) {
  SmallVector<float> v(values.getValues<float>());
  std::vector<int16_t> data(w.blocks * w.groups * 32, 0);
  for (int64_t k = 0; k < w.k; ++k)
    for (int64_t n = 0; n < w.n; ++n) {
      float x = transposed ? v[n * w.k + k] : v[k * w.n + n];
      int64_t at = ((n / 16 * w.groups + k / 2) * 16 + n % 16) * 2 + k % 2;
      data[at] = static_cast<int16_t>(bf16Bits(x));
    }
  auto type = RankedTensorType::get({w.blocks, w.groups, 32}, b.getI16Type());
  return DenseElementsAttr::get(type, ArrayRef<int16_t>(data));
}

struct Bf16MatmulPass : mlir::anvil::impl::Bf16MatmulPassBase<Bf16MatmulPass> {
  using Bf16MatmulPassBase::Bf16MatmulPassBase;
  void runOnOperation() override {
    SmallVector<MatmulOp> ops;
    getOperation().walk([&](MatmulOp op) {
      auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
      auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
      if (op.getBf16() && rhsType.getRank() == 2 &&
          (lhsType.getRank() == 2 || !op.getTransposeA()) &&
          lhsType.hasStaticShape() && rhsType.hasStaticShape())
        ops.push_back(op);
    });
    OpBuilder b(&getContext());
    for (MatmulOp op : ops) {
      Location loc = op.getLoc();
      b.setInsertionPoint(op);
      auto resultType = cast<RankedTensorType>(op.getType());
      auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
      // [B..., M, K] folded to [rows, K].
      SmallVector<ReassociationIndices> fold(2);
      for (int64_t d = 0; d + 1 < lhsType.getRank(); ++d)
        fold[0].push_back(d);
      fold[1].push_back(lhsType.getRank() - 1);
      Value lhs = op.getLhs();
      if (lhsType.getRank() > 2)
        lhs = b.create<tensor::CollapseShapeOp>(loc, lhs, fold);
      Value y = buildBf16Matmul(b, loc, lhs, op.getRhs(), op.getTransposeA(),
                                op.getTransposeB(), parallel);
      if (resultType.getRank() > 2)
        y = b.create<tensor::ExpandShapeOp>(loc, resultType, y, fold);
      op.getResult().replaceAllUsesWith(y);
      op.erase();
    }
  }
};

} // namespace

/// See Bf16Tiles.h.
Value mlir::anvil::buildBf16Matmul(OpBuilder &b, Location loc, Value lhs,
                                   Value rhs, bool transposeA, bool transposeB,
                                   bool parallel, Value rowBias, Value dest) {
  Bf16Operands operands{b, loc};
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  PackedWeights w;
  w.k = rhsType.getDimSize(transposeB ? 1 : 0);
  w.n = rhsType.getDimSize(transposeB ? 0 : 1);
  w.blocks = llvm::divideCeil(w.n, 32) * 2;
  w.groups = llvm::divideCeil(w.k, 2);
  int64_t rows = lhsType.getDimSize(transposeA ? 1 : 0);

  DenseElementsAttr constant;
  Value packed;
  if (matchPattern(rhs, m_Constant(&constant)))
    packed = b.create<arith::ConstantOp>(
        loc, packConstant(constant, transposeB, w, b));
  else
    packed = operands.packRhs(rhs, transposeB, w);
  lhs =
      transposeA ? operands.pairRows(lhs, rows, w.k) : operands.roundRows(lhs);
  TileBuilder tiles{b,   loc,    kBf16,   rows,    w,
                    lhs, packed, Value(), Value(), std::nullopt};
  tiles.pairsOuter = transposeA;
  tiles.rowBias = rowBias;
  bool inParallel = parallel && w.blocks / kBf16.blocks > 1 &&
                    matmulRunsInParallelBlocks(rows, w.n, w.k);
  return tiles.build(RankedTensorType::get({rows, w.n}, b.getF32Type()),
                     inParallel, dest);
}
