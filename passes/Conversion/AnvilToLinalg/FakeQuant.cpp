//===- FakeQuant.cpp - anvil fake_quantize ops -> linalg ------------------===//
//
// anvil.fake_quantize and its gradient: the scale and zero point computed
// once from the range (scalar arith before the loop, in f64 then f32 as
// dialects/QuantParams.h computes them), then one parallel generic over the
// input. anvil.fake_quantize_weights: a max |w| reduction (per tensor or
// per channel), the scales from it in a small generic, then one generic over
// the weights reading their channel's scale by broadcasting. The same
// operations, in the same order and precision, as the reference kernels.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The f32 scale and zero point (an integer in f32) of `range` ([lo, hi],
/// tensor<2xf32>): mlir::anvil::activationParams, built at `b`.
std::pair<Value, Value> rangeParams(OpBuilder &b, Location loc, Value range) {
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  auto at = [&](int64_t i) -> Value {
    Value index = b.create<arith::ConstantIndexOp>(loc, i);
    Value v = b.create<tensor::ExtractOp>(loc, range, ValueRange{index});
    return b.create<arith::ExtFOp>(loc, f64, v);
  };
  Value lo =
      b.create<arith::MinNumFOp>(loc, at(0), scalarConstant(b, loc, f64, 0.0));
  Value hi =
      b.create<arith::MaxNumFOp>(loc, at(1), scalarConstant(b, loc, f64, 0.0));
  Value wide =
      b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, hi, lo),
                              scalarConstant(b, loc, f64, 255.0));
  Value scale = b.create<arith::TruncFOp>(loc, f32, wide);
  // 1 unless positive and finite.
  Value positive = b.create<arith::CmpFOp>(
      loc, arith::CmpFPredicate::OGT, scale, scalarConstant(b, loc, f32, 0));
  Value finite = b.create<arith::CmpFOp>(
      loc, arith::CmpFPredicate::OLT, scale,
      scalarConstant(b, loc, f32, std::numeric_limits<double>::infinity()));
  scale = b.create<arith::SelectOp>(
      loc, b.create<arith::AndIOp>(loc, positive, finite), scale,
      scalarConstant(b, loc, f32, 1.0));
  Value minusLo =
      b.create<arith::TruncFOp>(loc, f32, b.create<arith::NegFOp>(loc, lo));
  Value zero = b.create<math::RoundEvenOp>(
      loc, b.create<arith::DivFOp>(loc, minusLo, scale));
  zero = b.create<arith::MinNumFOp>(
      loc,
      b.create<arith::MaxNumFOp>(loc, zero, scalarConstant(b, loc, f32, 0.0)),
      scalarConstant(b, loc, f32, 255.0));
  return {scale, zero};
}

/// roundeven(x / scale) + zero, in f32.
Value quantized(OpBuilder &b, Location loc, Value x, Value scale, Value zero) {
  Value q =
      b.create<math::RoundEvenOp>(loc, b.create<arith::DivFOp>(loc, x, scale));
  return b.create<arith::AddFOp>(loc, q, zero);
}

struct FakeQuantizeLowering : OpConversionPattern<FakeQuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FakeQuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto [scale, zero] = rangeParams(rewriter, loc, adaptor.getRange());
    Value y = buildElementwise(
        rewriter, loc, cast<RankedTensorType>(op.getType()),
        ValueRange{adaptor.getInput()},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type f32 = b.getF32Type();
          Value v = quantized(b, l, args[0], scale, zero);
          // maxnumf first: a NaN becomes 0, as in the reference.
          v = b.create<arith::MaxNumFOp>(l, v, scalarConstant(b, l, f32, 0));
          v = b.create<arith::MinNumFOp>(l, v, scalarConstant(b, l, f32, 255));
          return b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, v, zero),
                                         scale);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct FakeQuantizeGradLowering : OpConversionPattern<FakeQuantizeGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FakeQuantizeGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto [scale, zero] = rangeParams(rewriter, loc, adaptor.getRange());
    Value y = buildElementwise(
        rewriter, loc, cast<RankedTensorType>(op.getType()),
        ValueRange{adaptor.getInput(), adaptor.getGrad()},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type f32 = b.getF32Type();
          Value v = quantized(b, l, args[0], scale, zero);
          Value low = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, v,
                                              scalarConstant(b, l, f32, 0));
          Value high = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLE, v,
                                               scalarConstant(b, l, f32, 255));
          return b.create<arith::SelectOp>(
              l, b.create<arith::AndIOp>(l, low, high), args[1],
              scalarConstant(b, l, f32, 0));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct FakeQuantizeWeightsLowering
    : OpConversionPattern<FakeQuantizeWeightsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FakeQuantizeWeightsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    std::optional<int64_t> axis;
    if (IntegerAttr a = op.getAxisAttr())
      axis = a.getInt() < 0 ? a.getInt() + rank : a.getInt();
    Value magnitude = buildElementwise(
        rewriter, loc, type, ValueRange{adaptor.getInput()},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<math::AbsFOp>(l, args[0]);
        });
    SmallVector<int64_t> axes;
    for (int64_t d = 0; d < rank; ++d)
      if (!axis || d != *axis)
        axes.push_back(d);
    Value amax =
        buildReduction(rewriter, loc, magnitude, axes, ReduceCombiner::Max);
    // The scales: weightScale(amax), f64 division, 1 for zeros.
    Value scales = buildElementwise(
        rewriter, loc, cast<RankedTensorType>(amax.getType()), ValueRange{amax},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type f32 = b.getF32Type(), f64 = b.getF64Type();
          Value wide = b.create<arith::DivFOp>(
              l, b.create<arith::ExtFOp>(l, f64, args[0]),
              scalarConstant(b, l, f64, 127.0));
          Value positive =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, args[0],
                                      scalarConstant(b, l, f32, 0));
          return b.create<arith::SelectOp>(
              l, positive, b.create<arith::TruncFOp>(l, f32, wide),
              scalarConstant(b, l, f32, 1.0));
        });
    // Per channel: [C] as [1, .., C, .., 1], which broadcasts.
    if (axis) {
      SmallVector<int64_t> shape(rank, 1);
      shape[*axis] = type.getDimSize(*axis);
      scales = reshapeTo(rewriter, loc, scales,
                         RankedTensorType::get(shape, type.getElementType()));
    }
    Value y = buildElementwise(
        rewriter, loc, type, ValueRange{adaptor.getInput(), scales},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type f32 = b.getF32Type();
          Value q = b.create<math::RoundEvenOp>(
              l, b.create<arith::DivFOp>(l, args[0], args[1]));
          q = b.create<arith::MaxNumFOp>(l, q, scalarConstant(b, l, f32, -127));
          q = b.create<arith::MinNumFOp>(l, q, scalarConstant(b, l, f32, 127));
          return b.create<arith::MulFOp>(l, q, args[1]);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void mlir::anvil::populateFakeQuantToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FakeQuantizeLowering, FakeQuantizeGradLowering,
               FakeQuantizeWeightsLowering>(patterns.getContext());
}
