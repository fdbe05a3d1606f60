//===- DotTiles.h - register tiles of packed dot-product steps -*- C++ -*-===//
//
// The register-tiled loop nest that anvil-int8-matmul (u8 x s8 into i32:
// vpdpbusd, or AVX2 vpmaddwd / vpmaddubsw) and anvil-bf16-matmul (bf16 pairs
// into f32: vdpbf16ps) build on tensors: a tile of `rows` rows by `blocks`
// blocks of `lanes` columns whose accumulators stay in registers through
// the k loop, each step one instruction per accumulator on a broadcast
// group of k of a row and the packed group of each column. See
// Int8Matmul.cpp for the int8 layouts and the zero point's correction;
// Bf16Matmul.cpp for bf16's.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_DOTTILES_H
#define ANVIL_PASSES_DOTTILES_H

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <vector>

namespace mlir::anvil {

/// A register tile: `rows` rows by `blocks` blocks of `lanes` i32 (bf16:
/// f32) columns;
/// each step reads `group` consecutive k of a row and of each column, as
/// `bits`-bit integers. `interleaved`: the packed weights of a tile's blocks
/// are one stream, `[N / tile width][groups][blocks][lanes][group]`, not
/// one per block, `[N / lanes][groups][lanes][group]`.
/// `step`: the instructions of a k group.
struct TileShape {
  enum Step { Vnni, Words, Bytes, Bf16 };
  int64_t rows, blocks, lanes, group, bits;
  bool interleaved;
  Step step;
};
/// vpdpbusd's: 8 x 2 x 16 lanes, groups of 4 bytes.
constexpr TileShape kVnni{8, 2, 16, 4, 8, false, TileShape::Vnni};
/// vpdpbusd's for products at most 16 columns wide (LeNet's 6 and 16
/// channels): 16 x 1 x 16 lanes, no second block of padding columns.
constexpr TileShape kVnniNarrow{16, 1, 16, 4, 8, false, TileShape::Vnni};
/// vpdpbusd's for products at most 8 columns wide (LeNet's conv1, 6
/// channels) with `pairedRows`: 32 rows, two to an accumulator (the
/// channels in lanes 0-7 for the first, 8-15 for the second).
constexpr TileShape kVnniPairs{32, 1, 16, 4, 8, false, TileShape::Vnni};
/// vpmaddwd's (AVX2): 6 x 2 x 8 lanes, pairs of i16, the 2 blocks' pairs
/// in one 64-byte line: 12 accumulators, 2 weight vectors, one broadcast
/// row and one product fill the 16 ymm registers (4 x 3 spills one).
constexpr TileShape kAvx2{6, 2, 8, 2, 16, true, TileShape::Words};
/// vpmaddubsw's (AVX2, weights within [-64, 64]): 5 x 2 x 8 lanes, groups
/// of 4 bytes; the 10 accumulators leave a register for the i16 ones that
/// vpmaddwd sums the pairs with.
constexpr TileShape kAvx2Bytes{5, 2, 8, 4, 8, true, TileShape::Bytes};
/// vdpbf16ps's (AVX512_BF16): 8 x 2 x 16 f32 lanes, pairs of bf16 (stored
/// as i16), the layout of kVnni with groups of 2.
constexpr TileShape kBf16{8, 2, 16, 2, 16, false, TileShape::Bf16};

/// The weights of a matched qmatmul, packed, and their column sums (the
/// tiles read k, n, blocks and groups; a bf16 rhs packed at run time has
/// no data here).
struct PackedWeights {
  int64_t k = 0, n = 0, blocks = 0, groups = 0;
  int64_t maxMagnitude = 0;  // of the weights
  std::vector<int16_t> data; // TileShape's layout
  std::vector<int32_t> sums; // [blocks][lanes]
};

/// The n x n matrix whose rows are `rows` (n vectors of n; n a power of 2,
/// 16 or 8) transposed: log2(n) stages, each swapping the off-diagonal
/// w x w blocks of every 2w x 2w block (w = n/2, ..., 2, 1) with two
/// 2-source shuffles per row pair (16 x 16 i32: vpermt2d, 64 shuffles; 8 x 8
/// f32 on AVX2: 24). (vector.transpose's lowering of a 16 x 16 is element
/// inserts and blends, several times that.)
inline SmallVector<Value> transposeSquare(OpBuilder &b, Location loc,
                                          SmallVector<Value> rows) {
  auto n = static_cast<int64_t>(rows.size());
  for (int64_t w = n / 2; w >= 1; w /= 2)
    for (int64_t i = 0; i < n; ++i) {
      if (i & w)
        continue;
      SmallVector<int64_t> top, bottom;
      for (int64_t j = 0; j < n; ++j) {
        top.push_back(j & w ? n + j - w : j);
        bottom.push_back(j & w ? n + j : j + w);
      }
      Value a = rows[i], c = rows[i + w];
      rows[i] = b.create<vector::ShuffleOp>(loc, a, c, top);
      rows[i + w] = b.create<vector::ShuffleOp>(loc, a, c, bottom);
    }
  return rows;
}

/// A 0 of the integer type `element` (a ui8's through an i8 constant: arith
/// has no unsigned constants).
inline Value integerZero(OpBuilder &b, Location loc, Type element) {
  Value zero = b.create<arith::ConstantOp>(
      loc,
      b.getIntegerAttr(b.getIntegerType(element.getIntOrFloatBitWidth()), 0));
  return reinterpretBits(b, loc, zero, element);
}

/// Builds the loop nest that replaces one qmatmul (or bf16 matmul).
struct TileBuilder {
  OpBuilder &b;
  Location loc;
  TileShape shape;
  int64_t rows; // M, the batch dimensions folded in
  const PackedWeights &w;
  // lhs: [rows, K] ui8, or zero-extended i16 (Words), or bf16 as i16, or
  // for a direct convolution its padded NHWC input flattened; zeroPoint:
  // i32 scalar, and sums the column sums, or both null (bf16: no
  // correction).
  Value lhs, packed, sums, zeroPoint;
  /// A direct convolution (see `DirectConv`), when set: row r of the
  /// product is output position r, whose k group of tap t and channels
  /// 4 cg..4 cg + 3 is 4 bytes of lhs. With `run` (channels that 4 does
  /// not divide, dw 1), k groups follow the filter's rows instead: row i's
  /// kw taps of C channels are kw * C contiguous bytes of the NHWC input,
  /// read as `run` / 4 groups of 4 (`run`: kw * C rounded up to 4; the
  /// weights of the bytes past kw * C are zero).
  struct DirectConv {
    int64_t channels, kw, taps; // C, the filter's width, kh * kw
    int64_t ow;                 // OW (OH * OW: TileBuilder::positions)
    int64_t hp, wp;             // the padded input's H and W
    int64_t sh, sw, dh, dw;     // strides, dilations
    int64_t run;                // 0, or a filter row's bytes (see above)
  };
  std::optional<DirectConv> direct;
  /// A direct convolution's NCHW tiles follow its output rows (see
  /// rowAlignedTiles): a tile is `segment` positions of one output row, or
  /// `outRows` whole rows (`segment` OW), so that each row's window corner
  /// is the tile's first plus a constant (one base register and
  /// displacements, not a pointer per row). 0: rows of consecutive
  /// positions, across output rows.
  int64_t segment = 0, outRows = 1;
  /// A convolution's (direct, or on im2col rows of output positions) with
  /// O a multiple of 16 or one block: the result is NCHW, [N, O, OH * OW],
  /// each tile transposed in registers (see writeTransposed), not [N * OH *
  /// OW, O].
  bool nchw = false;
  /// A convolution's output positions per image, OH * OW (its rows are
  /// positions, image after image): what `direct` and `nchw` index by.
  int64_t positions = 0;

  /// With `pairsOuter` (bf16's transposed lhs), lhs is [ceil(K/2), 2 *
  /// rows]: row r's pair g is at [g, 2 r], so that a tile's rows read
  /// consecutive dwords; K's odd tail is zero there, no masked read.
  bool pairsOuter = false;

  /// With `rowBias` (bf16's: an f32 [rows] tensor), row r's accumulators
  /// start at rowBias[r] rather than 0: a convolution's bias with the
  /// output channels as rows, added in the tile.
  Value rowBias = {};

  /// An int8 convolution's epilogue (Int8Epilogue.h), computed on each
  /// channel's run of positions between the transpose and the store (the
  /// `nchw` tiles only), op for op as the separate loops would: the
  /// dequantize ((acc - zp) in i32, to f32, times the scale), + shift, +
  /// residual, relu (a select of 0 below 0), then the quantize (divided by
  /// its scale, rounded to even, + its zero point, clamped to [0, 255],
  /// truncated to ui8) when `outScale` is set. The result (`out`) is then
  /// f32 or ui8, never i32.
  struct Requantize {
    Value scale, zeroPoint; // the dequantize's: one element or [O]
    Value shift;            // f32 [1, O, 1, 1] or [O, 1, 1], or null
    Value residual;         // f32 [N, O, OH * OW], or null
    bool relu = false;
    Value outScale, outZero; // the quantize's (one element each), or null
  };
  std::optional<Requantize> requantize = std::nullopt;

  /// With `pairedRows` (VNNI, at most 8 columns, their packed weights
  /// repeated in lanes 8-15): rows 2i and 2i + 1 share accumulator i, the
  /// first's group broadcast to lanes 0-7 and the second's to 8-15, so each
  /// `vpdpbusd` does two rows' work instead of one row's on 8 lanes of
  /// padding; the accumulator's halves are split into the rows' sums
  /// before the correction.
  bool pairedRows = false;

  VectorType i32Lanes() const {
    return VectorType::get({shape.lanes}, b.getI32Type());
  }
  /// An accumulator: i32 lanes, bf16's f32.
  VectorType accLanes() const {
    return VectorType::get({shape.lanes}, shape.step == TileShape::Bf16
                                              ? Type(b.getF32Type())
                                              : Type(b.getI32Type()));
  }
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  /// The i32 dot step of one k group: acc + the group of the row (its
  /// `group` elements as one dword, broadcast) times the group of each
  /// column (`weights`, bitcast to i32 lanes), as inline asm without side
  /// effects rather than llvm.call_intrinsic: the buffer deallocation
  /// pipeline refuses ops of unknown memory effects, and asm without side
  /// effects has none.
  Value step(Value acc, Value row, Value weights, Value second = {}) {
    auto dword = VectorType::get({1}, b.getI32Type());
    Value a = b.create<vector::BroadcastOp>(
        loc, i32Lanes(), b.create<vector::BitCastOp>(loc, dword, row));
    if (second) {
      // (pairedRows) lanes 0-7 the row's group, 8-15 the second row's.
      Value a2 = b.create<vector::BroadcastOp>(
          loc, i32Lanes(), b.create<vector::BitCastOp>(loc, dword, second));
      SmallVector<int64_t> halves;
      for (int64_t l = 0; l < shape.lanes; ++l)
        halves.push_back(l < shape.lanes / 2 ? l : shape.lanes + l);
      a = b.create<vector::ShuffleOp>(loc, a, a2, halves);
    }
    Value wv = b.create<vector::BitCastOp>(loc, i32Lanes(), weights);
    auto asmOp = [&](StringRef text, StringRef constraints, ValueRange args) {
      return b
          .create<LLVM::InlineAsmOp>(
              loc, Type(accLanes()), args, text, constraints,
              /*has_side_effects=*/false, /*is_align_stack=*/false,
              LLVM::AsmDialectAttr(), ArrayAttr())
          .getResult(0);
    };
    // AT&T order: vpdpbusd s8, u8, acc (acc tied to the result).
    if (shape.step == TileShape::Vnni)
      return asmOp("vpdpbusd $3, $2, $0", "=v,0,v,v", {acc, a, wv});
    // bf16 pairs: each f32 lane += a0 * w0 + a1 * w1.
    if (shape.step == TileShape::Bf16)
      return asmOp("vdpbf16ps $3, $2, $0", "=v,0,v,v", {acc, a, wv});
    // Words: i16 pairs (u8 and s8 widened) multiplied and each pair summed
    // into i32, then added: exact.
    if (shape.step == TileShape::Words)
      return b.create<arith::AddIOp>(
          loc, acc, asmOp("vpmaddwd $2, $1, $0", "=x,x,x", {a, wv}));
    // Bytes: u8 x s8 pair sums in i16 (vpmaddubsw: AT&T s8, u8, dst;
    // exact for weights within kBytesMaxWeight, saturating beyond), then
    // the pairs summed into i32 by vpmaddwd with i16 ones.
    Value ones = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(i32Lanes(), b.getI32IntegerAttr(0x10001)));
    Value pairs = asmOp("vpmaddubsw $2, $1, $0", "=x,x,x", {a, wv});
    return b.create<arith::AddIOp>(
        loc, acc, asmOp("vpmaddwd $2, $1, $0", "=x,x,x", {pairs, ones}));
  }

  /// One k group for every accumulator of the tile (`rowAt(r)`: the
  /// indices in lhs of row r's group; `cols`: its column group, whose
  /// first block is `block0`); `inBounds` false reads the row's group
  /// masked (K's tail).
  SmallVector<Value> group(ValueRange accs, int64_t tileRows,
                           function_ref<SmallVector<Value>(int64_t)> rowAt,
                           Value cols, Value block0, Value g, bool inBounds) {
    auto wType = VectorType::get({shape.lanes * shape.group},
                                 b.getIntegerType(shape.bits));
    Type element = cast<RankedTensorType>(lhs.getType()).getElementType();
    auto rowType = VectorType::get({shape.group}, element);
    Value zero = index(0);
    SmallVector<Value> weights;
    for (int64_t v = 0; v < shape.blocks; ++v) {
      SmallVector<Value> at{cols, g, index(v * wType.getNumElements())};
      if (!shape.interleaved)
        at = {b.create<arith::AddIOp>(loc, block0, index(v)), g, zero};
      weights.push_back(b.create<vector::TransferReadOp>(
          loc, wType, packed, at, /*inBounds=*/ArrayRef<bool>{true}));
    }
    // The masked tail's padding.
    Value pad = integerZero(b, loc, element);
    SmallVector<Value> out;
    auto readRow = [&](int64_t r) {
      return b.create<vector::TransferReadOp>(loc, rowType, lhs, rowAt(r), pad,
                                              ArrayRef<bool>{inBounds});
    };
    if (pairedRows) {
      // (An odd last row pairs with itself: its second half is not used.)
      for (int64_t i = 0; 2 * i < tileRows; ++i) {
        Value row = readRow(2 * i);
        Value second = 2 * i + 1 < tileRows ? readRow(2 * i + 1) : row;
        out.push_back(step(accs[i], row, weights[0], second));
      }
      return out;
    }
    for (int64_t r = 0; r < tileRows; ++r) {
      Value row = readRow(r);
      for (int64_t v = 0; v < shape.blocks; ++v)
        out.push_back(step(accs[r * shape.blocks + v], row, weights[v]));
    }
    return out;
  }

  /// A direct convolution's k loops for the tile's rows (output positions
  /// `rowIndex`): over the taps (i, j), then the channels 4 at a time, row
  /// r's group read straight from the padded NHWC input at its window's
  /// corner + (i * dh * Wp + j * dw) * C + 4 cg, the 4 channels contiguous:
  /// no im2col. Returns the accumulators.
  SmallVector<Value> directGroups(ValueRange start, ArrayRef<Value> rowIndex,
                                  Value cols, Value block0) {
    const DirectConv &d = *direct;
    // Each row's window corner: ((n * Hp + oy * sh) * Wp + ox * sw) * C.
    SmallVector<Value> corner;
    auto cornerOf = [&](Value p) {
      Value n = b.create<arith::DivUIOp>(loc, p, index(positions));
      Value rest = b.create<arith::RemUIOp>(loc, p, index(positions));
      Value oy = b.create<arith::DivUIOp>(loc, rest, index(d.ow));
      Value ox = b.create<arith::RemUIOp>(loc, rest, index(d.ow));
      Value y = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, n, index(d.hp)),
          b.create<arith::MulIOp>(loc, oy, index(d.sh)));
      Value yx = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, y, index(d.wp)),
          b.create<arith::MulIOp>(loc, ox, index(d.sw)));
      return b.create<arith::MulIOp>(loc, yx, index(d.channels)).getResult();
    };
    if (segment) {
      // Row r of a row-aligned tile is r / OW output rows and r % OW
      // columns past its first (within one row: r columns).
      Value first = cornerOf(rowIndex.front());
      for (int64_t r = 0; r < static_cast<int64_t>(rowIndex.size()); ++r)
        corner.push_back(b.create<arith::AddIOp>(
            loc, first,
            index(((r / d.ow) * d.sh * d.wp + (r % d.ow) * d.sw) *
                  d.channels)));
    }
    if (!segment)
      for (Value p : rowIndex)
        corner.push_back(cornerOf(p));
    if (d.run) {
      // Per filter row i, its run's groups: at i * dh * Wp * C + 4 rg.
      int64_t groups = d.run / shape.group;
      auto filterRows = b.create<scf::ForOp>(
          loc, index(0), index(d.taps / d.kw), index(1), start);
      OpBuilder::InsertionGuard outer(b);
      b.setInsertionPointToStart(filterRows.getBody());
      Value i = filterRows.getInductionVar();
      Value rowOffset =
          b.create<arith::MulIOp>(loc, i, index(d.dh * d.wp * d.channels));
      Value g0 = b.create<arith::MulIOp>(loc, i, index(groups));
      auto runGroups =
          b.create<scf::ForOp>(loc, index(0), index(groups), index(1),
                               filterRows.getRegionIterArgs());
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(runGroups.getBody());
        Value rg = runGroups.getInductionVar();
        Value offset = b.create<arith::AddIOp>(
            loc, rowOffset,
            b.create<arith::MulIOp>(loc, rg, index(shape.group)));
        Value g = b.create<arith::AddIOp>(loc, g0, rg);
        auto rowAt = [&](int64_t r) {
          return SmallVector<Value>{
              b.create<arith::AddIOp>(loc, corner[r], offset)};
        };
        b.create<scf::YieldOp>(loc, group(runGroups.getRegionIterArgs(),
                                          rowIndex.size(), rowAt, cols, block0,
                                          g, /*inBounds=*/true));
      }
      b.create<scf::YieldOp>(loc, runGroups.getResults());
      return SmallVector<Value>(filterRows.getResults());
    }
    int64_t cGroups = d.channels / shape.group;
    auto taps =
        b.create<scf::ForOp>(loc, index(0), index(d.taps), index(1), start);
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(taps.getBody());
    Value t = taps.getInductionVar();
    Value i = b.create<arith::DivUIOp>(loc, t, index(d.kw));
    Value j = b.create<arith::RemUIOp>(loc, t, index(d.kw));
    Value tapOffset = b.create<arith::MulIOp>(
        loc,
        b.create<arith::AddIOp>(
            loc, b.create<arith::MulIOp>(loc, i, index(d.dh * d.wp)),
            b.create<arith::MulIOp>(loc, j, index(d.dw))),
        index(d.channels));
    Value g0 = b.create<arith::MulIOp>(loc, t, index(cGroups));
    auto channels = b.create<scf::ForOp>(loc, index(0), index(cGroups),
                                         index(1), taps.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(channels.getBody());
      Value cg = channels.getInductionVar();
      Value offset = b.create<arith::AddIOp>(
          loc, tapOffset, b.create<arith::MulIOp>(loc, cg, index(shape.group)));
      Value g = b.create<arith::AddIOp>(loc, g0, cg);
      auto rowAt = [&](int64_t r) {
        return SmallVector<Value>{
            b.create<arith::AddIOp>(loc, corner[r], offset)};
      };
      b.create<scf::YieldOp>(loc, group(channels.getRegionIterArgs(),
                                        rowIndex.size(), rowAt, cols, block0, g,
                                        /*inBounds=*/true));
    }
    b.create<scf::YieldOp>(loc, channels.getResults());
    return SmallVector<Value>(taps.getResults());
  }

  /// One tile: the rows from `m0` (`tileRows` of them) of the column group
  /// `cols`, whose first block is `block0`, written into `out` (an i32
  /// tensor of `rows` rows) from its column `outColumn`: the k loop, then
  /// the zero point's correction and the writes.
  Value tile(Value out, Value m0, int64_t tileRows, Value cols, Value block0,
             Value outColumn) {
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(accLanes()));
    int64_t fullGroups = pairsOuter ? w.groups : w.k / shape.group;
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < tileRows; ++r)
      rowIndex.push_back(b.create<arith::AddIOp>(loc, m0, index(r)));
    SmallVector<Value> start(
        pairedRows ? (tileRows + 1) / 2 : tileRows * shape.blocks, zeros);
    if (rowBias)
      for (int64_t r = 0; r < tileRows; ++r) {
        Value bias = b.create<vector::BroadcastOp>(
            loc, accLanes(),
            b.create<tensor::ExtractOp>(loc, rowBias, rowIndex[r]));
        std::fill_n(start.begin() + r * shape.blocks, shape.blocks, bias);
      }
    SmallVector<Value> accs;
    if (direct) {
      accs = directGroups(start, rowIndex, cols, block0);
    } else {
      // Row r's group g: lhs[row r, 4 g] (pairsOuter: lhs[g, 2 r]).
      auto rowsAt = [&](Value g) {
        Value k = b.create<arith::MulIOp>(loc, g, index(shape.group));
        return [this, &rowIndex, g, k](int64_t r) {
          if (pairsOuter)
            return SmallVector<Value>{
                g, b.create<arith::MulIOp>(loc, rowIndex[r], index(2))};
          return SmallVector<Value>{rowIndex[r], k};
        };
      };
      auto groups = b.create<scf::ForOp>(loc, index(0), index(fullGroups),
                                         index(1), start);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(groups.getBody());
        Value g = groups.getInductionVar();
        b.create<scf::YieldOp>(loc, group(groups.getRegionIterArgs(), tileRows,
                                          rowsAt(g), cols, block0, g,
                                          /*inBounds=*/true));
      }
      accs.assign(groups.getResults().begin(), groups.getResults().end());
      // K's last, partial group: read masked, unless lhs has the columns
      // (an int8 im2col's rows are padded; the weights there are 0).
      if (!pairsOuter && w.k % shape.group) {
        int64_t width = cast<RankedTensorType>(lhs.getType()).getDimSize(1);
        accs = group(accs, tileRows, rowsAt(index(fullGroups)), cols, block0,
                     index(fullGroups),
                     /*inBounds=*/width >= w.groups * shape.group);
      }
    }
    // acc - zp * colsum (with a zero point), then the tile's rows written
    // (columns past the end of `out` masked).
    Value zp;
    if (zeroPoint)
      zp = b.create<vector::BroadcastOp>(loc, i32Lanes(), zeroPoint);
    for (int64_t v = 0; v < shape.blocks; ++v) {
      Value block = b.create<arith::AddIOp>(loc, block0, index(v));
      Value correction;
      if (zeroPoint) {
        Value sum = b.create<vector::TransferReadOp>(
            loc, i32Lanes(), sums, ValueRange{block, index(0)},
            ArrayRef<bool>{true});
        correction = b.create<arith::MulIOp>(loc, zp, sum);
      }
      Value n0 =
          b.create<arith::AddIOp>(loc, outColumn, index(v * shape.lanes));
      if (nchw && v > 0 && w.n % (shape.blocks * shape.lanes) != 0) {
        // O an odd number of blocks: the last group's second block is the
        // packing's zeros, not channels; it writes nothing.
        Value valid = b.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::ult,
            b.create<arith::MulIOp>(loc, block, index(shape.lanes)),
            index(w.n));
        auto guarded = b.create<scf::IfOp>(loc, out.getType(), valid,
                                           /*withElseRegion=*/true);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(&guarded.getThenRegion().front());
        b.create<scf::YieldOp>(loc, writeTransposed(out, accs, v, correction,
                                                    m0, tileRows, n0, block));
        b.setInsertionPointToStart(&guarded.getElseRegion().front());
        b.create<scf::YieldOp>(loc, out);
        out = guarded.getResult(0);
        continue;
      }
      if (nchw && pairedRows) {
        // Each accumulator's halves as its two rows (channels in lanes
        // 0-7), written 16 rows at a time.
        SmallVector<int64_t> upper;
        for (int64_t l = 0; l < shape.lanes; ++l)
          upper.push_back((l + shape.lanes / 2) % shape.lanes);
        SmallVector<Value> perRow;
        for (int64_t r = 0; r < tileRows; ++r) {
          Value acc = accs[r / 2];
          perRow.push_back(
              r % 2 ? b.create<vector::ShuffleOp>(loc, acc, acc, upper)
                          .getResult()
                    : acc);
        }
        for (int64_t r0 = 0; r0 < tileRows; r0 += 16)
          out = writeTransposed(
              out,
              ArrayRef<Value>(perRow).slice(
                  r0, std::min<int64_t>(16, tileRows - r0)),
              0, correction, b.create<arith::AddIOp>(loc, m0, index(r0)),
              std::min<int64_t>(16, tileRows - r0), n0, block);
        continue;
      }
      if (nchw) {
        out =
            writeTransposed(out, accs, v, correction, m0, tileRows, n0, block);
        continue;
      }
      for (int64_t r = 0; r < tileRows; ++r) {
        Value acc = accs[r * shape.blocks + v];
        if (correction)
          acc = b.create<arith::SubIOp>(loc, acc, correction);
        out = b.create<vector::TransferWriteOp>(loc, acc, out,
                                                ValueRange{rowIndex[r], n0},
                                                ArrayRef<bool>{false})
                  .getResult();
      }
    }
    return out;
  }

  /// Block `v` of a convolution's tile written into its NCHW result
  /// (`out`: [N, O, OH * OW]): the rows (output positions m0.., all in one
  /// image) by 16 channels from `channel` (in `out`, which may be a
  /// parallel slice; `block`: their block in the whole result), corrected,
  /// transposed in registers, through `requantize` when set, and stored as
  /// 16 runs of positions, one per channel (O < 16, one block: its O runs).
  Value writeTransposed(Value out, ArrayRef<Value> accs, int64_t v,
                        Value correction, Value m0, int64_t tileRows,
                        Value channel, Value block) {
    // The tile's rows (zeros past tileRows) transposed: run l is channel
    // l's tileRows positions.
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(i32Lanes()));
    SmallVector<Value> m(16, zeros);
    for (int64_t r = 0; r < tileRows; ++r)
      m[r] =
          b.create<arith::SubIOp>(loc, accs[r * shape.blocks + v], correction);
    SmallVector<Value> t = transposeSquare(b, loc, m);
    Value n = b.create<arith::DivUIOp>(loc, m0, index(positions));
    Value q0 = b.create<arith::RemUIOp>(loc, m0, index(positions));
    for (int64_t l = 0; l < std::min(shape.lanes, w.n); ++l) {
      Value run = t[l];
      if (tileRows < 16)
        run = b.create<vector::ExtractStridedSliceOp>(
            loc, run, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{tileRows},
            ArrayRef<int64_t>{1});
      Value c = b.create<arith::AddIOp>(loc, channel, index(l));
      if (requantize) // (by the channel's index in the whole result)
        run = requantizeRun(
            run, n,
            b.create<arith::AddIOp>(
                loc, b.create<arith::MulIOp>(loc, block, index(shape.lanes)),
                index(l)),
            q0);
      out = b.create<vector::TransferWriteOp>(
                 loc, run, out, ValueRange{n, c, q0}, ArrayRef<bool>{true})
                .getResult();
    }
    return out;
  }

  /// The element of `param` (one element, or one per channel: [O],
  /// [O, 1, 1] or [1, O, 1, 1]) for channel `c`, as a scalar of its type.
  Value paramAt(Value param, Value c) {
    auto type = cast<RankedTensorType>(param.getType());
    int64_t rank = type.getRank();
    SmallVector<Value> at(rank, index(0));
    if (type.getNumElements() > 1)
      at[rank == 1 ? 0 : rank - 3] = c;
    return b.create<tensor::ExtractOp>(loc, param, at);
  }
  /// An integer scalar (i8, ui8, i32) as i32, as anvil-convert-to-linalg's
  /// quantize and dequantize widen theirs.
  Value asI32(Value v) {
    auto type = cast<IntegerType>(v.getType());
    v = reinterpretBits(b, loc, v, b.getIntegerType(type.getWidth()));
    if (type.getWidth() == 32)
      return v;
    if (type.isUnsigned())
      return b.create<arith::ExtUIOp>(loc, b.getI32Type(), v);
    return b.create<arith::ExtSIOp>(loc, b.getI32Type(), v);
  }
  /// `run` (channel c's corrected i32 sums at positions q0.. of image n)
  /// through `requantize`: f32, or ui8 when it quantizes.
  Value requantizeRun(Value run, Value n, Value c, Value q0) {
    const Requantize &e = *requantize;
    auto ints = cast<VectorType>(run.getType());
    auto floats = ints.clone(b.getF32Type());
    auto splat = [&](Value scalar) {
      return b.create<vector::BroadcastOp>(
          loc, VectorType::get(ints.getShape(), scalar.getType()), scalar);
    };
    Value d = b.create<arith::SubIOp>(loc, run,
                                      splat(asI32(paramAt(e.zeroPoint, c))));
    Value f = b.create<arith::SIToFPOp>(loc, floats, d);
    f = b.create<arith::MulFOp>(loc, f, splat(paramAt(e.scale, c)));
    if (e.shift)
      f = b.create<arith::AddFOp>(loc, f, splat(paramAt(e.shift, c)));
    if (e.residual) {
      Value pad = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
      Value r = b.create<vector::TransferReadOp>(loc, floats, e.residual,
                                                 ValueRange{n, c, q0}, pad,
                                                 ArrayRef<bool>{true});
      f = b.create<arith::AddFOp>(loc, f, r);
    }
    auto constant = [&](double v) {
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(floats, b.getF32FloatAttr(v)));
    };
    if (e.relu) {
      Value zero = constant(0);
      Value below =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, f, zero);
      f = b.create<arith::SelectOp>(loc, below, zero, f);
    }
    if (!e.outScale)
      return f;
    Value q = b.create<arith::DivFOp>(loc, f, splat(paramAt(e.outScale, c)));
    q = b.create<math::RoundEvenOp>(loc, q);
    Value zp = b.create<arith::SIToFPOp>(loc, b.getF32Type(),
                                         asI32(paramAt(e.outZero, c)));
    q = b.create<arith::AddFOp>(loc, q, splat(zp));
    q = clampLikeMaxnum(b, loc, q, 0, 255);
    Value i = b.create<arith::FPToSIOp>(loc, ints, q);
    Value bytes = b.create<arith::TruncIOp>(
        loc, VectorType::get(ints.getShape(), b.getI8Type()), i);
    return reinterpretBits(
        b, loc, bytes,
        VectorType::get(ints.getShape(),
                        b.getIntegerType(8, /*isSigned=*/false)));
  }

  /// The column group `cols` (`shape.blocks` blocks) written into `out`
  /// from its column `outColumn`: a loop over the whole row tiles carrying
  /// `out`, then one tile of the rows left (fewer accumulators: no row is
  /// computed twice).
  Value rowTiles(Value out, Value cols, Value outColumn) {
    Value block0 = b.create<arith::MulIOp>(loc, cols, index(shape.blocks));
    if (nchw && segment)
      return rowAlignedTiles(out, cols, block0, outColumn);
    if (nchw) {
      // Per image: its whole row tiles, then one shorter tile, so that no
      // tile spans two images (its positions are one run of NCHW).
      int64_t images = rows / positions;
      int64_t whole = positions - positions % shape.rows;
      auto perImage = b.create<scf::ForOp>(loc, index(0), index(images),
                                           index(1), ValueRange{out});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(perImage.getBody());
      Value first = b.create<arith::MulIOp>(loc, perImage.getInductionVar(),
                                            index(positions));
      Value o = perImage.getRegionIterArg(0);
      if (whole > 0) {
        auto tiles = b.create<scf::ForOp>(loc, index(0), index(whole),
                                          index(shape.rows), ValueRange{o});
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(tiles.getBody());
        Value m0 = b.create<arith::AddIOp>(loc, first, tiles.getInductionVar());
        b.create<scf::YieldOp>(loc, tile(tiles.getRegionIterArg(0), m0,
                                         shape.rows, cols, block0, outColumn));
        b.setInsertionPointAfter(tiles);
        o = tiles.getResult(0);
      }
      if (positions % shape.rows)
        o = tile(o, b.create<arith::AddIOp>(loc, first, index(whole)),
                 positions % shape.rows, cols, block0, outColumn);
      b.create<scf::YieldOp>(loc, o);
      return perImage.getResult(0);
    }
    int64_t whole = rows - rows % shape.rows;
    if (whole > 0) {
      auto tiles = b.create<scf::ForOp>(loc, index(0), index(whole),
                                        index(shape.rows), ValueRange{out});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tiles.getBody());
      b.create<scf::YieldOp>(loc, tile(tiles.getRegionIterArg(0),
                                       tiles.getInductionVar(), shape.rows,
                                       cols, block0, outColumn));
      out = tiles.getResult(0);
    }
    if (rows % shape.rows)
      out = tile(out, index(whole), rows % shape.rows, cols, block0, outColumn);
    return out;
  }

  /// rowTiles for a direct convolution's row-aligned tiles: per image and
  /// group of `outRows` output rows, the row's segments of `segment`
  /// positions (the last one shorter when `segment` does not divide OW),
  /// then the rows left (fewer than `outRows`) as one tile.
  Value rowAlignedTiles(Value out, Value cols, Value block0, Value outColumn) {
    int64_t ow = direct->ow, oh = positions / ow;
    int64_t images = rows / positions, groups = oh / outRows;
    int64_t whole = ow / segment, last = ow % segment;
    auto perImage = b.create<scf::ForOp>(loc, index(0), index(images), index(1),
                                         ValueRange{out});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(perImage.getBody());
    Value first = b.create<arith::MulIOp>(loc, perImage.getInductionVar(),
                                          index(positions));
    Value o = perImage.getRegionIterArg(0);
    auto tileAt = [&](Value o, Value m0, int64_t count) {
      return tile(o, m0, count, cols, block0, outColumn);
    };
    if (groups > 0) {
      auto rowGroups = b.create<scf::ForOp>(loc, index(0), index(groups),
                                            index(1), ValueRange{o});
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(rowGroups.getBody());
      Value rowStart = b.create<arith::AddIOp>(
          loc, first,
          b.create<arith::MulIOp>(loc, rowGroups.getInductionVar(),
                                  index(outRows * ow)));
      Value g = rowGroups.getRegionIterArg(0);
      auto segments = b.create<scf::ForOp>(loc, index(0), index(whole),
                                           index(1), ValueRange{g});
      {
        OpBuilder::InsertionGuard body(b);
        b.setInsertionPointToStart(segments.getBody());
        Value m0 = b.create<arith::AddIOp>(
            loc, rowStart,
            b.create<arith::MulIOp>(loc, segments.getInductionVar(),
                                    index(segment)));
        b.create<scf::YieldOp>(
            loc, tileAt(segments.getRegionIterArg(0), m0, segment * outRows));
      }
      g = segments.getResult(0);
      if (last)
        g = tileAt(
            g, b.create<arith::AddIOp>(loc, rowStart, index(whole * segment)),
            last);
      b.create<scf::YieldOp>(loc, g);
      b.setInsertionPointAfter(rowGroups);
      o = rowGroups.getResult(0);
    }
    if (oh % outRows)
      o = tileAt(
          o, b.create<arith::AddIOp>(loc, first, index(groups * outRows * ow)),
          (oh % outRows) * ow);
    b.create<scf::YieldOp>(loc, o);
    return perImage.getResult(0);
  }

  /// The [rows, N] i32 result (bf16: f32), written into `dest` when given
  /// (else a new tensor). Column groups (one tile wide) are the outer
  /// loop; with `parallel` they are an scf.forall, each group writing its
  /// own [rows, <= width] slice (the LLVM phase runs it on OpenMP threads,
  /// like anvil-tile-and-vectorize's cache blocks). Every accumulator is
  /// computed by one iteration in the same order whatever the thread count:
  /// the results do not depend on it.
  Value build(RankedTensorType resultType, bool parallel, Value dest = {}) {
    Value init = dest ? dest
                      : b.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                  resultType.getElementType());
    int64_t groups = w.blocks / shape.blocks;
    int64_t groupWidth = shape.blocks * shape.lanes;
    if (!parallel) {
      auto loop = b.create<scf::ForOp>(loc, index(0), index(groups), index(1),
                                       ValueRange{init});
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value cols = loop.getInductionVar();
      Value n0 = b.create<arith::MulIOp>(loc, cols, index(groupWidth));
      b.create<scf::YieldOp>(loc, rowTiles(loop.getRegionIterArg(0), cols, n0));
      return loop.getResult(0);
    }
    auto place = [&](Value cols) {
      Value n0 = b.create<arith::MulIOp>(loc, cols, index(groupWidth));
      // The group's columns: a tile's width, or what is left of N.
      Value width = b.create<arith::MinSIOp>(
          loc, index(groupWidth), b.create<arith::SubIOp>(loc, index(w.n), n0));
      if (nchw) // [N, O, OH * OW]: the group's channels of every image.
        return SlicePlace{{b.getIndexAttr(0), n0, b.getIndexAttr(0)},
                          {b.getIndexAttr(resultType.getDimSize(0)), width,
                           b.getIndexAttr(resultType.getDimSize(2))}};
      return SlicePlace{{b.getIndexAttr(0), n0}, {b.getIndexAttr(rows), width}};
    };
    return forallSlices(b, loc, groups, init, place,
                        [&](Value cols, Value slice) {
                          return rowTiles(slice, cols, index(0));
                        });
  }
};

} // namespace mlir::anvil

#endif // ANVIL_PASSES_DOTTILES_H
