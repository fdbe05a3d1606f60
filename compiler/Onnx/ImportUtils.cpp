//===- ImportUtils.cpp - what the handlers share --------------------------===//
//
// The Importer's helpers for the node being imported: its operands
// (materialized as anvil constants or params on first use), attributes,
// results and problems, and the small builders every family uses.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include <cstring>
#include <functional>
#include <numeric>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

int64_t product(llvm::ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

/// The values of an integer or float array as doubles / int64s.
std::vector<double> valuesOf(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = ::anvil::loadElement(array.dtype, array.bytes.data(), i);
  return out;
}

std::vector<int64_t> intsOf(const NpyArray &array) {
  if (array.dtype == DType::I64) {
    std::vector<int64_t> out(array.numElements());
    // An empty tensor's data() may be null, which memcpy may not take.
    if (!array.bytes.empty())
      std::memcpy(out.data(), array.bytes.data(), array.bytes.size());
    return out;
  }
  std::vector<int64_t> out;
  for (double v : valuesOf(array))
    out.push_back(static_cast<int64_t>(v));
  return out;
}

/// A possibly negative axis of a rank-`rank` tensor, normalized (the
/// dialect's rule), or nothing when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  int64_t normalized = a::normalizeAxis(axis, rank);
  if (normalized < 0)
    return std::nullopt;
  return normalized;
}

std::string Importer::nodeLabel() const {
  std::string name = node->name().empty()
                         ? "#" + std::to_string(nodeIndex) + " (output '" +
                               (node->output_size() ? node->output(0) : "") +
                               "')"
                         : "'" + node->name() + "'";
  return name;
}

void Importer::record(const std::string &key, const std::string &who) {
  for (auto &entry : problems)
    if (entry.first == key) {
      entry.second.push_back(who);
      return;
    }
  problems.push_back({key, {who}});
}

LogicalResult Importer::fail(const std::string &message) {
  record(node->op_type() + ": " + message, nodeLabel());
  return failure();
}

const onnx::AttributeProto *Importer::attr(const std::string &name) const {
  for (const auto &a : node->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Importer::attrInt(const std::string &name, int64_t fallback) const {
  const auto *a = attr(name);
  return a ? a->i() : fallback;
}

double Importer::attrFloat(const std::string &name, double fallback) const {
  const auto *a = attr(name);
  return a ? a->f() : fallback;
}

std::string Importer::attrString(const std::string &name,
                                 const std::string &fallback) const {
  const auto *a = attr(name);
  return a ? a->s() : fallback;
}

std::optional<std::vector<int64_t>>
Importer::attrInts(const std::string &name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

DenseElementsAttr attrOf(const NpyArray &data, Type element) {
  auto type = RankedTensorType::get(data.shape, element);
  if (data.dtype != DType::Bool)
    return DenseElementsAttr::getFromRawBuffer(type, data.bytes);
  SmallVector<bool> flags;
  for (char c : data.bytes)
    flags.push_back(c != 0);
  return DenseElementsAttr::get(type, ArrayRef<bool>(flags));
}

std::optional<NpyArray> arrayOf(DenseElementsAttr attr) {
  std::optional<DType> dtype = a::dtypeOf(attr.getElementType());
  if (!dtype)
    return std::nullopt;
  NpyArray array;
  array.dtype = *dtype;
  ArrayRef<int64_t> shape = attr.getType().getShape();
  array.shape.assign(shape.begin(), shape.end());
  int64_t count = attr.getNumElements();
  if (*dtype == DType::Bool) {
    for (bool flag : attr.getValues<bool>())
      array.bytes.push_back(flag ? 1 : 0);
    return array;
  }
  // Other types are stored packed, as in a file; a splat stores one element.
  ArrayRef<char> raw = attr.getRawData();
  if (!attr.isSplat()) {
    array.bytes.assign(raw.begin(), raw.end());
    return array;
  }
  array.bytes.reserve(count * raw.size());
  for (int64_t i = 0; i < count; ++i)
    array.bytes.insert(array.bytes.end(), raw.begin(), raw.end());
  return array;
}

Value Importer::materialize(const std::string &name, Val &val) {
  if (val.value || !val.data)
    return val.value;
  const NpyArray &data = *val.data;
  Type element = mlirTypeOf(data.dtype, context);
  if (!element) {
    record("dtype " + std::string(::anvil::dtypeName(data.dtype)) +
               " is not supported in compiled code",
           "'" + name + "'");
    return {};
  }
  DenseElementsAttr attr = attrOf(data, element);
  auto type = cast<RankedTensorType>(attr.getType());
  OpBuilder::InsertionGuard guard(builder);
  // Constants and parameters go at the top of the function, so that a value
  // first used inside the graph dominates every later use.
  Block *body = builder.getInsertionBlock();
  builder.setInsertionPointToStart(body);
  Location at = NameLoc::get(builder.getStringAttr(name), fileLoc);
  if (val.trainable && isa<FloatType>(element))
    val.value = builder.create<a::ParamOp>(
        at, TypeRange{type}, ValueRange{},
        ArrayRef<NamedAttribute>{
            named("name", builder.getStringAttr(name)),
            named("init", builder.getStringAttr(
                              a::stringifyInitializer(a::Initializer::Dense))),
            named("value", attr)});
  else
    val.value = builder.create<a::ConstantOp>(at, type, attr);
  return val.value;
}

Value Importer::in(int i) {
  if (!has(i))
    return {};
  auto it = values.find(node->input(i));
  if (it == values.end())
    return {};
  return materialize(node->input(i), it->second);
}

const NpyArray *Importer::constant(int i) {
  if (!has(i))
    return nullptr;
  auto it = values.find(node->input(i));
  if (it == values.end() || !it->second.data)
    return nullptr;
  return &*it->second.data;
}

LogicalResult Importer::out(int i, Value value) {
  if (!value)
    return failure();
  if (wants(i))
    values[node->output(i)].value = value;
  return success();
}

Value Importer::constantOf(ArrayRef<int64_t> shape, Type elementType,
                           ArrayRef<double> data) {
  auto type = RankedTensorType::get(shape, elementType);
  DenseElementsAttr attr;
  if (auto f = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> vals;
    for (double v : data) {
      APFloat x(v);
      bool lost;
      x.convert(f.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(x);
    }
    attr = DenseElementsAttr::get(type, vals);
  } else {
    SmallVector<APInt> vals;
    for (double v : data)
      vals.push_back(APInt(elementType.getIntOrFloatBitWidth(),
                           static_cast<int64_t>(v), /*isSigned=*/true));
    attr = DenseElementsAttr::get(type, vals);
  }
  return builder.create<a::ConstantOp>(loc, type, attr);
}

Value Importer::scalar(double value, Type elementType) {
  return constantOf({}, elementType, {value});
}

Value Importer::reshape(Value value, ArrayRef<int64_t> shape) {
  if (!value)
    return {};
  if (shapeOf(value) == shape)
    return value;
  return make<a::ReshapeOp>({value}, {ints("shape", shape)});
}

} // namespace mlir::anvil::onnx_import
