//===- Shape.cpp - anvil shape ops -> linalg and tensor -------------------===//
//
// reshape and flatten are static collapse/expand_shapes; transpose is
// `linalg.transpose`; concat inserts each input into an empty result at its
// offset; slice is a generic that reads `start + i * step`, which handles
// negative steps too (reading with tensor.extract); gather is a generic that
// reads its indices operand and extracts from the data tensor.
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

template <typename OpTy> struct ReshapeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), adaptor.getInput(),
                                     cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    Value init = emptyTensor(rewriter, op.getLoc(), type);
    rewriter.replaceOp(op, rewriter
                               .create<linalg::TransposeOp>(op.getLoc(),
                                                            adaptor.getInput(),
                                                            init, op.getPerm())
                               .getResult());
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t axis = normalizeAxis(op.getAxis(), type.getRank());
    Value result = emptyTensor(rewriter, loc, type);
    int64_t offset = 0;
    for (Value input : adaptor.getInputs()) {
      auto inType = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> offsets(type.getRank(), 0),
          strides(type.getRank(), 1);
      offsets[axis] = offset;
      result = rewriter.create<tensor::InsertSliceOp>(
          loc, input, result, ValueRange{}, ValueRange{}, ValueRange{}, offsets,
          inType.getShape(), strides);
      offset += inType.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    if (type.getNumElements() == 0) {
      // Nothing to read (and a map at loop bound -1 would not verify).
      rewriter.replaceOp(op, emptyTensor(rewriter, loc, type));
      return success();
    }
    // Read with tensor.extract at start + i * step: an input indexing map
    // would also (wrongly) bound the loops by the input's extents.
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{}, emptyTensor(rewriter, loc, type),
        rewriter.getMultiDimIdentityMap(type.getRank()), iterators,
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (auto [d, start, step] :
               llvm::enumerate(op.getStarts(), op.getSteps())) {
            Value i = b.create<arith::MulIOp>(
                l, b.create<linalg::IndexOp>(l, d),
                b.create<arith::ConstantIndexOp>(l, step));
            at.push_back(b.create<arith::AddIOp>(
                l, i, b.create<arith::ConstantIndexOp>(l, start)));
          }
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, adaptor.getInput(), at)
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value data = adaptor.getInput();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto idxType = cast<RankedTensorType>(adaptor.getIndices().getType());
    int64_t axis = normalizeAxis(op.getAxis(), dataType.getRank());
    int64_t idxRank = idxType.getRank();
    MLIRContext *ctx = getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t d = 0; d < idxRank; ++d)
      idxExprs.push_back(getAffineDimExpr(axis + d, ctx));
    SmallVector<AffineMap> maps = {
        AffineMap::get(type.getRank(), 0, idxExprs, ctx),
        rewriter.getMultiDimIdentityMap(type.getRank())};
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    int64_t dim = dataType.getDimSize(axis);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, adaptor.getIndices(), emptyTensor(rewriter, loc, type), maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          // A negative index counts from the back.
          Value i = b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value wrapped = b.create<arith::AddIOp>(
              l, i, b.create<arith::ConstantIndexOp>(l, dim));
          Value negative =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, zero);
          i = b.create<arith::SelectOp>(l, negative, wrapped, i);
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(b.create<linalg::IndexOp>(l, d));
          at.push_back(i);
          for (int64_t d = axis + 1; d < dataType.getRank(); ++d)
            at.push_back(b.create<linalg::IndexOp>(l, d - 1 + idxRank));
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, data, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlir::anvil::populateShapeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<ReshapeLowering<ReshapeOp>, ReshapeLowering<FlattenOp>,
           TransposeLowering, ConcatLowering, SliceLowering, GatherLowering>(
          patterns.getContext());
}
