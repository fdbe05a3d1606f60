//===- ImportMatMul.cpp - MatMul and Gemm ---------------------------------===//
//
// MatMul (1-D operands are reshaped to matrices and back) and Gemm
// (transposes as matmul attributes, alpha and beta as multiplications).
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::matmul() {
  Value lhs = in(0), rhs = in(1);
  if (!lhs || !rhs)
    return failure();
  bool vecL = shapeOf(lhs).size() == 1, vecR = shapeOf(rhs).size() == 1;
  if (vecL)
    lhs = reshape(lhs, {1, shapeOf(lhs)[0]});
  if (vecR)
    rhs = reshape(rhs, {shapeOf(rhs)[0], 1});
  Value y = make<a::MatmulOp>({lhs, rhs});
  if (!y)
    return failure();
  if (vecL || vecR) {
    SmallVector<int64_t> shape(shapeOf(y));
    if (vecR)
      shape.pop_back();
    if (vecL)
      shape.erase(shape.end() - (vecR ? 1 : 2));
    y = reshape(y, shape);
  }
  return out(0, y);
}

LogicalResult Importer::gemm() {
  Value A = in(0), B = in(1);
  if (!A || !B)
    return failure();
  SmallVector<NamedAttribute> attrs;
  if (attrInt("transA", 0))
    attrs.push_back(unit("transpose_a"));
  if (attrInt("transB", 0))
    attrs.push_back(unit("transpose_b"));
  Value y = make<a::MatmulOp>({A, B}, attrs);
  if (!y)
    return failure();
  double alpha = attrFloat("alpha", 1.0), beta = attrFloat("beta", 1.0);
  Type element = elementOf(y);
  if (alpha != 1.0)
    y = make<a::MulOp>({y, scalar(alpha, element)});
  if (has(2)) {
    Value c = in(2);
    if (c && beta != 1.0)
      c = make<a::MulOp>({c, scalar(beta, element)});
    y = make<a::AddOp>({y, c});
  }
  return out(0, y);
}

void Importer::addMatMulHandlers(HandlerTable &table) {
  table["Gemm"] = &Importer::gemm;
  table["MatMul"] = &Importer::matmul;
}

} // namespace mlir::anvil::onnx_import
