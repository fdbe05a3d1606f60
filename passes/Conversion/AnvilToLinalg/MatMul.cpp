//===- MatMul.cpp - anvil.matmul -> linalg --------------------------------===//
//
// A 2-D product becomes `linalg.matmul` (a transposed operand is first
// transposed into a temporary, so that the product runs on the vectorized
// matmul); with batch dimensions (broadcast as in numpy) it becomes a
// `linalg.generic` contraction over (batch..., m, n, k) whose indexing maps
// do the transposes and the broadcasting. Both accumulate into a
// zero-filled result.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    Value acc = filledTensor(rewriter, loc, type, 0.0);
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    bool ta = op.getTransposeA(), tb = op.getTransposeB();
    if (type.getRank() == 2 && lhsType.getRank() == 2 &&
        rhsType.getRank() == 2) {
      // A transposed operand is transposed once into a temporary, so that
      // every 2-D product runs on the tiled, vectorized linalg.matmul (the
      // copy costs O(n^2) against the product's O(n^3)).
      if (ta)
        lhs = transpose2D(rewriter, loc, lhs);
      if (tb)
        rhs = transpose2D(rewriter, loc, rhs);
      rewriter.replaceOp(op, buildMatmul(rewriter, loc, lhs, rhs, acc));
      return success();
    }
    // Loops: batch dims of the result, then m, n, k.
    MLIRContext *ctx = getContext();
    int64_t batch = type.getRank() - 2, loops = batch + 3;
    AffineExpr m = getAffineDimExpr(batch, ctx),
               n = getAffineDimExpr(batch + 1, ctx),
               k = getAffineDimExpr(batch + 2, ctx);
    auto operandMap = [&](RankedTensorType t, AffineExpr rows,
                          AffineExpr cols) {
      SmallVector<int64_t> resultBatch(type.getShape().drop_back(2));
      AffineMap b = broadcastMap(ctx, t.getShape().drop_back(2), resultBatch);
      SmallVector<AffineExpr> exprs(b.getResults());
      exprs.append({rows, cols});
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> out;
    for (int64_t d = 0; d < batch; ++d)
      out.push_back(getAffineDimExpr(d, ctx));
    out.append({m, n});
    SmallVector<AffineMap> maps = {operandMap(lhsType, ta ? k : m, ta ? m : k),
                                   operandMap(rhsType, tb ? n : k, tb ? k : n),
                                   AffineMap::get(loops, 0, out, ctx)};
    SmallVector<utils::IteratorType> iterators(loops - 1,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{lhs, rhs}, acc, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) {
          // Reassociable and contractible: LLVM may vectorize the k loop
          // with partial sums and fuse the multiply-add.
          auto flags = arith::FastMathFlagsAttr::get(
              b.getContext(),
              arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
          Value product = b.create<arith::MulFOp>(l, args[0], args[1], flags);
          b.create<linalg::YieldOp>(
              l,
              b.create<arith::AddFOp>(l, args[2], product, flags).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::anvil::populateMatMulToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering>(patterns.getContext());
}
