//===- Conv.cpp - anvil.conv2d -> linalg ----------------------------------===//
//
// A one-group convolution becomes im2col + matmul, so that it runs on the
// tiled, vectorized matmul, one image at a time:
//
//   cols[c, i, j, y, x] = padded[n, c, y*sh + i*dh, x*sw + j*dw]
//   out[n, o, (y, x)]   = weight[o, (c, i, j)] @ cols[(c, i, j), (y, x)]
//
// in an scf.for over the images n (cols is one linalg.generic copy with an
// affine input map; the reshapes are free), started from the bias. Each
// image's product is already its NCHW result, and the padded image is a
// buffer whose zero border is written once, each image copied into its
// interior. A 1x1 stride-1 convolution needs no im2col: the image already is
// cols. Batches of images smaller than 64 pixels (7x7) are one im2col +
// matmul over all the images, whose [O, N, OH, OW] product is transposed to
// NCHW (see im2colConv for why). Grouped convolutions pad with a
// `tensor.pad` and use `linalg.conv_2d_ngchw_gfchw` on input and filter
// reshaped to expose the groups, accumulating onto the bias. The gradients
// are im2col products too (col2im for the input's); with groups, im2col gets
// a leading group dimension and the products become `linalg.batch_matmul`s
// over the groups.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"
#include "passes/Bf16Tiles.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::anvil;

/// See Utils.h.
Value mlir::anvil::im2col(OpBuilder &b, Location loc, Value padded, int64_t kh,
                          int64_t kw, int64_t oh, int64_t ow,
                          ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, bool transposed,
                          int64_t groups, Value dest) {
  auto inType = cast<RankedTensorType>(padded.getType());
  Type elt = inType.getElementType();
  int64_t n = inType.getDimSize(0), c = inType.getDimSize(1) / groups;
  MLIRContext *ctx = b.getContext();
  // Loops ([g,] c, i, j, n, y, x), or ([g,] n, y, x, c, i, j) when
  // transposed.
  unsigned lead = groups > 1 ? 1 : 0, loops = lead + 6;
  unsigned first = lead + (transposed ? 3 : 0),
           second = lead + (transposed ? 0 : 3);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineExpr channel = groups > 1 ? d(0) * c + d(first) : d(first);
  AffineMap read =
      AffineMap::get(loops, 0,
                     {d(second), channel,
                      d(second + 1) * strides[0] + d(first + 1) * dilations[0],
                      d(second + 2) * strides[1] + d(first + 2) * dilations[1]},
                     ctx);
  SmallVector<int64_t> taps = {c, kh, kw}, positions = {n, oh, ow};
  SmallVector<int64_t> shape;
  if (groups > 1)
    shape.push_back(groups);
  llvm::append_range(shape, transposed ? positions : taps);
  llvm::append_range(shape, transposed ? taps : positions);
  auto type = RankedTensorType::get(shape, elt);
  SmallVector<utils::IteratorType> parallel(loops,
                                            utils::IteratorType::parallel);
  Value init = dest ? reshapeTo(b, loc, dest, type) : emptyTensor(b, loc, type);
  Value cols =
      b.create<linalg::GenericOp>(
           loc, type, padded, init,
           SmallVector<AffineMap>{read, b.getMultiDimIdentityMap(loops)},
           parallel,
           [](OpBuilder &nb, Location l, ValueRange args) {
             nb.create<linalg::YieldOp>(l, args[0]);
           })
          .getResult(0);
  int64_t k = c * kh * kw, p = n * oh * ow;
  SmallVector<int64_t> matrix;
  if (groups > 1)
    matrix.push_back(groups);
  matrix.append(transposed ? std::initializer_list<int64_t>{p, k}
                           : std::initializer_list<int64_t>{k, p});
  return reshapeTo(b, loc, cols, RankedTensorType::get(matrix, elt));
}

namespace {

/// Lanes of vectorIm2col's row segments.
constexpr int64_t kIm2colLanes = 16;

/// The loops (c, i, j, y, x0) over a one-group convolution's channels, taps
/// and output rows, x0 stepping `lanes` along OW, each carrying `init`;
/// `body(c, i, j, y, x0, current)` returns the new value. The builder is
/// left after the nest; returns its result.
Value overTapRows(
    OpBuilder &b, Location loc, int64_t c, int64_t kh, int64_t kw, int64_t oh,
    int64_t ow, int64_t lanes, Value init,
    function_ref<Value(Value, Value, Value, Value, Value, Value)> body) {
  SmallVector<scf::ForOp> loops;
  Value current = init;
  for (auto [size, step] : SmallVector<std::pair<int64_t, int64_t>>{
           {c, 1}, {kh, 1}, {kw, 1}, {oh, 1}, {ow, lanes}}) {
    auto loop = b.create<scf::ForOp>(
        loc, b.create<arith::ConstantIndexOp>(loc, 0),
        b.create<arith::ConstantIndexOp>(loc, size),
        b.create<arith::ConstantIndexOp>(loc, step), ValueRange{current});
    if (!loops.empty())
      b.create<scf::YieldOp>(loc, loop.getResults());
    b.setInsertionPointToStart(loop.getBody());
    current = loop.getRegionIterArg(0);
    loops.push_back(loop);
  }
  b.create<scf::YieldOp>(
      loc, body(loops[0].getInductionVar(), loops[1].getInductionVar(),
                loops[2].getInductionVar(), loops[3].getInductionVar(),
                loops[4].getInductionVar(), current));
  b.setInsertionPointAfter(loops[0]);
  return loops[0].getResult(0);
}

/// The one-group im2col `[C*kh*kw, N*OH*OW]` of `padded` (NCHW f32, stride
/// 1 along the rows) as vector copies, for the bf16 tiles' packing to read
/// (the f32 matmul packs its slivers straight from the image instead:
/// anvil-tile-and-vectorize's pack-im2col): per image (an scf.forall over
/// the images when there are several), channel, tap (i, j) and output row
/// y, the OW values of padded row y * sh + i * dh from column j * dw, 16 at
/// a time (the last write masked at OW). The generic copies one element at
/// a time. Written into `dest` (im2col's [C, kh, kw, 1, OH, OW] buffer)
/// when given.
Value vectorIm2col(OpBuilder &b, Location loc, Value padded, int64_t kh,
                   int64_t kw, int64_t oh, int64_t ow,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                   Value dest = {}) {
  auto inType = cast<RankedTensorType>(padded.getType());
  int64_t n = inType.getDimSize(0), c = inType.getDimSize(1);
  Type f32 = inType.getElementType();
  auto type = RankedTensorType::get({c, kh, kw, n, oh, ow}, f32);
  Value init = dest ? reshapeTo(b, loc, dest, type) : emptyTensor(b, loc, type);
  auto vecType = VectorType::get({kIm2colLanes}, f32);
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  // Image `image`'s columns: `slice` is [C, kh, kw, 1, OH, OW].
  auto copyImage = [&](Value image, Value slice) {
    Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(f32));
    auto mulAdd = [&](Value u, int64_t k, Value v, int64_t l) {
      return b.create<arith::AddIOp>(loc,
                                     b.create<arith::MulIOp>(loc, u, index(k)),
                                     b.create<arith::MulIOp>(loc, v, index(l)));
    };
    return overTapRows(
        b, loc, c, kh, kw, oh, ow, kIm2colLanes, slice,
        [&](Value ch, Value i, Value j, Value y, Value x0, Value current) {
          Value yy = mulAdd(y, strides[0], i, dilations[0]);
          Value xx = b.create<arith::AddIOp>(
              loc, x0, b.create<arith::MulIOp>(loc, j, index(dilations[1])));
          Value row = b.create<vector::TransferReadOp>(
              loc, vecType, padded, ValueRange{image, ch, yy, xx}, zero,
              ArrayRef<bool>{false});
          return b
              .create<vector::TransferWriteOp>(
                  loc, row, current, ValueRange{ch, i, j, index(0), y, x0},
                  ArrayRef<bool>{ow % kIm2colLanes == 0})
              .getResult();
        });
  };
  Value cols;
  if (n == 1) {
    cols = copyImage(index(0), init);
  } else {
    auto place = [&](Value image) {
      SmallVector<OpFoldResult> offsets(6, b.getIndexAttr(0));
      offsets[3] = image;
      return SlicePlace{offsets,
                        {b.getIndexAttr(c), b.getIndexAttr(kh),
                         b.getIndexAttr(kw), b.getIndexAttr(1),
                         b.getIndexAttr(oh), b.getIndexAttr(ow)}};
    };
    cols = forallSlices(b, loc, n, init, place, copyImage);
  }
  return reshapeTo(b, loc, cols,
                   RankedTensorType::get({c * kh * kw, n * oh * ow}, f32));
}

/// `lhs [G, M, K] @ rhs [G, K, N]` per group, as a `linalg.batch_matmul`
/// into zeros.
Value buildBatchMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto l = cast<RankedTensorType>(lhs.getType());
  auto r = cast<RankedTensorType>(rhs.getType());
  auto type = l.clone({l.getDimSize(0), l.getDimSize(1), r.getDimSize(2)});
  return b
      .create<linalg::BatchMatmulOp>(loc, type, ValueRange{lhs, rhs},
                                     filledTensor(b, loc, type, 0.0))
      .getResult(0);
}

/// `bias` [O] broadcast along the columns of `dest` [O, P]. (A
/// linalg.broadcast, not a generic: elementwise fusion would give a generic
/// that does not read its destination a new tensor.empty, and inside the
/// image loop that is a buffer allocated per image, copied into the
/// result. anvil-fuse-matmul-epilogue makes it a generic where the matmul's
/// blocks write it block by block.)
Value broadcastRows(OpBuilder &b, Location loc, Value bias, Value dest) {
  return b.create<linalg::BroadcastOp>(loc, bias, dest, ArrayRef<int64_t>{1})
      .getResult()[0];
}

/// Whether the convolution `op` (or one of its gradients) runs its product
/// on the bf16 tiles: marked bf16, one group, f32, and the tiles on.
template <typename ConvOp> bool onBf16Tiles(ConvOp op, bool bf16Tiles) {
  return bf16Tiles && op.getBf16() && op.getGroups() == 1 &&
         cast<RankedTensorType>(op.getType()).getElementType().isF32();
}

/// Whether a one-group convolution's im2col is vectorIm2col's: for the
/// bf16 tiles (the f32 matmul reads the image itself), stride 1 along the
/// rows.
bool vectorRowsIm2col(ArrayRef<int64_t> strides, bool bf16Tiles) {
  return bf16Tiles && strides[1] == 1;
}

/// A one-group convolution's 2-D product `lhs @ rhs` (lhs stored [K, M]
/// with `transposeA`): on the vdpbf16ps tiles when `bf16Tiles` (`rowBias`,
/// an [M] tensor, starting row r's sums; the result written into `dest`),
/// else a linalg.matmul (into `acc`: the bias already there, or zeros).
Value convProduct(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  bool bf16Tiles, bool transposeA = false, Value acc = {},
                  Value rowBias = {}, Value dest = {}) {
  if (bf16Tiles)
    return buildBf16Matmul(b, loc, lhs, rhs, transposeA, /*transposeB=*/false,
                           /*parallel=*/true, rowBias, dest);
  return buildMatmul(b, loc, transposeA ? transpose2D(b, loc, lhs) : lhs, rhs,
                     acc);
}

/// The one-group convolution of all the images at once: im2col of the
/// padded batch [C*kh*kw, N*OH*OW], one matmul, and the [O, N, OH, OW]
/// product transposed to NCHW (anvil-fuse-matmul-epilogue moves the
/// elementwise ops after the transpose before it, onto the product).
Value batchedConv(OpBuilder &b, Location loc, Conv2DOp op, Value input,
                  Value w2, Value bias, bool bf16Tiles) {
  auto type = cast<RankedTensorType>(op.getType());
  Type elt = type.getElementType();
  int64_t n = type.getDimSize(0), o = type.getDimSize(1),
          oh = type.getDimSize(2), ow = type.getDimSize(3);
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  Value padded = padSpatial(b, loc, input, op.getPads(), 0.0);
  Value cols =
      vectorRowsIm2col(op.getStrides(), bf16Tiles)
          ? vectorIm2col(b, loc, padded, wType.getDimSize(2),
                         wType.getDimSize(3), oh, ow, op.getStrides(),
                         op.getDilations())
          : im2col(b, loc, padded, wType.getDimSize(2), wType.getDimSize(3), oh,
                   ow, op.getStrides(), op.getDilations(),
                   /*transposed=*/false);
  auto productType = RankedTensorType::get({o, n * oh * ow}, elt);
  Value acc =
      bias && !bf16Tiles
          ? broadcastRows(b, loc, bias, emptyTensor(b, loc, productType))
          : Value();
  Value product = convProduct(b, loc, w2, cols, bf16Tiles,
                              /*transposeA=*/false, acc, /*rowBias=*/bias);
  Value onhw =
      reshapeTo(b, loc, product, RankedTensorType::get({o, n, oh, ow}, elt));
  return b
      .create<linalg::TransposeOp>(loc, onhw, emptyTensor(b, loc, type),
                                   ArrayRef<int64_t>{1, 0, 2, 3})
      .getResult()[0];
}

/// The one-group convolution as im2col + linalg.matmul, one image at a time
/// (see the header). Per image, the product [O, OH*OW] already is the
/// image's NCHW result, and the im2col matrix [C*kh*kw, OH*OW] is 1/N of
/// the whole batch's: at batch 8, ResNet-18's 56x56 layers would otherwise
/// gather a 58 MB matrix (far beyond the caches) and then transpose the
/// [O, N, OH, OW] product back to NCHW in another full pass. Each image's
/// matmul still gets the tiled, vectorized, parallel schedule (the loop is
/// the one linalg.batch_matmul becomes there). The loop's buffers are made
/// before it, so that bufferization allocates them once and memory planning
/// (which places top-level allocations only) keeps one of each: the result,
/// the im2col matrix (a tensor.empty, written in place by every image), and
/// the padded image, carried through the loop, whose zero border is written
/// once and only its interior per image: no padded copy of the batch.
/// (anvil-fuse-matmul-epilogue moves the elementwise ops after the loop into
/// it, as each image's epilogue; it expects this form: the product started
/// in the image's slot, expanded and inserted back into it.) With
/// `bf16Tiles` the products run on the vdpbf16ps tiles (convProduct).
Value im2colConv(OpBuilder &b, Location loc, Conv2DOp op, Value input,
                 Value weight, Value bias, bool bf16Tiles) {
  auto type = cast<RankedTensorType>(op.getType());
  auto inType = cast<RankedTensorType>(input.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  Type elt = type.getElementType();
  int64_t n = type.getDimSize(0), o = type.getDimSize(1),
          oh = type.getDimSize(2), ow = type.getDimSize(3);
  int64_t c = inType.getDimSize(1), h = inType.getDimSize(2),
          w = inType.getDimSize(3), kh = wType.getDimSize(2),
          kw = wType.getDimSize(3);
  ArrayRef<int64_t> pads = op.getPads();
  int64_t k = c * kh * kw, p = oh * ow;
  // A 1x1 stride-1 convolution reads the (padded) image as it is:
  // [1, C, OH, OW] is already the [C, OH*OW] matrix, no im2col copy.
  bool pointwise =
      kh == 1 && kw == 1 &&
      llvm::all_of(op.getStrides(), [](int64_t s) { return s == 1; });
  bool padded = llvm::any_of(pads, [](int64_t v) { return v != 0; });
  auto imageType = inType.clone({1, c, h, w});
  auto paddedType =
      inType.clone({1, c, h + pads[0] + pads[2], w + pads[1] + pads[3]});
  auto colsType = RankedTensorType::get({k, p}, elt);
  // (im2col's own [C, kh, kw, 1, OH, OW] shape: a reshape of a tensor.empty
  // folds into a new tensor.empty where the reshape is, in the loop.)
  auto colsBufType = RankedTensorType::get({c, kh, kw, 1, oh, ow}, elt);
  auto resultType = type.clone({1, o, oh, ow});
  auto productType = RankedTensorType::get({o, p}, elt);
  Value w2 = reshapeTo(b, loc, weight, RankedTensorType::get({o, k}, elt));
  // Images of fewer than two 32-lane register tiles of pixels (7x7: a
  // 32-wide tile plus a peeled 17-wide one, most lanes of the second idle)
  // are convolved all at once: N*OH*OW columns fill the tiles, and the
  // transpose back and the batch's im2col are small. Measured at batch 8
  // (1 thread, ResNet's 7x7 layers): 3x3 512->512 about 10% and 1x1
  // 2048->512 about 15% faster batched; at 14x14 and 28x28 the two are
  // within the noise, at 56x56 per image is about 15% faster.
  if (convBatchesImages(n, p))
    return batchedConv(b, loc, op, input, w2, bias, bf16Tiles);

  // One image [1, C, H, W] into `result` [1, O, OH, OW], through the
  // buffers `paddedBuf` (zero border; null without padding) and `colsBuf`
  // (null when pointwise). Returns the result and the padded image.
  auto convolve = [&](OpBuilder &b, Location loc, Value image, Value result,
                      Value paddedBuf,
                      Value colsBuf) -> std::pair<Value, Value> {
    Value src = image;
    if (paddedBuf) {
      SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                           b.getIndexAttr(pads[0]),
                                           b.getIndexAttr(pads[1])};
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(c),
                                         b.getIndexAttr(h), b.getIndexAttr(w)};
      SmallVector<OpFoldResult> unit(4, b.getIndexAttr(1));
      src = b.create<tensor::InsertSliceOp>(loc, image, paddedBuf, offsets,
                                            sizes, unit);
    }
    Value cols;
    if (pointwise)
      cols = reshapeTo(b, loc, src, colsType);
    else if (vectorRowsIm2col(op.getStrides(), bf16Tiles))
      cols = vectorIm2col(b, loc, src, kh, kw, oh, ow, op.getStrides(),
                          op.getDilations(), colsBuf);
    else
      cols = im2col(b, loc, src, kh, kw, oh, ow, op.getStrides(),
                    op.getDilations(), /*transposed=*/false,
                    /*groups=*/1, colsBuf);
    Value slot = reshapeTo(b, loc, result, productType), acc;
    if (!bf16Tiles)
      acc = bias ? broadcastRows(b, loc, bias, slot)
                 : b.create<linalg::FillOp>(loc, scalarConstant(b, loc, elt, 0),
                                            slot)
                       .getResult(0);
    Value product =
        convProduct(b, loc, w2, cols, bf16Tiles, /*transposeA=*/false, acc,
                    /*rowBias=*/bias, /*dest=*/slot);
    return {reshapeTo(b, loc, product, resultType), paddedBuf ? src : Value()};
  };

  Value paddedInit = padded ? filledTensor(b, loc, paddedType, 0.0) : Value();
  Value colsBuf = pointwise ? Value() : emptyTensor(b, loc, colsBufType);
  if (n == 1)
    return convolve(b, loc, input, emptyTensor(b, loc, type), paddedInit,
                    colsBuf)
        .first;

  SmallVector<Value> inits = {emptyTensor(b, loc, type)};
  if (paddedInit)
    inits.push_back(paddedInit);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0),
        one = b.create<arith::ConstantIndexOp>(loc, 1),
        count = b.create<arith::ConstantIndexOp>(loc, n);
  auto loop = b.create<scf::ForOp>(
      loc, zero, count, one, inits,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        // Image `iv` of an [N, ...] tensor: offsets, sizes, strides.
        auto at = [&](RankedTensorType t) {
          SmallVector<OpFoldResult> offsets(4, nb.getIndexAttr(0));
          offsets[0] = iv;
          SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1),
                                             nb.getIndexAttr(t.getDimSize(1)),
                                             nb.getIndexAttr(t.getDimSize(2)),
                                             nb.getIndexAttr(t.getDimSize(3))};
          SmallVector<OpFoldResult> unit(4, nb.getIndexAttr(1));
          return std::make_tuple(offsets, sizes, unit);
        };
        auto [inOff, inSizes, inStrides] = at(inType);
        Value image = nb.create<tensor::ExtractSliceOp>(
            l, imageType, input, inOff, inSizes, inStrides);
        auto [outOff, outSizes, outStrides] = at(type);
        Value slot = nb.create<tensor::ExtractSliceOp>(
            l, resultType, args[0], outOff, outSizes, outStrides);
        Value paddedBuf = paddedInit ? args[1] : Value();
        auto [result, paddedOut] =
            convolve(nb, l, image, slot, paddedBuf, colsBuf);
        SmallVector<Value> yields = {nb.create<tensor::InsertSliceOp>(
            l, result, args[0], outOff, outSizes, outStrides)};
        if (paddedOut)
          yields.push_back(paddedOut);
        nb.create<scf::YieldOp>(l, yields);
      });
  return loop.getResult(0);
}

/// dY [N, O, OH, OW] as [O, N*OH*OW].
Value gradRows(OpBuilder &b, Location loc, Value grad) {
  auto type = cast<RankedTensorType>(grad.getType());
  int64_t n = type.getDimSize(0), o = type.getDimSize(1),
          oh = type.getDimSize(2), ow = type.getDimSize(3);
  auto onhw = RankedTensorType::get({o, n, oh, ow}, type.getElementType());
  Value t = b.create<linalg::TransposeOp>(loc, grad, emptyTensor(b, loc, onhw),
                                          ArrayRef<int64_t>{1, 0, 2, 3})
                .getResult()[0];
  return reshapeTo(b, loc, t, onhw.clone({o, n * oh * ow}));
}

/// dW = dY (as [O, N*OH*OW]) @ cols^T, on the vectorized matmul; with
/// groups, one such product per group (a batch_matmul over [G, O/G, ...]).
struct Conv2DGradFilterLowering : OpConversionPattern<Conv2DGradFilterOp> {
  Conv2DGradFilterLowering(MLIRContext *context, bool bf16Tiles)
      : OpConversionPattern(context), bf16Tiles(bf16Tiles) {}
  bool bf16Tiles;
  LogicalResult
  matchAndRewrite(Conv2DGradFilterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto gType = cast<RankedTensorType>(adaptor.getGrad().getType());
    int64_t groups = op.getGroups();
    Value input = adaptor.getInput(), grad = adaptor.getGrad();
    bool tiles = onBf16Tiles(op, bf16Tiles);
    if (op.getBf16() && !tiles) {
      input = roundedToBf16(rewriter, loc, input);
      grad = roundedToBf16(rewriter, loc, grad);
    }
    Value padded = padSpatial(rewriter, loc, input, op.getPads(), 0.0);
    // (The bf16 tiles read cols^T as a transpose_b operand, which their
    // packing transposes in registers: the im2col with rows of pixels
    // copies runs of them.)
    Value cols =
        vectorRowsIm2col(op.getStrides(), tiles)
            ? vectorIm2col(rewriter, loc, padded, type.getDimSize(2),
                           type.getDimSize(3), gType.getDimSize(2),
                           gType.getDimSize(3), op.getStrides(),
                           op.getDilations())
            : im2col(rewriter, loc, padded, type.getDimSize(2),
                     type.getDimSize(3), gType.getDimSize(2),
                     gType.getDimSize(3), op.getStrides(), op.getDilations(),
                     /*transposed=*/!tiles, groups);
    Value rows = gradRows(rewriter, loc, grad);
    Value product;
    if (tiles) {
      product = buildBf16Matmul(rewriter, loc, rows, cols,
                                /*transposeA=*/false, /*transposeB=*/true);
    } else if (groups == 1) {
      product = buildMatmul(rewriter, loc, rows, cols);
    } else {
      auto rType = cast<RankedTensorType>(rows.getType());
      Value grouped =
          reshapeTo(rewriter, loc, rows,
                    rType.clone({groups, rType.getDimSize(0) / groups,
                                 rType.getDimSize(1)}));
      product = buildBatchMatmul(rewriter, loc, grouped, cols);
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, product, type));
    return success();
  }
};

/// dcols = W^T @ dY (per group: [G, C/G*kh*kw, N*OH*OW]), then col2im: each
/// padded input cell sums the dcols entries of the windows that read it; the
/// padding is cut off.
/// Lanes of vectorCol2im's row segments.
constexpr int64_t kCol2imLanes = 16;

/// vectorCol2im's work on one image: `slice` ([1, C, Hp, Wp], zeros) with
/// image `image`'s terms of `cols` ([C*kh*kw, N, OH, OW]) added.
Value col2imImage(OpBuilder &b, Location loc, Value cols, Value slice,
                  Value image, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                  int64_t sh, int64_t dh, int64_t dw) {
  auto type = cast<RankedTensorType>(slice.getType());
  int64_t c = type.getDimSize(1), hp = type.getDimSize(2),
          wp = type.getDimSize(3);
  auto vecType = VectorType::get({kCol2imLanes}, type.getElementType());
  Value zero =
      b.create<arith::ConstantOp>(loc, b.getZeroAttr(type.getElementType()));
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  auto mul = [&](Value v, int64_t k) {
    return b.create<arith::MulIOp>(loc, v, index(k)).getResult();
  };
  auto add = [&](Value u, Value v) {
    return b.create<arith::AddIOp>(loc, u, v).getResult();
  };
  // dcols' row of channel ch and tap (i, j).
  auto colsRow = [&](Value ch, Value i, Value j) {
    return add(mul(add(mul(ch, kh), i), kw), j);
  };
  Value done;
  if (wp <= kCol2imLanes) {
    // A padded row fits one vector: per channel and padded row yy, the
    // row's sum kept in a register over the taps (i, j) in order, each
    // tap's OW values shifted right by j * dw (a shuffle with zeros), and
    // written once: no read-modify-write of overlapping rows (whose masked
    // stores the next tap's masked loads wait for).
    auto channels = b.create<scf::ForOp>(loc, index(0), index(c), index(1),
                                         ValueRange{slice});
    b.setInsertionPointToStart(channels.getBody());
    Value ch = channels.getInductionVar();
    auto rows = b.create<scf::ForOp>(loc, index(0), index(hp), index(1),
                                     channels.getRegionIterArgs());
    b.create<scf::YieldOp>(loc, rows.getResults());
    b.setInsertionPointToStart(rows.getBody());
    Value yy = rows.getInductionVar();
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(vecType));
    Value acc = zeros;
    for (int64_t i = 0; i < kh; ++i) {
      // The output row y whose window reads yy at tap row i: yy - i * dh =
      // y * sh, 0 <= y < OH.
      Value t = b.create<arith::SubIOp>(loc, yy, index(i * dh));
      Value nonNegative =
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, t, index(0));
      Value safe = b.create<arith::SelectOp>(loc, nonNegative, t, index(0));
      Value y = b.create<arith::DivUIOp>(loc, safe, index(sh));
      Value valid = b.create<arith::AndIOp>(
          loc, nonNegative,
          b.create<arith::AndIOp>(
              loc,
              b.create<arith::CmpIOp>(
                  loc, arith::CmpIPredicate::eq,
                  b.create<arith::RemUIOp>(loc, safe, index(sh)), index(0)),
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, y,
                                      index(oh))));
      auto taps = b.create<scf::IfOp>(loc, TypeRange{vecType}, valid,
                                      /*withElseRegion=*/true);
      OpBuilder::InsertionGuard tapsGuard(b);
      b.setInsertionPointToStart(&taps.getThenRegion().front());
      Value sum = acc;
      for (int64_t j = 0; j < kw; ++j) {
        Value terms = b.create<vector::TransferReadOp>(
            loc, vecType, cols,
            ValueRange{colsRow(ch, index(i), index(j)), image, y, index(0)},
            zero, ArrayRef<bool>{ow == kCol2imLanes});
        SmallVector<int64_t> shift;
        for (int64_t lane = 0; lane < kCol2imLanes; ++lane)
          shift.push_back(lane >= j * dw ? lane - j * dw : kCol2imLanes);
        terms = b.create<vector::ShuffleOp>(loc, terms, zeros, shift);
        sum = b.create<arith::AddFOp>(loc, sum, terms);
      }
      b.create<scf::YieldOp>(loc, sum);
      b.setInsertionPointToStart(&taps.getElseRegion().front());
      b.create<scf::YieldOp>(loc, acc);
      acc = taps.getResult(0);
    }
    b.create<scf::YieldOp>(loc, b.create<vector::TransferWriteOp>(
                                     loc, acc, rows.getRegionIterArg(0),
                                     ValueRange{index(0), ch, yy, index(0)},
                                     ArrayRef<bool>{wp == kCol2imLanes})
                                    .getResult());
    b.setInsertionPointAfter(channels);
    done = channels.getResult(0);
  } else {
    // Loops (c, i, j, y, x0), each carrying the image's gradient: the
    // row's OW values added to the padded row, 16 at a time.
    done = overTapRows(
        b, loc, c, kh, kw, oh, ow, kCol2imLanes, slice,
        [&](Value ch, Value i, Value j, Value y, Value x0, Value current) {
          Value terms = b.create<vector::TransferReadOp>(
              loc, vecType, cols, ValueRange{colsRow(ch, i, j), image, y, x0},
              zero, ArrayRef<bool>{ow % kCol2imLanes == 0});
          Value yy = add(mul(y, sh), mul(i, dh)), xx = add(mul(j, dw), x0);
          SmallVector<Value> at{index(0), ch, yy, xx};
          Value sum = b.create<arith::AddFOp>(
              loc,
              b.create<vector::TransferReadOp>(loc, vecType, current, at, zero,
                                               ArrayRef<bool>{false}),
              terms);
          return b
              .create<vector::TransferWriteOp>(loc, sum, current, at,
                                               ArrayRef<bool>{false})
              .getResult();
        });
  }
  return done;
}

/// col2im as vector code, for one group and stride 1 along the rows, per
/// image (the images in parallel: an scf.forall). When a padded row fits one
/// vector of 16 (LeNet's 14): per channel and padded row, its sum kept in a
/// register over the taps (i, j) whose output row reads it, each tap's OW
/// values of dcols shifted right by j * dw, and the row written once.
/// Otherwise per channel, tap (i, j) and output row y, the OW values of
/// dcols' row (c, i, j) at (n, y) added to the padded row y * sh + i * dh
/// from column j * dw, 16 at a time (masked past OW: the lanes past it add
/// 0). Either way each cell's terms arrive in the generic's order (taps
/// ascending, +0 for the taps that miss it): the same sums, bit for bit.
/// The generic visits every cell and tap with scalar bounds checks: a fifth
/// of LeNet's training step after the max pool gradient's vector code.
Value vectorCol2im(OpBuilder &b, Location loc, Value dcols,
                   RankedTensorType paddedType, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t sh, int64_t dh, int64_t dw) {
  int64_t n = paddedType.getDimSize(0), c = paddedType.getDimSize(1),
          hp = paddedType.getDimSize(2), wp = paddedType.getDimSize(3);
  Type f32 = paddedType.getElementType();
  // dcols [C*kh*kw, N*OH*OW] as [C*kh*kw, N, OH, OW]: a row's reads are
  // masked at OW, not at the next row.
  Value cols = reshapeTo(b, loc, dcols,
                         RankedTensorType::get({c * kh * kw, n, oh, ow}, f32));
  Value init = filledTensor(b, loc, paddedType, 0.0);
  auto place = [&](Value image) {
    return SlicePlace{
        {image, b.getIndexAttr(0), b.getIndexAttr(0), b.getIndexAttr(0)},
        {b.getIndexAttr(1), b.getIndexAttr(c), b.getIndexAttr(hp),
         b.getIndexAttr(wp)}};
  };
  return forallSlices(b, loc, n, init, place, [&](Value image, Value slice) {
    return col2imImage(b, loc, cols, slice, image, kh, kw, oh, ow, sh, dh, dw);
  });
}

struct Conv2DGradInputLowering : OpConversionPattern<Conv2DGradInputOp> {
  Conv2DGradInputLowering(MLIRContext *context, bool vectorRows, bool bf16Tiles)
      : OpConversionPattern(context), vectorRows(vectorRows),
        bf16Tiles(bf16Tiles) {}
  bool vectorRows, bf16Tiles;
  LogicalResult
  matchAndRewrite(Conv2DGradInputOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto gType = cast<RankedTensorType>(adaptor.getGrad().getType());
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    Type elt = type.getElementType();
    int64_t groups = op.getGroups();
    int64_t n = type.getDimSize(0), c = type.getDimSize(1),
            h = type.getDimSize(2), w = type.getDimSize(3);
    int64_t o = wType.getDimSize(0), kh = wType.getDimSize(2),
            kw = wType.getDimSize(3);
    int64_t oh = gType.getDimSize(2), ow = gType.getDimSize(3);
    int64_t cg = c / groups, og = o / groups;
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    int64_t k = cg * kh * kw, p = n * oh * ow;
    Value grad = adaptor.getGrad(), weight = adaptor.getWeight();
    bool tiles = onBf16Tiles(op, bf16Tiles);
    if (op.getBf16() && !tiles) {
      grad = roundedToBf16(rewriter, loc, grad);
      weight = roundedToBf16(rewriter, loc, weight);
    }
    Value rows = gradRows(rewriter, loc, grad);
    Value dcols;
    if (groups == 1) {
      Value w2 =
          reshapeTo(rewriter, loc, weight, RankedTensorType::get({o, k}, elt));
      dcols = convProduct(rewriter, loc, w2, rows, tiles, /*transposeA=*/true);
    } else {
      auto w3Type = RankedTensorType::get({groups, og, k}, elt);
      Value w3 = reshapeTo(rewriter, loc, weight, w3Type);
      auto wtType = RankedTensorType::get({groups, k, og}, elt);
      Value wt = rewriter
                     .create<linalg::TransposeOp>(
                         loc, w3, emptyTensor(rewriter, loc, wtType),
                         ArrayRef<int64_t>{0, 2, 1})
                     .getResult()[0];
      Value r3 = reshapeTo(rewriter, loc, rows,
                           RankedTensorType::get({groups, og, p}, elt));
      dcols = buildBatchMatmul(rewriter, loc, wt, r3);
    }
    int64_t hp = h + pads[0] + pads[2], wp = w + pads[1] + pads[3];
    auto paddedType = RankedTensorType::get({n, c, hp, wp}, elt);
    SmallVector<int64_t> offsets = {0, 0, pads[0], pads[1]},
                         sizes = {n, c, h, w}, unit(4, 1);
    if (vectorRows && groups == 1 && strides[1] == 1 && elt.isF32()) {
      Value padded = vectorCol2im(rewriter, loc, dcols, paddedType, kh, kw, oh,
                                  ow, strides[0], dilations[0], dilations[1]);
      rewriter.replaceOp(op, rewriter.create<tensor::ExtractSliceOp>(
                                 loc, type, padded, ValueRange{}, ValueRange{},
                                 ValueRange{}, offsets, sizes, unit));
      return success();
    }
    // col2im over the padded input: loops (n, c, hp, wp, i, j), reducing
    // over the kernel offsets.
    MLIRContext *ctx = getContext();
    SmallVector<AffineExpr> outDims;
    for (unsigned d = 0; d < 4; ++d)
      outDims.push_back(getAffineDimExpr(d, ctx));
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    iterators.append(2, utils::IteratorType::reduction);
    // (A [kh, kw] operand, never read, gives the offset loops their
    // bounds, as the window operand of linalg's pooling ops does.)
    Value window =
        emptyTensor(rewriter, loc, RankedTensorType::get({kh, kw}, elt));
    AffineMap windowMap = AffineMap::get(
        6, 0, {getAffineDimExpr(4, ctx), getAffineDimExpr(5, ctx)}, ctx);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, paddedType, window, filledTensor(rewriter, loc, paddedType, 0.0),
        SmallVector<AffineMap>{windowMap, AffineMap::get(6, 0, outDims, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          auto index = [&](int64_t v) {
            return b.create<arith::ConstantIndexOp>(l, v).getResult();
          };
          Value idx[6];
          for (unsigned d = 0; d < 6; ++d)
            idx[d] = b.create<linalg::IndexOp>(l, d);
          // Window position y for offset i: y * s = hp - i * d.
          auto window = [&](Value at, Value off, int64_t s, int64_t dil,
                            int64_t limit, Value &pos) {
            Value t = b.create<arith::SubIOp>(
                l, at, b.create<arith::MulIOp>(l, off, index(dil)));
            Value nonNegative = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::sge, t, index(0));
            Value divisible = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::eq,
                b.create<arith::RemSIOp>(l, t, index(s)), index(0));
            pos = b.create<arith::DivSIOp>(l, t, index(s));
            Value inRange = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::slt, pos, index(limit));
            Value ok = b.create<arith::AndIOp>(
                l, nonNegative, b.create<arith::AndIOp>(l, divisible, inRange));
            // Keep the index in bounds even where it is not used.
            pos = b.create<arith::SelectOp>(l, ok, pos, index(0));
            return ok;
          };
          Value y, x;
          Value okY = window(idx[2], idx[4], strides[0], dilations[0], oh, y);
          Value okX = window(idx[3], idx[5], strides[1], dilations[1], ow, x);
          // Channel c is tap channel c % (C/G) of group c / (C/G).
          Value channel = idx[1], group;
          if (groups > 1) {
            group = b.create<arith::DivSIOp>(l, idx[1], index(cg));
            channel = b.create<arith::RemSIOp>(l, idx[1], index(cg));
          }
          // dcols[[g,] (c, i, j), (n, y, x)]
          Value row = b.create<arith::AddIOp>(
              l,
              b.create<arith::MulIOp>(
                  l,
                  b.create<arith::AddIOp>(
                      l, b.create<arith::MulIOp>(l, channel, index(kh)),
                      idx[4]),
                  index(kw)),
              idx[5]);
          Value col = b.create<arith::AddIOp>(
              l,
              b.create<arith::MulIOp>(
                  l,
                  b.create<arith::AddIOp>(
                      l, b.create<arith::MulIOp>(l, idx[0], index(oh)), y),
                  index(ow)),
              x);
          SmallVector<Value> at = {row, col};
          if (groups > 1)
            at.insert(at.begin(), group);
          Value v = b.create<tensor::ExtractOp>(l, dcols, at);
          Value ok = b.create<arith::AndIOp>(l, okY, okX);
          Value term =
              b.create<arith::SelectOp>(l, ok, v, scalarConstant(b, l, elt, 0));
          b.create<linalg::YieldOp>(
              l, b.create<arith::AddFOp>(l, args[1], term).getResult());
        });
    Value padded = generic.getResult(0);
    rewriter.replaceOp(op, rewriter.create<tensor::ExtractSliceOp>(
                               loc, type, padded, ValueRange{}, ValueRange{},
                               ValueRange{}, offsets, sizes, unit));
    return success();
  }
};

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  Conv2DLowering(MLIRContext *context, bool bf16Tiles)
      : OpConversionPattern(context), bf16Tiles(bf16Tiles) {}
  bool bf16Tiles;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value input = adaptor.getInput(), weight = adaptor.getWeight();
    bool tiles = onBf16Tiles(op, bf16Tiles);
    if (op.getBf16() && !tiles) {
      input = roundedToBf16(rewriter, loc, input);
      weight = roundedToBf16(rewriter, loc, weight);
    }
    if (op.getGroups() == 1) {
      rewriter.replaceOp(op, im2colConv(rewriter, loc, op, input, weight,
                                        adaptor.getBias(), tiles));
      return success();
    }
    input = padSpatial(rewriter, loc, input, op.getPads(), 0.0);
    Value init;
    if (Value bias = adaptor.getBias()) {
      auto o = type.getDimSize(1);
      Value column =
          reshapeTo(rewriter, loc, bias,
                    RankedTensorType::get({o, 1, 1}, type.getElementType()));
      init = buildElementwise(
          rewriter, loc, type, column,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    } else {
      init = filledTensor(rewriter, loc, type, 0.0);
    }
    auto strides = rewriter.getI64VectorAttr(op.getStrides());
    auto dilations = rewriter.getI64VectorAttr(op.getDilations());
    int64_t groups = op.getGroups();
    // Expose the groups: input [N, G, C/G, H, W], filter [G, O/G, C/G, kh,
    // kw], result [N, G, O/G, oh, ow].
    auto inType = cast<RankedTensorType>(input.getType());
    auto wType = cast<RankedTensorType>(weight.getType());
    auto split = [&](RankedTensorType t, int64_t dim) {
      SmallVector<int64_t> shape(t.getShape());
      shape[dim] /= groups;
      shape.insert(shape.begin() + dim, groups);
      return t.clone(shape);
    };
    Value gInput = reshapeTo(rewriter, loc, input, split(inType, 1));
    Value gWeight = reshapeTo(rewriter, loc, weight, split(wType, 0));
    RankedTensorType gType = split(type, 1);
    Value gInit = reshapeTo(rewriter, loc, init, gType);
    Value conv = rewriter
                     .create<linalg::Conv2DNgchwGfchwOp>(
                         loc, TypeRange{gType}, ValueRange{gInput, gWeight},
                         gInit, strides, dilations)
                     .getResult(0);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, conv, type));
    return success();
  }
};

} // namespace

void mlir::anvil::populateConvToLinalgPatterns(RewritePatternSet &patterns,
                                               bool vectorCol2im,
                                               bool bf16Tiles) {
  patterns.add<Conv2DLowering, Conv2DGradFilterLowering>(patterns.getContext(),
                                                         bf16Tiles);
  patterns.add<Conv2DGradInputLowering>(patterns.getContext(), vectorCol2im,
                                        bf16Tiles);
}
