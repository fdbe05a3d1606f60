//===- Pooling.cpp - anvil pooling ops -> linalg --------------------------===//
//
// Max pooling pads with -inf and runs `linalg.pooling_nchw_max`; average
// pooling pads with 0, sums with `linalg.pooling_nchw_sum` and divides by a
// compile-time table of each window's cell count (which depends on
// `count_include_pad` and on where ceil-mode windows stop). Ceil mode pads
// the bottom and right edges further so that the last window fits.
// global_avg_pool is a mean over the spatial dimensions.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <limits>

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The extra bottom/right padding a ceil-mode output of `out` windows needs.
int64_t ceilExtra(int64_t in, int64_t padBegin, int64_t padEnd, int64_t out,
                  int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t needed = (out - 1) * stride + dilation * (kernel - 1) + 1;
  return std::max<int64_t>(0, needed - (in + padBegin + padEnd));
}

template <typename PoolOp>
Value pool(ConversionPatternRewriter &rewriter, PoolOp op, Value input,
           double padValue, ArrayRef<int64_t> dilations, bool max) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  auto inType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> kernel(op.getKernel()), strides = op.getStrideValues(),
                                               pads(op.getPads());
  SmallVector<int64_t> extra;
  for (int i = 0; i < 2; ++i)
    extra.push_back(ceilExtra(inType.getDimSize(2 + i), pads[i], pads[2 + i],
                              type.getDimSize(2 + i), kernel[i], strides[i],
                              dilations[i]));
  Value padded =
      padSpatial(rewriter, loc, input, pads, padValue, extra[0], extra[1]);
  Value window = emptyTensor(
      rewriter, loc, RankedTensorType::get(kernel, type.getElementType()));
  Value init =
      filledTensor(rewriter, loc, type,
                   max ? -std::numeric_limits<double>::infinity() : 0.0);
  auto s = rewriter.getI64VectorAttr(strides);
  auto d = rewriter.getI64VectorAttr(dilations);
  if (max)
    return rewriter
        .create<linalg::PoolingNchwMaxOp>(
            loc, TypeRange{type}, ValueRange{padded, window}, init, s, d)
        .getResult(0);
  return rewriter
      .create<linalg::PoolingNchwSumOp>(loc, TypeRange{type},
                                        ValueRange{padded, window}, init, s, d)
      .getResult(0);
}

struct MaxPool2DLowering : OpConversionPattern<MaxPool2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<int64_t> dilations(op.getDilations());
    rewriter.replaceOp(op, pool(rewriter, op, adaptor.getInput(),
                                -std::numeric_limits<double>::infinity(),
                                dilations, /*max=*/true));
    return success();
  }
};

struct AvgPool2DLowering : OpConversionPattern<AvgPool2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AvgPool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    Value sum = pool(rewriter, op, adaptor.getInput(), 0.0, {1, 1},
                     /*max=*/false);
    // Cells each window counts, as the reference kernel counts them: cells
    // inside the padded input (with count_include_pad) or inside the input.
    SmallVector<int64_t> kernel(op.getKernel()), strides = op.getStrideValues(),
                                                 pads(op.getPads());
    int64_t oh = type.getDimSize(2), ow = type.getDimSize(3);
    int64_t h = inType.getDimSize(2), w = inType.getDimSize(3);
    SmallVector<float> counts;
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        int64_t cells = 0;
        for (int64_t i = 0; i < kernel[0]; ++i)
          for (int64_t j = 0; j < kernel[1]; ++j) {
            int64_t iy = y * strides[0] - pads[0] + i;
            int64_t ix = x * strides[1] - pads[1] + j;
            bool inPadded = iy < h + pads[2] && ix < w + pads[3];
            bool inInput = iy >= 0 && iy < h && ix >= 0 && ix < w;
            cells += op.getCountIncludePad() ? inPadded : inInput;
          }
        counts.push_back(static_cast<float>(cells));
      }
    auto countType =
        RankedTensorType::get({1, 1, oh, ow}, type.getElementType());
    Value divisor = rewriter.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(countType, ArrayRef<float>(counts)));
    rewriter.replaceOp(
        op, buildElementwise(rewriter, loc, type, ValueRange{sum, divisor},
                             [](OpBuilder &b, Location l, ValueRange args) {
                               return b.create<arith::DivFOp>(l, args[0],
                                                              args[1]);
                             }));
    return success();
  }
};

struct GlobalAvgPoolLowering : OpConversionPattern<GlobalAvgPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto inType = cast<RankedTensorType>(adaptor.getInput().getType());
    SmallVector<int64_t> axes;
    double count = 1;
    for (int64_t d = 2; d < inType.getRank(); ++d) {
      axes.push_back(d);
      count *= inType.getDimSize(d);
    }
    Value sum = buildReduction(rewriter, loc, adaptor.getInput(), axes,
                               ReduceCombiner::Sum);
    Value mean = buildElementwise(
        rewriter, loc, cast<RankedTensorType>(sum.getType()), sum,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::DivFOp>(
              l, args[0], scalarConstant(b, l, args[0].getType(), count));
        });
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, mean, type));
    return success();
  }
};

} // namespace

void mlir::anvil::populatePoolingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPool2DLowering, AvgPool2DLowering, GlobalAvgPoolLowering>(
      patterns.getContext());
}
