//===- Int8Matmul.cpp - int8 matmuls as VNNI or AVX2 register tiles ------===//
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
// nothing saturates, unlike `vpmaddubsw`'s i16 pairs). The rows that
// fill no whole tile are one last, shorter tile; columns past N are masked
// on the write; a K that 4 does not divide reads its last group masked (zero
// bytes, multiplied by the packing's zeros).
//
// Without VNNI (`vnni=false`) the tile is AVX2's: 6 rows by 2 blocks of 8
// columns, 12 vector<8xi32> accumulators (with the 2 weight vectors, one
// broadcast row and one product, the 16 ymm registers; 4 x 3 needs 17 and
// spills). Its step is `vpmaddwd`, which multiplies i16 pairs and adds each
// pair's two products into one i32 lane: exact for u8 x s8
// (2 * 255 * 128 < 2^31), unlike `vpmaddubsw`, whose i16 sums saturate. So
// the weights are packed sign-extended to i16, one k pair of each column in
// 2 contiguous i16, the tile's 2 blocks side by side (`[ceil(N/16)][ceil(K/2)]
// [2 x 8][2]`: one 64-byte line per k pair and tile), and the activations
// are zero-extended to i16 once, before the loops (a linalg.generic,
// M x K x 2 bytes); the tile broadcasts a row's k pair as one dword. Per
// accumulator and k pair: one `vpmaddwd` and one `vpaddd`, the same i32
// sums as `vpdpbusd`, bit for bit.
//
// Weights that are all within [-64, 64] (the pass reads the constant:
// `small-weights`) take a third tile: `vpmaddubsw` multiplies u8 by s8 and
// sums pairs in i16, exact for them (2 * 255 * 64 = 32640 < 2^15; beyond,
// it saturates), and `vpmaddwd` by i16 ones sums the pairs into i32: per 4
// products of a lane 3 instructions, not 4 (two `vpmaddwd`, two `vpaddd`).
// It reads the activations as bytes, like the VNNI tile (groups of 4 k),
// 5 rows by 2 blocks of 8 columns (10 accumulators, the ones in a
// register).
//
// The column groups (the blocks of one tile) of a product large enough for
// threads (the f32 matmul schedule's threshold, MatmulSchedule.h) are an
// scf.forall, each writing its own slice of the result: no accumulator is
// split between threads, so the results are the same at any thread count.
//
// A convolution whose channels 4 divides takes, with VNNI, a direct form
// (`direct-conv`): no im2col. Its input, padded with the zero point, is
// transposed once to NHWC (u8, one pass over the input rather than an
// im2col kh * kw times its size, copied 3 bytes at a time for a 3x3 filter),
// the filter packed with k in the window's channels-last order (i, j, c),
// and each row of a tile (an output position) reads its k group straight
// from its window: 4 contiguous channels at the window corner + the tap's
// offset. The same products in another order of k: the same i32 sums.
// Channels that 4 does not divide (LeNet's 1 and 6, an RGB stem's 3) are
// direct too when the filter has no dilation along its rows
// (`direct-runs`): a filter row's kw taps of C channels are kw * C
// contiguous bytes of the NHWC input (one channel: the padded input as it
// is, no copy), read as groups of 4, the row's run rounded up to 4 with
// zero weights (the input padded on the right by the pixels the last
// window's group reaches past it). LeNet int8, batch 64, 1 thread: 0.30
// -> 0.27 ms (its two im2cols were a third of its time).
// With VNNI, a product at most 16 columns wide (`narrow`: convolutions of
// up to 16 output channels, LeNet's) takes a tile of 16 rows by one block:
// the 8 x 2-block tile's second block would only sum the packing's zeros.
// A convolution of at most 8 output channels (`pairs`, LeNet's conv1 of 6)
// puts two output positions in each accumulator, the first's group
// broadcast to lanes 0-7 and the second's to 8-15 against its weights
// packed twice: one `vpdpbusd` per two positions, where one position left
// 8 of 16 lanes summing zeros; 32 positions to a tile (16 accumulators).
// LeNet int8: 0.27 -> 0.23 ms at 1 thread, the same sums.
// A convolution's rows are output positions, image after image (direct, or
// im2col'd); when 16 (a block) divides its output channels, or they are one
// block, the row tiles are per image (the last one of each image shorter)
// and each writes its block of the NCHW result itself, transposed in
// registers (transposeSquare: 64 vpermt2d) and stored as one run of
// positions per channel: no [N*OH*OW, O] product and no transpose after.
// A direct one's tiles follow its output rows (`row-aligned`): equal
// segments of a row, or whole rows where two fit in a tile, so that each
// tile row's window is the first's plus a constant (one base register and
// displacements; 16 window pointers spilled).
//
// Those NCHW tiles also compute the ops after the convolution
// (`epilogue`, Int8Epilogue.h): its dequantize, a per-channel shift, a
// residual add, relu and the next layer's quantize, on each channel's run
// of positions between the transpose and the store, op for op as their
// own loops would (the same values, bit for bit); the tiles then store f32
// or ui8 and the i32 product never reaches memory. (Measured on ResNet-8
// int8, batch 64, 1 thread: the dequantize .. quantize loops were 19% of
// the time, and the epilogue and row-aligned tiles together took 4.4 ms to
// 4.1.)
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"
#include "passes/DotTiles.h"
#include "passes/Int8Epilogue.h"
#include "passes/Int8LaneConv.h"
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

/// The largest weight magnitude vpmaddubsw's i16 pair sums hold exactly:
/// 2 * 255 * 64 = 32640 <= 32767 (and -32640 >= -32768).
constexpr int64_t kBytesMaxWeight = 64;

/// The constant i8 weights of a qmatmul or qconv2d as a [K, N] matrix
/// (row-major), or nothing when the op is not one this pass rewrites (ui8
/// activations, constant i8 weights with zero point 0: a qmatmul's 2-D
/// [K, N], a qconv2d's [O, C, kh, kw], whose matrix is [C*kh*kw, O]).
struct WeightMatrix {
  int64_t k = 0, n = 0;
  SmallVector<int8_t> values;
};
std::optional<WeightMatrix> weightMatrix(Operation *op, bool tapsOuter,
                                         int64_t run = 0) {
  Value input = op->getOperand(0), weights = op->getOperand(1),
        weightZero = op->getOperand(3);
  auto lhsType = cast<RankedTensorType>(input.getType());
  if (!lhsType.getElementType().isUnsignedInteger(8))
    return std::nullopt;
  DenseElementsAttr w, zero;
  if (!matchPattern(weights, m_Constant(&w)) ||
      !matchPattern(weightZero, m_Constant(&zero)))
    return std::nullopt;
  if (!w.getElementType().isSignlessInteger(8) ||
      !llvm::all_of(zero.getValues<APInt>(),
                    [](const APInt &v) { return v.isZero(); }))
    return std::nullopt;
  WeightMatrix m;
  SmallVector<int8_t> values(w.getValues<int8_t>());
  if (isa<QMatmulOp>(op)) {
    if (w.getType().getRank() != 2)
      return std::nullopt;
    m.k = w.getType().getDimSize(0);
    m.n = w.getType().getDimSize(1);
    m.values = std::move(values);
    return m;
  }
  // OIHW: output channel o's taps are row o of an [O, K] matrix, k in
  // the filter's order (c, i, j), or with `tapsOuter` in (i, j, c), the
  // order of a channels-last window (the direct convolution's). With `run`
  // as well, each filter row's kw * C taps are padded with zero weights to
  // `run` (TileBuilder::DirectConv::run).
  m.n = w.getType().getDimSize(0);
  int64_t k = w.getType().getNumElements() / m.n;
  int64_t c = w.getType().getDimSize(1), kw = w.getType().getDimSize(3),
          taps = w.getType().getDimSize(2) * kw;
  m.k = run ? w.getType().getDimSize(2) * run : k;
  m.values.assign(m.k * m.n, 0);
  for (int64_t o = 0; o < m.n; ++o)
    for (int64_t t = 0; t < k; ++t) {
      int64_t row = t;
      if (tapsOuter)
        row = run ? (t % taps) / kw * run + (t % kw) * c + t / taps
                  : (t % taps) * c + t / taps;
      m.values[row * m.n + o] = values[o * k + t];
    }
  return m;
}

/// The [K, N] weights `m` packed for `shape`, with their column sums.
PackedWeights packWeights(const WeightMatrix &m, const TileShape &shape) {
  PackedWeights p;
  p.k = m.k;
  p.n = m.n;
  p.blocks = llvm::divideCeil(p.n, shape.lanes * shape.blocks) * shape.blocks;
  p.groups = llvm::divideCeil(p.k, shape.group);
  p.data.assign(p.blocks * p.groups * shape.lanes * shape.group, 0);
  p.sums.assign(p.blocks * shape.lanes, 0);
  for (int64_t k = 0; k < p.k; ++k)
    for (int64_t n = 0; n < p.n; ++n) {
      int8_t v = m.values[k * p.n + n];
      int64_t block = n / shape.lanes, lane = n % shape.lanes;
      int64_t group = k / shape.group, byte = k % shape.group;
      int64_t line = block * p.groups + group;
      if (shape.interleaved)
        line = ((block / shape.blocks) * p.groups + group) * shape.blocks +
               block % shape.blocks;
      p.data[(line * shape.lanes + lane) * shape.group + byte] = v;
      p.sums[n] += v;
      p.maxMagnitude = std::max<int64_t>(p.maxMagnitude, std::abs(v));
    }
  return p;
}

/// The [rows, K] ui8 activations zero-extended to i16 (vpmaddwd's
/// operands), one elementwise generic.
Value widenToI16(OpBuilder &b, Location loc, Value lhs) {
  auto type = cast<RankedTensorType>(lhs.getType());
  auto wideType = RankedTensorType::get(type.getShape(), b.getI16Type());
  Value init = b.create<tensor::EmptyOp>(loc, wideType.getShape(),
                                         wideType.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, wideType, lhs, init, ArrayRef<AffineMap>{id, id}, iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value bits = reinterpretBits(nb, l, args[0], nb.getI8Type());
            nb.create<linalg::YieldOp>(l, ValueRange{nb.create<arith::ExtUIOp>(
                                              l, nb.getI16Type(), bits)});
          })
      .getResult(0);
}

/// The packed weights as a constant of `type` (i8 or i16 elements).
DenseElementsAttr packedConstant(RankedTensorType type,
                                 ArrayRef<int16_t> data) {
  if (type.getElementType().isInteger(16))
    return DenseElementsAttr::get(type, data);
  SmallVector<int8_t> bytes(data.begin(), data.end());
  return DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes));
}

/// The i32 scalar of a one-element ui8 zero point tensor.
Value zeroPointScalar(OpBuilder &b, Location loc, Value zeroPoint) {
  auto type = cast<RankedTensorType>(zeroPoint.getType());
  SmallVector<Value> indices(type.getRank(),
                             b.create<arith::ConstantIndexOp>(loc, 0));
  Value z = b.create<tensor::ExtractOp>(loc, zeroPoint, indices);
  z = reinterpretBits(b, loc, z, b.getI8Type());
  return b.create<arith::ExtUIOp>(loc, b.getI32Type(), z);
}

/// The widest filter row rowsBySegments copies as one vector.
constexpr int64_t kRowSegment = 8;

/// The im2col [N*OH*OW, C*kh*kw + 8] of an NCHW input (u8 or i16) padded
/// as the convolution asks and by 8 * dw more columns on the right,
/// positions as rows, k in (c, i, j) order, as vector copies: row p's taps
/// (c, i, 0..kw) are kw elements of one input row, padded[n, c, oy*sh +
/// i*dh, ox*sw + j*dw], read as one vector of 8 (every dw-th element of a
/// read of 8 * dw, in bounds thanks to the extra columns) and written at
/// k = (c*kh + i)*kw. The write is 8 wide; the lanes past kw land on the
/// next segment's slots, which the next write (k ascending) overwrites, or
/// in the 8 extra columns past K, which the tiles never read but in K's last
/// group of 4, whose packed weights there are 0. The generic im2col copies
/// one element at a time (LLVM does not vectorize its kw-long innermost
/// loop): half of LeNet int8's time.
Value rowsBySegments(OpBuilder &b, Location loc, Value padded, int64_t kh,
                     int64_t kw, int64_t oh, int64_t ow,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  auto type = cast<RankedTensorType>(padded.getType());
  Type element = type.getElementType();
  int64_t n = type.getDimSize(0), c = type.getDimSize(1);
  int64_t k = c * kh * kw, positions = oh * ow;
  int64_t sh = strides[0], sw = strides[1], dh = dilations[0],
          dw = dilations[1];
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  Value zero = integerZero(b, loc, element);
  Value init = b.create<tensor::EmptyOp>(
      loc, ArrayRef<int64_t>{n * positions, k + kRowSegment}, element);
  // Per image and output row, then per output column: no division.
  auto images =
      b.create<scf::ForOp>(loc, index(0), index(n), index(1), ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(images.getBody());
  Value image = images.getInductionVar();
  auto outRows = b.create<scf::ForOp>(loc, index(0), index(oh), index(1),
                                      images.getRegionIterArgs());
  b.create<scf::YieldOp>(loc, outRows.getResults());
  b.setInsertionPointToStart(outRows.getBody());
  Value oy = outRows.getInductionVar();
  Value y0 = b.create<arith::MulIOp>(loc, oy, index(sh));
  Value rowOf = b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, image, index(positions)),
      b.create<arith::MulIOp>(loc, oy, index(ow)));
  auto outCols = b.create<scf::ForOp>(loc, index(0), index(ow), index(1),
                                      outRows.getRegionIterArgs());
  b.create<scf::YieldOp>(loc, outCols.getResults());
  b.setInsertionPointToStart(outCols.getBody());
  Value ox = outCols.getInductionVar();
  Value x0 = b.create<arith::MulIOp>(loc, ox, index(sw));
  Value p = b.create<arith::AddIOp>(loc, rowOf, ox);
  Value out = outCols.getRegionIterArg(0);
  for (int64_t ch = 0, at = 0; ch < c; ++ch)
    for (int64_t i = 0; i < kh; ++i, at += kw) {
      Value y = b.create<arith::AddIOp>(loc, y0, index(i * dh));
      Value run = b.create<vector::TransferReadOp>(
          loc, VectorType::get({kRowSegment * dw}, element), padded,
          ValueRange{image, index(ch), y, x0}, zero, ArrayRef<bool>{true});
      if (dw > 1) {
        SmallVector<int64_t> every;
        for (int64_t j = 0; j < kRowSegment; ++j)
          every.push_back(j * dw);
        run = b.create<vector::ShuffleOp>(loc, run, run, every);
      }
      out = b.create<vector::TransferWriteOp>(
                 loc, run, out, ValueRange{p, index(at)}, ArrayRef<bool>{true})
                .getResult();
    }
  b.create<scf::YieldOp>(loc, out);
  return images.getResult(0);
}

/// A qconv2d's [N*OH*OW, C*kh*kw] activations for the tiles: its input
/// (ui8, or zero-extended to i16 for `Words`) padded with the zero point
/// `zero` (a quantized 0: the tiles' correction makes it add nothing), then
/// im2col'd with the output positions as rows.
Value convRows(OpBuilder &b, Location loc, QConv2DOp op, const TileShape &shape,
               int64_t zero, bool vectorRows) {
  Value input = op.getInput();
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  Value pad;
  if (shape.step == TileShape::Words) {
    input = widenToI16(b, loc, input);
    pad = b.create<arith::ConstantOp>(loc, b.getI16IntegerAttr(zero));
  } else {
    pad = b.create<arith::ConstantOp>(loc, b.getI8IntegerAttr(zero));
    pad = reinterpretBits(b, loc, pad, element);
  }
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  auto type = cast<RankedTensorType>(op.getType());
  int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
  // The segments' reads run up to 8 * dw columns past a window's start.
  int64_t dw = op.getDilations()[1];
  // (Unrolled per channel and filter row: small inputs only.)
  bool segments =
      vectorRows && kw <= kRowSegment && wType.getDimSize(1) * kh <= 64;
  Value padded = padSpatial(b, loc, input, op.getPads(), pad, 0,
                            segments ? kRowSegment * dw : 0);
  if (segments)
    return rowsBySegments(b, loc, padded, kh, kw, type.getDimSize(2),
                          type.getDimSize(3), op.getStrides(),
                          op.getDilations());
  return im2col(b, loc, padded, kh, kw, type.getDimSize(2), type.getDimSize(3),
                op.getStrides(), op.getDilations(), /*transposed=*/true);
}

/// `input` [N, C, H, W] (ui8, 16 dividing C) padded by `pads` (top, left,
/// bottom, right) with `pad` as NHWC [N, Hp * Wp, C], by blocks of 16
/// channels x 16 positions of the input: 16 reads of 16 bytes (a channel's
/// positions), transposed in registers (transposeSquare: byte unpacks), 16
/// writes of 16 bytes (a position's channels) at the position's place in
/// the padded image, whose border is filled with `pad` first; the images in
/// parallel, the last block of positions masked on its reads and writing
/// only its positions. One pass over the input: no padded NCHW copy
/// between (that copy, a byte at a time, was a tenth of ResNet-8 int8's
/// time), and LLVM leaves linalg.transpose's byte copies scalar.
Value nhwcByBlocks(OpBuilder &b, Location loc, Value input,
                   ArrayRef<int64_t> pads, Value pad) {
  auto type = cast<RankedTensorType>(input.getType());
  Type element = type.getElementType();
  int64_t n = type.getDimSize(0), c = type.getDimSize(1),
          h = type.getDimSize(2), w = type.getDimSize(3), p = h * w;
  int64_t wp = w + pads[1] + pads[3], hp = h + pads[0] + pads[2];
  Value flat = b.create<tensor::CollapseShapeOp>(
      loc, input, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  Value init =
      b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{n, hp * wp, c}, element);
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  auto bytes = VectorType::get({16}, element);
  Value zero = integerZero(b, loc, element);
  auto place = [&](Value image) {
    return SlicePlace{
        {image, b.getIndexAttr(0), b.getIndexAttr(0)},
        {b.getIndexAttr(1), b.getIndexAttr(hp * wp), b.getIndexAttr(c)}};
  };
  return forallSlices(b, loc, n, init, place, [&](Value image, Value slice) {
    // The image's border (filled in the loop over images: a fill of the
    // whole tensor would be one value that CSE gives every such copy, which
    // bufferization would then copy for each).
    if (hp * wp != p)
      slice = b.create<linalg::FillOp>(loc, pad, slice).getResult(0);
    // The block of channels c0.. and positions p0.. (`count` of them).
    auto block = [&](Value out, Value c0, Value p0, int64_t count) {
      SmallVector<Value> rows;
      for (int64_t r = 0; r < 16; ++r)
        rows.push_back(b.create<vector::TransferReadOp>(
            loc, bytes, flat,
            ValueRange{image, b.create<arith::AddIOp>(loc, c0, index(r)), p0},
            zero, ArrayRef<bool>{count == 16}));
      rows = transposeSquare(b, loc, rows);
      for (int64_t l = 0; l < count; ++l) {
        // Position q = y * W + x of the input is (y + top) * Wp + x + left
        // of the padded image: q + (q / W) * (Wp - W) + top * Wp + left.
        Value q = b.create<arith::AddIOp>(loc, p0, index(l));
        Value at = q;
        if (wp != w)
          at = b.create<arith::AddIOp>(
              loc, at,
              b.create<arith::MulIOp>(
                  loc, b.create<arith::DivUIOp>(loc, q, index(w)),
                  index(wp - w)));
        if (pads[0] * wp + pads[1])
          at = b.create<arith::AddIOp>(loc, at, index(pads[0] * wp + pads[1]));
        out = b.create<vector::TransferWriteOp>(loc, rows[l], out,
                                                ValueRange{index(0), at, c0},
                                                ArrayRef<bool>{true})
                  .getResult();
      }
      return out;
    };
    auto channels = b.create<scf::ForOp>(loc, index(0), index(c), index(16),
                                         ValueRange{slice});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(channels.getBody());
    Value c0 = channels.getInductionVar();
    Value out = channels.getRegionIterArg(0);
    if (p / 16 > 0) {
      auto positions = b.create<scf::ForOp>(loc, index(0), index(p / 16 * 16),
                                            index(16), ValueRange{out});
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(positions.getBody());
      b.create<scf::YieldOp>(loc, block(positions.getRegionIterArg(0), c0,
                                        positions.getInductionVar(), 16));
      b.setInsertionPointAfter(positions);
      out = positions.getResult(0);
    }
    if (p % 16)
      out = block(out, c0, index(p / 16 * 16), p % 16);
    b.create<scf::YieldOp>(loc, out);
    b.setInsertionPointAfter(channels);
    return channels.getResult(0);
  });
}

/// The bytes of a filter row that a direct convolution by row runs reads
/// (TileBuilder::DirectConv::run): kw * C rounded up to the k group (4);
/// 0 when 4 divides C (groups of 4 channels per tap).
int64_t runOf(QConv2DOp op) {
  auto w = cast<RankedTensorType>(op.getWeight().getType());
  int64_t c = w.getDimSize(1), kw = w.getDimSize(3);
  return c % 4 == 0 ? 0 : llvm::alignTo(kw * c, 4);
}

/// The pixels a direct convolution's input is padded with on the right
/// beyond its own padding, so that the last window's run may read its
/// group of 4 past kw * C (`run` bytes of a row of C channels).
int64_t runExtraPixels(int64_t run, int64_t kw, int64_t c) {
  return run ? llvm::divideCeil(run - kw * c, c) : 0;
}

/// A direct convolution's input: the ui8 NCHW input padded with the zero
/// point `zero` (and `extraW` more columns on the right), transposed to
/// NHWC (each window's channels contiguous; one channel: as it is) and
/// flattened to 1-D, which TileBuilder's direct groups index; by blocks of
/// 16 x 16 in registers when 16 divides the channels (`vectorRows`).
Value directInput(OpBuilder &b, Location loc, QConv2DOp op, int64_t zero,
                  bool vectorRows, int64_t extraW) {
  Value input = op.getInput();
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  Value pad = b.create<arith::ConstantOp>(loc, b.getI8IntegerAttr(zero));
  pad = reinterpretBits(b, loc, pad, element);
  Value t;
  int64_t c = cast<RankedTensorType>(input.getType()).getDimSize(1);
  if (vectorRows && c % 16 == 0 && extraW == 0) {
    t = nhwcByBlocks(b, loc, input, op.getPads(), pad);
  } else if (c == 1) {
    t = padSpatial(b, loc, input, op.getPads(), pad, 0, extraW);
  } else {
    Value padded = padSpatial(b, loc, input, op.getPads(), pad, 0, extraW);
    auto type = cast<RankedTensorType>(padded.getType());
    SmallVector<int64_t> nhwc{type.getDimSize(0), type.getDimSize(2),
                              type.getDimSize(3), type.getDimSize(1)};
    Value init = b.create<tensor::EmptyOp>(loc, nhwc, element);
    t = b.create<linalg::TransposeOp>(loc, padded, init,
                                      ArrayRef<int64_t>{0, 2, 3, 1})
            .getResult()[0];
  }
  auto rank = cast<RankedTensorType>(t.getType()).getRank();
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return b.create<tensor::CollapseShapeOp>(loc, t,
                                           ArrayRef<ReassociationIndices>{all});
}

/// The lane tiles' description of the direct convolution `op` of a
/// one-channel image (`geometry`: its padded input's), whose input zero
/// point is `zero`: its filter's rows as i32 groups of 4 taps and each
/// channel's zero-point correction.
LaneConv laneGeometry(QConv2DOp op, const TileBuilder::DirectConv &geometry,
                      int64_t zero) {
  auto out = cast<RankedTensorType>(op.getType());
  auto wt = cast<RankedTensorType>(op.getWeight().getType());
  DenseElementsAttr weights;
  bool constant = matchPattern(op.getWeight(), m_Constant(&weights));
  assert(constant && "a direct convolution's filter is a constant");
  (void)constant;
  SmallVector<int8_t> w;
  for (const APInt &v : weights.getValues<APInt>())
    w.push_back(static_cast<int8_t>(v.getSExtValue()));
  LaneConv g{out.getDimSize(0),
             out.getDimSize(1),
             wt.getDimSize(2),
             wt.getDimSize(3),
             geometry.hp,
             geometry.wp,
             out.getDimSize(2),
             out.getDimSize(3),
             {},
             {}};
  for (int64_t o = 0; o < g.channels; ++o) {
    int32_t sum = 0;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t gr = 0; gr < g.groups(); ++gr) {
        uint32_t bytes = 0;
        for (int64_t k = 0; k < 4; ++k) {
          int64_t j = 4 * gr + k;
          int8_t v = j < g.kw ? w[(o * g.kh + i) * g.kw + j] : 0;
          sum += v;
          bytes |= static_cast<uint32_t>(static_cast<uint8_t>(v)) << (8 * k);
        }
        g.weights.push_back(static_cast<int32_t>(bytes));
      }
    g.corrections.push_back(static_cast<int32_t>(zero) * sum);
  }
  return g;
}

/// Whether a qconv2d runs as a direct convolution on the VNNI tiles: its
/// channels a multiple of the k group (4), so that each group is 4
/// contiguous bytes of a channels-last window, or (`runs`) a filter row's
/// taps contiguous (no dilation along it), read by row runs.
bool runsDirect(QConv2DOp op, const TileShape &shape, bool runs) {
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  return shape.step == TileShape::Vnni &&
         (wType.getDimSize(1) % shape.group == 0 ||
          (runs && op.getDilations()[1] == 1));
}

struct Int8MatmulPass : mlir::anvil::impl::Int8MatmulPassBase<Int8MatmulPass> {
  using Int8MatmulPassBase::Int8MatmulPassBase;
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<QMatmulOp>(op) || (conv && isa<QConv2DOp>(op)))
        ops.push_back(op);
    });
    OpBuilder b(&getContext());
    for (Operation *op : ops) {
      auto conv = dyn_cast<QConv2DOp>(op);
      bool direct =
          conv && directConv && vnni && runsDirect(conv, kVnni, directRuns);
      int64_t run = direct ? runOf(conv) : 0;
      // A one-channel image at stride 1: positions as lanes.
      bool laneConv = direct && lanes && laneConvFits(conv);
      std::optional<WeightMatrix> m = weightMatrix(op, direct, run);
      if (!m)
        continue;
      // A convolution's padding is its zero point, which must be known.
      DenseElementsAttr zeroAttr;
      if (conv &&
          !matchPattern(conv.getInputZeroPoint(), m_Constant(&zeroAttr)))
        continue;
      TileShape shape = vnni ? kVnni : kAvx2;
      // One block of 16 columns is all there is: a tile of one block (the
      // second's accumulators would sum the packing's zeros).
      if (vnni && narrow && m->n <= kVnniNarrow.lanes)
        shape = kVnniNarrow;
      // A convolution of at most 8 channels: two rows to an accumulator.
      bool paired =
          vnni && narrow && pairs && conv && m->n <= kVnniPairs.lanes / 2;
      if (paired)
        shape = kVnniPairs;
      PackedWeights w = packWeights(*m, shape);
      if (paired) { // The 8 columns' weights again in lanes 8-15.
        int64_t half = shape.lanes / 2;
        for (int64_t line = 0; line < w.blocks * w.groups; ++line)
          for (int64_t lane = half; lane < shape.lanes; ++lane)
            for (int64_t byte = 0; byte < shape.group; ++byte)
              w.data[(line * shape.lanes + lane) * shape.group + byte] =
                  w.data[(line * shape.lanes + lane - half) * shape.group +
                         byte];
      }
      // Weights small enough for vpmaddubsw's i16 sums (checked here, at
      // compile time: never a saturating step on weights not known).
      if (!vnni && smallWeights && w.maxMagnitude <= kBytesMaxWeight) {
        shape = kAvx2Bytes;
        w = packWeights(*m, shape);
      }
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      Value lhs;
      int64_t rows;
      // A qmatmul's batch dimensions folded into M (and unfolded from the
      // result).
      SmallVector<ReassociationIndices> fold(2);
      std::optional<TileBuilder::DirectConv> geometry;
      // (A convolution's input zero point, its padding.)
      int64_t zero =
          conv ? (*zeroAttr.getValues<APInt>().begin()).getZExtValue() : 0;
      if (conv) {
        if (direct) {
          auto in = cast<RankedTensorType>(conv.getInput().getType());
          auto wt = cast<RankedTensorType>(conv.getWeight().getType());
          int64_t extraW =
              runExtraPixels(run, wt.getDimSize(3), in.getDimSize(1));
          // (The lane tiles' last 32-byte read of a row starts 16 before
          // its last output position.)
          if (laneConv)
            extraW = std::max<int64_t>(extraW, 17 - wt.getDimSize(3));
          lhs = directInput(b, loc, conv, zero, vectorRows, extraW);
          ArrayRef<int64_t> pads = conv.getPads(), st = conv.getStrides(),
                            dil = conv.getDilations();
          int64_t oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
          geometry = TileBuilder::DirectConv{
              in.getDimSize(1),
              wt.getDimSize(3),
              wt.getDimSize(2) * wt.getDimSize(3),
              ow,
              in.getDimSize(2) + pads[0] + pads[2],
              in.getDimSize(3) + pads[1] + pads[3] + extraW,
              st[0],
              st[1],
              dil[0],
              dil[1],
              run};
          rows = resultType.getDimSize(0) * oh * ow;
        } else {
          lhs = convRows(b, loc, conv, shape, zero, vectorRows);
          rows = cast<RankedTensorType>(lhs.getType()).getDimSize(0);
        }
      } else {
        auto lhsType = cast<RankedTensorType>(op->getOperand(0).getType());
        rows = lhsType.getNumElements() / w.k;
        for (int64_t d = 0; d + 1 < lhsType.getRank(); ++d)
          fold[0].push_back(d);
        fold[1].push_back(lhsType.getRank() - 1);
        lhs = op->getOperand(0);
        if (lhsType.getRank() > 2)
          lhs = b.create<tensor::CollapseShapeOp>(loc, lhs, fold);
        if (shape.step == TileShape::Words)
          lhs = widenToI16(b, loc, lhs);
      }
      int64_t perLine = shape.interleaved ? shape.blocks : 1;
      auto packedType = RankedTensorType::get(
          {w.blocks / perLine, w.groups, perLine * shape.lanes * shape.group},
          b.getIntegerType(shape.bits));
      Value packed =
          b.create<arith::ConstantOp>(loc, packedConstant(packedType, w.data));
      auto sumsType =
          RankedTensorType::get({w.blocks, shape.lanes}, b.getI32Type());
      Value sums = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(sumsType, ArrayRef<int32_t>(w.sums)));
      TileBuilder tiles{
          b,       loc,  shape,
          rows,    w,    lhs,
          packed,  sums, zeroPointScalar(b, loc, op->getOperand(2)),
          geometry};
      // Parallel column groups where anvil-tile-and-vectorize would split
      // an f32 matmul of this size into parallel blocks (a fork/join costs
      // more than a small product saves), and there are two column groups
      // at least.
      bool inParallel = parallel && w.blocks / shape.blocks > 1 &&
                        matmulRunsInParallelBlocks(rows, w.n, w.k);
      // A convolution whose channels fill whole blocks (or one block)
      // writes NCHW from its tiles: no transpose after. (Its rows are
      // output positions, direct or im2col'd, image after image.)
      int64_t positions =
          conv ? resultType.getDimSize(2) * resultType.getDimSize(3) : 0;
      tiles.positions = positions;
      tiles.nchw = conv && shape.step == TileShape::Vnni &&
                   (w.n % shape.lanes == 0 || w.blocks == 1);
      tiles.pairedRows = paired;
      assert(!paired || tiles.nchw); // (only the NCHW writes split pairs)
      assert(!conv || tiles.nchw == int8ConvTilesNchw(w.n, vnni, narrow));
      // A direct convolution's tiles along its output rows: whole rows
      // where two fit in a tile, else equal segments of a row.
      if (geometry && tiles.nchw && rowAligned) {
        int64_t ow = geometry->ow;
        if (2 * ow <= shape.rows) {
          tiles.segment = ow;
          tiles.outRows = shape.rows / ow;
        } else {
          tiles.segment =
              llvm::divideCeil(ow, llvm::divideCeil(ow, shape.rows));
        }
      }
      // The ops after the convolution that its tiles compute (dequantize,
      // shift, residual, relu, quantize): `replaced` is the last of them.
      Int8Epilogue chain;
      std::string why;
      if (conv && tiles.nchw && epilogue)
        chain = matchInt8Epilogue(conv, why);
      Operation *replaced = chain ? chain.last() : op;
      Type element = b.getI32Type();
      if (chain) {
        // The chain's constants (Int8Epilogue.h matches only constants),
        // made here unless they are made before the convolution in its
        // block: it may be followed by them, or they may sit in a region
        // the chain is in.
        auto here = [&](Value v) -> Value {
          Operation *def = v ? v.getDefiningOp() : nullptr;
          if (!def ||
              (def->getBlock() == op->getBlock() && def->isBeforeInBlock(op)))
            return v;
          return b.clone(*def)->getResult(0);
        };
        TileBuilder::Requantize &e = tiles.requantize.emplace();
        e.scale = here(chain.dequantize.getScale());
        e.zeroPoint = here(chain.dequantize.getZeroPoint());
        e.shift = here(chain.shiftValue);
        if (chain.residual)
          e.residual = b.create<tensor::CollapseShapeOp>(
              loc, chain.residualValue,
              ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
        e.relu = static_cast<bool>(chain.relu);
        if (chain.quantize) {
          e.outScale = here(chain.quantize.getScale());
          e.outZero = here(chain.quantize.getZeroPoint());
        }
        element = cast<RankedTensorType>(replaced->getResult(0).getType())
                      .getElementType();
      }
      auto productType =
          tiles.nchw ? RankedTensorType::get({rows / positions, w.n, positions},
                                             element)
                     : RankedTensorType::get({rows, w.n}, element);
      Value y = laneConv
                    ? buildLaneConv(tiles, laneGeometry(conv, *geometry, zero),
                                    lhs, element, parallel)
                    : tiles.build(productType, inParallel);
      if (tiles.nchw) {
        y = b.create<tensor::ExpandShapeOp>(
            loc, resultType.clone(element), y,
            ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
      } else if (conv) {
        // [N*OH*OW, O] -> [N, OH, OW, O] -> NCHW.
        int64_t n = resultType.getDimSize(0), o = resultType.getDimSize(1),
                oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
        auto nhwc = RankedTensorType::get({n, oh, ow, o}, b.getI32Type());
        y = b.create<tensor::ExpandShapeOp>(
            loc, nhwc, y, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
        Value init = b.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                               b.getI32Type());
        y = b.create<linalg::TransposeOp>(loc, y, init,
                                          ArrayRef<int64_t>{0, 3, 1, 2})
                .getResult()[0];
      } else if (resultType.getRank() > 2) {
        y = b.create<tensor::ExpandShapeOp>(loc, resultType, y, fold);
      }
      replaced->getResult(0).replaceAllUsesWith(y);
      if (chain)
        for (Operation *absorbed : llvm::reverse(chain.ops()))
          absorbed->erase();
      op->erase();
    }
  }
};

} // namespace
