//===- MatMul.cpp - anvil.matmul -> linalg --------------------------------===//
//
// A 2-D product becomes `linalg.matmul` (a transposed operand is first
// transposed into a temporary, so that the product runs on the vectorized
// matmul). So does a batched lhs times a 2-D rhs (`[B..., M, K] @ [K, N]`,
// ONNX's MatMul of activations by a weight): the batch dimensions fold into
// M, a free reshape. Operands with the same batch dimensions become one
// `linalg.batch_matmul` over the flattened batch, which the tile-and-vectorize
// pass runs as a 2-D matmul per batch entry. Other batch dimensions
// (broadcast as in numpy) give a `linalg.generic` contraction over
// (batch..., m, n, k) whose indexing maps do the transposes and the
// broadcasting. All accumulate into a zero-filled result. A `bf16` product
// (one anvil-bf16-matmul left: batched, or its pass off) first rounds its
// operands to bf16 (`truncf` then `extf`), so that the f32 product computes
// the same function as the vdpbf16ps tiles and the reference.
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
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    bool ta = op.getTransposeA(), tb = op.getTransposeB();
    int64_t rank = type.getRank();
    if (op.getBf16()) {
      lhs = roundedToBf16(rewriter, loc, lhs);
      rhs = roundedToBf16(rewriter, loc, rhs);
    }
    // A transposed operand is transposed once into a temporary, so that the
    // product runs on the tiled, vectorized linalg.matmul (the copy costs
    // O(n^2) against the product's O(n^3)).
    if (rhsType.getRank() == 2 && (lhsType.getRank() == 2 || !ta)) {
      if (ta)
        lhs = transpose2D(rewriter, loc, lhs);
      if (tb)
        rhs = transpose2D(rewriter, loc, rhs);
      // [B..., M, K] as [B*...*M, K]: rows of one 2-D product.
      int64_t rows = 1;
      for (int64_t d : type.getShape().drop_back())
        rows *= d;
      auto flatType = type.clone({rows, type.getDimSize(rank - 1)});
      // (K from rhs: lhs may have been transposed above.)
      int64_t k = cast<RankedTensorType>(rhs.getType()).getDimSize(0);
      Value flatLhs = reshapeTo(rewriter, loc, lhs, lhsType.clone({rows, k}));
      Value product = buildMatmul(rewriter, loc, flatLhs, rhs,
                                  filledTensor(rewriter, loc, flatType, 0.0));
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, product, type));
      return success();
    }
    ArrayRef<int64_t> batchShape = type.getShape().drop_back(2);
    if (rank > 2 && lhsType.getShape().drop_back(2) == batchShape &&
        rhsType.getShape().drop_back(2) == batchShape) {
      // The same batch on both sides: one batch_matmul over the flattened
      // batch, its operands transposed into temporaries as above.
      int64_t batch = 1;
      for (int64_t d : batchShape)
        batch *= d;
      auto flat = [&](Value v, bool transposed) -> Value {
        auto t = cast<RankedTensorType>(v.getType());
        int64_t r = t.getDimSize(rank - 2), c = t.getDimSize(rank - 1);
        Value v3 = reshapeTo(rewriter, loc, v, t.clone({batch, r, c}));
        if (!transposed)
          return v3;
        return rewriter
            .create<linalg::TransposeOp>(
                loc, v3, emptyTensor(rewriter, loc, t.clone({batch, c, r})),
                ArrayRef<int64_t>{0, 2, 1})
            .getResult()[0];
      };
      auto flatType = type.clone(
          {batch, type.getDimSize(rank - 2), type.getDimSize(rank - 1)});
      Value product =
          rewriter
              .create<linalg::BatchMatmulOp>(
                  loc, flatType, ValueRange{flat(lhs, ta), flat(rhs, tb)},
                  filledTensor(rewriter, loc, flatType, 0.0))
              .getResult(0);
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, product, type));
      return success();
    }
    Value acc = filledTensor(rewriter, loc, type, 0.0);
    // Loops: batch dims of the result, then m, n, k.
    MLIRContext *ctx = getContext();
    int64_t batch = rank - 2, loops = batch + 3;
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
