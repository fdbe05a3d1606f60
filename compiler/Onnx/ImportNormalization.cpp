//===- ImportNormalization.cpp - normalization and dropout ----------------===//
//
// BatchNormalization (inference and training forms), LayerNormalization
// (with its optional mean and inverse-deviation outputs) and Dropout.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::batchNormalization() {
  // Running statistics are state, not weights: no gradient trains them.
  for (int i : {3, 4})
    if (has(i))
      if (auto it = values.find(node->input(i));
          it != values.end() && !it->second.value)
        it->second.trainable = false;
  Value x = in(0), scale = in(1), bias = in(2), mean = in(3), var = in(4);
  if (!x || !scale || !bias || !mean || !var)
    return failure();
  if (opset < 9 && attrInt("spatial", 1) != 1)
    return fail("spatial = 0 is not supported");
  double epsilon = attrFloat("epsilon", 1e-5);
  bool training = attrInt("training_mode", 0) != 0;
  if (!training) {
    if (wants(1) || wants(2) || wants(3) || wants(4))
      return fail("the training-form outputs are not supported with "
                  "training_mode = 0");
    return out(0, make<a::BatchNormOp>({x, scale, bias, mean, var},
                                       {f64("epsilon", epsilon)}));
  }
  Operation *op =
      build<a::BatchNormTrainOp>({x, scale, bias}, {f64("epsilon", epsilon)});
  if (!op)
    return failure();
  // Running statistics: old * momentum + batch * (1 - momentum).
  double momentum = attrFloat("momentum", 0.9);
  Type element = elementOf(x);
  auto running = [&](Value old, Value batch) {
    return make<a::AddOp>(
        {make<a::MulOp>({old, scalar(momentum, element)}),
         make<a::MulOp>({batch, scalar(1.0 - momentum, element)})});
  };
  if (failed(out(0, op->getResult(0))))
    return failure();
  if (wants(1) && failed(out(1, running(mean, op->getResult(1)))))
    return failure();
  if (wants(2) && failed(out(2, running(var, op->getResult(2)))))
    return failure();
  return success();
}

LogicalResult Importer::layerNormalization() {
  Value x = in(0), scale = in(1);
  if (!x || !scale)
    return failure();
  int64_t rank = shapeOf(x).size();
  auto axis = normalizeAxis(attrInt("axis", -1), rank);
  if (!axis)
    return fail("axis out of range");
  double epsilon = attrFloat("epsilon", 1e-5);
  Type element = elementOf(x);
  Value bias =
      has(2) ? in(2)
             : constantOf(shapeOf(scale), element,
                          std::vector<double>(product(shapeOf(scale)), 0.0));
  if (failed(out(0, make<a::LayerNormOp>(
                        {x, scale, bias},
                        {int64("axis", *axis), f64("epsilon", epsilon)}))))
    return failure();
  if (!wants(1) && !wants(2))
    return success();
  SmallVector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  SmallVector<NamedAttribute> reduceAttrs = {ints("axes", axes),
                                             unit("keepdims")};
  Value mean = make<a::ReduceMeanOp>({x}, reduceAttrs);
  Value centered = make<a::SubOp>({x, mean});
  Value var = make<a::ReduceMeanOp>({make<a::MulOp>({centered, centered})},
                                    reduceAttrs);
  Value invStd =
      make<a::RsqrtOp>({make<a::AddOp>({var, scalar(epsilon, element)})});
  if (wants(1) && failed(out(1, mean)))
    return failure();
  if (wants(2) && failed(out(2, invStd)))
    return failure();
  return success();
}

LogicalResult Importer::dropout() {
  Value x = in(0);
  if (!x)
    return failure();
  double ratio = attrFloat("ratio", 0.5);
  bool training = false;
  if (opset >= 12) {
    if (has(1)) {
      const NpyArray *r = constant(1);
      if (!r)
        return fail("the ratio must be a constant");
      ratio = valuesOf(*r).at(0);
    }
    if (has(2)) {
      const NpyArray *t = constant(2);
      if (!t)
        return fail("training_mode must be a constant");
      training = valuesOf(*t).at(0) != 0;
    }
  }
  if (!training || ratio == 0.0) {
    if (failed(out(0, x)))
      return failure();
    if (wants(1)) {
      SmallVector<int64_t> shape(shapeOf(x));
      return out(1, constantOf(shape, builder.getI1Type(),
                               std::vector<double>(product(shape), 1.0)));
    }
    return success();
  }
  Operation *op =
      build<a::DropoutOp>({x}, {f64("ratio", ratio), unit("training"),
                                int64("seed", attrInt("seed", 0))});
  if (!op || failed(out(0, op->getResult(0))))
    return failure();
  return wants(1) ? out(1, op->getResult(1)) : success();
}

void Importer::addNormalizationHandlers(HandlerTable &table) {
  table["BatchNormalization"] = &Importer::batchNormalization;
  table["Dropout"] = &Importer::dropout;
  table["LayerNormalization"] = &Importer::layerNormalization;
}

} // namespace mlir::anvil::onnx_import
