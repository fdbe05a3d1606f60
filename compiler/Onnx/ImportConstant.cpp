//===- ImportConstant.cpp - constants and folding -------------------------===//
//
// Constant and ConstantOfShape become compile-time tensors, and fold()
// evaluates integer shape arithmetic (Shape -> Gather -> Concat -> Reshape
// chains of exported models, and the chains PyTorch writes for Pad's pads
// and Expand's shape: Reshape, Slice, Transpose, Equal, Where) with the
// folders of the anvil ops (dialects/AnvilFolders.cpp), so that the importer
// and the canonicalizer compute a constant the same way. A folded value
// stays an array until a node that is not folded reads it: only then does
// it become an anvil.constant (Importer::materialize).
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"
#include "runtime/Error.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/ScopeExit.h"

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
  NpyArray one = fillValue(*node, path + ": ConstantOfShape " + nodeLabel());
  std::vector<double> fill = valuesOf(one);
  double value = fill.empty() ? 0.0 : fill[0];
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

template <typename OpT>
std::optional<NpyArray> Importer::evaluate(ArrayRef<const NpyArray *> args,
                                           ArrayRef<NamedAttribute> attrs) {
  // Everything built here is erased on the way out, users before what they
  // use, so that the module is left as it was.
  SmallVector<Operation *> operandOps;
  Operation *op = nullptr, *folded = nullptr;
  auto erase = llvm::make_scope_exit([&] {
    if (folded)
      folded->erase();
    if (op)
      op->erase();
    for (Operation *constant : operandOps)
      constant->erase();
  });
  SmallVector<Value> operands;
  for (const NpyArray *arg : args) {
    Type element = arg ? mlirTypeOf(arg->dtype, context) : Type();
    if (!element)
      return std::nullopt;
    auto constant = builder.create<a::ConstantOp>(loc, attrOf(*arg, element));
    operandOps.push_back(constant);
    operands.push_back(constant);
  }
  SmallVector<Type> types;
  if (failed(OpT::inferReturnTypes(
          &context, loc, operands, builder.getDictionaryAttr(attrs),
          OpaqueProperties(nullptr), RegionRange(), types)))
    return std::nullopt;
  op = builder.create<OpT>(loc, types, operands, attrs);
  // The folders assume a verified op (attributes of the right length).
  if (failed(mlir::verify(op)))
    return std::nullopt;
  // createOrFold's fold: the result, materialized as an anvil.constant (or
  // one of the operands), unless the folder declines.
  SmallVector<Value> results;
  if (failed(builder.tryFold(op, results)) || results.size() != 1)
    return std::nullopt;
  if (Operation *def = results[0].getDefiningOp();
      def && def != op && !llvm::is_contained(operandOps, def))
    folded = def;
  DenseElementsAttr value;
  if (!matchPattern(results[0], m_Constant(&value)))
    return std::nullopt;
  return arrayOf(value);
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
  std::vector<const NpyArray *> args;
  for (int i = 0; i < node->input_size(); ++i) {
    if (!has(i)) {
      args.push_back(nullptr);
      continue;
    }
    const NpyArray *data = constant(i);
    // Only integer data folds: float initializers are trainable parameters.
    if (!data || data->dtype == DType::F32 || data->dtype == DType::F64 ||
        data->numElements() > 4096)
      return failure();
    args.push_back(data);
  }
  if (args.empty() || !args[0])
    return failure();
  const NpyArray &x = *args[0];
  int64_t rank = x.shape.size();
  // The operands the op computes on: all of them for Concat and the
  // elementwise ops, the data alone where the other inputs are attributes
  // (axes, bounds, a shape).
  auto two = [&]() -> std::vector<const NpyArray *> {
    if (args.size() < 2 || !args[1])
      return {};
    return {args[0], args[1]};
  };
  std::optional<NpyArray> result;
  if (type == "Gather") {
    auto axis = normalizeAxis(attrInt("axis", 0), rank);
    if (!axis)
      return fail("axis out of range");
    if (std::vector<const NpyArray *> operands = two(); !operands.empty())
      result = evaluate<a::GatherOp>(operands, {int64("axis", *axis)});
  } else if (type == "Unsqueeze" || type == "Squeeze") {
    SmallVector<int64_t> shape;
    if (failed(squeezedShape(x.shape, type == "Unsqueeze", shape)))
      return failure();
    result = evaluate<a::ReshapeOp>({&x}, {ints("shape", shape)});
  } else if (type == "Concat") {
    auto axis = normalizeAxis(attrInt("axis", 0), rank);
    if (!axis)
      return fail("axis out of range");
    result = evaluate<a::ConcatOp>(args, {int64("axis", *axis)});
  } else if (type == "Cast") {
    std::optional<DType> to = dtypeOfOnnx(attrInt("to", 0));
    Type element = to ? mlirTypeOf(*to, context) : Type();
    if (!element)
      return failure();
    result = evaluate<a::CastOp>({&x}, {named("to", TypeAttr::get(element))});
  } else if (type == "Slice") {
    SmallVector<int64_t> starts, ends, steps;
    if (failed(sliceBounds(x.shape, starts, ends, steps)))
      return failure();
    result =
        evaluate<a::SliceOp>({&x}, {ints("starts", starts), ints("ends", ends),
                                    ints("steps", steps)});
  } else if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div") {
    std::vector<const NpyArray *> operands = two();
    if (operands.empty())
      return failure();
    result = type == "Add"   ? evaluate<a::AddOp>(operands)
             : type == "Sub" ? evaluate<a::SubOp>(operands)
             : type == "Mul" ? evaluate<a::MulOp>(operands)
                             : evaluate<a::DivOp>(operands);
    // The folder leaves an integer division by zero to run time; here the
    // divisor is known, and that is an error in the model.
    if (!result && type == "Div" && llvm::is_contained(valuesOf(*args[1]), 0.0))
      return fail("integer division by zero");
  } else if (type == "Equal") {
    if (std::vector<const NpyArray *> operands = two(); !operands.empty())
      result = evaluate<a::CompareOp>(operands,
                                      {predicateAttr(ComparePredicate::eq)});
  } else if (type == "Where") {
    if (args.size() == 3 && args[1] && args[2])
      result = evaluate<a::SelectOp>(args);
  } else if (type == "Neg") {
    result = evaluate<a::NegOp>({&x});
  } else if (type == "Identity") {
    result = x;
  } else if (type == "Reshape") {
    std::vector<int64_t> shape;
    if (failed(reshapeTarget(x.shape, shape)))
      return failure();
    result = evaluate<a::ReshapeOp>({&x}, {ints("shape", shape)});
  } else if (type == "Transpose") {
    SmallVector<int64_t> perm;
    if (auto given = attrInts("perm"))
      perm.assign(given->begin(), given->end());
    else
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    result = evaluate<a::TransposeOp>({&x}, {ints("perm", perm)});
  } else if (type == "ConstantOfShape") {
    std::vector<int64_t> shape = intsOf(x);
    // Only small shapes fold; constantOfShape() makes the others a splat.
    int64_t count = 1;
    for (int64_t d : shape)
      if (d < 0 || __builtin_mul_overflow(count, d, &count) || count > 4096)
        return failure();
    NpyArray one;
    try {
      one = fillValue(*node, path + ": ConstantOfShape " + nodeLabel());
    } catch (const ::anvil::Error &e) {
      return fail(e.what());
    }
    std::vector<double> given = valuesOf(one);
    NpyArray fill;
    fill.dtype = one.dtype;
    fill.shape = shape;
    fill.bytes.resize(count * ::anvil::dtypeSize(one.dtype));
    double value = given.empty() ? 0.0 : given[0];
    for (int64_t i = 0; i < count; ++i)
      ::anvil::storeElement(fill.dtype, fill.bytes.data(), i, value);
    result = std::move(fill);
  }
  // Not folded (an op the folders leave to run time, or one that does not
  // verify): the node's handler builds it, and reports what is wrong.
  if (!result)
    return failure();
  values[node->output(0)] = Val{Value(), std::move(*result), false};
  return success();
}

void Importer::addConstantHandlers(HandlerTable &table) {
  table["Constant"] = &Importer::constantOp;
  table["ConstantOfShape"] = &Importer::constantOfShape;
}

} // namespace mlir::anvil::onnx_import
