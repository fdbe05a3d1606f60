//===- Reduction.cpp - anvil reductions and softmax -> linalg -------------===//
//
// Reductions are one `linalg.generic` with reduction iterators into a filled
// accumulator (a division follows for means, a reshape for keepdims).
// softmax and log_softmax are max-reduce, exp(x - max), sum-reduce and a
// final elementwise step, each a generic; over a short static innermost
// axis (attention's scores) they are instead one loop over the rows, each
// row read once into vector registers, reduced, exponentiated, normalized
// and written once (vector ops on tensors, left for bufferization). argmax
// is one generic with two accumulators, the maximum so far and its
// position.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::anvil;

Value mlir::anvil::buildSum(OpBuilder &b, Location loc, Value input,
                            ArrayRef<int64_t> axes, bool mean, bool keepdims) {
  auto type = cast<RankedTensorType>(input.getType());
  Value sum = buildReduction(b, loc, input, axes, ReduceCombiner::Sum);
  if (mean) {
    double count = 1;
    for (int64_t a : axes)
      count *= type.getDimSize(a);
    sum = buildElementwise(
        b, loc, cast<RankedTensorType>(sum.getType()), sum,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          return nb.create<arith::DivFOp>(
              l, args[0], scalarConstant(nb, l, args[0].getType(), count));
        });
  }
  return keepdims ? reshapeTo(b, loc, sum, keepDims(type, axes)) : sum;
}

Value mlir::anvil::buildSoftmax(OpBuilder &b, Location loc, Value input,
                                int64_t axis, bool log) {
  auto type = cast<RankedTensorType>(input.getType());
  RankedTensorType kept = keepDims(type, {axis});
  Value max = reshapeTo(
      b, loc, buildReduction(b, loc, input, {axis}, ReduceCombiner::Max), kept);
  Value shifted =
      buildElementwise(b, loc, type, ValueRange{input, max},
                       [](OpBuilder &nb, Location l, ValueRange args) {
                         return nb.create<arith::SubFOp>(l, args[0], args[1]);
                       });
  Value exp = buildElementwise(b, loc, type, shifted,
                               [](OpBuilder &nb, Location l, ValueRange args) {
                                 return nb.create<math::ExpOp>(l, args[0]);
                               });
  Value sum = buildSum(b, loc, exp, {axis}, /*mean=*/false, /*keepdims=*/true);
  if (log)
    return buildElementwise(b, loc, type, ValueRange{shifted, sum},
                            [](OpBuilder &nb, Location l, ValueRange args) {
                              return nb.create<arith::SubFOp>(
                                  l, args[0],
                                  nb.create<math::LogOp>(l, args[1]));
                            });
  return buildElementwise(b, loc, type, ValueRange{exp, sum},
                          [](OpBuilder &nb, Location l, ValueRange args) {
                            return nb.create<arith::DivFOp>(l, args[0],
                                                            args[1]);
                          });
}

namespace {

/// Longest softmax row kept in vector registers (16 AVX-512 registers for
/// the row and as many for its exponentials); longer rows take the four
/// linalg passes, which LLVM vectorizes along the row.
constexpr int64_t kMaxRowSoftmax = 256;

/// Whether `type`'s softmax over `axis` can be one pass per row.
bool fitsRowSoftmax(RankedTensorType type, int64_t axis) {
  if (!type.hasStaticShape() || axis != type.getRank() - 1 ||
      !isa<FloatType>(type.getElementType()))
    return false;
  int64_t n = type.getShape().back();
  return n >= 2 && n <= kMaxRowSoftmax;
}

/// softmax (or log_softmax) over the innermost axis, one row at a time:
/// the row is read once into a vector, its maximum and the sum of
/// exp(x - max) are vector reductions, and the result is written once. The
/// four-generic lowering makes four passes over the data (five with the
/// shifted copy of log_softmax) and leaves the exp loop to LLVM, which did
/// not vectorize it: 10% of a transformer layer's time.
Value buildRowSoftmax(OpBuilder &b, Location loc, Value input, bool log) {
  auto type = cast<RankedTensorType>(input.getType());
  Type element = type.getElementType();
  int64_t n = type.getShape().back();
  auto rowsType =
      RankedTensorType::get({type.getNumElements() / n, n}, element);
  Value rows = reshapeTo(b, loc, input, rowsType);
  auto vectorType = VectorType::get({n}, element);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  Value count = b.create<arith::ConstantIndexOp>(loc, rowsType.getDimSize(0));
  Value pad = scalarConstant(b, loc, element, 0);
  // The sum may be taken in any order (as the generic's reassoc addf):
  // a tree of vector adds, not n dependent ones.
  auto reassoc = arith::FastMathFlagsAttr::get(b.getContext(),
                                               arith::FastMathFlags::reassoc);
  auto loop = b.create<scf::ForOp>(
      loc, zero, count, one, ValueRange{emptyTensor(b, loc, rowsType)},
      [&](OpBuilder &nb, Location l, Value row, ValueRange acc) {
        SmallVector<Value> at = {row, zero};
        Value x = nb.create<vector::TransferReadOp>(l, vectorType, rows, at,
                                                    pad, ArrayRef<bool>{true});
        Value max = nb.create<vector::ReductionOp>(
            l, vector::CombiningKind::MAXIMUMF, x);
        Value shifted = nb.create<arith::SubFOp>(
            l, x, nb.create<vector::BroadcastOp>(l, vectorType, max));
        Value exp = nb.create<math::ExpOp>(l, shifted);
        Value sum = nb.create<vector::ReductionOp>(
            l, vector::CombiningKind::ADD, exp, Value(), reassoc.getValue());
        Value result;
        if (log)
          result = nb.create<arith::SubFOp>(
              l, shifted,
              nb.create<vector::BroadcastOp>(l, vectorType,
                                             nb.create<math::LogOp>(l, sum)));
        else
          result = nb.create<arith::DivFOp>(
              l, exp, nb.create<vector::BroadcastOp>(l, vectorType, sum));
        Value written = nb.create<vector::TransferWriteOp>(
                              l, result, acc[0], at, ArrayRef<bool>{true})
                            .getResult();
        nb.create<scf::YieldOp>(l, written);
      });
  return reshapeTo(b, loc, loop.getResult(0), type);
}

template <typename OpTy, bool Log>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  SoftmaxLowering(MLIRContext *context, bool rowSoftmax)
      : OpConversionPattern<OpTy>(context), rowSoftmax(rowSoftmax) {}
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = normalizeAxis(op.getAxis(), type.getRank());
    if (rowSoftmax && fitsRowSoftmax(type, axis)) {
      rewriter.replaceOp(
          op, buildRowSoftmax(rewriter, op.getLoc(), adaptor.getInput(), Log));
      return success();
    }
    rewriter.replaceOp(
        op, buildSoftmax(rewriter, op.getLoc(), adaptor.getInput(), axis, Log));
    return success();
  }
  bool rowSoftmax;
};

template <typename OpTy, ReduceCombiner Combiner, bool Mean>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    SmallVector<int64_t> axes = normalizeAxes(op.getAxes(), inType.getRank());
    Value result =
        Combiner == ReduceCombiner::Sum
            ? buildSum(rewriter, loc, adaptor.getInput(), axes, Mean, false)
            : buildReduction(rewriter, loc, adaptor.getInput(), axes, Combiner);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, result,
                                     cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// argmax: the reduced dimension runs in order, and a later element replaces
/// the maximum only when it is larger (or the first NaN), so ties keep the
/// first position as the reference does.
struct ArgmaxLowering : OpConversionPattern<ArgmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ArgmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inType.getRank();
    int64_t axis = normalizeAxis(op.getAxis(), rank);
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> kept;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d != axis)
        kept.push_back(getAffineDimExpr(d, context));
    }
    AffineMap out = AffineMap::get(rank, 0, kept, context);
    Value max =
        filledTensor(rewriter, loc, resultType.clone(inType.getElementType()),
                     -std::numeric_limits<double>::infinity());
    Value position = filledTensor(rewriter, loc, resultType, 0);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{max.getType(), resultType}, adaptor.getInput(),
        ValueRange{max, position},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank), out, out},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0], best = args[1], at = args[2];
          Value i = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, axis));
          Value larger =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, best);
          Value firstNan = b.create<arith::AndIOp>(
              l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, v, v),
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::ORD, best,
                                      best));
          Value take = b.create<arith::OrIOp>(l, larger, firstNan);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, take, v, best),
                            b.create<arith::SelectOp>(l, take, i, at)});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

} // namespace

void mlir::anvil::populateReductionToLinalgPatterns(RewritePatternSet &patterns,
                                                    bool rowSoftmax) {
  patterns.add<SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>>(patterns.getContext(),
                                                    rowSoftmax);
  patterns.add<ReduceLowering<ReduceSumOp, ReduceCombiner::Sum, false>,
               ReduceLowering<ReduceMeanOp, ReduceCombiner::Sum, true>,
               ReduceLowering<ReduceMaxOp, ReduceCombiner::Max, false>,
               ArgmaxLowering>(patterns.getContext());
}
