//===- Int8Matmul.cpp - int8 matmuls as VNNI register tiles ---------------===//
//
// Rewrites an anvil.qmatmul of ui8 activations by constant int8 symmetric
// weights (a 2-D i8 constant, zero point 0) into a register-tiled loop nest
// on tensors, before anvil-convert-to-linalg (which would give it the
// portable i32 generic). The weights are packed at compile time into the
// layout `vpdpbusd` reads: blocks of 16 columns, in each block one k group
// (4 consecutive k) of each column in 4 contiguous bytes, so that a 64-byte
// load is 16 columns by 4 k; the number of blocks is rounded up to even (a
// tile is two blocks wide) and the padding is zeros. Their column sums are
// computed with the packing: the activations' zero point is one correction
// per tile, `acc - zp * colsum`, instead of a subtraction per product (which
// would leave u8 for i16). A tile is 8 rows by 32 columns, 16 accumulators
// of vector<16xi32> carried through the k loop; each k group broadcasts the
// 4 bytes of each row (one dword) and adds the 4-product dot of each lane
// with `vpdpbusd` (u8 x s8 summed straight into i32:
// nothing saturates, unlike `vpmaddubsw`'s i16 pairs). Rows past M read and
// write row M - 1 again (the same value); columns past N are masked on the
// write; a K that 4 does not divide reads its last group masked (zero
// bytes, multiplied by the packing's zeros).
//
// Without VNNI (`vnni=false`) the tile is the same and each k group is four
// steps of exact i32 arithmetic: the group's k-th bytes of the 16 columns
// gathered by a shuffle and sign-extended, the row's byte zero-extended and
// broadcast, multiplied and added. Same accumulators, bit for bit.
//
// The column pairs of a product large enough for threads (the f32 matmul
// schedule's threshold, MatmulSchedule.h) are an scf.forall, each pair
// writing its own slice of the result: no accumulator is split between
// threads, so the results are the same at any thread count.
//
//===----------------------------------------------------------------------===//

#include "passes/MatmulSchedule.h"
#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_INT8MATMULPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The register tile: kRows rows by kBlocks blocks of kLanes columns.
constexpr int64_t kRows = 8, kBlocks = 2, kLanes = 16, kGroup = 4;

/// The weights of a matched qmatmul, packed, and their column sums.
struct PackedWeights {
  int64_t k = 0, n = 0, blocks = 0, groups = 0;
  std::vector<int8_t> data;  // [blocks][groups][kLanes][kGroup]
  std::vector<int32_t> sums; // [blocks][kLanes]
};

/// The constant i8 weights of `op` packed, or nothing when the op is not
/// one this pass rewrites (ui8 activations, a constant 2-D i8 rhs with zero
/// point 0).
std::optional<PackedWeights> packWeights(QMatmulOp op) {
  auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
  if (!lhsType.getElementType().isUnsignedInteger(8))
    return std::nullopt;
  DenseElementsAttr w, zero;
  if (!matchPattern(op.getRhs(), m_Constant(&w)) ||
      !matchPattern(op.getRhsZeroPoint(), m_Constant(&zero)))
    return std::nullopt;
  if (w.getType().getRank() != 2 || !w.getElementType().isSignlessInteger(8) ||
      !llvm::all_of(zero.getValues<APInt>(),
                    [](const APInt &v) { return v.isZero(); }))
    return std::nullopt;
  PackedWeights p;
  p.k = w.getType().getDimSize(0);
  p.n = w.getType().getDimSize(1);
  p.blocks = llvm::divideCeil(p.n, kLanes * kBlocks) * kBlocks;
  p.groups = llvm::divideCeil(p.k, kGroup);
  p.data.assign(p.blocks * p.groups * kLanes * kGroup, 0);
  p.sums.assign(p.blocks * kLanes, 0);
  SmallVector<int8_t> values(w.getValues<int8_t>());
  for (int64_t k = 0; k < p.k; ++k)
    for (int64_t n = 0; n < p.n; ++n) {
      int8_t v = values[k * p.n + n];
      int64_t block = n / kLanes, lane = n % kLanes;
      int64_t group = k / kGroup, byte = k % kGroup;
      p.data[((block * p.groups + group) * kLanes + lane) * kGroup + byte] = v;
      p.sums[n] += v;
    }
  return p;
}

/// Builds the loop nest that replaces one qmatmul.
struct TileBuilder {
  OpBuilder &b;
  Location loc;
  bool vnni;
  int64_t rows; // M, the batch dimensions folded in
  const PackedWeights &w;
  Value lhs, packed, sums, zeroPoint; // zeroPoint: i32 scalar

  VectorType i32Lanes() const {
    return VectorType::get({kLanes}, b.getI32Type());
  }
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  /// The 16-lane i32 dot step of one k group: acc + sum over the 4 bytes of
  /// row (u8, as a vector<4xui8>) times the 4 bytes of each column (s8).
  Value step(Value acc, Value row, Value weights) {
    if (vnni) {
      auto dword = VectorType::get({1}, b.getI32Type());
      Value a = b.create<vector::BroadcastOp>(
          loc, i32Lanes(), b.create<vector::BitCastOp>(loc, dword, row));
      Value wv = b.create<vector::BitCastOp>(loc, i32Lanes(), weights);
      // AT&T order: vpdpbusd s8, u8, acc (acc tied to the result). Inline
      // asm rather than llvm.call_intrinsic: the buffer deallocation
      // pipeline refuses ops of unknown memory effects, and asm without
      // side effects has none.
      return b
          .create<LLVM::InlineAsmOp>(
              loc, Type(i32Lanes()), ValueRange{acc, a, wv},
              "vpdpbusd $3, $2, $0", "=v,0,v,v", /*has_side_effects=*/false,
              /*is_align_stack=*/false, LLVM::AsmDialectAttr(), ArrayAttr())
          .getResult(0);
    }
    // Four exact i32 multiply-adds: the j-th byte of the group of every
    // column (a shuffle of the 64 bytes), sign-extended, times the row's
    // j-th byte, zero-extended.
    auto bytes = VectorType::get({kGroup}, b.getI8Type());
    Value a = b.create<vector::BitCastOp>(loc, bytes, row);
    for (int64_t j = 0; j < kGroup; ++j) {
      SmallVector<int64_t> mask;
      for (int64_t lane = 0; lane < kLanes; ++lane)
        mask.push_back(lane * kGroup + j);
      Value wj = b.create<vector::ShuffleOp>(loc, weights, weights, mask);
      wj = b.create<arith::ExtSIOp>(loc, i32Lanes(), wj);
      Value aj = b.create<vector::ExtractOp>(loc, a, ArrayRef<int64_t>{j});
      aj = b.create<arith::ExtUIOp>(loc, b.getI32Type(), aj);
      aj = b.create<vector::BroadcastOp>(loc, i32Lanes(), aj);
      acc = b.create<arith::AddIOp>(loc, acc,
                                    b.create<arith::MulIOp>(loc, aj, wj));
    }
    return acc;
  }

  /// One k group for every accumulator of the tile (`rowIndex[r]`: its
  /// rows); `inBounds` false reads the row's group masked (K's tail).
  SmallVector<Value> group(ValueRange accs, ArrayRef<Value> rowIndex,
                           Value block0, Value g, bool inBounds) {
    auto wType = VectorType::get({kLanes * kGroup}, b.getI8Type());
    auto rowType = VectorType::get(
        {kGroup}, cast<RankedTensorType>(lhs.getType()).getElementType());
    Value zero = index(0);
    SmallVector<Value> weights;
    for (int64_t v = 0; v < kBlocks; ++v) {
      Value block = b.create<arith::AddIOp>(loc, block0, index(v));
      weights.push_back(b.create<vector::TransferReadOp>(
          loc, wType, packed, ValueRange{block, g, zero},
          /*inBounds=*/ArrayRef<bool>{true}));
    }
    Value k = b.create<arith::MulIOp>(loc, g, index(kGroup));
    // The masked tail's padding, a ui8 0 (arith has no ui8 constants).
    Value pad = b.create<UnrealizedConversionCastOp>(
                     loc, rowType.getElementType(),
                     ValueRange{b.create<arith::ConstantOp>(
                         loc, b.getIntegerAttr(b.getI8Type(), 0))})
                    .getResult(0);
    SmallVector<Value> out;
    for (int64_t r = 0; r < kRows; ++r) {
      Value row = b.create<vector::TransferReadOp>(
          loc, rowType, lhs, ValueRange{rowIndex[r], k}, pad,
          ArrayRef<bool>{inBounds});
      for (int64_t v = 0; v < kBlocks; ++v)
        out.push_back(step(accs[r * kBlocks + v], row, weights[v]));
    }
    return out;
  }

  /// The row tiles of the column pair `pair` written into `out` (an i32
  /// tensor of `rows` rows), its first column at `outColumn`: the loop over
  /// row tiles carrying `out`, and in it the k loop.
  Value rowTiles(Value out, Value pair, Value outColumn) {
    Value zeros = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(i32Lanes(), b.getI32IntegerAttr(0)));
    int64_t fullGroups = w.k / kGroup;
    Value block0 = b.create<arith::MulIOp>(loc, pair, index(kBlocks));
    auto tiles = b.create<scf::ForOp>(loc, index(0), index(rows), index(kRows),
                                      ValueRange{out});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value m0 = tiles.getInductionVar();
    // Rows past the end read (and write) the last row again.
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < kRows; ++r)
      rowIndex.push_back(b.create<arith::MinSIOp>(
          loc, b.create<arith::AddIOp>(loc, m0, index(r)), index(rows - 1)));
    SmallVector<Value> start(kRows * kBlocks, zeros);
    auto groups =
        b.create<scf::ForOp>(loc, index(0), index(fullGroups), index(1), start);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(groups.getBody());
      b.create<scf::YieldOp>(loc, group(groups.getRegionIterArgs(), rowIndex,
                                        block0, groups.getInductionVar(),
                                        /*inBounds=*/true));
    }
    SmallVector<Value> accs(groups.getResults());
    if (w.k % kGroup)
      accs = group(accs, rowIndex, block0, index(fullGroups),
                   /*inBounds=*/false);
    // acc - zp * colsum, then the tile's rows written (columns past the end
    // of `out` masked).
    Value zp = b.create<vector::BroadcastOp>(loc, i32Lanes(), zeroPoint);
    Value result = tiles.getRegionIterArg(0);
    for (int64_t v = 0; v < kBlocks; ++v) {
      Value block = b.create<arith::AddIOp>(loc, block0, index(v));
      Value sum = b.create<vector::TransferReadOp>(loc, i32Lanes(), sums,
                                                   ValueRange{block, index(0)},
                                                   ArrayRef<bool>{true});
      Value correction = b.create<arith::MulIOp>(loc, zp, sum);
      Value n0 = b.create<arith::AddIOp>(loc, outColumn, index(v * kLanes));
      for (int64_t r = 0; r < kRows; ++r) {
        Value acc =
            b.create<arith::SubIOp>(loc, accs[r * kBlocks + v], correction);
        result = b.create<vector::TransferWriteOp>(loc, acc, result,
                                                   ValueRange{rowIndex[r], n0},
                                                   ArrayRef<bool>{false})
                     .getResult();
      }
    }
    b.create<scf::YieldOp>(loc, result);
    return tiles.getResult(0);
  }

  /// The [rows, N] i32 result. Column pairs (32 columns each) are the
  /// outer loop; with `parallel` they are an scf.forall, each pair writing
  /// its own [rows, <= 32] slice (the LLVM phase runs it on OpenMP threads,
  /// like anvil-tile-and-vectorize's cache blocks). Every accumulator is
  /// computed by one iteration in the same order whatever the thread count:
  /// the results do not depend on it.
  Value build(RankedTensorType resultType, bool parallel) {
    Value init = b.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                           resultType.getElementType());
    int64_t pairs = w.blocks / kBlocks;
    if (!parallel) {
      auto loop = b.create<scf::ForOp>(loc, index(0), index(pairs), index(1),
                                       ValueRange{init});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value pair = loop.getInductionVar();
      Value n0 = b.create<arith::MulIOp>(loc, pair, index(kBlocks * kLanes));
      b.create<scf::YieldOp>(loc, rowTiles(loop.getRegionIterArg(0), pair, n0));
      return loop.getResult(0);
    }
    auto forall = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(pairs)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, ValueRange{init},
        /*mapping=*/std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    Value pair = forall.getInductionVar(0);
    Value n0 = b.create<arith::MulIOp>(loc, pair, index(kBlocks * kLanes));
    // The pair's columns: 32, or what is left of N.
    Value width =
        b.create<arith::MinSIOp>(loc, index(kBlocks * kLanes),
                                 b.create<arith::SubIOp>(loc, index(w.n), n0));
    SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), n0};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(rows), width};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    Value slice = b.create<tensor::ExtractSliceOp>(
        loc, forall.getRegionIterArgs()[0], offsets, sizes, strides);
    Value tile = rowTiles(slice, pair, index(0));
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    b.create<tensor::ParallelInsertSliceOp>(
        loc, tile, forall.getRegionIterArgs()[0], offsets, sizes, strides);
    return forall.getResult(0);
  }
};

/// The i32 scalar of a one-element ui8 zero point tensor.
Value zeroPointScalar(OpBuilder &b, Location loc, Value zeroPoint) {
  auto type = cast<RankedTensorType>(zeroPoint.getType());
  SmallVector<Value> indices(type.getRank(),
                             b.create<arith::ConstantIndexOp>(loc, 0));
  Value z = b.create<tensor::ExtractOp>(loc, zeroPoint, indices);
  z = b.create<UnrealizedConversionCastOp>(loc, b.getI8Type(), z).getResult(0);
  return b.create<arith::ExtUIOp>(loc, b.getI32Type(), z);
}

struct Int8MatmulPass : mlir::anvil::impl::Int8MatmulPassBase<Int8MatmulPass> {
  using Int8MatmulPassBase::Int8MatmulPassBase;
  void runOnOperation() override {
    SmallVector<QMatmulOp> ops;
    getOperation().walk([&](QMatmulOp op) { ops.push_back(op); });
    OpBuilder b(&getContext());
    for (QMatmulOp op : ops) {
      std::optional<PackedWeights> w = packWeights(op);
      if (!w)
        continue;
      Location loc = op.getLoc();
      b.setInsertionPoint(op);
      auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
      auto resultType = cast<RankedTensorType>(op.getType());
      int64_t rows = lhsType.getNumElements() / w->k;
      // The batch dimensions folded into M (and unfolded from the result).
      SmallVector<ReassociationIndices> fold(2);
      for (int64_t d = 0; d + 1 < lhsType.getRank(); ++d)
        fold[0].push_back(d);
      fold[1].push_back(lhsType.getRank() - 1);
      Value lhs = op.getLhs();
      if (lhsType.getRank() > 2)
        lhs = b.create<tensor::CollapseShapeOp>(loc, lhs, fold);
      auto packedType = RankedTensorType::get(
          {w->blocks, w->groups, kLanes * kGroup}, b.getI8Type());
      Value packed = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(packedType, ArrayRef<int8_t>(w->data)));
      auto sumsType =
          RankedTensorType::get({w->blocks, kLanes}, b.getI32Type());
      Value sums = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(sumsType, ArrayRef<int32_t>(w->sums)));
      TileBuilder tiles{
          b,      loc,  vnni,
          rows,   *w,   lhs,
          packed, sums, zeroPointScalar(b, loc, op.getLhsZeroPoint())};
      // Parallel column pairs where anvil-tile-and-vectorize would split
      // an f32 matmul of this size into parallel blocks (a fork/join costs
      // more than a small product saves), and there are two pairs at least.
      bool inParallel = parallel && w->blocks / kBlocks > 1 &&
                        matmulRunsInParallelBlocks(rows, w->n, w->k);
      Value y = tiles.build(RankedTensorType::get({rows, w->n}, b.getI32Type()),
                            inParallel);
      if (resultType.getRank() > 2)
        y = b.create<tensor::ExpandShapeOp>(loc, resultType, y, fold);
      op.replaceAllUsesWith(y);
      op.erase();
    }
  }
};

} // namespace
