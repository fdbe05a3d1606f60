//===- ImportReduction.cpp - reductions -----------------------------------===//
//
// ReduceSum, ReduceMean and ReduceMax, with axes from an attribute or, from
// the opset that made them an input (13 for ReduceSum, 18 for the others),
// a compile-time input.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::reduceSum() { return reduce<a::ReduceSumOp>(13); }
LogicalResult Importer::reduceMean() { return reduce<a::ReduceMeanOp>(18); }
LogicalResult Importer::reduceMax() { return reduce<a::ReduceMaxOp>(18); }

template <typename OpT> LogicalResult Importer::reduce(int64_t axesInputSince) {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  std::vector<int64_t> axes;
  if (opset >= axesInputSince) {
    if (has(1)) {
      const NpyArray *given = constant(1);
      if (!given)
        return fail("the axes must be known at compile time");
      axes = intsOf(*given);
    }
  } else if (auto given = attrInts("axes")) {
    axes = *given;
  }
  if (axes.empty()) {
    if (attrInt("noop_with_empty_axes", 0))
      return out(0, x);
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  for (int64_t &axis : axes) {
    auto normalized = normalizeAxis(axis, rank);
    if (!normalized)
      return fail("axis out of range");
    axis = *normalized;
  }
  SmallVector<NamedAttribute> attrs = {ints("axes", axes)};
  if (attrInt("keepdims", 1))
    attrs.push_back(unit("keepdims"));
  return out(0, make<OpT>({x}, attrs));
}

void Importer::addReductionHandlers(HandlerTable &table) {
  table["ReduceMax"] = &Importer::reduceMax;
  table["ReduceMean"] = &Importer::reduceMean;
  table["ReduceSum"] = &Importer::reduceSum;
}

} // namespace mlir::anvil::onnx_import
