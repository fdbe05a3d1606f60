//===- Int8LaneConv.h - one-channel int8 convolutions, positions as lanes -===//
//
// A direct int8 convolution of a one-channel image at stride 1 (LeNet's and
// an MNIST ResNet's first layer): its filter rows are a few bytes wide, so
// the tiles that hold 16 channels per accumulator (DotTiles.h) fill 6 of
// them (LeNet: 6 channels), or pair positions and then transpose every
// tile before the epilogue. Here each accumulator holds 16 consecutive
// output positions of one channel instead (lane l: position x0 + l of
// output row y), so nothing is transposed and each channel's 16 outputs
// are one contiguous store.
//
// The u8 operand of each vpdpbusd is a sliding window: lane l's 4 bytes
// are input row y + i at x0 + l + 4g .. x0 + l + 4g + 3, picked from one
// 32-byte read of that row by a byte shuffle (vpermb on AVX512_VBMI); its
// s8 operand is taps 4g .. 4g + 3 of the channel's filter row i, the same
// in every lane (zero past kw). A filter row takes ceil(kw / 4) steps per
// channel. The row segments are x0 = 0, 16, .., and OW - 16 last
// (overlapping the one before when 16 does not divide OW: the positions
// in both are computed twice and stored twice, the same values).
//
// The sums are corrected for the input's zero point (its padding) per
// channel, then go through TileBuilder's epilogue (requantizeRun) when the
// convolution has one, exactly as the transposed runs of the other tiles.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_INT8LANECONV_H
#define ANVIL_PASSES_INT8LANECONV_H

#include "dialects/AnvilOps.h"
#include "passes/DotTiles.h"

#include <vector>

namespace mlir::anvil {

/// The widest filter row the lane tiles take: its last window byte
/// (15 + kw - 1 past x0) must fall in the 32-byte read.
constexpr int64_t kLaneConvMaxWidth = 16;

/// Whether the direct int8 convolution `op` has the lane tiles' shape: a
/// one-channel input, stride and dilation 1, at most 16 channels, filter
/// rows of at most kLaneConvMaxWidth taps, output rows of 16 or more.
/// (anvil-int8-matmul and the fusion report both ask.)
inline bool laneConvFits(QConv2DOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto wt = cast<RankedTensorType>(op.getWeight().getType());
  auto out = cast<RankedTensorType>(op.getType());
  auto ones = [](ArrayRef<int64_t> v) {
    return llvm::all_of(v, [](int64_t x) { return x == 1; });
  };
  return in.getDimSize(1) == 1 && wt.getDimSize(0) <= 16 &&
         wt.getDimSize(3) <= kLaneConvMaxWidth && out.getDimSize(3) >= 16 &&
         ones(op.getStrides()) && ones(op.getDilations());
}

/// The geometry and constants of a lane convolution.
struct LaneConv {
  int64_t images, channels; // N, O (at most 16)
  int64_t kh, kw;           // the filter
  int64_t hp, wp;           // the padded input (wp: OW - 16 + 32 at least)
  int64_t oh, ow;           // the output (ow at least 16)
  /// [O][kh][groups]: taps 4g .. 4g + 3 of filter row i as an i32 of
  /// their 4 bytes (little-endian; 0 past kw).
  std::vector<int32_t> weights;
  /// [O]: the input's zero point times the sum of the channel's weights.
  std::vector<int32_t> corrections;

  int64_t groups() const { return (kw + 3) / 4; }
};

/// The [N, O, OH * OW] result of the convolution `g` of `input` (its padded
/// ui8 image, flattened to 1-D: image n's row r at (n * hp + r) * wp),
/// through `t`'s epilogue when it has one (element `element`: i32, f32 or
/// ui8); its images in parallel with `parallel`.
inline Value buildLaneConv(TileBuilder &t, const LaneConv &g, Value input,
                           Type element, bool parallel) {
  OpBuilder &b = t.b;
  Location loc = t.loc;
  auto index = [&](int64_t v) { return t.index(v); };
  auto i32x16 = VectorType::get({16}, b.getI32Type());
  auto splat = [&](int32_t v) -> Value {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(i32x16, b.getI32IntegerAttr(v)));
  };
  Type byte = cast<RankedTensorType>(input.getType()).getElementType();
  auto rowType = VectorType::get({32}, byte);
  // The byte shuffle of group g: lane l's 4 bytes from l + 4g.
  std::vector<SmallVector<int64_t>> masks(g.groups());
  for (int64_t gr = 0; gr < g.groups(); ++gr)
    for (int64_t l = 0; l < 16; ++l)
      for (int64_t k = 0; k < 4; ++k)
        masks[gr].push_back(l + 4 * gr + k);
  SmallVector<int64_t> segments;
  for (int64_t x0 = 0; x0 + 16 <= g.ow; x0 += 16)
    segments.push_back(x0);
  if (g.ow % 16)
    segments.push_back(g.ow - 16);
  auto vpdpbusd = [&](Value acc, Value u8, Value s8) {
    // AT&T order: vpdpbusd s8, u8, acc (acc tied to the result).
    return b
        .create<LLVM::InlineAsmOp>(loc, Type(i32x16), ValueRange{acc, u8, s8},
                                   "vpdpbusd $3, $2, $0", "=v,0,v,v",
                                   /*has_side_effects=*/false,
                                   /*is_align_stack=*/false,
                                   LLVM::AsmDialectAttr(), ArrayAttr())
        .getResult(0);
  };
  Value pad = b.create<arith::ConstantOp>(loc, b.getI8IntegerAttr(0));
  pad = reinterpretBits(b, loc, pad, byte);

  // One output row y of image `image` (its slice `out`, [1, O, OH * OW]).
  auto row = [&](Value out, Value image, Value y) {
    for (int64_t x0 : segments) {
      SmallVector<Value> accs(g.channels, splat(0));
      for (int64_t i = 0; i < g.kh; ++i) {
        // Row y + i of the image from x0.
        Value r = b.create<arith::AddIOp>(loc, y, index(i));
        Value at = b.create<arith::AddIOp>(
            loc,
            b.create<arith::MulIOp>(
                loc,
                b.create<arith::AddIOp>(
                    loc, b.create<arith::MulIOp>(loc, image, index(g.hp)), r),
                index(g.wp)),
            index(x0));
        Value bytes = b.create<vector::TransferReadOp>(
            loc, rowType, input, ValueRange{at}, pad, ArrayRef<bool>{true});
        for (int64_t gr = 0; gr < g.groups(); ++gr) {
          Value window =
              b.create<vector::ShuffleOp>(loc, bytes, bytes, masks[gr]);
          Value u8 = b.create<vector::BitCastOp>(loc, i32x16, window);
          for (int64_t o = 0; o < g.channels; ++o)
            accs[o] =
                vpdpbusd(accs[o], u8,
                         splat(g.weights[(o * g.kh + i) * g.groups() + gr]));
        }
      }
      Value q0 = b.create<arith::AddIOp>(
          loc, b.create<arith::MulIOp>(loc, y, index(g.ow)), index(x0));
      for (int64_t o = 0; o < g.channels; ++o) {
        Value run =
            b.create<arith::SubIOp>(loc, accs[o], splat(g.corrections[o]));
        if (t.requantize)
          run = t.requantizeRun(run, image, index(o), q0);
        out = b.create<vector::TransferWriteOp>(
                   loc, run, out, ValueRange{index(0), index(o), q0},
                   ArrayRef<bool>{true})
                  .getResult();
      }
    }
    return out;
  };
  // The output rows of one image into its slice.
  auto image = [&](Value n, Value slice) {
    auto rows = b.create<scf::ForOp>(loc, index(0), index(g.oh), index(1),
                                     ValueRange{slice});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    b.create<scf::YieldOp>(
        loc, row(rows.getRegionIterArg(0), n, rows.getInductionVar()));
    return rows.getResult(0);
  };
  int64_t positions = g.oh * g.ow;
  auto type = RankedTensorType::get({g.images, g.channels, positions}, element);
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), element);
  auto sliceType = RankedTensorType::get({1, g.channels, positions}, element);
  auto place = [&](Value n) {
    return SlicePlace{{n, b.getIndexAttr(0), b.getIndexAttr(0)},
                      {b.getIndexAttr(1), b.getIndexAttr(g.channels),
                       b.getIndexAttr(positions)}};
  };
  if (parallel && g.images > 1)
    return forallSlices(b, loc, g.images, init, place, image);
  auto images = b.create<scf::ForOp>(loc, index(0), index(g.images), index(1),
                                     ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(images.getBody());
  Value n = images.getInductionVar();
  Value slice = b.create<tensor::ExtractSliceOp>(
      loc, sliceType, images.getRegionIterArg(0),
      ValueRange{n, index(0), index(0)}, ValueRange{}, ValueRange{},
      b.getDenseI64ArrayAttr({ShapedType::kDynamic, 0, 0}),
      b.getDenseI64ArrayAttr({1, g.channels, positions}),
      b.getDenseI64ArrayAttr({1, 1, 1}));
  Value done = image(n, slice);
  b.create<scf::YieldOp>(
      loc, b.create<tensor::InsertSliceOp>(
                loc, done, images.getRegionIterArg(0),
                ValueRange{n, index(0), index(0)}, ValueRange{}, ValueRange{},
                b.getDenseI64ArrayAttr({ShapedType::kDynamic, 0, 0}),
                b.getDenseI64ArrayAttr({1, g.channels, positions}),
                b.getDenseI64ArrayAttr({1, 1, 1}))
               .getResult());
  return images.getResult(0);
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_INT8LANECONV_H
