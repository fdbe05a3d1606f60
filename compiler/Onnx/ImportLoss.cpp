//===- ImportLoss.cpp - loss ops ------------------------------------------===//
//
// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss: the anvil loss ops
// for the plain 2-D case, one_hot compositions for class weights,
// ignore_index and K-D inputs.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::sce() { return loss(true); }
LogicalResult Importer::nll() { return loss(false); }

// Both losses with class weights, ignore_index and K-D inputs, written with
// one_hot: the weight of sample i is w[t_i] (0 for ignored or out-of-range
// targets), its loss -w[t_i] * logp[i, t_i], and `mean` divides by the sum
// of the weights, as ONNX defines.
LogicalResult Importer::loss(bool softmax) {
  Value x = in(0), target = in(1);
  if (!x || !target)
    return failure();
  std::string spelling = attrString("reduction", "mean");
  // ONNX spells the reductions as the dialect does.
  std::optional<LossReduction> reduction = symbolizeLossReduction(spelling);
  if (!reduction)
    return fail("reduction '" + spelling + "' is not supported");
  const onnx::AttributeProto *ignore = attr("ignore_index");
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t rank = shape.size();
  if (rank < 2)
    return fail("the input needs a class dimension");
  int64_t classes = shape[1];
  Type element = elementOf(x);
  Value logp = softmax ? make<a::LogSoftmaxOp>({x}, {int64("axis", 1)}) : x;
  if (softmax && wants(1) && failed(out(1, logp)))
    return failure();
  if (rank == 2 && !has(2) && !ignore) {
    SmallVector<NamedAttribute> attrs = {reductionAttr(*reduction)};
    return out(0, softmax ? make<a::SoftmaxCrossEntropyOp>({x, target}, attrs)
                          : make<a::NllLossOp>({x, target}, attrs));
  }
  if (rank > 2) {
    SmallVector<int64_t> perm = {0};
    for (int64_t i = 2; i < rank; ++i)
      perm.push_back(i);
    perm.push_back(1);
    logp = make<a::TransposeOp>({logp}, {ints("perm", perm)});
  }
  Value weights =
      make<a::OneHotOp>({target}, {int64("classes", classes),
                                   named("dtype", TypeAttr::get(element))});
  if (has(2))
    weights = make<a::MulOp>({weights, in(2)});
  if (ignore && ignore->i() >= 0 && ignore->i() < classes) {
    std::vector<double> keep(classes, 1.0);
    keep[ignore->i()] = 0.0;
    weights = make<a::MulOp>({weights, constantOf({classes}, element, keep)});
  }
  Value perSample = make<a::NegOp>({make<a::ReduceSumOp>(
      {make<a::MulOp>({weights, logp})}, {ints("axes", {rank - 1})})});
  if (*reduction == LossReduction::None)
    return out(0, perSample);
  if (!perSample)
    return failure();
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < rank - 1; ++i)
    all.push_back(i);
  Value total = make<a::ReduceSumOp>({perSample}, {ints("axes", all)});
  if (*reduction == LossReduction::Sum)
    return out(0, total);
  SmallVector<int64_t> allWeights(all);
  allWeights.push_back(rank - 1);
  Value count = make<a::ReduceSumOp>({weights}, {ints("axes", allWeights)});
  return out(0, make<a::DivOp>({total, count}));
}

void Importer::addLossHandlers(HandlerTable &table) {
  table["NegativeLogLikelihoodLoss"] = &Importer::nll;
  table["SoftmaxCrossEntropyLoss"] = &Importer::sce;
}

} // namespace mlir::anvil::onnx_import
