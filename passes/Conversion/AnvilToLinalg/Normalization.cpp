//===- Normalization.cpp - anvil normalizations -> linalg -----------------===//
//
// batch_norm (inference) is one elementwise generic over the input and the
// per-channel vectors (reshaped to [C, 1, ...] so they broadcast along
// axis 1). batch_norm_train and layer_norm first reduce the mean and the
// biased variance, then apply the same formula.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// (x - mean) * rsqrt(var + eps) * scale + bias, all broadcast to `type`.
Value normalize(OpBuilder &b, Location loc, RankedTensorType type, Value x,
                Value mean, Value var, Value scale, Value bias,
                double epsilon) {
  return buildElementwise(
      b, loc, type, ValueRange{x, mean, var, scale, bias},
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value eps = scalarConstant(nb, l, a[0].getType(), epsilon);
        Value inv = nb.create<arith::DivFOp>(
            l, scalarConstant(nb, l, a[0].getType(), 1.0),
            nb.create<math::SqrtOp>(l, nb.create<arith::AddFOp>(l, a[2], eps)));
        Value centered = nb.create<arith::SubFOp>(l, a[0], a[1]);
        Value scaled = nb.create<arith::MulFOp>(
            l, nb.create<arith::MulFOp>(l, centered, inv), a[3]);
        return nb.create<arith::AddFOp>(l, scaled, a[4]);
      });
}

/// `vector` ([C]) reshaped to [C, 1, ...] so that it broadcasts along axis 1
/// of a rank-`rank` tensor.
Value perChannel(OpBuilder &b, Location loc, Value vector, int64_t rank) {
  auto type = cast<RankedTensorType>(vector.getType());
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = type.getDimSize(0);
  return reshapeTo(b, loc, vector, type.clone(shape));
}

/// `x` with its elements converted (extended or truncated) to `elt`.
Value convert(OpBuilder &b, Location loc, Value x, Type elt) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getElementType() == elt)
    return x;
  bool wider = elt.getIntOrFloatBitWidth() >
               type.getElementType().getIntOrFloatBitWidth();
  return buildElementwise(
      b, loc, type.clone(elt), x, [&](OpBuilder &nb, Location l, ValueRange a) {
        return wider ? nb.create<arith::ExtFOp>(l, elt, a[0]).getResult()
                     : nb.create<arith::TruncFOp>(l, elt, a[0]).getResult();
      });
}

/// Mean and biased variance of `x` over `axes`, with keepdims; for f32,
/// summed in f64 and rounded once (a batch norm sums batch x height x
/// width values, whose in-order f32 sum loses up to that many ulps).
std::pair<Value, Value> moments(OpBuilder &b, Location loc, Value x,
                                ArrayRef<int64_t> axes) {
  Type elt = cast<RankedTensorType>(x.getType()).getElementType();
  Value wide = convert(b, loc, x, elt.isF32() ? b.getF64Type() : elt);
  auto type = cast<RankedTensorType>(wide.getType());
  Value mean = buildSum(b, loc, wide, axes, /*mean=*/true, /*keepdims=*/true);
  Value sq = buildElementwise(b, loc, type, ValueRange{wide, mean},
                              [](OpBuilder &nb, Location l, ValueRange a) {
                                Value d =
                                    nb.create<arith::SubFOp>(l, a[0], a[1]);
                                return nb.create<arith::MulFOp>(l, d, d);
                              });
  Value var = buildSum(b, loc, sq, axes, /*mean=*/true, /*keepdims=*/true);
  return {convert(b, loc, mean, elt), convert(b, loc, var, elt)};
}

struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto c = [&](Value v) { return perChannel(rewriter, loc, v, rank); };
    rewriter.replaceOp(op,
                       normalize(rewriter, loc, type, adaptor.getInput(),
                                 c(adaptor.getMean()), c(adaptor.getVar()),
                                 c(adaptor.getScale()), c(adaptor.getBias()),
                                 op.getEpsilon().convertToDouble()));
    return success();
  }
};

struct BatchNormTrainLowering : OpConversionPattern<BatchNormTrainOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormTrainOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType(0));
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes = {0};
    for (int64_t d = 2; d < rank; ++d)
      axes.push_back(d);
    auto [mean, var] = moments(rewriter, loc, adaptor.getInput(), axes);
    auto c = [&](Value v) { return perChannel(rewriter, loc, v, rank); };
    Value y = normalize(rewriter, loc, type, adaptor.getInput(), mean, var,
                        c(adaptor.getScale()), c(adaptor.getBias()),
                        op.getEpsilon().convertToDouble());
    auto channels = cast<RankedTensorType>(op.getBatchMean().getType());
    rewriter.replaceOp(op, {y, reshapeTo(rewriter, loc, mean, channels),
                            reshapeTo(rewriter, loc, var, channels)});
    return success();
  }
};

struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> axes;
    for (int64_t d = normalizeAxis(op.getAxis(), type.getRank());
         d < type.getRank(); ++d)
      axes.push_back(d);
    auto [mean, var] = moments(rewriter, loc, adaptor.getInput(), axes);
    rewriter.replaceOp(op,
                       normalize(rewriter, loc, type, adaptor.getInput(), mean,
                                 var, adaptor.getScale(), adaptor.getBias(),
                                 op.getEpsilon().convertToDouble()));
    return success();
  }
};

} // namespace

void mlir::anvil::populateNormalizationToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, BatchNormTrainLowering, LayerNormLowering>(
      patterns.getContext());
}
