//===- Conv.cpp - anvil.conv2d -> linalg ----------------------------------===//
//
// Padding becomes a `tensor.pad` with zeros. A one-group convolution becomes
// im2col + matmul, so that it runs on the tiled, vectorized matmul:
//
//   cols[c, i, j, n, y, x] = input[n, c, y*sh + i*dh, x*sw + j*dw]
//   out[o, (n, y, x)]      = weight[o, (c, i, j)] @ cols[(c, i, j), (n, y, x)]
//
// (cols is one linalg.generic copy with an affine input map; the reshapes
// are free), started from the bias, then transposed from [O, N, OH, OW] to
// NCHW. Grouped convolutions use `linalg.conv_2d_ngchw_gfchw` on input and
// filter reshaped to expose the groups, accumulating onto the bias.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The one-group convolution as im2col + linalg.matmul (see the header).
Value im2colConv(OpBuilder &b, Location loc, Conv2DOp op, Value input,
                 Value weight, Value bias) {
  auto type = cast<RankedTensorType>(op.getType());
  auto inType = cast<RankedTensorType>(input.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  Type elt = type.getElementType();
  int64_t n = type.getDimSize(0), o = type.getDimSize(1),
          oh = type.getDimSize(2), ow = type.getDimSize(3);
  int64_t c = inType.getDimSize(1), kh = wType.getDimSize(2),
          kw = wType.getDimSize(3);
  ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
  MLIRContext *ctx = b.getContext();
  // Loops (c, i, j, n, y, x) over the 6-D cols tensor.
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap read =
      AffineMap::get(6, 0,
                     {d(3), d(0), d(4) * strides[0] + d(1) * dilations[0],
                      d(5) * strides[1] + d(2) * dilations[1]},
                     ctx);
  auto colsType = RankedTensorType::get({c, kh, kw, n, oh, ow}, elt);
  SmallVector<utils::IteratorType> parallel(6, utils::IteratorType::parallel);
  Value cols =
      b.create<linalg::GenericOp>(
           loc, colsType, input, emptyTensor(b, loc, colsType),
           SmallVector<AffineMap>{read, b.getMultiDimIdentityMap(6)}, parallel,
           [](OpBuilder &nb, Location l, ValueRange args) {
             nb.create<linalg::YieldOp>(l, args[0]);
           })
          .getResult(0);
  int64_t k = c * kh * kw, cols2 = n * oh * ow;
  cols = reshapeTo(b, loc, cols, RankedTensorType::get({k, cols2}, elt));
  Value w2 = reshapeTo(b, loc, weight, RankedTensorType::get({o, k}, elt));
  auto productType = RankedTensorType::get({o, cols2}, elt);
  Value acc;
  if (bias) {
    Value column = reshapeTo(b, loc, bias, RankedTensorType::get({o, 1}, elt));
    acc = buildElementwise(
        b, loc, productType, column,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  } else {
    acc = filledTensor(b, loc, productType, 0.0);
  }
  Value product =
      b.create<linalg::MatmulOp>(loc, productType, ValueRange{w2, cols}, acc)
          .getResult(0);
  Value onhw =
      reshapeTo(b, loc, product, RankedTensorType::get({o, n, oh, ow}, elt));
  return b
      .create<linalg::TransposeOp>(loc, onhw, emptyTensor(b, loc, type),
                                   ArrayRef<int64_t>{1, 0, 2, 3})
      .getResult()[0];
}

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(), 0.0);
    Value weight = adaptor.getWeight();
    if (op.getGroups() == 1) {
      rewriter.replaceOp(
          op, im2colConv(rewriter, loc, op, input, weight, adaptor.getBias()));
      return success();
    }
    Value init;
    if (Value bias = adaptor.getBias()) {
      auto o = type.getDimSize(1);
      Value column =
          reshapeTo(rewriter, loc, bias,
                    RankedTensorType::get({o, 1, 1}, type.getElementType()));
      init = buildElementwise(
          rewriter, loc, type, column,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    } else {
      init = filledTensor(rewriter, loc, type, 0.0);
    }
    auto strides = rewriter.getI64VectorAttr(op.getStrides());
    auto dilations = rewriter.getI64VectorAttr(op.getDilations());
    int64_t groups = op.getGroups();
    // Expose the groups: input [N, G, C/G, H, W], filter [G, O/G, C/G, kh,
    // kw], result [N, G, O/G, oh, ow].
    auto inType = cast<RankedTensorType>(input.getType());
    auto wType = cast<RankedTensorType>(weight.getType());
    auto split = [&](RankedTensorType t, int64_t dim) {
      SmallVector<int64_t> shape(t.getShape());
      shape[dim] /= groups;
      shape.insert(shape.begin() + dim, groups);
      return t.clone(shape);
    };
    Value gInput = reshapeTo(rewriter, loc, input, split(inType, 1));
    Value gWeight = reshapeTo(rewriter, loc, weight, split(wType, 0));
    RankedTensorType gType = split(type, 1);
    Value gInit = reshapeTo(rewriter, loc, init, gType);
    Value conv = rewriter
                     .create<linalg::Conv2DNgchwGfchwOp>(
                         loc, TypeRange{gType}, ValueRange{gInput, gWeight},
                         gInit, strides, dilations)
                     .getResult(0);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, conv, type));
    return success();
  }
};

} // namespace

void mlir::anvil::populateConvToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<Conv2DLowering>(patterns.getContext());
}
