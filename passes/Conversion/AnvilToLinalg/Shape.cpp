//===- Shape.cpp - anvil shape ops -> linalg and tensor -------------------===//
//
// reshape and flatten are static collapse/expand_shapes; transpose is
// `linalg.transpose`; concat inserts each input into an empty result at its
// offset; slice is a generic that reads `start + i * step`, which handles
// negative steps too (reading with tensor.extract), and its gradient a
// strided insert_slice into zeros; gather is a generic that reads its
// indices operand and extracts from the data tensor, and its gradient a
// scatter-add in an scf.for over the indices.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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

/// An integer index as an `index`, a negative one counted from the back of
/// a dimension of size `dim` (python's rule, as gather defines).
Value wrapIndex(OpBuilder &b, Location loc, Value index, int64_t dim) {
  Value i = b.create<arith::IndexCastOp>(loc, b.getIndexType(), index);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value wrapped = b.create<arith::AddIOp>(
      loc, i, b.create<arith::ConstantIndexOp>(loc, dim));
  Value negative =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
  return b.create<arith::SelectOp>(loc, negative, wrapped, i);
}

/// gather_elements: a generic over the indices that reads the input at the
/// same position with the (wrapped) index in place `axis`.
struct GatherElementsLowering : OpConversionPattern<GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value data = adaptor.getInput();
    auto dataType = cast<RankedTensorType>(data.getType());
    int64_t rank = type.getRank();
    int64_t axis = normalizeAxis(op.getAxis(), rank);
    int64_t dim = dataType.getDimSize(axis);
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, adaptor.getIndices(), emptyTensor(rewriter, loc, type), maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = wrapIndex(b, l, args[0], dim);
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(d == axis ? i : b.create<linalg::IndexOp>(l, d));
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, data, at).getResult());
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
          Value i = wrapIndex(b, l, args[0], dim);
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

/// Zeros with dY inserted by a strided tensor.insert_slice. Dimensions with
/// a negative step are first reversed (a copy through an affine map), so
/// that dY runs forwards from the slice's last element with |step|.
struct SliceGradLowering : OpConversionPattern<SliceGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value grad = adaptor.getGrad();
    auto gType = cast<RankedTensorType>(grad.getType());
    Value zeros = filledTensor(rewriter, loc, type, 0.0);
    if (gType.getNumElements() == 0) {
      rewriter.replaceOp(op, zeros);
      return success();
    }
    MLIRContext *ctx = getContext();
    int64_t rank = type.getRank();
    SmallVector<int64_t> offsets, strides;
    SmallVector<AffineExpr> read;
    for (auto [d, start, step] :
         llvm::enumerate(op.getStarts(), op.getSteps())) {
      int64_t n = gType.getDimSize(d);
      AffineExpr i = getAffineDimExpr(d, ctx);
      read.push_back(step > 0 ? i : n - 1 - i);
      offsets.push_back(step > 0 ? start : start + (n - 1) * step);
      strides.push_back(std::abs(step));
    }
    AffineMap readMap = AffineMap::get(rank, 0, read, ctx);
    if (!readMap.isIdentity()) {
      SmallVector<utils::IteratorType> parallel(rank,
                                                utils::IteratorType::parallel);
      grad = rewriter
                 .create<linalg::GenericOp>(
                     loc, gType, grad, emptyTensor(rewriter, loc, gType),
                     SmallVector<AffineMap>{
                         readMap, rewriter.getMultiDimIdentityMap(rank)},
                     parallel,
                     [](OpBuilder &b, Location l, ValueRange args) {
                       b.create<linalg::YieldOp>(l, args[0]);
                     })
                 .getResult(0);
    }
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, grad, zeros, ValueRange{}, ValueRange{}, ValueRange{}, offsets,
        gType.getShape(), strides);
    return success();
  }
};

/// A scatter-add in one scf.for over the index positions p: with dY as
/// [A, P, B] and dX as [A, D, B] (A, B the dimensions before and after),
/// dX[:, index[p], :] += dY[:, p, :], updated in place through
/// extract_slice / insert_slice. Indices out of range add nothing.
struct GatherGradLowering : OpConversionPattern<GatherGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type elt = type.getElementType();
    auto idxType = cast<RankedTensorType>(adaptor.getIndices().getType());
    int64_t axis = normalizeAxis(op.getAxis(), type.getRank());
    ArrayRef<int64_t> shape = type.getShape();
    int64_t a = 1, b = 1, d = shape[axis], p = idxType.getNumElements();
    for (int64_t i = 0; i < axis; ++i)
      a *= shape[i];
    for (int64_t i = axis + 1; i < type.getRank(); ++i)
      b *= shape[i];
    Value zeros =
        filledTensor(rewriter, loc, RankedTensorType::get({a, d, b}, elt), 0.0);
    if (p == 0 || a == 0 || b == 0) {
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, zeros, type));
      return success();
    }
    Value grad = reshapeTo(rewriter, loc, adaptor.getGrad(),
                           RankedTensorType::get({a, p, b}, elt));
    Value indices = reshapeTo(rewriter, loc, adaptor.getIndices(),
                              idxType.clone(ArrayRef<int64_t>{p}));
    auto index = [&](int64_t v) {
      return rewriter.create<arith::ConstantIndexOp>(loc, v).getResult();
    };
    auto rowType = RankedTensorType::get({a, 1, b}, elt);
    SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(a),
                                       rewriter.getIndexAttr(1),
                                       rewriter.getIndexAttr(b)};
    SmallVector<OpFoldResult> unit(3, rewriter.getIndexAttr(1));
    auto loop = rewriter.create<scf::ForOp>(
        loc, index(0), index(p), index(1), ValueRange{zeros},
        [&](OpBuilder &nb, Location l, Value pos, ValueRange iter) {
          Value dx = iter[0];
          // A negative index counts from the back; one out of range adds
          // nothing (at row 0).
          Value i = wrapIndex(nb, l,
                              nb.create<tensor::ExtractOp>(l, indices, pos), d);
          Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
          Value size = nb.create<arith::ConstantIndexOp>(l, d);
          Value inRange = nb.create<arith::AndIOp>(
              l,
              nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, i, zero),
              nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, size));
          i = nb.create<arith::SelectOp>(l, inRange, i, zero);
          auto at = [&](Value v) {
            return SmallVector<OpFoldResult>{nb.getIndexAttr(0), v,
                                             nb.getIndexAttr(0)};
          };
          Value row = nb.create<tensor::ExtractSliceOp>(l, rowType, grad,
                                                        at(pos), sizes, unit);
          Value cur = nb.create<tensor::ExtractSliceOp>(l, rowType, dx, at(i),
                                                        sizes, unit);
          SmallVector<utils::IteratorType> parallel(
              3, utils::IteratorType::parallel);
          AffineMap id = nb.getMultiDimIdentityMap(3);
          Value sum = nb.create<linalg::GenericOp>(
                            l, rowType, row, cur,
                            SmallVector<AffineMap>{id, id}, parallel,
                            [&](OpBuilder &bb, Location bl, ValueRange args) {
                              Value added = bb.create<arith::AddFOp>(
                                  bl, args[1], args[0]);
                              bb.create<linalg::YieldOp>(
                                  bl, bb.create<arith::SelectOp>(bl, inRange,
                                                                 added, args[1])
                                          .getResult());
                            })
                          .getResult(0);
          nb.create<scf::YieldOp>(l, nb.create<tensor::InsertSliceOp>(
                                           l, sum, dx, at(i), sizes, unit)
                                         .getResult());
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, loop.getResult(0), type));
    return success();
  }
};

} // namespace

void mlir::anvil::populateShapeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<ReshapeLowering<ReshapeOp>, ReshapeLowering<FlattenOp>,
           TransposeLowering, ConcatLowering, SliceLowering, SliceGradLowering,
           GatherLowering, GatherElementsLowering, GatherGradLowering>(
          patterns.getContext());
}
