//===- ImportShape.cpp - shape ops ----------------------------------------===//
//
// Reshape, Flatten, Transpose, Concat, Gather(Elements), Squeeze,
// Unsqueeze, Slice, Shape and Size, and the ops composed from those: Pad
// (constant: concat with constant blocks; reflect and edge: a gather with
// constant indices per padded axis), Split (slices), Expand (an add of a
// zero constant of the target shape: broadcasting) and Tile (concat of
// copies); Resize is in ImportResize.cpp. Shape and Size give compile-time
// tensors; the operands that fix a result shape (a Reshape's shape, Slice's
// starts, Pad's pads) must be known at compile time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include "mlir/Dialect/Traits.h"

#include <cmath>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::flatten() {
  return out(0,
             make<a::FlattenOp>({in(0)}, {int64("axis", attrInt("axis", 1))}));
}

LogicalResult Importer::reshapeTarget(ArrayRef<int64_t> inShape,
                                      std::vector<int64_t> &shape) {
  const NpyArray *given = constant(1);
  if (!given)
    return fail("the shape must be known at compile time (an initializer, a "
                "Constant, or a value given to anvilc run)");
  shape = intsOf(*given);
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
  return success();
}

LogicalResult Importer::reshapeOp() {
  Value x = in(0);
  std::vector<int64_t> shape;
  if (!x || failed(reshapeTarget(shapeOf(x), shape)))
    return failure();
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

Value Importer::splat(ArrayRef<int64_t> shape, Type elementType, double value) {
  auto type = RankedTensorType::get(shape, elementType);
  Attribute one = isa<FloatType>(elementType)
                      ? Attribute(builder.getFloatAttr(elementType, value))
                      : Attribute(builder.getIntegerAttr(
                            elementType, static_cast<int64_t>(value)));
  return make<a::ConstantOp>(
      {}, {named("value", DenseElementsAttr::get(type, one))});
}

Value Importer::gatherAt(Value x, int64_t axis, ArrayRef<int64_t> indices) {
  std::vector<double> values(indices.begin(), indices.end());
  Value at = constantOf({static_cast<int64_t>(indices.size())},
                        builder.getI64Type(), values);
  return make<a::GatherOp>({x, at}, {int64("axis", axis)});
}

LogicalResult Importer::pad() {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  std::string mode = attrString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return fail("mode '" + mode +
                "' is not supported (constant, reflect and edge are)");
  std::vector<int64_t> given;
  double value = 0.0;
  std::vector<int64_t> axes;
  if (opset < 11) {
    given = attrInts("pads").value_or(std::vector<int64_t>{});
    value = attrFloat("value", 0.0);
  } else {
    const NpyArray *pads = constant(1);
    const NpyArray *fill = has(2) ? constant(2) : nullptr;
    const NpyArray *axesGiven = has(3) ? constant(3) : nullptr;
    if (!pads || (has(2) && !fill) || (has(3) && !axesGiven))
      return fail("pads, constant_value and axes must be known at compile "
                  "time");
    given = intsOf(*pads);
    if (fill && fill->numElements() > 0)
      value = valuesOf(*fill)[0];
    if (axesGiven)
      for (int64_t axis : intsOf(*axesGiven)) {
        auto normalized = normalizeAxis(axis, rank);
        if (!normalized)
          return fail("axis " + std::to_string(axis) + " out of range");
        axes.push_back(*normalized);
      }
  }
  if (axes.empty() && !has(3))
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  if (given.size() != 2 * axes.size())
    return fail("pads has " + std::to_string(given.size()) +
                " values, expected " + std::to_string(2 * axes.size()));
  SmallVector<int64_t> before(rank, 0), after(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    before[axes[i]] = given[i];
    after[axes[i]] = given[i + axes.size()];
  }
  // Negative pads crop: one slice before any padding.
  if (llvm::any_of(given, [](int64_t p) { return p < 0; })) {
    SmallVector<int64_t> starts(rank), ends(shapeOf(x)), steps(rank, 1);
    for (int64_t d = 0; d < rank; ++d) {
      starts[d] = std::max<int64_t>(-before[d], 0);
      ends[d] -= std::max<int64_t>(-after[d], 0);
      if (starts[d] > ends[d])
        return fail("the negative pads of axis " + std::to_string(d) +
                    " remove more than its size");
    }
    x = make<a::SliceOp>({x}, {ints("starts", starts), ints("ends", ends),
                               ints("steps", steps)});
  }
  for (int64_t d = 0; x && d < rank; ++d) {
    int64_t lo = std::max<int64_t>(before[d], 0);
    int64_t hi = std::max<int64_t>(after[d], 0);
    if (lo == 0 && hi == 0)
      continue;
    int64_t size = shapeOf(x)[d];
    if (mode == "constant") {
      x = padAxis(x, d, lo, hi, value);
      continue;
    }
    // reflect and edge read only the input: one gather picks every row.
    if (size == 0 || (mode == "reflect" && (lo >= size || hi >= size)))
      return fail("reflect pads must be smaller than the axis they pad "
                  "(axis " +
                  std::to_string(d) + " has size " + std::to_string(size) +
                  ")");
    std::vector<int64_t> rows;
    for (int64_t i = -lo; i < size + hi; ++i)
      rows.push_back(mode == "edge" ? std::clamp<int64_t>(i, 0, size - 1)
                     : i < 0        ? -i
                     : i >= size    ? 2 * (size - 1) - i
                                    : i);
    x = gatherAt(x, d, rows);
  }
  return out(0, x);
}

LogicalResult Importer::split() {
  Value x = in(0);
  if (!x)
    return failure();
  ArrayRef<int64_t> shape = shapeOf(x);
  auto axis = normalizeAxis(attrInt("axis", 0), shape.size());
  if (!axis)
    return fail("axis out of range");
  int64_t size = shape[*axis], outputs = node->output_size();
  std::vector<int64_t> sizes;
  if (opset >= 13 && has(1)) {
    const NpyArray *given = constant(1);
    if (!given)
      return fail("the split sizes must be known at compile time");
    sizes = intsOf(*given);
  } else if (opset < 13) {
    sizes = attrInts("split").value_or(std::vector<int64_t>{});
  }
  if (sizes.empty()) {
    // Equal parts; from opset 18 (num_outputs) the last may be smaller.
    int64_t parts = attrInt("num_outputs", outputs);
    if (parts != outputs)
      return fail("num_outputs is " + std::to_string(parts) +
                  " but the node has " + std::to_string(outputs) + " outputs");
    if (opset < 18 && size % parts != 0)
      return fail("an axis of size " + std::to_string(size) +
                  " does not split into " + std::to_string(parts) +
                  " equal parts");
    int64_t each = (size + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::clamp<int64_t>(size - i * each, 0, each));
  }
  if (static_cast<int64_t>(sizes.size()) != outputs)
    return fail(std::to_string(sizes.size()) + " split sizes for " +
                std::to_string(outputs) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s;
  if (total != size || llvm::any_of(sizes, [](int64_t s) { return s < 0; }))
    return fail("split sizes " + shapeString(sizes) +
                " do not cover the axis of size " + std::to_string(size));
  int64_t start = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    SmallVector<int64_t> starts(shape.size(), 0), ends(shape),
        steps(shape.size(), 1);
    starts[*axis] = start;
    ends[*axis] = start + sizes[i];
    start += sizes[i];
    if (!wants(i))
      continue;
    if (failed(out(i, make<a::SliceOp>({x}, {ints("starts", starts),
                                             ints("ends", ends),
                                             ints("steps", steps)}))))
      return failure();
  }
  return success();
}

LogicalResult Importer::expand() {
  Value x = in(0);
  if (!x)
    return failure();
  const NpyArray *given = constant(1);
  if (!given)
    return fail("the shape must be known at compile time");
  std::vector<int64_t> shape = intsOf(*given);
  SmallVector<int64_t> result;
  if (!OpTrait::util::getBroadcastedShape(shapeOf(x), shape, result))
    return fail("shape " + shapeString(shapeOf(x)) + " does not broadcast to " +
                shapeString(shape));
  if (ArrayRef<int64_t>(result) == shapeOf(x))
    return out(0, x);
  if (elementOf(x).isInteger(1))
    return fail("expanding a bool tensor is not supported");
  // Adding a zero of the target shape broadcasts x to it.
  return out(0, make<a::AddOp>({x, splat(shape, elementOf(x), 0.0)}));
}

LogicalResult Importer::tile() {
  Value x = in(0);
  if (!x)
    return failure();
  const NpyArray *given = constant(1);
  if (!given)
    return fail("the repeats must be known at compile time");
  std::vector<int64_t> repeats = intsOf(*given);
  if (repeats.size() != shapeOf(x).size())
    return fail("repeats has " + std::to_string(repeats.size()) +
                " values for a rank-" + std::to_string(shapeOf(x).size()) +
                " input");
  for (auto [axis, count] : llvm::enumerate(repeats)) {
    if (count < 1)
      return fail("repeats must be >= 1, got " + shapeString(repeats));
    if (count > 1)
      x = make<a::ConcatOp>(SmallVector<Value>(count, x),
                            {int64("axis", static_cast<int64_t>(axis))});
  }
  return out(0, x);
}

void Importer::addShapeHandlers(HandlerTable &table) {
  table["Concat"] = &Importer::concat;
  table["Expand"] = &Importer::expand;
  table["Flatten"] = &Importer::flatten;
  table["Gather"] = &Importer::gather;
  table["GatherElements"] = &Importer::gatherElements;
  table["Pad"] = &Importer::pad;
  table["Reshape"] = &Importer::reshapeOp;
  table["Shape"] = &Importer::shape;
  table["Size"] = &Importer::size;
  table["Slice"] = &Importer::slice;
  table["Split"] = &Importer::split;
  table["Squeeze"] = &Importer::squeeze;
  table["Tile"] = &Importer::tile;
  table["Transpose"] = &Importer::transpose;
  table["Unsqueeze"] = &Importer::unsqueeze;
}

} // namespace mlir::anvil::onnx_import
