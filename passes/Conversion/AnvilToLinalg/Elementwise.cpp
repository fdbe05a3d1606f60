//===- Elementwise.cpp - anvil elementwise ops -> linalg.generic ----------===//
//
// Binary ops (with numpy broadcasting through indexing maps), unary ops and
// activations, casts, constants and dropout each become one parallel
// `linalg.generic` (constants an `arith.constant`) whose body is the scalar
// computation below. Float and integer element types pick their arith ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"
#include "dialects/ParamInit.h"
#include "runtime/Hash.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::anvil;

namespace {

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

/// The scalar computation of each elementwise op, one overload per op.
Value scalar(AddOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0]) ? b.create<arith::AddFOp>(loc, a[0], a[1]).getResult()
                       : b.create<arith::AddIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(SubOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0]) ? b.create<arith::SubFOp>(loc, a[0], a[1]).getResult()
                       : b.create<arith::SubIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(MulOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0]) ? b.create<arith::MulFOp>(loc, a[0], a[1]).getResult()
                       : b.create<arith::MulIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(DivOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0]) ? b.create<arith::DivFOp>(loc, a[0], a[1]).getResult()
                       : b.create<arith::DivSIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(CompareOp op, OpBuilder &b, Location loc, ValueRange a) {
  ComparePredicate p = op.getPredicate();
  if (isFloat(a[0])) {
    // Ordered, so that NaN compares false, except `ne` (unordered).
    auto predicate = p == ComparePredicate::eq   ? arith::CmpFPredicate::OEQ
                     : p == ComparePredicate::ne ? arith::CmpFPredicate::UNE
                     : p == ComparePredicate::lt ? arith::CmpFPredicate::OLT
                     : p == ComparePredicate::le ? arith::CmpFPredicate::OLE
                     : p == ComparePredicate::gt ? arith::CmpFPredicate::OGT
                                                 : arith::CmpFPredicate::OGE;
    return b.create<arith::CmpFOp>(loc, predicate, a[0], a[1]);
  }
  auto predicate = p == ComparePredicate::eq   ? arith::CmpIPredicate::eq
                   : p == ComparePredicate::ne ? arith::CmpIPredicate::ne
                   : p == ComparePredicate::lt ? arith::CmpIPredicate::slt
                   : p == ComparePredicate::le ? arith::CmpIPredicate::sle
                   : p == ComparePredicate::gt ? arith::CmpIPredicate::sgt
                                               : arith::CmpIPredicate::sge;
  return b.create<arith::CmpIOp>(loc, predicate, a[0], a[1]);
}
Value scalar(SelectOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<arith::SelectOp>(loc, a[0], a[1], a[2]);
}
Value scalar(PowOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::PowFOp>(loc, a[0], a[1]);
}
Value scalar(MaxOp, OpBuilder &b, Location loc, ValueRange a) {
  // maximumf propagates NaN, as the reference does.
  return isFloat(a[0])
             ? b.create<arith::MaximumFOp>(loc, a[0], a[1]).getResult()
             : b.create<arith::MaxSIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(MinOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0])
             ? b.create<arith::MinimumFOp>(loc, a[0], a[1]).getResult()
             : b.create<arith::MinSIOp>(loc, a[0], a[1]).getResult();
}
Value scalar(NegOp, OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return b.create<arith::NegFOp>(loc, a[0]);
  return b.create<arith::SubIOp>(loc, scalarConstant(b, loc, a[0].getType(), 0),
                                 a[0]);
}
Value scalar(AbsOp, OpBuilder &b, Location loc, ValueRange a) {
  return isFloat(a[0]) ? b.create<math::AbsFOp>(loc, a[0]).getResult()
                       : b.create<math::AbsIOp>(loc, a[0]).getResult();
}
Value scalar(ExpOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::ExpOp>(loc, a[0]);
}
Value scalar(LogOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::LogOp>(loc, a[0]);
}
Value scalar(SqrtOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::SqrtOp>(loc, a[0]);
}
Value scalar(RsqrtOp, OpBuilder &b, Location loc, ValueRange a) {
  // 1 / sqrt: MLIR 19 has no LLVM lowering for scalar math.rsqrt.
  return b.create<arith::DivFOp>(loc, scalarConstant(b, loc, a[0].getType(), 1),
                                 b.create<math::SqrtOp>(loc, a[0]));
}
Value scalar(ReluOp, OpBuilder &b, Location loc, ValueRange a) {
  // (-0 stays -0, equal to the reference's +0.)
  return clampTo(b, loc, a[0], scalarConstant(b, loc, a[0].getType(), 0.0),
                 /*lower=*/true);
}
Value scalar(SigmoidOp, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, a[0]));
  Value one = scalarConstant(b, loc, t, 1.0);
  return b.create<arith::DivFOp>(loc, one,
                                 b.create<arith::AddFOp>(loc, one, e));
}
Value scalar(TanhOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::TanhOp>(loc, a[0]);
}
Value scalar(ErfOp, OpBuilder &b, Location loc, ValueRange a) {
  return b.create<math::ErfOp>(loc, a[0]);
}

Value scalar(GeluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  Value x = a[0];
  auto c = [&](double v) { return scalarConstant(b, loc, t, v); };
  auto mul = [&](Value l, Value r) {
    return b.create<arith::MulFOp>(loc, l, r).getResult();
  };
  auto add = [&](Value l, Value r) {
    return b.create<arith::AddFOp>(loc, l, r).getResult();
  };
  Value inner;
  if (op.getTanhApprox()) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value cube = mul(mul(x, x), x);
    Value arg = mul(c(std::sqrt(2.0 / M_PI)), add(x, mul(c(0.044715), cube)));
    inner = b.create<math::TanhOp>(loc, arg);
  } else {
    // 0.5 x (1 + erf(x / sqrt 2))
    inner = b.create<math::ErfOp>(loc, mul(x, c(M_SQRT1_2)));
  }
  return mul(mul(c(0.5), x), add(c(1.0), inner));
}

Value scalar(LeakyReluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  Value scaled = b.create<arith::MulFOp>(
      loc, a[0], scalarConstant(b, loc, t, op.getAlpha().convertToDouble()));
  Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UGE, a[0],
                                           scalarConstant(b, loc, t, 0.0));
  return b.create<arith::SelectOp>(loc, positive, a[0], scaled);
}

Value scalar(ClipOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value v = a[0];
  Type t = v.getType();
  // A NaN input stays NaN, as in the reference (maxnumf/minnumf, used
  // before, returned the bound for it).
  if (auto lo = op.getMin())
    v = clampTo(b, loc, v, scalarConstant(b, loc, t, lo->convertToDouble()),
                /*lower=*/true);
  if (auto hi = op.getMax())
    v = clampTo(b, loc, v, scalarConstant(b, loc, t, hi->convertToDouble()),
                /*lower=*/false);
  return v;
}

Value scalar(CastOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value v = a[0];
  Type from = v.getType(), to = op.getTo();
  if (from == to)
    return v;
  if (to.isInteger(1)) {
    // Anything to bool is `x != 0`.
    if (isa<FloatType>(from))
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v,
                                     scalarConstant(b, loc, from, 0.0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v,
                                   scalarConstant(b, loc, from, 0));
  }
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
  if (fromFloat && toFloat)
    return to.getIntOrFloatBitWidth() > from.getIntOrFloatBitWidth()
               ? b.create<arith::ExtFOp>(loc, to, v).getResult()
               : b.create<arith::TruncFOp>(loc, to, v).getResult();
  if (fromFloat)
    return b.create<arith::FPToSIOp>(loc, to, v);
  // Booleans are unsigned (true is 1), other integers signed.
  if (toFloat)
    return from.isInteger(1)
               ? b.create<arith::UIToFPOp>(loc, to, v).getResult()
               : b.create<arith::SIToFPOp>(loc, to, v).getResult();
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (tw < fw)
    return b.create<arith::TruncIOp>(loc, to, v);
  return from.isInteger(1) ? b.create<arith::ExtUIOp>(loc, to, v).getResult()
                           : b.create<arith::ExtSIOp>(loc, to, v).getResult();
}

Value scalar(ReluGradOp, OpBuilder &b, Location loc, ValueRange a) {
  Value positive =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, a[0],
                              scalarConstant(b, loc, a[0].getType(), 0.0));
  return b.create<arith::SelectOp>(loc, positive, a[1],
                                   scalarConstant(b, loc, a[1].getType(), 0.0));
}

/// Lowers any elementwise op with a `scalar` overload above to one generic.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(
        op, buildElementwise(rewriter, op.getLoc(), type, adaptor.getOperands(),
                             [&](OpBuilder &b, Location loc, ValueRange args) {
                               return scalar(op, b, loc, args);
                             }));
    return success();
  }
};

/// one_hot: a generic over [..., classes] comparing the label with the
/// class index.
struct OneHotLowering : OpConversionPattern<OneHotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OneHotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    MLIRContext *ctx = getContext();
    SmallVector<AffineExpr> labelDims;
    for (int64_t d = 0; d + 1 < rank; ++d)
      labelDims.push_back(getAffineDimExpr(d, ctx));
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, labelDims, ctx),
                                   rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, adaptor.getInput(), emptyTensor(rewriter, loc, type), maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value cls = b.create<arith::IndexCastOp>(
              l, args[0].getType(), b.create<linalg::IndexOp>(l, rank - 1));
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                              args[0], cls);
          Type t = type.getElementType();
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, hit, scalarConstant(b, l, t, 1),
                                           scalarConstant(b, l, t, 0))
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

/// Dropout: the identity when not training; when training, the mask of
/// dropoutUniform (a splitmix64 step from seed ^ index * constant),
/// computed per element from its linear index.
struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType(0));
    auto maskType = cast<RankedTensorType>(op.getMask().getType());
    double ratio = op.getRatio().convertToDouble();
    if (!op.getTraining() || ratio == 0.0) {
      Value ones = filledTensor(rewriter, loc, maskType, 1);
      rewriter.replaceOp(op, {adaptor.getInput(), ones});
      return success();
    }
    SmallVector<AffineMap> maps(
        3, rewriter.getMultiDimIdentityMap(type.getRank()));
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    uint64_t seed = op.getSeed();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type, maskType}, adaptor.getInput(),
        ValueRange{emptyTensor(rewriter, loc, type),
                   emptyTensor(rewriter, loc, maskType)},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Type i64 = b.getI64Type();
          auto c = [&](uint64_t v) {
            return b.create<arith::ConstantOp>(
                l, b.getIntegerAttr(i64, static_cast<int64_t>(v)));
          };
          // Linear index of this element.
          Value index = c(0);
          for (int64_t d = 0; d < type.getRank(); ++d) {
            Value i = b.create<arith::IndexCastOp>(
                l, i64, b.create<linalg::IndexOp>(l, d));
            index = b.create<arith::AddIOp>(
                l, b.create<arith::MulIOp>(l, index, c(type.getDimSize(d))), i);
          }
          Value z = b.create<arith::XOrIOp>(
              l, c(seed),
              b.create<arith::MulIOp>(l, index, c(kDropoutIndexMultiplier)));
          z = b.create<arith::AddIOp>(l, z, c(::anvil::kSplitMixGamma));
          // ::anvil::splitMixOutput, op by op.
          for (int i = 0; i < 3; ++i) {
            z = b.create<arith::XOrIOp>(
                l, z,
                b.create<arith::ShRUIOp>(l, z, c(::anvil::kSplitMixShifts[i])));
            if (uint64_t mul = ::anvil::kSplitMixMultipliers[i])
              z = b.create<arith::MulIOp>(l, z, c(mul));
          }
          Value u = b.create<arith::MulFOp>(
              l,
              b.create<arith::UIToFPOp>(l, b.getF64Type(),
                                        b.create<arith::ShRUIOp>(l, z, c(11))),
              b.create<arith::ConstantOp>(l, b.getF64FloatAttr(0x1.0p-53)));
          Value keep = b.create<arith::CmpFOp>(
              l, arith::CmpFPredicate::OGE, u,
              b.create<arith::ConstantOp>(l, b.getF64FloatAttr(ratio)));
          Type t = args[0].getType();
          Value scaled = b.create<arith::MulFOp>(
              l, args[0], scalarConstant(b, l, t, 1.0 / (1.0 - ratio)));
          Value out = b.create<arith::SelectOp>(l, keep, scaled,
                                                scalarConstant(b, l, t, 0.0));
          b.create<linalg::YieldOp>(l, ValueRange{out, keep});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::anvil::populateElementwiseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>,
               ElementwiseLowering<CompareOp>, ElementwiseLowering<SelectOp>,
               ElementwiseLowering<MulOp>, ElementwiseLowering<DivOp>,
               ElementwiseLowering<PowOp>, ElementwiseLowering<MaxOp>,
               ElementwiseLowering<MinOp>, ElementwiseLowering<NegOp>,
               ElementwiseLowering<AbsOp>, ElementwiseLowering<ExpOp>,
               ElementwiseLowering<LogOp>, ElementwiseLowering<SqrtOp>,
               ElementwiseLowering<RsqrtOp>, ElementwiseLowering<ReluOp>,
               ElementwiseLowering<SigmoidOp>, ElementwiseLowering<TanhOp>,
               ElementwiseLowering<ErfOp>, ElementwiseLowering<GeluOp>,
               ElementwiseLowering<LeakyReluOp>, ElementwiseLowering<ClipOp>,
               ElementwiseLowering<CastOp>, ElementwiseLowering<ReluGradOp>,
               OneHotLowering, ConstantLowering, DropoutLowering>(
      patterns.getContext());
}
