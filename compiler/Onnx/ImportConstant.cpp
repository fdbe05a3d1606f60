//===- ImportConstant.cpp - constants and folding -------------------------===//
//
// Constant and ConstantOfShape become compile-time tensors, and fold()
// evaluates integer shape arithmetic (Shape -> Gather -> Concat -> Reshape
// chains of exported models, and the chains PyTorch writes for Pad's pads
// and Expand's shape: Reshape, Slice, Transpose, Equal, Where) with the
// reference kernels.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"
#include "compiler/Reference/Kernels.h"
#include "runtime/Error.h"

#include <cstring>
#include <set>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::constantOp() {
  NpyArray array;
  if (const auto *v = attr("value")) {
    try {
      array = tensorFromProto(v->t(), path + ": Constant " + nodeLabel());
    } catch (const ::anvil::Error &e) {
      return fail(e.what());
    }
  } else if (const auto *f = attr("value_float")) {
    array.dtype = DType::F32;
    float value = f->f();
    array.bytes.resize(4);
    std::memcpy(array.bytes.data(), &value, 4);
  } else if (const auto *fs = attr("value_floats")) {
    array.dtype = DType::F32;
    array.shape = {fs->floats_size()};
    array.bytes.resize(4 * fs->floats_size());
    std::memcpy(array.bytes.data(), fs->floats().data(), array.bytes.size());
  } else if (const auto *i = attr("value_int")) {
    array.dtype = DType::I64;
    int64_t value = i->i();
    array.bytes.resize(8);
    std::memcpy(array.bytes.data(), &value, 8);
  } else if (const auto *is = attr("value_ints")) {
    array.dtype = DType::I64;
    array.shape = {is->ints_size()};
    array.bytes.resize(8 * is->ints_size());
    std::memcpy(array.bytes.data(), is->ints().data(), array.bytes.size());
  } else {
    return fail("only tensor, float and int values are supported");
  }
  if (wants(0))
    values[node->output(0)] = Val{Value(), std::move(array), false};
  return success();
}

/// The value ConstantOfShape fills with (ONNX: a float zero by default).
static NpyArray fillValue(const onnx::NodeProto &node,
                          const std::string &where) {
  NpyArray fill;
  fill.dtype = DType::F32;
  fill.bytes.resize(4, 0);
  for (const auto &a : node.attribute())
    if (a.name() == "value")
      fill = tensorFromProto(a.t(), where);
  return fill;
}

LogicalResult Importer::constantOfShape() {
  // Small fills fold (fold()); larger ones become a splat constant, which
  // holds one value however large the shape. A shape computed at run time
  // cannot give a static type.
  const NpyArray *given = constant(0);
  if (!given)
    return fail("the shape must be known at compile time");
  std::vector<int64_t> shape = intsOf(*given);
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return fail("shape " + shapeString(shape) + " has a negative size");
  ::anvil::ref::Tensor one = ::anvil::ref::fromNpy(
      fillValue(*node, path + ": ConstantOfShape " + nodeLabel()));
  double value = one.data.empty() ? 0.0 : one.data[0];
  Type element = mlirTypeOf(one.dtype, context);
  if (!element)
    return fail("dtype " + std::string(::anvil::dtypeName(one.dtype)) +
                " is not supported");
  auto type = RankedTensorType::get(shape, element);
  if (std::string problem = a::tensorSizeProblem(type); !problem.empty())
    return fail(problem);
  Attribute splat = isa<FloatType>(element)
                        ? Attribute(builder.getFloatAttr(element, value))
                        : Attribute(builder.getIntegerAttr(
                              element, static_cast<int64_t>(value)));
  return out(0, make<a::ConstantOp>(
                    {}, {named("value", DenseElementsAttr::get(type, splat))}));
}

LogicalResult Importer::fold() {
  static const std::set<std::string> foldable = {"Shape",     "Gather",
                                                 "Unsqueeze", "Squeeze",
                                                 "Concat",    "Cast",
                                                 "Slice",     "Add",
                                                 "Sub",       "Mul",
                                                 "Div",       "Neg",
                                                 "Identity",  "ConstantOfShape",
                                                 "Reshape",   "Transpose",
                                                 "Equal",     "Where"};
  const std::string &type = node->op_type();
  if (!foldable.count(type) || !wants(0))
    return failure();
  if (type == "Shape")
    return shape();
  std::vector<::anvil::ref::Tensor> args;
  for (int i = 0; i < node->input_size(); ++i) {
    if (!has(i)) {
      args.emplace_back();
      continue;
    }
    const NpyArray *data = constant(i);
    // Only integer data folds: float initializers are trainable parameters.
    if (!data || data->dtype == DType::F32 || data->dtype == DType::F64 ||
        data->numElements() > 4096)
      return failure();
    args.push_back(::anvil::ref::fromNpy(*data));
  }
  if (args.empty())
    return failure();
  namespace ref = ::anvil::ref;
  ref::Tensor result;
  const ref::Tensor &x = args[0];
  try {
    if (type == "Gather") {
      auto axis = normalizeAxis(attrInt("axis", 0), x.rank());
      if (!axis)
        return fail("axis out of range");
      result = ref::gather(x, args[1], *axis);
    } else if (type == "Unsqueeze" || type == "Squeeze") {
      SmallVector<int64_t> shape;
      if (failed(squeezedShape(x.shape, type == "Unsqueeze", shape)))
        return failure();
      result = ref::reshape(x, ref::Shape(shape.begin(), shape.end()));
    } else if (type == "Concat") {
      auto axis = normalizeAxis(attrInt("axis", 0), x.rank());
      if (!axis)
        return fail("axis out of range");
      result = ref::concat(args, *axis);
    } else if (type == "Cast") {
      std::optional<DType> to = dtypeOfOnnx(attrInt("to", 0));
      if (!to)
        return failure();
      result = ref::castTo(x, *to);
    } else if (type == "Slice") {
      SmallVector<int64_t> starts, ends, steps;
      if (failed(sliceBounds(x.shape, starts, ends, steps)))
        return failure();
      result = ref::slice(x, ref::Shape(starts.begin(), starts.end()),
                          ref::Shape(ends.begin(), ends.end()),
                          ref::Shape(steps.begin(), steps.end()));
    } else if (type == "Add" || type == "Sub" || type == "Mul" ||
               type == "Div") {
      ref::BinaryKind kind = type == "Add"   ? ref::BinaryKind::Add
                             : type == "Sub" ? ref::BinaryKind::Sub
                             : type == "Mul" ? ref::BinaryKind::Mul
                                             : ref::BinaryKind::Div;
      result = ref::binary(kind, x, args[1]);
    } else if (type == "Equal") {
      result = ref::compare(a::ComparePredicate::eq, x, args[1]);
    } else if (type == "Where") {
      result = ref::where(x, args[1], args[2]);
    } else if (type == "Neg") {
      result = ref::unary(ref::UnaryKind::Neg, x);
    } else if (type == "Identity") {
      result = x;
    } else if (type == "Reshape") {
      std::vector<int64_t> shape;
      if (failed(reshapeTarget(x.shape, shape)))
        return failure();
      result = ref::reshape(x, ref::Shape(shape.begin(), shape.end()));
    } else if (type == "Transpose") {
      ref::Shape perm;
      if (auto given = attrInts("perm"))
        perm.assign(given->begin(), given->end());
      else
        for (int64_t i = x.rank() - 1; i >= 0; --i)
          perm.push_back(i);
      result = ref::transpose(x, perm);
    } else if (type == "ConstantOfShape") {
      std::vector<int64_t> shape = intsOf(*constant(0));
      // Only small shapes fold; constantOfShape() makes the others a splat.
      int64_t count = 1;
      for (int64_t d : shape)
        if (d < 0 || __builtin_mul_overflow(count, d, &count) || count > 4096)
          return failure();
      ref::Tensor one = ref::fromNpy(
          fillValue(*node, path + ": ConstantOfShape " + nodeLabel()));
      result = ref::Tensor(one.dtype, ref::Shape(shape.begin(), shape.end()),
                           one.data.empty() ? 0.0 : one.data[0]);
    }
  } catch (const std::exception &e) {
    return fail(e.what());
  }
  values[node->output(0)] = Val{Value(), ref::toNpy(result), false};
  return success();
}

void Importer::addConstantHandlers(HandlerTable &table) {
  table["Constant"] = &Importer::constantOp;
  table["ConstantOfShape"] = &Importer::constantOfShape;
}

} // namespace mlir::anvil::onnx_import
