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
// most kMaxWindowTaps taps. The gradients keep the general path.
// `addWindowTaps` is shared with the pooling lowering (Pooling.cpp).
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
                                SmallVectorImpl<AffineMap> &maps) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto type = cast<RankedTensorType>(padded.getType());
  // Each tap is a view of exactly the cells its windows read, read through
  // (n, c, y*sh, x*sw). Maps carry no constant offsets: tiling (for
  // threads) would add the offset to the tile's slice and the map would
  // add it again. (Every operand a bare loop variable indexes must also
  // have that loop's extent: the views do.)
  SmallVector<int64_t> sizes = {type.getDimSize(0), type.getDimSize(1),
                                (outH - 1) * strides[0] + 1,
                                (outW - 1) * strides[1] + 1};
  AffineMap map = AffineMap::get(
      4, 0, {d(0), d(1), d(2) * strides[0], d(3) * strides[1]}, ctx);
  for (int64_t i = 0; i < kernel[0]; ++i)
    for (int64_t j = 0; j < kernel[1]; ++j) {
      SmallVector<int64_t> offsets = {0, 0, i * dilations[0], j * dilations[1]};
      operands.push_back(b.create<tensor::ExtractSliceOp>(
          loc, type.clone(sizes), padded, ValueRange{}, ValueRange{},
          ValueRange{}, offsets, sizes, SmallVector<int64_t>(4, 1)));
      maps.push_back(map);
    }
}

namespace {

struct DepthwiseConv2DLowering : OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    int64_t c = inType.getDimSize(1);
    if (static_cast<int64_t>(op.getGroups()) != c || type.getDimSize(1) != c ||
        wType.getDimSize(1) != 1)
      return rewriter.notifyMatchFailure(
          op, "not depthwise (groups == input channels == output channels)");
    if (!isa<FloatType>(type.getElementType()))
      return rewriter.notifyMatchFailure(op, "not a float convolution");
    int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
    if (kh * kw > kMaxWindowTaps)
      return rewriter.notifyMatchFailure(op, "window has too many taps");

    Location loc = op.getLoc();
    Type elt = type.getElementType();
    MLIRContext *ctx = getContext();
    Value padded =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), 0.0);
    // Loops (n, c, y, x): the padded input once per tap, read through the
    // tap's map, then the filter once per tap, read at w[c, 0, i, j], then
    // the bias at c.
    int64_t taps = kh * kw;
    SmallVector<Value> operands;
    SmallVector<AffineMap> maps;
    addWindowTaps(rewriter, loc, padded, {kh, kw}, op.getStrides(),
                  op.getDilations(), type.getDimSize(2), type.getDimSize(3),
                  operands, maps);
    operands.append(taps, adaptor.getWeight());
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        maps.push_back(AffineMap::get(4, 0,
                                      {d(1), getAffineConstantExpr(0, ctx),
                                       getAffineConstantExpr(i, ctx),
                                       getAffineConstantExpr(j, ctx)},
                                      ctx));
    Value bias = adaptor.getBias();
    if (bias) {
      operands.push_back(bias);
      maps.push_back(AffineMap::get(4, 0, d(1)));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(4));
    SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, operands, emptyTensor(rewriter, loc, type), maps, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value acc = bias ? args[2 * taps] : scalarConstant(b, l, elt, 0.0);
          for (int64_t t = 0; t < taps; ++t)
            acc = b.create<math::FmaOp>(l, args[t], args[taps + t], acc);
          b.create<linalg::YieldOp>(l, acc);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::anvil::populateDepthwiseConvToLinalgPatterns(
    RewritePatternSet &patterns) {
  // Above the general conv2d lowering, which takes every other conv2d.
  patterns.add<DepthwiseConv2DLowering>(patterns.getContext(), /*benefit=*/2);
}
