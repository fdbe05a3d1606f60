//===- DepthwiseConv.cpp - depthwise anvil.conv2d -> linalg ---------------===//
//
// A depthwise convolution (groups == input channels == output channels, one
// filter per channel) is a weighted sum of its kernel taps, and each tap is
// a strided view of the padded input:
//
//   tap(i, j)[n, c, y, x] = padded[n, c, y*sh + i*dh, x*sw + j*dw]
//   out[n, c, y, x] = bias[c] + sum_(i,j) w[c, 0, i, j] * tap(i, j)[n, c, y, x]
//
// so it lowers to a `tensor.pad`, `tensor.extract_slice`s (views, no copies
// once bufferized) and one elementwise `linalg.generic` whose body is a
// chain of kh*kw fmas (the filter taps read at w[c, 0, i, j]).
// Everything downstream treats it as elementwise: it fuses with the
// activation after it, is split across threads by anvil-parallelize-loops,
// and its innermost loop runs along the output row, where LLVM vectorizes
// the (for stride 1, contiguous) tap loads. The general grouped lowering
// (`linalg.conv_2d_ngchw_gfchw`, Conv.cpp) was scalar loops; this pattern
// has a higher benefit and takes depthwise convolutions whose window has at
// most kMaxWindowTaps taps. Output rows 8 to 15 wide with
// depthwise-stride1-nchw off (stride 1) or depthwise-strided-nchw off
// (strided) instead loop along the channels, over
// an NHWC copy of the input (a copying generic, padded after it: see
// `permuted`), the result transposed back to NCHW. The gradients keep the
// general path. `addWindowTaps` is shared with the pooling lowering
// (Pooling.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::anvil;

void mlir::anvil::addWindowTaps(OpBuilder &b, Location loc, Value padded,
                                ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> strides,
                                ArrayRef<int64_t> dilations, int64_t outH,
                                int64_t outW, SmallVectorImpl<Value> &operands,
                                SmallVectorImpl<AffineMap> &maps,
                                bool channelsLast) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto type = cast<RankedTensorType>(padded.getType());
  // Each tap is a view of exactly the cells its windows read, read through
  // (n, c, y*sh, x*sw). Maps carry no constant offsets: tiling (for
  // threads) would add the offset to the tile's slice and the map would
  // add it again. (Every operand a bare loop variable indexes must also
  // have that loop's extent: the views do.)
  unsigned h = channelsLast ? 1 : 2, w = h + 1, c = channelsLast ? 3 : 1;
  SmallVector<int64_t> sizes(type.getShape());
  sizes[h] = (outH - 1) * strides[0] + 1;
  sizes[w] = (outW - 1) * strides[1] + 1;
  SmallVector<AffineExpr> at(4);
  at[0] = d(0);
  at[c] = d(c);
  at[h] = d(h) * strides[0];
  at[w] = d(w) * strides[1];
  AffineMap map = AffineMap::get(4, 0, at, ctx);
  for (int64_t i = 0; i < kernel[0]; ++i)
    for (int64_t j = 0; j < kernel[1]; ++j) {
      SmallVector<int64_t> offsets(4, 0);
      offsets[h] = i * dilations[0];
      offsets[w] = j * dilations[1];
      operands.push_back(b.create<tensor::ExtractSliceOp>(
          loc, type.clone(sizes), padded, ValueRange{}, ValueRange{},
          ValueRange{}, offsets, sizes, SmallVector<int64_t>(4, 1)));
      maps.push_back(map);
    }
}

DepthwiseLowering mlir::anvil::depthwiseLoweringOf(Conv2DOp op,
                                                   bool stride1Nchw,
                                                   bool stridedNchw,
                                                   std::string *why) {
  auto type = cast<RankedTensorType>(op.getType());
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto wType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t c = inType.getDimSize(1);
  if (static_cast<int64_t>(op.getGroups()) != c || type.getDimSize(1) != c ||
      wType.getDimSize(1) != 1 || !isa<FloatType>(type.getElementType()) ||
      wType.getDimSize(2) * wType.getDimSize(3) > kMaxWindowTaps)
    return DepthwiseLowering::None;
  // NCHW loops along the output rows, which LLVM vectorizes when they are
  // long; NHWC along the channels, at the price of transposing the padded
  // input and the result. Measured (one core, 3x3 unless noted): NHWC was
  // 2.1x faster with 14-wide rows (672 channels, 5x5), 2x slower with
  // 56- and 112-wide ones, 10% slower with 7-wide ones (960 channels),
  // whose rows LLVM unrolls and whose copies cost more than they gain.
  // Since anvil-vectorize-windows' masked tails, a stride-1 row 8 to 15
  // wide is one masked 16-lane vector per tap in NCHW, and the transposes
  // (36% and 15% of such a layer's time) cost more than NHWC gains:
  // EfficientNet-B0 lost 18% of its time to them (session 15).
  int64_t ow = type.getDimSize(3);
  bool stride1 = op.getStrides()[1] == 1;
  auto say = [&](const llvm::Twine &text) {
    if (why)
      *why = text.str();
  };
  if (ow < 8 || ow >= 16) {
    say(llvm::Twine("NCHW: rows ") + llvm::Twine(ow) +
        " wide, vectorized along them");
    return DepthwiseLowering::Elementwise;
  }
  if (stride1 && stride1Nchw) {
    say(llvm::Twine("NCHW: stride-1 rows ") + llvm::Twine(ow) +
        " wide, one masked vector per tap, no transposes");
    return DepthwiseLowering::Elementwise;
  }
  // Strided, anvil-vectorize-windows reads each tap's row as one masked
  // vector of stride * 16 and deinterleaves it: EfficientNet-B0's 3x3
  // stride-2 convolution of 240 channels to 14x14 took 0.93 ms so, 2.21 ms
  // channels-last (Zen 3, one core, batch 8; the transposes in and out
  // cost more than the NHWC loop saves).
  if (!stride1 && stridedNchw) {
    say(llvm::Twine("NCHW: stride-") + llvm::Twine(op.getStrides()[1]) +
        " rows " + llvm::Twine(ow) +
        " wide, one masked vector per tap, deinterleaved, no transposes");
    return DepthwiseLowering::Elementwise;
  }
  say(llvm::Twine("channels-last (NHWC, transposed to NCHW after): rows ") +
      llvm::Twine(ow) + " wide" +
      (stride1 ? ", depthwise-stride1-nchw off"
               : ", strided, depthwise-strided-nchw off"));
  return DepthwiseLowering::ChannelsLast;
}

namespace {

struct DepthwiseConv2DLowering : OpConversionPattern<Conv2DOp> {
  DepthwiseConv2DLowering(MLIRContext *context, bool stride1Nchw,
                          bool stridedNchw)
      : OpConversionPattern(context, /*benefit=*/2), stride1Nchw(stride1Nchw),
        stridedNchw(stridedNchw) {}
  bool stride1Nchw, stridedNchw;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    DepthwiseLowering how = depthwiseLoweringOf(op, stride1Nchw, stridedNchw);
    if (how == DepthwiseLowering::None)
      return rewriter.notifyMatchFailure(
          op, "not a float depthwise convolution (groups == input channels "
              "== output channels) with at most kMaxWindowTaps taps");
    int64_t c = inType.getDimSize(1);
    int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);

    Location loc = op.getLoc();
    Type elt = type.getElementType();
    MLIRContext *ctx = getContext();
    int64_t n = type.getDimSize(0), oh = type.getDimSize(2),
            ow = type.getDimSize(3), taps = kh * kw;
    bool channelsLast = how == DepthwiseLowering::ChannelsLast;
    // A transpose as a copying generic, not a linalg.transpose: constant
    // folding folds it away for the filter, and anvil-fold-pad-into-producer
    // has it write straight into the interior of the padded NHWC buffer the
    // taps read (a pad of a linalg.transpose was a copy of the transposed
    // tensor into the padded one, and a fill of the whole border).
    auto permuted = [&](Value v, ArrayRef<int64_t> perm) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape;
      SmallVector<AffineExpr> read(perm.size());
      for (auto [i, p] : llvm::enumerate(perm)) {
        shape.push_back(t.getDimSize(p));
        read[p] = getAffineDimExpr(i, ctx);
      }
      auto resultType = t.clone(shape);
      SmallVector<AffineMap> maps = {
          AffineMap::get(perm.size(), 0, read, ctx),
          rewriter.getMultiDimIdentityMap(perm.size())};
      return rewriter
          .create<linalg::GenericOp>(
              loc, resultType, v, emptyTensor(rewriter, loc, resultType), maps,
              SmallVector<utils::IteratorType>(perm.size(),
                                               utils::IteratorType::parallel),
              [](OpBuilder &b, Location l, ValueRange args) {
                b.create<linalg::YieldOp>(l, args[0]);
              })
          .getResult(0);
    };
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<Value> operands;
    SmallVector<AffineMap> maps;
    RankedTensorType resultType = type;
    AffineExpr channel = d(1);
    if (!channelsLast) {
      // Loops (n, c, y, x): the taps, then the filter once per tap, read at
      // w[c, 0, i, j], then the bias at c.
      Value padded =
          padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), 0.0);
      addWindowTaps(rewriter, loc, padded, {kh, kw}, op.getStrides(),
                    op.getDilations(), oh, ow, operands, maps);
      operands.append(taps, adaptor.getWeight());
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j)
          maps.push_back(AffineMap::get(4, 0,
                                        {d(1), getAffineConstantExpr(0, ctx),
                                         getAffineConstantExpr(i, ctx),
                                         getAffineConstantExpr(j, ctx)},
                                        ctx));
    } else {
      // Loops (n, y, x, c) over an NHWC copy of the input, padded, and of
      // the result, the filter as [kh*kw, C]: every operand is contiguous
      // along the channels, whatever the stride and however narrow the rows.
      // (The input is transposed before it is padded: see `permuted`.)
      Value nhwc = permuted(adaptor.getInput(), {0, 2, 3, 1});
      auto nhwcType = cast<RankedTensorType>(nhwc.getType());
      ArrayRef<int64_t> pads = op.getPads();
      SmallVector<int64_t> paddedShape(nhwcType.getShape());
      paddedShape[1] += pads[0] + pads[2];
      paddedShape[2] += pads[1] + pads[3];
      Value padded = nhwc;
      if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
        padded = rewriter.create<tensor::PadOp>(
            loc, nhwcType.clone(paddedShape), nhwc,
            ArrayRef<OpFoldResult>{
                rewriter.getIndexAttr(0), rewriter.getIndexAttr(pads[0]),
                rewriter.getIndexAttr(pads[1]), rewriter.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{
                rewriter.getIndexAttr(0), rewriter.getIndexAttr(pads[2]),
                rewriter.getIndexAttr(pads[3]), rewriter.getIndexAttr(0)},
            scalarConstant(rewriter, loc, elt, 0.0));
      addWindowTaps(rewriter, loc, padded, {kh, kw}, op.getStrides(),
                    op.getDilations(), oh, ow, operands, maps,
                    /*channelsLast=*/true);
      Value rows = reshapeTo(rewriter, loc, adaptor.getWeight(),
                             RankedTensorType::get({c, taps}, elt));
      operands.append(taps, permuted(rows, {1, 0}));
      for (int64_t t = 0; t < taps; ++t)
        maps.push_back(
            AffineMap::get(4, 0, {getAffineConstantExpr(t, ctx), d(3)}, ctx));
      resultType = type.clone({n, oh, ow, c});
      channel = d(3);
    }
    Value bias = adaptor.getBias();
    if (bias) {
      operands.push_back(bias);
      maps.push_back(AffineMap::get(4, 0, channel));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(4));
    SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
    Value result =
        rewriter
            .create<linalg::GenericOp>(
                loc, resultType, operands,
                emptyTensor(rewriter, loc, resultType), maps, parallel,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value acc =
                      bias ? args[2 * taps] : scalarConstant(b, l, elt, 0.0);
                  for (int64_t t = 0; t < taps; ++t)
                    acc =
                        b.create<math::FmaOp>(l, args[t], args[taps + t], acc);
                  b.create<linalg::YieldOp>(l, acc);
                })
            .getResult(0);
    // (The result's transpose back stays a linalg.transpose, which
    // elementwise fusion leaves alone: fused into its consumer, the
    // depthwise generic would loop in NCHW order, across the channels its
    // operands are contiguous along. anvil-fuse-elementwise instead moves
    // the activation after it above it, into the depthwise generic.)
    if (channelsLast) {
      SmallVector<int64_t> perm = {0, 3, 1, 2};
      result = rewriter
                   .create<linalg::TransposeOp>(
                       loc, result, emptyTensor(rewriter, loc, type), perm)
                   .getResult()[0];
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::anvil::populateDepthwiseConvToLinalgPatterns(
    RewritePatternSet &patterns, bool stride1Nchw, bool stridedNchw) {
  // Benefit 2: above the general conv2d lowering, which takes every other
  // conv2d.
  patterns.add<DepthwiseConv2DLowering>(patterns.getContext(), stride1Nchw,
                                        stridedNchw);
}
