//===- ImportVolume.cpp - 3-D convolution and pooling ---------------------===//
//
// Conv, ConvTranspose, MaxPool and AveragePool over [N, C, D, H, W] as the
// 2-D ops over depth slices. The depth axis moves next to the batch; each
// tap i of the kernel's depth reads the slices i * dilation + stride * d (one
// strided slice), which join the batch as [N * Dout, C, H, W]; the taps' 2-D
// results then combine: a sum for convolutions, an elementwise max for max
// pooling, a sum divided by each depth window's count for average pooling.
// A transposed convolution places each tap's 2-D result at every stride-th
// depth row from its offset and sums them.
//
// No new anvil op: every piece already has its reference kernel, lowering
// and gradient, and the 2-D convolutions run on the fast kernels (the taps
// share one matmul each over the merged batch). The price: kd 2-D ops per
// node and a transpose at each end.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include <limits>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

namespace {
/// [N, C, D, H, W] <-> [N, D, C, H, W]: the permutation is its own inverse.
constexpr int64_t kDepthNextToBatch[] = {0, 2, 1, 3, 4};
} // namespace

Value Importer::padAxis(Value x, int64_t axis, int64_t before, int64_t after,
                        double value) {
  if (!x)
    return {};
  SmallVector<int64_t> shape(shapeOf(x));
  if (after < 0) {
    // Cropping the end: one slice.
    SmallVector<int64_t> starts(shape.size(), 0), ends(shape),
        steps(shape.size(), 1);
    ends[axis] += after;
    x = make<a::SliceOp>({x}, {ints("starts", starts), ints("ends", ends),
                               ints("steps", steps)});
    shape[axis] += after;
    after = 0;
  }
  SmallVector<Value> parts;
  if (before > 0) {
    shape[axis] = before;
    parts.push_back(splat(shape, elementOf(x), value));
  }
  parts.push_back(x);
  if (after > 0) {
    shape[axis] = after;
    parts.push_back(splat(shape, elementOf(x), value));
  }
  return parts.size() == 1 ? x
                           : make<a::ConcatOp>(parts, {int64("axis", axis)});
}

Value Importer::depthTaps(Value xt, int64_t start, int64_t step,
                          int64_t count) {
  if (!xt)
    return {};
  SmallVector<int64_t> shape(shapeOf(xt));
  SmallVector<int64_t> starts(5, 0), ends(shape), steps(5, 1);
  starts[1] = start;
  ends[1] = start + step * (count - 1) + 1;
  steps[1] = step;
  Value taps = make<a::SliceOp>(
      {xt}, {ints("starts", starts), ints("ends", ends), ints("steps", steps)});
  return reshape(taps, {shape[0] * count, shape[2], shape[3], shape[4]});
}

Value Importer::depthFromBatch(Value y, int64_t batch) {
  if (!y)
    return {};
  ArrayRef<int64_t> ys = shapeOf(y);
  Value t = reshape(y, {batch, ys[0] / batch, ys[1], ys[2], ys[3]});
  return make<a::TransposeOp>({t}, {ints("perm", kDepthNextToBatch)});
}

Value Importer::depthToBatchOrder(Value x) {
  return make<a::TransposeOp>({x}, {ints("perm", kDepthNextToBatch)});
}

Value Importer::depthTap(Value w, int64_t i) {
  if (!w)
    return {};
  SmallVector<int64_t> ws(shapeOf(w));
  SmallVector<int64_t> starts = {0, 0, i, 0, 0}, ends(ws), steps(5, 1);
  ends[2] = i + 1;
  Value tap = make<a::SliceOp>(
      {w}, {ints("starts", starts), ints("ends", ends), ints("steps", steps)});
  return reshape(tap, {ws[0], ws[1], ws[3], ws[4]});
}

/// The output length of a window of `kernel` taps `dilation` apart moved by
/// `stride` over `padded` rows, or -1 if not even one fits.
static int64_t windowCount(int64_t padded, int64_t kernel, int64_t stride,
                           int64_t dilation) {
  int64_t span = dilation * (kernel - 1) + 1;
  return padded < span ? -1 : (padded - span) / stride + 1;
}

Value Importer::conv3dOf(Value x, Value w, Value bias,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                         ArrayRef<int64_t> pads, int64_t groups) {
  SmallVector<int64_t> xs(shapeOf(x)), ws(shapeOf(w));
  int64_t depth =
      windowCount(xs[2] + pads[0] + pads[3], ws[2], strides[0], dilations[0]);
  if (depth < 1) {
    (void)fail("the kernel's depth " + std::to_string(ws[2]) + " (dilation " +
               std::to_string(dilations[0]) +
               ") is larger than the padded input's depth " +
               std::to_string(xs[2] + pads[0] + pads[3]));
    return {};
  }
  Value xt = depthToBatchOrder(padAxis(x, 2, pads[0], pads[3], 0.0));
  SmallVector<NamedAttribute> attrs = {
      ints("strides", strides.drop_front()),
      ints("pads", {pads[1], pads[2], pads[4], pads[5]}),
      ints("dilations", dilations.drop_front()), int64("groups", groups)};
  Value sum;
  for (int64_t i = 0; i < ws[2]; ++i) {
    SmallVector<Value> operands = {
        depthTaps(xt, i * dilations[0], strides[0], depth), depthTap(w, i)};
    if (bias && i == 0)
      operands.push_back(bias);
    Value y = make<a::Conv2DOp>(operands, attrs);
    sum = i == 0 ? y : make<a::AddOp>({sum, y});
  }
  return depthFromBatch(sum, xs[0]);
}

Value Importer::pool3dOf(Value x, bool max, ArrayRef<int64_t> kernel,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                         ArrayRef<int64_t> pads, bool ceilMode,
                         bool countIncludePad) {
  SmallVector<int64_t> xs(shapeOf(x));
  int64_t k = kernel[0], stride = strides[0], dilation = dilations[0];
  int64_t padded = xs[2] + pads[0] + pads[3];
  int64_t span = dilation * (k - 1) + 1;
  int64_t depth = windowCount(padded, k, stride, dilation);
  if (depth < 1) {
    (void)fail("the kernel's depth " + std::to_string(k) +
               " is larger than the padded input's depth " +
               std::to_string(padded));
    return {};
  }
  if (ceilMode && (padded - span) % stride != 0 &&
      // A last window that would start in the end padding is dropped
      // (PyTorch's and ONNX's rule).
      depth * stride < xs[2] + pads[0])
    ++depth;
  // Rows past the padded input that a ceil_mode window reads: they count as
  // padding that no average includes.
  int64_t extra = std::max<int64_t>(0, (depth - 1) * stride + span - padded);
  double fill = max ? -std::numeric_limits<double>::infinity() : 0.0;
  Value xt = depthToBatchOrder(padAxis(x, 2, pads[0], pads[3] + extra, fill));
  SmallVector<NamedAttribute> attrs = {
      ints("kernel", kernel.drop_front()),
      ints("strides", strides.drop_front()),
      ints("pads", {pads[1], pads[2], pads[4], pads[5]})};
  if (ceilMode)
    attrs.push_back(unit("ceil_mode"));
  if (max)
    attrs.push_back(ints("dilations", dilations.drop_front()));
  else if (countIncludePad)
    attrs.push_back(unit("count_include_pad"));
  Value acc;
  for (int64_t i = 0; i < k; ++i) {
    Value taps = depthTaps(xt, i * dilation, stride, depth);
    Value y = max ? make<a::MaxPool2DOp>({taps}, attrs)
                  : make<a::AvgPool2DOp>({taps}, attrs);
    if (i == 0)
      acc = y;
    else
      acc = max ? make<a::MaxOp>({acc, y}) : make<a::AddOp>({acc, y});
  }
  Value y = depthFromBatch(acc, xs[0]);
  if (max || !y)
    return y;
  // Each 2-D average divided by its own window's count along height and
  // width; the depth window's count divides the sum of the taps.
  std::vector<double> counts;
  for (int64_t d = 0; d < depth; ++d) {
    int64_t start = d * stride, end = std::min(start + k, padded);
    int64_t count = countIncludePad ? end - start
                                    : std::min(end, pads[0] + xs[2]) -
                                          std::max(start, pads[0]);
    if (count < 1) {
      (void)fail("a depth window reads only padding (pads larger than the "
                 "kernel)");
      return {};
    }
    counts.push_back(static_cast<double>(count));
  }
  return make<a::DivOp>({y, constantOf({depth, 1, 1}, elementOf(y), counts)});
}

Value Importer::convTranspose3dOf(Value x, Value w, ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> dilations,
                                  ArrayRef<int64_t> pads,
                                  ArrayRef<int64_t> outputPadding,
                                  ArrayRef<int64_t> outSizes, int64_t groups) {
  SmallVector<int64_t> xs(shapeOf(x)), ws(shapeOf(w));
  int64_t batch = xs[0], depth = xs[2], stride = strides[0];
  // The depth before the pads are cut off.
  int64_t full =
      stride * (depth - 1) + outputPadding[0] + dilations[0] * (ws[2] - 1) + 1;
  Value xt =
      reshape(depthToBatchOrder(x), {batch * depth, xs[1], xs[3], xs[4]});
  SmallVector<NamedAttribute> attrs = {
      ints("input_size", outSizes.drop_front()),
      ints("strides", strides.drop_front()),
      ints("pads", {pads[1], pads[2], pads[4], pads[5]}),
      ints("dilations", dilations.drop_front()), int64("groups", groups)};
  Value sum;
  for (int64_t i = 0; i < ws[2]; ++i) {
    Value y = make<a::Conv2DGradInputOp>({xt, depthTap(w, i)}, attrs);
    if (!y)
      return {};
    SmallVector<int64_t> ys(shapeOf(y));
    // Input row d lands on output row i * dilation + stride * d: the rows
    // interleaved with stride - 1 rows of zeros, then moved to the offset.
    y = reshape(y, {batch, depth, 1, ys[1], ys[2], ys[3]});
    if (stride > 1)
      y = padAxis(y, 2, 0, stride - 1, 0.0);
    y = reshape(y, {batch, depth * stride, ys[1], ys[2], ys[3]});
    int64_t offset = i * dilations[0];
    y = padAxis(y, 1, offset, full - offset - depth * stride, 0.0);
    sum = i == 0 ? y : make<a::AddOp>({sum, y});
  }
  // The pads cut off (or, for an output_shape past the full size, zero rows
  // added at the end, as output_padding adds them).
  if (sum && pads[0] > 0) {
    SmallVector<int64_t> starts(5, 0), ends(shapeOf(sum)), steps(5, 1);
    starts[1] = pads[0];
    sum = make<a::SliceOp>({sum}, {ints("starts", starts), ints("ends", ends),
                                   ints("steps", steps)});
  }
  if (sum)
    sum = padAxis(sum, 1, 0, outSizes[0] - shapeOf(sum)[1], 0.0);
  return sum ? depthToBatchOrder(sum) : Value();
}

} // namespace mlir::anvil::onnx_import
