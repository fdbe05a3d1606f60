//===- ImportMatMul.cpp - MatMul and Gemm ---------------------------------===//
//
// MatMul (1-D operands are reshaped to matrices and back), Gemm
// (transposes as matmul attributes, alpha and beta as multiplications) and
// Einsum: operands are folded left to right, each pair as one batched
// matmul between transposes and reshapes ([batch, free, contracted] times
// [batch, contracted, free]); labels nothing later needs are summed out
// first. Diagonals (a label twice in one operand) are not supported.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include <map>

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

namespace {
/// An einsum operand: its value and one label per dimension.
struct Labeled {
  Value value;
  std::string labels;
};
} // namespace

LogicalResult Importer::einsum() {
  std::string equation;
  for (char c : attrString("equation", ""))
    if (c != ' ')
      equation += c;
  size_t arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != node->input_size())
    return fail("equation '" + equation + "' has " +
                std::to_string(terms.size()) + " operand(s), the node " +
                std::to_string(node->input_size()));
  // An ellipsis stands for the leading dimensions it covers, which get
  // the labels '0', '1', ... aligned from the right (as broadcasting).
  std::vector<Labeled> operands;
  int64_t ellipsisRank = 0;
  for (auto [i, term] : llvm::enumerate(terms)) {
    Value v = in(i);
    if (!v)
      return failure();
    int64_t rank = shapeOf(v).size();
    size_t dots = term.find("...");
    int64_t letters = term.size() - (dots == std::string::npos ? 0 : 3);
    if (dots == std::string::npos ? letters != rank : letters > rank)
      return fail("term '" + term + "' does not fit operand " +
                  std::to_string(i) + " of rank " + std::to_string(rank));
    ellipsisRank = std::max(ellipsisRank, rank - letters);
    operands.push_back({v, term});
  }
  auto expand = [&](std::string term, int64_t covered) {
    size_t dots = term.find("...");
    if (dots == std::string::npos)
      return term;
    std::string digits;
    for (int64_t j = ellipsisRank - covered; j < ellipsisRank; ++j)
      digits += static_cast<char>('0' + j);
    return term.replace(dots, 3, digits);
  };
  std::map<char, int64_t> sizes, counts;
  for (Labeled &op : operands) {
    int64_t rank = shapeOf(op.value).size();
    size_t dots = op.labels.find("...");
    op.labels = expand(op.labels, dots == std::string::npos
                                      ? 0
                                      : rank - (int64_t(op.labels.size()) - 3));
    for (auto [d, label] : llvm::enumerate(op.labels)) {
      if (op.labels.find(label) != d)
        return fail("label '" + std::string(1, label) +
                    "' repeats within one operand (a diagonal), which is "
                    "not supported");
      int64_t size = shapeOf(op.value)[d];
      auto [it, fresh] = sizes.insert({label, size});
      if (!fresh && it->second != size)
        return fail("label '" + std::string(1, label) + "' has sizes " +
                    std::to_string(it->second) + " and " +
                    std::to_string(size) + " (broadcasting is not supported)");
      ++counts[label];
    }
  }
  std::string output;
  if (arrow != std::string::npos) {
    output = expand(equation.substr(arrow + 2), ellipsisRank);
  } else {
    for (int64_t j = 0; j < ellipsisRank; ++j)
      output += static_cast<char>('0' + j);
    for (auto [label, count] : counts)
      if (count == 1 && !std::isdigit(label))
        output += label;
  }
  for (auto [d, label] : llvm::enumerate(output))
    if (!sizes.count(label) || output.find(label) != d)
      return fail("output label '" + std::string(1, label) +
                  "' is not an input label or repeats");

  // Sums out the labels of `op` that are not in `keep`.
  auto sumOut = [&](Labeled op, const std::string &keep) -> Labeled {
    SmallVector<int64_t> axes;
    std::string kept;
    for (auto [d, label] : llvm::enumerate(op.labels)) {
      if (keep.find(label) == std::string::npos)
        axes.push_back(d);
      else
        kept += label;
    }
    if (axes.empty())
      return op;
    return {make<a::ReduceSumOp>({op.value}, {ints("axes", axes)}), kept};
  };
  // Transposes `op` to the label order `order`.
  auto permute = [&](Labeled op, const std::string &order) -> Labeled {
    if (op.labels == order)
      return op;
    SmallVector<int64_t> perm;
    for (char label : order)
      perm.push_back(op.labels.find(label));
    return {make<a::TransposeOp>({op.value}, {ints("perm", perm)}), order};
  };
  auto dims = [&](const std::string &labels) {
    int64_t n = 1;
    for (char label : labels)
      n *= sizes[label];
    return n;
  };
  // The labels the operands after `i` and the output need.
  auto neededAfter = [&](size_t i) {
    std::string needed = output;
    for (size_t j = i + 1; j < operands.size(); ++j)
      needed += operands[j].labels;
    return needed;
  };

  Labeled acc = sumOut(operands[0], neededAfter(0));
  for (size_t i = 1; i < operands.size() && acc.value; ++i) {
    std::string keep = neededAfter(i);
    Labeled rhs = sumOut(operands[i], keep + acc.labels);
    if (!rhs.value)
      return failure();
    std::string batch, contracted, freeL, freeR;
    for (char label : acc.labels) {
      bool shared = rhs.labels.find(label) != std::string::npos;
      bool kept = keep.find(label) != std::string::npos;
      (shared ? (kept ? batch : contracted) : freeL) += label;
    }
    for (char label : rhs.labels)
      if (acc.labels.find(label) == std::string::npos)
        freeR += label;
    // Operand layouts the matmul reads directly, with its transposes.
    SmallVector<NamedAttribute> attrs;
    if (acc.labels == batch + contracted + freeL && !freeL.empty())
      attrs.push_back(unit("transpose_a"));
    else
      acc = permute(acc, batch + freeL + contracted);
    if (rhs.labels == batch + freeR + contracted && !freeR.empty())
      attrs.push_back(unit("transpose_b"));
    else
      rhs = permute(rhs, batch + contracted + freeR);
    int64_t b = dims(batch), m = dims(freeL), k = dims(contracted),
            n = dims(freeR);
    bool ta = !attrs.empty() && attrs.front().getName() == "transpose_a";
    bool tb = !attrs.empty() && attrs.back().getName() == "transpose_b";
    auto shape3 = [&](int64_t rows, int64_t cols) {
      return b == 1 ? SmallVector<int64_t>{rows, cols}
                    : SmallVector<int64_t>{b, rows, cols};
    };
    Value l = reshape(acc.value, ta ? shape3(k, m) : shape3(m, k));
    Value r = reshape(rhs.value, tb ? shape3(n, k) : shape3(k, n));
    Value product = make<a::MatmulOp>({l, r}, attrs);
    SmallVector<int64_t> shape;
    for (char label : batch + freeL + freeR)
      shape.push_back(sizes[label]);
    acc = {reshape(product, shape), batch + freeL + freeR};
    acc = sumOut(acc, keep);
  }
  if (!acc.value)
    return failure();
  return out(0, permute(acc, output).value);
}

void Importer::addMatMulHandlers(HandlerTable &table) {
  table["Einsum"] = &Importer::einsum;
  table["Gemm"] = &Importer::gemm;
  table["MatMul"] = &Importer::matmul;
}

} // namespace mlir::anvil::onnx_import
