//===- Loss.cpp - anvil losses -> linalg ----------------------------------===//
//
// nll_loss picks -logp[n, label[n]] with a generic over the batch that
// extracts from the log-probabilities; softmax_cross_entropy is a stable
// log_softmax followed by the same; mse_loss squares differences
// elementwise. `mean`/`sum` then reduce to a rank-0 tensor.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Applies `reduction` to the unreduced losses.
Value reduceLoss(OpBuilder &b, Location loc, Value losses,
                 LossReduction reduction) {
  if (reduction == LossReduction::None)
    return losses;
  auto type = cast<RankedTensorType>(losses.getType());
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return buildSum(b, loc, losses, all, reduction == LossReduction::Mean, false);
}

/// -logp[n, labels[n]] for every n.
Value pickNegated(OpBuilder &b, Location loc, Value logp, Value labels) {
  auto type = cast<RankedTensorType>(logp.getType());
  auto perSample = type.clone({type.getDimSize(0)});
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(1));
  auto generic = b.create<linalg::GenericOp>(
      loc, perSample, labels, emptyTensor(b, loc, perSample), maps,
      utils::IteratorType::parallel,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value n = nb.create<linalg::IndexOp>(l, 0);
        Value c = nb.create<arith::IndexCastOp>(l, nb.getIndexType(), args[0]);
        Value v = nb.create<tensor::ExtractOp>(l, logp, ValueRange{n, c});
        nb.create<linalg::YieldOp>(l,
                                   nb.create<arith::NegFOp>(l, v).getResult());
      });
  return generic.getResult(0);
}

struct NllLossLowering : OpConversionPattern<NllLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NllLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value losses =
        pickNegated(rewriter, loc, adaptor.getInput(), adaptor.getTarget());
    rewriter.replaceOp(op,
                       reduceLoss(rewriter, loc, losses, op.getReduction()));
    return success();
  }
};

struct SoftmaxCrossEntropyLowering
    : OpConversionPattern<SoftmaxCrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logp = buildSoftmax(rewriter, loc, adaptor.getInput(), 1, true);
    Value losses = pickNegated(rewriter, loc, logp, adaptor.getTarget());
    rewriter.replaceOp(op,
                       reduceLoss(rewriter, loc, losses, op.getReduction()));
    return success();
  }
};

struct MseLossLowering : OpConversionPattern<MseLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MseLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    Value sq =
        buildElementwise(rewriter, loc, type,
                         ValueRange{adaptor.getInput(), adaptor.getTarget()},
                         [](OpBuilder &b, Location l, ValueRange a) {
                           Value d = b.create<arith::SubFOp>(l, a[0], a[1]);
                           return b.create<arith::MulFOp>(l, d, d);
                         });
    rewriter.replaceOp(op, reduceLoss(rewriter, loc, sq, op.getReduction()));
    return success();
  }
};

} // namespace

void mlir::anvil::populateLossToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<NllLossLowering, SoftmaxCrossEntropyLowering, MseLossLowering>(
      patterns.getContext());
}
