//===- ImportShape.cpp - shape ops ----------------------------------------===//
//
// Reshape, Flatten, Transpose, Concat, Gather(Elements), Squeeze,
// Unsqueeze, Slice, Shape and Size. Shape and Size give compile-time
// tensors; the operands that fix a result shape (a Reshape's shape, Slice's
// starts) must be known at compile time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::flatten() {
  return out(0,
             make<a::FlattenOp>({in(0)}, {int64("axis", attrInt("axis", 1))}));
}

LogicalResult Importer::reshapeOp() {
  Value x = in(0);
  if (!x)
    return failure();
  const NpyArray *given = constant(1);
  if (!given)
    return fail("the shape must be known at compile time (an initializer, a "
                "Constant, or a value given to anvilc run)");
  std::vector<int64_t> shape = intsOf(*given);
  ArrayRef<int64_t> inShape = shapeOf(x);
  bool allowZero = attrInt("allowzero", 0) != 0;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= inShape.size())
        return fail("a 0 in the shape past the input's rank");
      shape[i] = inShape[i];
    }
    if (shape[i] == -1) {
      if (infer >= 0)
        return fail("more than one -1 in the shape");
      infer = i;
      continue;
    }
    known *= shape[i];
  }
  if (infer >= 0) {
    if (known == 0 || product(inShape) % known != 0)
      return fail("cannot infer the -1 of shape " + shapeString(shape) +
                  " from " + shapeString(inShape));
    shape[infer] = product(inShape) / known;
  }
  return out(0, reshape(x, shape));
}

LogicalResult Importer::transpose() {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  std::vector<int64_t> perm;
  if (auto given = attrInts("perm"))
    perm = *given;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  return out(0, make<a::TransposeOp>({x}, {ints("perm", perm)}));
}

LogicalResult Importer::concat() {
  SmallVector<Value> inputs;
  for (int i = 0; i < node->input_size(); ++i) {
    Value v = in(i);
    if (!v)
      return failure();
    inputs.push_back(v);
  }
  if (inputs.empty())
    return fail("needs at least one input");
  auto axis = normalizeAxis(attrInt("axis", 0), shapeOf(inputs[0]).size());
  if (!axis)
    return fail("axis out of range");
  return out(0, make<a::ConcatOp>(inputs, {int64("axis", *axis)}));
}

LogicalResult Importer::gather() {
  Value x = in(0), indices = in(1);
  if (!x || !indices)
    return failure();
  auto axis = normalizeAxis(attrInt("axis", 0), shapeOf(x).size());
  if (!axis)
    return fail("axis out of range");
  return out(0, make<a::GatherOp>({x, indices}, {int64("axis", *axis)}));
}

LogicalResult Importer::gatherElements() {
  Value x = in(0), indices = in(1);
  if (!x || !indices)
    return failure();
  auto axis = normalizeAxis(attrInt("axis", 0), shapeOf(x).size());
  if (!axis)
    return fail("axis out of range");
  return out(0,
             make<a::GatherElementsOp>({x, indices}, {int64("axis", *axis)}));
}

std::optional<std::vector<int64_t>> Importer::axesOperand(int input) {
  if (opset >= 13) {
    if (!has(input))
      return std::vector<int64_t>{};
    const NpyArray *given = constant(input);
    if (!given)
      return std::nullopt;
    return intsOf(*given);
  }
  return attrInts("axes").value_or(std::vector<int64_t>{});
}

LogicalResult Importer::squeezedShape(ArrayRef<int64_t> shape, bool unsqueeze,
                                      SmallVectorImpl<int64_t> &result) {
  auto axes = axesOperand(1);
  if (!axes)
    return fail("the axes must be known at compile time");
  int64_t rank = shape.size() + (unsqueeze ? axes->size() : 0);
  std::vector<bool> marked(rank, false);
  for (int64_t axis : *axes) {
    auto normalized = normalizeAxis(axis, rank);
    if (!normalized)
      return fail("axis " + std::to_string(axis) + " out of range");
    marked[*normalized] = true;
  }
  result.clear();
  if (unsqueeze) {
    for (int64_t i = 0, j = 0; i < rank; ++i)
      result.push_back(marked[i] ? 1 : shape[j++]);
    return success();
  }
  for (int64_t i = 0; i < rank; ++i) {
    bool drop = axes->empty() ? shape[i] == 1 : marked[i];
    if (drop && shape[i] != 1)
      return fail("cannot squeeze axis " + std::to_string(i) + " of size " +
                  std::to_string(shape[i]));
    if (!drop)
      result.push_back(shape[i]);
  }
  return success();
}

LogicalResult Importer::sliceBounds(ArrayRef<int64_t> shape,
                                    SmallVectorImpl<int64_t> &starts,
                                    SmallVectorImpl<int64_t> &ends,
                                    SmallVectorImpl<int64_t> &steps) {
  int64_t rank = shape.size();
  std::vector<int64_t> s, e, axes, st;
  if (opset < 10) {
    s = attrInts("starts").value_or(std::vector<int64_t>{});
    e = attrInts("ends").value_or(std::vector<int64_t>{});
    axes = attrInts("axes").value_or(std::vector<int64_t>{});
  } else {
    const NpyArray *cs = constant(1), *ce = constant(2);
    const NpyArray *ca = has(3) ? constant(3) : nullptr;
    const NpyArray *cst = has(4) ? constant(4) : nullptr;
    if (!cs || !ce || (has(3) && !ca) || (has(4) && !cst))
      return fail("starts, ends, axes and steps must be known at compile "
                  "time");
    s = intsOf(*cs);
    e = intsOf(*ce);
    if (ca)
      axes = intsOf(*ca);
    if (cst)
      st = intsOf(*cst);
  }
  if (axes.empty())
    for (size_t i = 0; i < s.size(); ++i)
      axes.push_back(i);
  if (st.empty())
    st.assign(s.size(), 1);
  if (s.size() != e.size() || s.size() != axes.size() || s.size() != st.size())
    return fail("starts, ends, axes and steps differ in length");
  starts.assign(rank, 0);
  ends.assign(shape.begin(), shape.end());
  steps.assign(rank, 1);
  for (size_t i = 0; i < s.size(); ++i) {
    auto axis = normalizeAxis(axes[i], rank);
    if (!axis || st[i] == 0)
      return fail("bad axis or a zero step");
    int64_t dim = shape[*axis], step = st[i];
    auto clampTo = [](int64_t v, int64_t lo, int64_t hi) {
      return std::min(std::max(v, lo), hi);
    };
    int64_t start = s[i] < 0 ? s[i] + dim : s[i];
    int64_t end = e[i] < 0 ? e[i] + dim : e[i];
    if (step > 0) {
      start = clampTo(start, 0, dim);
      end = clampTo(end, start, dim);
    } else {
      start = clampTo(start, 0, dim - 1);
      end = clampTo(end, -1, start);
    }
    starts[*axis] = start;
    ends[*axis] = end;
    steps[*axis] = step;
  }
  return success();
}

LogicalResult Importer::shape() {
  Value x = in(0);
  if (!x)
    return failure();
  ArrayRef<int64_t> dims = shapeOf(x);
  int64_t rank = dims.size();
  int64_t start = attrInt("start", 0), end = attrInt("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, start, rank);
  NpyArray array;
  array.dtype = DType::I64;
  array.shape = {end - start};
  array.bytes.resize(8 * (end - start));
  std::memcpy(array.bytes.data(), dims.data() + start, array.bytes.size());
  values[node->output(0)] = Val{Value(), std::move(array), false};
  return success();
}

LogicalResult Importer::size() {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t count = product(shapeOf(x));
  NpyArray array;
  array.dtype = DType::I64;
  array.bytes.resize(8);
  std::memcpy(array.bytes.data(), &count, 8);
  values[node->output(0)] = Val{Value(), std::move(array), false};
  return success();
}

LogicalResult Importer::squeeze() {
  Value x = in(0);
  SmallVector<int64_t> result;
  if (!x || failed(squeezedShape(shapeOf(x), false, result)))
    return failure();
  return out(0, reshape(x, result));
}

LogicalResult Importer::unsqueeze() {
  Value x = in(0);
  SmallVector<int64_t> result;
  if (!x || failed(squeezedShape(shapeOf(x), true, result)))
    return failure();
  return out(0, reshape(x, result));
}

LogicalResult Importer::slice() {
  Value x = in(0);
  SmallVector<int64_t> starts, ends, steps;
  if (!x || failed(sliceBounds(shapeOf(x), starts, ends, steps)))
    return failure();
  return out(0,
             make<a::SliceOp>({x}, {ints("starts", starts), ints("ends", ends),
                                    ints("steps", steps)}));
}

void Importer::addShapeHandlers(HandlerTable &table) {
  table["Concat"] = &Importer::concat;
  table["Flatten"] = &Importer::flatten;
  table["Gather"] = &Importer::gather;
  table["GatherElements"] = &Importer::gatherElements;
  table["Reshape"] = &Importer::reshapeOp;
  table["Shape"] = &Importer::shape;
  table["Size"] = &Importer::size;
  table["Slice"] = &Importer::slice;
  table["Squeeze"] = &Importer::squeeze;
  table["Transpose"] = &Importer::transpose;
  table["Unsqueeze"] = &Importer::unsqueeze;
}

} // namespace mlir::anvil::onnx_import
