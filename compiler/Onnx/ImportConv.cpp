//===- ImportConv.cpp - convolution and pooling ---------------------------===//
//
// Conv, ConvTranspose, MaxPool, AveragePool (1-D ones as 2-D with a unit
// height, 3-D ones as 2-D ones over depth slices: ImportVolume.cpp) and
// GlobalAveragePool; auto_pad becomes explicit pads.
// ConvTranspose is the gradient of a convolution with respect to its input
// (anvil.conv2d_grad_input), whose output size it states, plus the bias.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::paddingFor(ArrayRef<int64_t> inSizes,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> dilations,
                                   SmallVectorImpl<int64_t> &pads) {
  size_t n = inSizes.size();
  // The same rule the anvil op's verifier applies, checked before the
  // SAME_* padding below divides by a stride.
  for (auto [name, values] :
       {std::pair{"strides", strides}, std::pair{"dilations", dilations}})
    if (llvm::any_of(values, [](int64_t v) { return v < 1; }))
      return fail(std::string(name) + " entries must be >= 1, got " +
                  shapeString(values));
  std::string autoPad = attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    auto given = attrInts("pads");
    if (given)
      pads.assign(given->begin(), given->end());
    else
      pads.assign(2 * n, 0);
    if (pads.size() != 2 * n)
      return fail("pads has " + std::to_string(pads.size()) +
                  " values, expected " + std::to_string(2 * n));
    return success();
  }
  pads.assign(2 * n, 0);
  if (autoPad == "VALID")
    return success();
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return fail("auto_pad '" + autoPad + "' is not supported");
  for (size_t i = 0; i < n; ++i) {
    int64_t outSize = (inSizes[i] + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (outSize - 1) * strides[i] +
                                             (kernel[i] - 1) * dilations[i] +
                                             1 - inSizes[i]);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[i + n] = autoPad == "SAME_UPPER" ? large : small;
  }
  return success();
}

FailureOr<Importer::ConvWindow> Importer::convWindow(Value x, Value w,
                                                     const std::string &what) {
  int64_t spatial = static_cast<int64_t>(shapeOf(x).size()) - 2;
  if (spatial < 1 || spatial > 3)
    return fail(std::to_string(spatial) + "-D " + what +
                " is not supported (1-D, 2-D and 3-D are)");
  if (static_cast<int64_t>(shapeOf(w).size()) != spatial + 2)
    return fail("the weight's rank does not match the input's");
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  if (auto k = attrInts("kernel_shape");
      k && ArrayRef<int64_t>(*k) != ArrayRef<int64_t>(kernel))
    return fail("kernel_shape does not match the weight's shape");
  std::vector<int64_t> ones(spatial, 1);
  ConvWindow window{spatial, kernel, attrInts("strides").value_or(ones),
                    attrInts("dilations").value_or(ones)};
  if (static_cast<int64_t>(window.strides.size()) != spatial ||
      static_cast<int64_t>(window.dilations.size()) != spatial)
    return fail("strides or dilations of the wrong length");
  return window;
}

LogicalResult Importer::conv() { return out(0, convOf(in(0), in(1), in(2))); }

Value Importer::convOf(Value x, Value w, Value bias) {
  if (!x || !w)
    return {};
  FailureOr<ConvWindow> window = convWindow(x, w, "convolution");
  if (failed(window))
    return {};
  auto [spatial, kernel, strides, dilations] = *window;
  SmallVector<int64_t> pads;
  if (failed(paddingFor(shapeOf(x).drop_front(2), kernel, strides, dilations,
                        pads)))
    return {};
  if (spatial == 3)
    return conv3dOf(x, w, bias, strides, dilations, pads, attrInt("group", 1));
  SmallVector<int64_t> xs(shapeOf(x)), ws(shapeOf(w));
  if (spatial == 1) {
    x = reshape(x, {xs[0], xs[1], 1, xs[2]});
    w = reshape(w, {ws[0], ws[1], 1, ws[2]});
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  SmallVector<Value> operands = {x, w};
  if (bias)
    operands.push_back(bias);
  Value y =
      make<a::Conv2DOp>(operands, {ints("strides", strides), ints("pads", pads),
                                   ints("dilations", dilations),
                                   int64("groups", attrInt("group", 1))});
  if (y && spatial == 1) {
    ArrayRef<int64_t> ys = shapeOf(y);
    y = reshape(y, {ys[0], ys[1], ys[3]});
  }
  return y;
}

LogicalResult Importer::maxPool() { return pool(true); }
LogicalResult Importer::averagePool() { return pool(false); }

LogicalResult Importer::pool(bool max) {
  Value x = in(0);
  if (!x)
    return failure();
  if (wants(1))
    return fail("the Indices output is not supported");
  int64_t spatial = static_cast<int64_t>(shapeOf(x).size()) - 2;
  if (spatial < 1 || spatial > 3)
    return fail(std::to_string(spatial) +
                "-D pooling is not supported (1-D, 2-D and 3-D are)");
  auto kernel = attrInts("kernel_shape");
  if (!kernel || static_cast<int64_t>(kernel->size()) != spatial)
    return fail("needs a kernel_shape with one size per spatial axis");
  auto strides = attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  auto dilations =
      attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1));
  if (!max && llvm::any_of(dilations, [](int64_t d) { return d != 1; }))
    return fail("dilated average pooling is not supported");
  SmallVector<int64_t> pads;
  if (failed(paddingFor(shapeOf(x).drop_front(2), *kernel, strides, dilations,
                        pads)))
    return failure();
  if (spatial == 3)
    return out(0, pool3dOf(x, max, *kernel, strides, dilations, pads,
                           attrInt("ceil_mode", 0) != 0,
                           attrInt("count_include_pad", 0) != 0));
  SmallVector<int64_t> xs(shapeOf(x));
  if (spatial == 1) {
    x = reshape(x, {xs[0], xs[1], 1, xs[2]});
    kernel->insert(kernel->begin(), 1);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  SmallVector<NamedAttribute> attrs = {
      ints("kernel", *kernel), ints("strides", strides), ints("pads", pads)};
  if (attrInt("ceil_mode", 0))
    attrs.push_back(unit("ceil_mode"));
  Value y;
  if (max) {
    attrs.push_back(ints("dilations", dilations));
    y = make<a::MaxPool2DOp>({x}, attrs);
  } else {
    if (attrInt("count_include_pad", 0))
      attrs.push_back(unit("count_include_pad"));
    y = make<a::AvgPool2DOp>({x}, attrs);
  }
  if (y && spatial == 1) {
    ArrayRef<int64_t> ys = shapeOf(y);
    y = reshape(y, {ys[0], ys[1], ys[3]});
  }
  return out(0, y);
}

LogicalResult Importer::globalAveragePool() {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  if (rank == 4)
    return out(0, make<a::GlobalAvgPoolOp>({x}));
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  return out(
      0, make<a::ReduceMeanOp>({x}, {ints("axes", axes), unit("keepdims")}));
}

LogicalResult Importer::convTranspose() {
  Value x = in(0), w = in(1);
  if (!x || !w)
    return failure();
  FailureOr<ConvWindow> window = convWindow(x, w, "ConvTranspose");
  if (failed(window))
    return failure();
  auto [spatial, kernel, strides, dilations] = *window;
  auto extra =
      attrInts("output_padding").value_or(std::vector<int64_t>(spatial, 0));
  if (static_cast<int64_t>(extra.size()) != spatial)
    return fail("output_padding of the wrong length");
  for (int64_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1)
      return fail("strides and dilations must be >= 1");
    // Larger output padding would need input rows that no window reads.
    if (extra[i] < 0 || extra[i] >= strides[i])
      return fail("output_padding must be in [0, stride), got " +
                  shapeString(extra));
  }
  SmallVector<int64_t> inSizes(shapeOf(x).drop_front(2));
  // The full output size before padding is cut off, per axis.
  auto fullSize = [&](int64_t i) {
    return strides[i] * (inSizes[i] - 1) + extra[i] +
           (kernel[i] - 1) * dilations[i] + 1;
  };
  std::string autoPad = attrString("auto_pad", "NOTSET");
  auto outputShape = attrInts("output_shape");
  SmallVector<int64_t> pads(2 * spatial, 0), outSizes(spatial);
  if (outputShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    if (outputShape && static_cast<int64_t>(outputShape->size()) > spatial)
      outputShape->erase(outputShape->begin(), outputShape->end() - spatial);
    if (outputShape && static_cast<int64_t>(outputShape->size()) != spatial)
      return fail("output_shape needs one size per spatial axis");
    for (int64_t i = 0; i < spatial; ++i) {
      outSizes[i] = outputShape ? (*outputShape)[i] : inSizes[i] * strides[i];
      // A larger output_shape than the convolution gives adds rows at the
      // end, as output_padding does.
      int64_t total = fullSize(i) - outSizes[i];
      if (total < -(strides[i] - extra[i] - 1))
        return fail("output_shape " + shapeString(*outputShape) +
                    " is larger than the convolution gives plus the stride");
      total = std::max<int64_t>(total, 0);
      // The odd unit goes at the end, except with SAME_LOWER.
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_LOWER" ? large : small;
      pads[i + spatial] = autoPad == "SAME_LOWER" ? small : large;
    }
  } else if (autoPad == "NOTSET" || autoPad == "VALID") {
    if (auto given = attrInts("pads"); given && autoPad == "NOTSET")
      pads.assign(given->begin(), given->end());
    if (static_cast<int64_t>(pads.size()) != 2 * spatial)
      return fail("pads has " + std::to_string(pads.size()) +
                  " values, expected " + std::to_string(2 * spatial));
    for (int64_t i = 0; i < spatial; ++i)
      outSizes[i] = fullSize(i) - pads[i] - pads[i + spatial];
  } else {
    return fail("auto_pad '" + autoPad + "' is not supported");
  }
  if (llvm::any_of(outSizes, [](int64_t s) { return s < 1; }))
    return fail("the output would be empty: " + shapeString(outSizes));
  SmallVector<int64_t> xs(shapeOf(x)), ws(shapeOf(w));
  if (spatial == 1) {
    x = reshape(x, {xs[0], xs[1], 1, xs[2]});
    w = reshape(w, {ws[0], ws[1], 1, ws[2]});
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
    outSizes.insert(outSizes.begin(), 1);
  }
  Value y =
      spatial == 3
          ? convTranspose3dOf(x, w, strides, dilations, pads, extra, outSizes,
                              attrInt("group", 1))
          : make<a::Conv2DGradInputOp>(
                {x, w}, {ints("input_size", outSizes), ints("strides", strides),
                         ints("pads", pads), ints("dilations", dilations),
                         int64("groups", attrInt("group", 1))});
  if (y && has(2)) {
    Value bias = in(2);
    if (!bias || shapeOf(bias).size() != 1 || shapeOf(bias)[0] != shapeOf(y)[1])
      return fail("the bias must have one value per output channel");
    SmallVector<int64_t> perChannel(shapeOf(y).size() - 1, 1);
    perChannel[0] = shapeOf(bias)[0];
    y = make<a::AddOp>({y, reshape(bias, perChannel)});
  }
  if (y && spatial == 1) {
    ArrayRef<int64_t> ys = shapeOf(y);
    y = reshape(y, {ys[0], ys[1], ys[3]});
  }
  return out(0, y);
}

void Importer::addConvHandlers(HandlerTable &table) {
  table["AveragePool"] = &Importer::averagePool;
  table["Conv"] = &Importer::conv;
  table["ConvTranspose"] = &Importer::convTranspose;
  table["GlobalAveragePool"] = &Importer::globalAveragePool;
  table["MaxPool"] = &Importer::maxPool;
}

} // namespace mlir::anvil::onnx_import
