//===- Quant.cpp - anvil quantize, dequantize and qmatmul -> linalg -------===//
//
// Each op becomes one parallel `linalg.generic` over its result that reads
// the scale and zero point of the element's channel (indexing map `(d) ->
// ()` or `(d) -> (0)` per tensor, `(d) -> (d_axis)` per channel). quantize: f32
// division (not a multiply by the reciprocal: ONNX divides, and a tie must fall
// where it puts it), `math.roundeven`, the zero point added, clamped to the
// type's range as `maxnumf` then `minnumf` would (a NaN becomes the
// minimum, as in the reference; as compares and selects, one vmaxps and one
// vminps on x86: clampLikeMaxnum) before the cast. dequantize: the integer
// difference in i32, then one f32 product. `ui8` is not an arith type: the body
// reinterprets its bits as `i8` with an unrealized cast, which disappears when
// both sides become LLVM's i8. qmatmul: one generic over (batch, m, n, k) that
// widens both operands to i32 before subtracting the zero points, so the
// products and sums are exact integers at any K. qconv2d: the same over
// (n, o, y, x, c, i, j), its input padded with its zero point. A ui8
// anvil.constant: an i8 constant of the same bits, reinterpreted by one
// generic.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// `value` (an integer scalar) with the signless type of its width: ui8
/// reinterpreted as i8.
Value signless(OpBuilder &b, Location loc, Value value) {
  auto type = cast<IntegerType>(value.getType());
  return reinterpretBits(b, loc, value, b.getIntegerType(type.getWidth()));
}

/// The integer `value` (i8, ui8 or i32) as i32.
Value toI32(OpBuilder &b, Location loc, Value value) {
  auto type = cast<IntegerType>(value.getType());
  Value bits = signless(b, loc, value);
  if (type.getWidth() == 32)
    return bits;
  if (type.isUnsigned())
    return b.create<arith::ExtUIOp>(loc, b.getI32Type(), bits);
  return b.create<arith::ExtSIOp>(loc, b.getI32Type(), bits);
}

/// The body of qmatmul's and qconv2d's generics, over (x, w, x's zero
/// point, w's zero point, the i32 sum): sum + (x - zx) * (w - zw), every
/// operand widened to i32 first.
void accumulateProduct(OpBuilder &b, Location l, ValueRange args) {
  Value x =
      b.create<arith::SubIOp>(l, toI32(b, l, args[0]), toI32(b, l, args[2]));
  Value w =
      b.create<arith::SubIOp>(l, toI32(b, l, args[1]), toI32(b, l, args[3]));
  Value product = b.create<arith::MulIOp>(l, x, w);
  b.create<linalg::YieldOp>(
      l, ValueRange{b.create<arith::AddIOp>(l, args[4], product)});
}

/// A generic over `resultType` reading `input` at the point and `scale` and
/// `zeroPoint` at the point's channel along `axis` (or their only element).
Value buildQuantGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                        Value input, Value scale, Value zeroPoint, int64_t axis,
                        ScalarFn body) {
  MLIRContext *context = b.getContext();
  int64_t rank = resultType.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  // Rank 0: no index; one element of rank 1: index 0; else the channel.
  auto scaleType = cast<RankedTensorType>(scale.getType());
  SmallVector<AffineExpr> channel;
  if (scaleType.getRank() == 1)
    channel.push_back(scaleType.getNumElements() == 1
                          ? b.getAffineConstantExpr(0)
                          : b.getAffineDimExpr(axis));
  AffineMap params = AffineMap::get(rank, 0, channel, context);
  SmallVector<AffineMap> maps = {identity, params, params, identity};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, ValueRange{input, scale, zeroPoint},
      emptyTensor(b, loc, resultType), maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        nb.create<linalg::YieldOp>(l, body(nb, l, args.drop_back()));
      });
  return generic.getResult(0);
}

/// The dialect's axis (possibly negative) of a rank-`rank` operand.
int64_t axisOf(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto element = cast<IntegerType>(type.getElementType());
    bool isUnsigned = element.isUnsigned();
    double lo = isUnsigned ? 0 : -128, hi = isUnsigned ? 255 : 127;
    Value y = buildQuantGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(), adaptor.getScale(),
        adaptor.getZeroPoint(), axisOf(op.getAxis(), type.getRank()),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Type f32 = b.getF32Type();
          Value q = b.create<arith::DivFOp>(loc, args[0], args[1]);
          Value r = b.create<math::RoundEvenOp>(loc, q);
          Value zp =
              b.create<arith::SIToFPOp>(loc, f32, toI32(b, loc, args[2]));
          Value v = b.create<arith::AddFOp>(loc, r, zp);
          v = clampLikeMaxnum(b, loc, v, lo, hi);
          // In range now: the i32 conversion is exact, the truncation keeps
          // the low byte, which is the 8-bit value of either signedness.
          Value i = b.create<arith::FPToSIOp>(loc, b.getI32Type(), v);
          Value bits = b.create<arith::TruncIOp>(loc, b.getI8Type(), i);
          return reinterpretBits(b, loc, bits, element);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DequantizeLowering : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Value y = buildQuantGeneric(
        rewriter, op.getLoc(), type, adaptor.getInput(), adaptor.getScale(),
        adaptor.getZeroPoint(), axisOf(op.getAxis(), type.getRank()),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value difference = b.create<arith::SubIOp>(
              loc, toI32(b, loc, args[0]), toI32(b, loc, args[2]));
          Value f = b.create<arith::SIToFPOp>(loc, b.getF32Type(), difference);
          return b.create<arith::MulFOp>(loc, f, args[1]);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// One generic over (batch..., m, n, k): the zero points subtracted in i32
/// (ui8 zero-extended, i8 sign-extended), the product and sum in i32, from
/// a zero-filled accumulator. This is the portable form, exact at any K;
/// anvil-int8-matmul gives the 2-D ones with constant weights a register-tiled
/// kernel (vpdpbusd with VNNI, else vpmaddwd or vpmaddubsw on AVX2).
struct QMatmulLowering : OpConversionPattern<QMatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(), batch = rank - 2;
    unsigned dims = rank + 1;
    auto d = [&](int64_t i) { return rewriter.getAffineDimExpr(i); };
    AffineExpr m = d(batch), n = d(batch + 1), k = d(batch + 2);
    SmallVector<AffineExpr> lhs, rhs, out;
    for (int64_t i = 0; i < batch; ++i) {
      lhs.push_back(d(i));
      out.push_back(d(i));
    }
    if (cast<RankedTensorType>(op.getRhs().getType()).getRank() != 2)
      rhs = lhs;
    lhs.append({m, k});
    rhs.append({k, n});
    out.append({m, n});
    // A zero point of rank 0 has no index; one element reads index 0; the
    // rhs's per-column one reads n.
    auto param = [&](Value v, AffineExpr perColumn) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> e;
      if (t.getRank() == 1)
        e.push_back(t.getNumElements() == 1 ? rewriter.getAffineConstantExpr(0)
                                            : perColumn);
      return AffineMap::get(dims, 0, e, context);
    };
    SmallVector<AffineMap> maps = {
        AffineMap::get(dims, 0, lhs, context),
        AffineMap::get(dims, 0, rhs, context), param(op.getLhsZeroPoint(), m),
        param(op.getRhsZeroPoint(), n), AffineMap::get(dims, 0, out, context)};
    SmallVector<utils::IteratorType> iterators(dims,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    Value init = filledTensor(rewriter, loc, type, 0);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type,
        ValueRange{adaptor.getLhs(), adaptor.getRhs(),
                   adaptor.getLhsZeroPoint(), adaptor.getRhsZeroPoint()},
        init, maps, iterators, accumulateProduct);
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// qconv2d: the input padded with its zero point (a quantized 0), then one
/// generic over (n, o, y, x, c, i, j) summing the widened differences, as
/// qmatmul's.
struct QConv2DLowering : OpConversionPattern<QConv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QConv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    auto zpType = cast<RankedTensorType>(op.getInputZeroPoint().getType());
    SmallVector<Value> origin(zpType.getRank(),
                              rewriter.create<arith::ConstantIndexOp>(loc, 0));
    Value zero = rewriter.create<tensor::ExtractOp>(
        loc, adaptor.getInputZeroPoint(), origin);
    Value padded =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), zero);
    auto d = [&](int64_t i) { return rewriter.getAffineDimExpr(i); };
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    // (n, o, y, x, c, i, j)
    AffineMap input =
        AffineMap::get(7, 0,
                       {d(0), d(4), d(2) * strides[0] + d(5) * dilations[0],
                        d(3) * strides[1] + d(6) * dilations[1]},
                       context);
    AffineMap weight = AffineMap::get(7, 0, {d(1), d(4), d(5), d(6)}, context);
    auto param = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> e;
      if (t.getRank() == 1)
        e.push_back(t.getNumElements() == 1 ? rewriter.getAffineConstantExpr(0)
                                            : d(1));
      return AffineMap::get(7, 0, e, context);
    };
    SmallVector<AffineMap> maps = {
        input, weight, param(op.getInputZeroPoint()),
        param(op.getWeightZeroPoint()),
        AffineMap::get(7, 0, {d(0), d(1), d(2), d(3)}, context)};
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    iterators.append(3, utils::IteratorType::reduction);
    Value init = filledTensor(rewriter, loc, type, 0);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type,
        ValueRange{padded, adaptor.getWeight(), adaptor.getInputZeroPoint(),
                   adaptor.getWeightZeroPoint()},
        init, maps, iterators, accumulateProduct);
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A ui8 constant (a uint8 initializer, a default zero point): arith has
/// no unsigned constants, so its bits are an i8 constant that one generic
/// reinterprets element by element (the cast disappears in LLVM's i8).
/// Before the generic constant lowering, which would build an invalid ui8
/// arith.constant.
struct Ui8ConstantLowering : OpConversionPattern<ConstantOp> {
  Ui8ConstantLowering(MLIRContext *context)
      : OpConversionPattern(context, /*benefit=*/2) {}
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto value = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!type.getElementType().isUnsignedInteger(8) || !value)
      return failure();
    Location loc = op.getLoc();
    Value bits = rewriter.create<arith::ConstantOp>(
        loc, value.bitcast(rewriter.getI8Type()));
    Value y = buildElementwise(
        rewriter, loc, type, ValueRange{bits},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return reinterpretBits(b, l, args[0], type.getElementType());
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void mlir::anvil::populateQuantToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeLowering, DequantizeLowering, QMatmulLowering,
               QConv2DLowering, Ui8ConstantLowering>(patterns.getContext());
}
