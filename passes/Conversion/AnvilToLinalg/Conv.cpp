//===- Conv.cpp - anvil.conv2d -> linalg ----------------------------------===//
//
// Padding becomes a `tensor.pad` with zeros; the convolution a
// `linalg.conv_2d_nchw_fchw` (one group) or `linalg.conv_2d_ngchw_gfchw`
// (input and filter reshaped to expose the groups); the bias, if any, is
// broadcast into the accumulator the convolution starts from.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

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
    if (groups == 1) {
      rewriter.replaceOp(
          op, rewriter
                  .create<linalg::Conv2DNchwFchwOp>(loc, TypeRange{type},
                                                    ValueRange{input, weight},
                                                    init, strides, dilations)
                  .getResult(0));
      return success();
    }
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
