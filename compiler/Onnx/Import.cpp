//===- Import.cpp - ONNX models into the anvil dialect --------------------===//
//
// One Importer walks the graph in order. Every ONNX value maps to an MLIR
// value, a compile-time tensor (initializers, Constant nodes, values given
// to `anvilc run`), or both; compile-time tensors become anvil ops only when
// something uses them as a tensor, and ops that need a constant operand (a
// Reshape's shape) read them directly. A node that cannot be imported
// records a problem and leaves its outputs undefined; nodes that depend on
// it are still checked for op and dtype support, so one run lists
// everything.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Import.h"
#include "compiler/Reference/Kernels.h"
#include "dialects/AnvilOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>

using namespace mlir;
namespace a = mlir::anvil;
using ::anvil::DType;
using ::anvil::NpyArray;
using mlir::anvil::OnnxImportOptions;
using mlir::anvil::OnnxProblems;

namespace {

constexpr int kMinOpset = 7, kMaxOpset = 17, kConvertTo = 13;

std::optional<DType> dtypeOfOnnx(int type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return DType::F32;
  case onnx::TensorProto::DOUBLE:
    return DType::F64;
  case onnx::TensorProto::INT64:
    return DType::I64;
  case onnx::TensorProto::INT32:
    return DType::I32;
  case onnx::TensorProto::INT8:
    return DType::I8;
  case onnx::TensorProto::UINT8:
    return DType::U8;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

int onnxOfDtype(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return onnx::TensorProto::FLOAT;
  case DType::F64:
    return onnx::TensorProto::DOUBLE;
  case DType::I64:
    return onnx::TensorProto::INT64;
  case DType::I32:
    return onnx::TensorProto::INT32;
  case DType::I8:
    return onnx::TensorProto::INT8;
  case DType::U8:
    return onnx::TensorProto::UINT8;
  case DType::Bool:
    return onnx::TensorProto::BOOL;
  }
  return onnx::TensorProto::UNDEFINED;
}

std::string onnxTypeName(int type) {
  if (!onnx::TensorProto_DataType_IsValid(type))
    return "type " + std::to_string(type);
  return llvm::StringRef(onnx::TensorProto_DataType_Name(type)).lower();
}

/// The element type compiled code uses for `dtype` (null: none).
Type mlirTypeOf(DType dtype, MLIRContext &context) {
  switch (dtype) {
  case DType::F32:
    return Float32Type::get(&context);
  case DType::F64:
    return Float64Type::get(&context);
  case DType::I64:
    return IntegerType::get(&context, 64);
  case DType::I32:
    return IntegerType::get(&context, 32);
  case DType::I8:
    return IntegerType::get(&context, 8);
  case DType::Bool:
    return IntegerType::get(&context, 1);
  case DType::U8:
    return {};
  }
  return {};
}

int64_t product(llvm::ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The data of a TensorProto; throws anvil::Error mentioning `where`.
NpyArray tensorFromProto(const onnx::TensorProto &t, const std::string &where) {
  std::optional<DType> dtype = dtypeOfOnnx(t.data_type());
  if (!dtype)
    throw ::anvil::Error(where + ": holds a tensor of " +
                         onnxTypeName(t.data_type()) +
                         ", which Anvil does not handle");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw ::anvil::Error(where +
                         ": keeps its data in an external file, which Anvil "
                         "does not read; save the model with the data inside");
  NpyArray array;
  array.dtype = *dtype;
  for (int64_t d : t.dims()) {
    if (d < 0)
      throw ::anvil::Error(where + ": has a negative dimension");
    array.shape.push_back(d);
  }
  // The dims are the file's claim: compare the data present with them
  // before allocating anything of their size.
  int64_t bytes = ::anvil::byteCount(*dtype, array.shape);
  if (bytes < 0)
    throw ::anvil::Error(where + ": claims shape " + shapeString(array.shape) +
                         ", more data than any file can hold; the file is "
                         "corrupt");
  size_t size = ::anvil::dtypeSize(*dtype);
  int64_t n = bytes / static_cast<int64_t>(size);
  auto mismatch = [&](size_t got) {
    return ::anvil::Error(where + ": has " + std::to_string(got) +
                          " values for shape " + shapeString(array.shape) +
                          " (" + std::to_string(n) +
                          "); the file is truncated or corrupt");
  };
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<size_t>(bytes))
      throw mismatch(t.raw_data().size() / size);
    array.bytes.assign(t.raw_data().begin(), t.raw_data().end());
    return array;
  }
  auto copy = [&](const auto &field, auto convert) {
    if (static_cast<int64_t>(field.size()) != n)
      throw mismatch(field.size());
    array.bytes.resize(bytes);
    for (int64_t i = 0; i < n; ++i) {
      auto v = convert(field.Get(i));
      std::memcpy(array.bytes.data() + i * size, &v, size);
    }
  };
  switch (*dtype) {
  case DType::F32:
    copy(t.float_data(), [](float v) { return v; });
    break;
  case DType::F64:
    copy(t.double_data(), [](double v) { return v; });
    break;
  case DType::I64:
    copy(t.int64_data(), [](int64_t v) { return v; });
    break;
  case DType::I32:
    copy(t.int32_data(), [](int32_t v) { return v; });
    break;
  case DType::I8:
    copy(t.int32_data(), [](int32_t v) { return static_cast<int8_t>(v); });
    break;
  case DType::U8:
    copy(t.int32_data(), [](int32_t v) { return static_cast<uint8_t>(v); });
    break;
  case DType::Bool:
    copy(t.int32_data(),
         [](int32_t v) { return static_cast<uint8_t>(v != 0); });
    break;
  }
  return array;
}

/// The values of an integer or float array as doubles / int64s.
std::vector<double> valuesOf(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  const char *p = array.bytes.data();
  for (size_t i = 0; i < out.size(); ++i) {
    switch (array.dtype) {
    case DType::F32:
      out[i] = reinterpret_cast<const float *>(p)[i];
      break;
    case DType::F64:
      out[i] = reinterpret_cast<const double *>(p)[i];
      break;
    case DType::I64:
      out[i] = static_cast<double>(reinterpret_cast<const int64_t *>(p)[i]);
      break;
    case DType::I32:
      out[i] = reinterpret_cast<const int32_t *>(p)[i];
      break;
    case DType::I8:
      out[i] = reinterpret_cast<const int8_t *>(p)[i];
      break;
    case DType::U8:
    case DType::Bool:
      out[i] = reinterpret_cast<const uint8_t *>(p)[i];
      break;
    }
  }
  return out;
}

std::vector<int64_t> intsOf(const NpyArray &array) {
  if (array.dtype == DType::I64) {
    std::vector<int64_t> out(array.numElements());
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

class Importer {
public:
  Importer(MLIRContext &context, const onnx::ModelProto &model,
           const std::string &path, const OnnxImportOptions &options)
      : context(context), builder(&context), model(model), path(path),
        options(options) {
    for (const auto &entry : model.opset_import())
      if (entry.domain().empty() || entry.domain() == "ai.onnx")
        opset = entry.version();
  }

  OwningOpRef<ModuleOp> run(OnnxProblems &out);

private:
  /// What an ONNX value name stands for.
  struct Val {
    Value value;
    std::optional<NpyArray> data;
    /// Becomes a trainable anvil.param (float initializers).
    bool trainable = false;
  };
  using Handler = LogicalResult (Importer::*)();

  static const std::map<std::string, Handler> &handlers();

  // Problem recording.
  LogicalResult fail(const std::string &message);
  void record(const std::string &key, const std::string &who);
  std::string nodeLabel() const;

  // Operands and results of the current node.
  bool has(int i) const {
    return i < node->input_size() && !node->input(i).empty();
  }
  bool wants(int i) const {
    return i < node->output_size() && !node->output(i).empty();
  }
  Value in(int i);
  const NpyArray *constant(int i);
  LogicalResult out(int i, Value value);
  Value materialize(const std::string &name, Val &val);

  // Attributes of the current node.
  const onnx::AttributeProto *attr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t fallback) const;
  double attrFloat(const std::string &name, double fallback) const;
  std::string attrString(const std::string &name,
                         const std::string &fallback) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string &name) const;

  // Building.
  template <typename OpT>
  Operation *build(ValueRange operands, ArrayRef<NamedAttribute> attrs = {});
  template <typename OpT>
  Value make(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    Operation *op = build<OpT>(operands, attrs);
    return op ? op->getResult(0) : Value();
  }
  NamedAttribute named(StringRef name, Attribute value) {
    return builder.getNamedAttr(name, value);
  }
  NamedAttribute ints(StringRef name, ArrayRef<int64_t> values) {
    return named(name, builder.getDenseI64ArrayAttr(values));
  }
  NamedAttribute int64(StringRef name, int64_t value) {
    return named(name, builder.getI64IntegerAttr(value));
  }
  NamedAttribute f64(StringRef name, double value) {
    return named(name, builder.getF64FloatAttr(value));
  }
  NamedAttribute unit(StringRef name) {
    return named(name, builder.getUnitAttr());
  }
  Value scalar(double value, Type elementType);
  Value constantOf(ArrayRef<int64_t> shape, Type elementType,
                   ArrayRef<double> values);
  Value reshape(Value value, ArrayRef<int64_t> shape);
  static ArrayRef<int64_t> shapeOf(Value v) {
    return mlir::cast<RankedTensorType>(v.getType()).getShape();
  }
  static Type elementOf(Value v) {
    return mlir::cast<RankedTensorType>(v.getType()).getElementType();
  }

  LogicalResult importGraphInputs(func::FuncOp func);
  void checkNodeTypes();
  LogicalResult importNode();

  // Handlers, one per ONNX op (or family).
  template <typename OpT> LogicalResult binary();
  template <typename OpT> LogicalResult unary();
  /// Max and Min: one or more operands, folded pairwise.
  template <typename OpT> LogicalResult variadic();
  LogicalResult pow();
  LogicalResult compare(StringRef predicate);
  LogicalResult equal() { return compare("eq"); }
  LogicalResult greater() { return compare("gt"); }
  LogicalResult less() { return compare("lt"); }
  LogicalResult greaterOrEqual() { return compare("ge"); }
  LogicalResult lessOrEqual() { return compare("le"); }
  LogicalResult where();
  LogicalResult reciprocal();
  LogicalResult leakyRelu();
  LogicalResult clip();
  LogicalResult softmax();
  LogicalResult logSoftmax();
  LogicalResult softmaxLike(bool log);
  LogicalResult matmul();
  LogicalResult gemm();
  LogicalResult conv();
  LogicalResult maxPool();
  LogicalResult averagePool();
  LogicalResult pool(bool max);
  LogicalResult globalAveragePool();
  LogicalResult batchNormalization();
  LogicalResult layerNormalization();
  LogicalResult flatten();
  LogicalResult reshapeOp();
  LogicalResult transpose();
  LogicalResult concat();
  LogicalResult gather();
  LogicalResult gatherElements();
  LogicalResult dropout();
  LogicalResult identity();
  LogicalResult castOp();
  LogicalResult constantOp();
  LogicalResult reduceSum();
  LogicalResult reduceMean();
  LogicalResult reduceMax();
  template <typename OpT> LogicalResult reduce(bool axesAsInput);
  LogicalResult sce();
  LogicalResult nll();
  LogicalResult loss(bool softmax);
  LogicalResult shape();
  LogicalResult size();
  LogicalResult squeeze();
  LogicalResult unsqueeze();
  LogicalResult slice();
  LogicalResult constantOfShape();

  /// Evaluates the node at compile time when all its inputs are integer
  /// constants (the shape arithmetic of exported models); fails otherwise.
  LogicalResult fold();
  /// The axes of Squeeze/Unsqueeze (an attribute before opset 13).
  std::optional<std::vector<int64_t>> axesOperand(int input);
  /// The normalized full-rank starts, ends and steps of a Slice.
  LogicalResult sliceBounds(ArrayRef<int64_t> shape,
                            SmallVectorImpl<int64_t> &starts,
                            SmallVectorImpl<int64_t> &ends,
                            SmallVectorImpl<int64_t> &steps);
  /// The shape Squeeze/Unsqueeze give `shape`.
  LogicalResult squeezedShape(ArrayRef<int64_t> shape, bool unsqueeze,
                              SmallVectorImpl<int64_t> &result);

  /// Spatial padding for auto_pad, or the explicit pads.
  LogicalResult paddingFor(ArrayRef<int64_t> in, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> dilations,
                           SmallVectorImpl<int64_t> &pads);

  MLIRContext &context;
  OpBuilder builder;
  const onnx::ModelProto &model;
  std::string path;
  const OnnxImportOptions &options;
  int64_t opset = 0;

  llvm::StringMap<Val> values;
  /// The symbolic dimensions of the graph inputs (OnnxProblems::symbols).
  std::vector<std::string> symbols;
  /// Element types known from the model's declarations and shape inference.
  llvm::StringMap<int> declaredTypes;
  const onnx::NodeProto *node = nullptr;
  int nodeIndex = 0;
  Location loc = UnknownLoc::get(&context);
  std::string lastDiagnostic;
  /// Problem kind -> the nodes (or values) that have it, in order.
  std::vector<std::pair<std::string, std::vector<std::string>>> problems;
};

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
  auto type = RankedTensorType::get(data.shape, element);
  DenseElementsAttr attr;
  if (data.dtype == DType::Bool) {
    std::vector<bool> bits;
    for (char c : data.bytes)
      bits.push_back(c != 0);
    SmallVector<bool> flags(bits.begin(), bits.end());
    attr = DenseElementsAttr::get(type, ArrayRef<bool>(flags));
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(type, data.bytes);
  }
  OpBuilder::InsertionGuard guard(builder);
  // Constants and parameters go at the top of the function, so that a value
  // first used inside the graph dominates every later use.
  Block *body = builder.getInsertionBlock();
  builder.setInsertionPointToStart(body);
  Location at = NameLoc::get(builder.getStringAttr(name));
  if (val.trainable && isa<FloatType>(element))
    val.value = builder.create<a::ParamOp>(
        at, TypeRange{type}, ValueRange{},
        ArrayRef<NamedAttribute>{named("name", builder.getStringAttr(name)),
                                 named("init", builder.getStringAttr("dense")),
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

template <typename OpT>
Operation *Importer::build(ValueRange operands,
                           ArrayRef<NamedAttribute> attrs) {
  for (Value v : operands)
    if (!v)
      return nullptr;
  SmallVector<Type> types;
  lastDiagnostic.clear();
  DictionaryAttr dict = builder.getDictionaryAttr(attrs);
  if (failed(OpT::inferReturnTypes(&context, loc, operands, dict,
                                   OpaqueProperties(nullptr), RegionRange(),
                                   types))) {
    (void)fail(lastDiagnostic.empty() ? "cannot infer the result types"
                                      : lastDiagnostic);
    return nullptr;
  }
  Operation *op = builder.create<OpT>(loc, types, operands, attrs);
  if (failed(mlir::verify(op))) {
    (void)fail(lastDiagnostic);
    op->erase();
    return nullptr;
  }
  return op;
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

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpT> LogicalResult Importer::binary() {
  Value lhs = in(0), rhs = in(1);
  if (!lhs || !rhs)
    return failure();
  if (elementOf(lhs) != elementOf(rhs))
    return fail("operands of different element types");
  if (attrInt("broadcast", 0) && attr("axis"))
    return fail("legacy broadcasting along an axis is not supported");
  return out(0, make<OpT>({lhs, rhs}));
}

template <typename OpT> LogicalResult Importer::variadic() {
  Value result = in(0);
  for (int i = 1; result && i < node->input_size(); ++i) {
    Value next = in(i);
    if (!next)
      return failure();
    if (elementOf(next) != elementOf(result))
      return fail("operands of different element types");
    result = make<OpT>({result, next});
  }
  return out(0, result);
}

template <typename OpT> LogicalResult Importer::unary() {
  return out(0, make<OpT>({in(0)}));
}

LogicalResult Importer::pow() {
  Value base = in(0), exponent = in(1);
  if (!base || !exponent)
    return failure();
  Type element = elementOf(base);
  if (!isa<FloatType>(element)) {
    // Integer powers in double precision, exact for results below 2^53.
    Type f64 = builder.getF64Type();
    Value result = make<a::PowOp>(
        {make<a::CastOp>({base}, {named("to", TypeAttr::get(f64))}),
         make<a::CastOp>({exponent}, {named("to", TypeAttr::get(f64))})});
    return out(
        0, make<a::CastOp>({result}, {named("to", TypeAttr::get(element))}));
  }
  if (elementOf(exponent) != element)
    exponent = make<a::CastOp>({exponent},
                               {named("to", TypeAttr::get(elementOf(base)))});
  return out(0, make<a::PowOp>({base, exponent}));
}

LogicalResult Importer::compare(StringRef predicate) {
  Value lhs = in(0), rhs = in(1);
  if (!lhs || !rhs)
    return failure();
  if (elementOf(lhs) != elementOf(rhs))
    return fail("operands of different element types");
  return out(0, make<a::CompareOp>(
                    {lhs, rhs},
                    {named("predicate", builder.getStringAttr(predicate))}));
}

LogicalResult Importer::where() {
  return out(0, make<a::SelectOp>({in(0), in(1), in(2)}));
}

LogicalResult Importer::reciprocal() {
  Value x = in(0);
  if (!x)
    return failure();
  return out(0, make<a::DivOp>({scalar(1.0, elementOf(x)), x}));
}

LogicalResult Importer::leakyRelu() {
  return out(0, make<a::LeakyReluOp>({in(0)},
                                     {f64("alpha", attrFloat("alpha", 0.01))}));
}

LogicalResult Importer::clip() {
  Value x = in(0);
  if (!x)
    return failure();
  if (opset < 11) {
    SmallVector<NamedAttribute> attrs;
    if (attr("min"))
      attrs.push_back(f64("min", attrFloat("min", 0)));
    if (attr("max"))
      attrs.push_back(f64("max", attrFloat("max", 0)));
    return out(0, make<a::ClipOp>({x}, attrs));
  }
  // Bounds known at compile time become attributes; others are computed.
  const NpyArray *lo = constant(1), *hi = constant(2);
  if ((!has(1) || lo) && (!has(2) || hi) && isa<FloatType>(elementOf(x))) {
    SmallVector<NamedAttribute> attrs;
    if (lo)
      attrs.push_back(f64("min", valuesOf(*lo).at(0)));
    if (hi)
      attrs.push_back(f64("max", valuesOf(*hi).at(0)));
    return out(0, make<a::ClipOp>({x}, attrs));
  }
  Value y = x;
  if (has(1))
    y = make<a::MaxOp>({y, in(1)});
  if (has(2))
    y = make<a::MinOp>({y, in(2)});
  return out(0, y);
}

LogicalResult Importer::softmax() { return softmaxLike(false); }
LogicalResult Importer::logSoftmax() { return softmaxLike(true); }

LogicalResult Importer::softmaxLike(bool log) {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  auto axis = normalizeAxis(attrInt("axis", opset < 13 ? 1 : -1), rank);
  if (!axis)
    return fail("axis out of range");
  auto apply = [&](Value v, int64_t ax) {
    return log ? make<a::LogSoftmaxOp>({v}, {int64("axis", ax)})
               : make<a::SoftmaxOp>({v}, {int64("axis", ax)});
  };
  if (opset >= 13)
    return out(0, apply(x, *axis));
  // Before opset 13 the input is seen as 2-D around `axis`.
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> shape2 = {product(shape.take_front(*axis)),
                                 product(shape.drop_front(*axis))};
  SmallVector<int64_t> original(shape);
  return out(0, reshape(apply(reshape(x, shape2), 1), original));
}

//===----------------------------------------------------------------------===//
// Linear algebra and convolution
//===----------------------------------------------------------------------===//

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

LogicalResult Importer::paddingFor(ArrayRef<int64_t> inSizes,
                                   ArrayRef<int64_t> kernel,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> dilations,
                                   SmallVectorImpl<int64_t> &pads) {
  size_t n = inSizes.size();
  // The same rule the anvil op's verifier applies, checked before the
  // SAME_* padding below divides by a stride.
  for (auto [name, values] :
       {std::pair{"strides", strides}, std::pair{"dilations", dilations}})
    if (llvm::any_of(values, [](int64_t v) { return v < 1; }))
      return fail(std::string(name) + " entries must be >= 1, got " +
                  shapeString(values));
  std::string autoPad = attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    auto given = attrInts("pads");
    if (given)
      pads.assign(given->begin(), given->end());
    else
      pads.assign(2 * n, 0);
    if (pads.size() != 2 * n)
      return fail("pads has " + std::to_string(pads.size()) +
                  " values, expected " + std::to_string(2 * n));
    return success();
  }
  pads.assign(2 * n, 0);
  if (autoPad == "VALID")
    return success();
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return fail("auto_pad '" + autoPad + "' is not supported");
  for (size_t i = 0; i < n; ++i) {
    int64_t outSize = (inSizes[i] + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (outSize - 1) * strides[i] +
                                             (kernel[i] - 1) * dilations[i] +
                                             1 - inSizes[i]);
    int64_t small = total / 2, large = total - small;
    pads[i] = autoPad == "SAME_UPPER" ? small : large;
    pads[i + n] = autoPad == "SAME_UPPER" ? large : small;
  }
  return success();
}

LogicalResult Importer::conv() {
  Value x = in(0), w = in(1);
  if (!x || !w)
    return failure();
  int64_t spatial = static_cast<int64_t>(shapeOf(x).size()) - 2;
  if (spatial != 1 && spatial != 2)
    return fail(std::to_string(spatial) +
                "-D convolution is not supported (1-D and 2-D are)");
  if (static_cast<int64_t>(shapeOf(w).size()) != spatial + 2)
    return fail("the weight's rank does not match the input's");
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  if (auto k = attrInts("kernel_shape");
      k && ArrayRef<int64_t>(*k) != ArrayRef<int64_t>(kernel))
    return fail("kernel_shape does not match the weight's shape");
  auto strides = attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  auto dilations =
      attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1));
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial)
    return fail("strides or dilations of the wrong length");
  SmallVector<int64_t> pads;
  if (failed(paddingFor(shapeOf(x).drop_front(2), kernel, strides, dilations,
                        pads)))
    return failure();
  SmallVector<int64_t> xs(shapeOf(x)), ws(shapeOf(w));
  if (spatial == 1) {
    x = reshape(x, {xs[0], xs[1], 1, xs[2]});
    w = reshape(w, {ws[0], ws[1], 1, ws[2]});
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  SmallVector<Value> operands = {x, w};
  if (has(2))
    operands.push_back(in(2));
  Value y =
      make<a::Conv2DOp>(operands, {ints("strides", strides), ints("pads", pads),
                                   ints("dilations", dilations),
                                   int64("groups", attrInt("group", 1))});
  if (y && spatial == 1) {
    ArrayRef<int64_t> ys = shapeOf(y);
    y = reshape(y, {ys[0], ys[1], ys[3]});
  }
  return out(0, y);
}

LogicalResult Importer::maxPool() { return pool(true); }
LogicalResult Importer::averagePool() { return pool(false); }

LogicalResult Importer::pool(bool max) {
  Value x = in(0);
  if (!x)
    return failure();
  if (wants(1))
    return fail("the Indices output is not supported");
  int64_t spatial = static_cast<int64_t>(shapeOf(x).size()) - 2;
  if (spatial != 1 && spatial != 2)
    return fail(std::to_string(spatial) +
                "-D pooling is not supported (1-D and 2-D are)");
  auto kernel = attrInts("kernel_shape");
  if (!kernel || static_cast<int64_t>(kernel->size()) != spatial)
    return fail("needs a kernel_shape with one size per spatial axis");
  auto strides = attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  auto dilations =
      attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1));
  if (!max && llvm::any_of(dilations, [](int64_t d) { return d != 1; }))
    return fail("dilated average pooling is not supported");
  SmallVector<int64_t> pads;
  if (failed(paddingFor(shapeOf(x).drop_front(2), *kernel, strides, dilations,
                        pads)))
    return failure();
  SmallVector<int64_t> xs(shapeOf(x));
  if (spatial == 1) {
    x = reshape(x, {xs[0], xs[1], 1, xs[2]});
    kernel->insert(kernel->begin(), 1);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  SmallVector<NamedAttribute> attrs = {
      ints("kernel", *kernel), ints("strides", strides), ints("pads", pads)};
  if (attrInt("ceil_mode", 0))
    attrs.push_back(unit("ceil_mode"));
  Value y;
  if (max) {
    attrs.push_back(ints("dilations", dilations));
    y = make<a::MaxPool2DOp>({x}, attrs);
  } else {
    if (attrInt("count_include_pad", 0))
      attrs.push_back(unit("count_include_pad"));
    y = make<a::AvgPool2DOp>({x}, attrs);
  }
  if (y && spatial == 1) {
    ArrayRef<int64_t> ys = shapeOf(y);
    y = reshape(y, {ys[0], ys[1], ys[3]});
  }
  return out(0, y);
}

LogicalResult Importer::globalAveragePool() {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  if (rank == 4)
    return out(0, make<a::GlobalAvgPoolOp>({x}));
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  return out(
      0, make<a::ReduceMeanOp>({x}, {ints("axes", axes), unit("keepdims")}));
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Shapes, constants, reductions
//===----------------------------------------------------------------------===//

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

LogicalResult Importer::identity() {
  Value x = in(0);
  if (!x)
    return failure();
  return out(0, x);
}

LogicalResult Importer::castOp() {
  Value x = in(0);
  if (!x)
    return failure();
  int to = static_cast<int>(attrInt("to", 0));
  std::optional<DType> dtype = dtypeOfOnnx(to);
  Type element = dtype ? mlirTypeOf(*dtype, context) : Type();
  if (!element)
    return fail("casting to " + onnxTypeName(to) + " is not supported");
  if (element == elementOf(x))
    return out(0, x);
  return out(0, make<a::CastOp>({x}, {named("to", TypeAttr::get(element))}));
}

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

LogicalResult Importer::reduceSum() { return reduce<a::ReduceSumOp>(true); }
LogicalResult Importer::reduceMean() { return reduce<a::ReduceMeanOp>(false); }
LogicalResult Importer::reduceMax() { return reduce<a::ReduceMaxOp>(false); }

template <typename OpT> LogicalResult Importer::reduce(bool axesAsInput) {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  std::vector<int64_t> axes;
  if (axesAsInput && opset >= 13) {
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

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

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
  std::string reduction = attrString("reduction", "mean");
  if (reduction != "mean" && reduction != "sum" && reduction != "none")
    return fail("reduction '" + reduction + "' is not supported");
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
    SmallVector<NamedAttribute> attrs = {
        named("reduction", builder.getStringAttr(reduction))};
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
  if (reduction == "none")
    return out(0, perSample);
  if (!perSample)
    return failure();
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < rank - 1; ++i)
    all.push_back(i);
  Value total = make<a::ReduceSumOp>({perSample}, {ints("axes", all)});
  if (reduction == "sum")
    return out(0, total);
  SmallVector<int64_t> allWeights(all);
  allWeights.push_back(rank - 1);
  Value count = make<a::ReduceSumOp>({weights}, {ints("axes", allWeights)});
  return out(0, make<a::DivOp>({total, count}));
}

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

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
                                                 "Reshape"};
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
    } else if (type == "Neg") {
      result = ref::unary(ref::UnaryKind::Neg, x);
    } else if (type == "Identity") {
      result = x;
    } else if (type == "Reshape") {
      return failure(); // the handler reads a constant shape itself
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

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

const std::map<std::string, Importer::Handler> &Importer::handlers() {
  static const std::map<std::string, Handler> table = {
      {"Abs", &Importer::unary<a::AbsOp>},
      {"Add", &Importer::binary<a::AddOp>},
      {"AveragePool", &Importer::averagePool},
      {"BatchNormalization", &Importer::batchNormalization},
      {"Cast", &Importer::castOp},
      {"Clip", &Importer::clip},
      {"Concat", &Importer::concat},
      {"Constant", &Importer::constantOp},
      {"ConstantOfShape", &Importer::constantOfShape},
      {"Conv", &Importer::conv},
      {"Div", &Importer::binary<a::DivOp>},
      {"Dropout", &Importer::dropout},
      {"Equal", &Importer::equal},
      {"Erf", &Importer::unary<a::ErfOp>},
      {"Exp", &Importer::unary<a::ExpOp>},
      {"Flatten", &Importer::flatten},
      {"Gather", &Importer::gather},
      {"GatherElements", &Importer::gatherElements},
      {"Gemm", &Importer::gemm},
      {"Greater", &Importer::greater},
      {"GreaterOrEqual", &Importer::greaterOrEqual},
      {"GlobalAveragePool", &Importer::globalAveragePool},
      {"Identity", &Importer::identity},
      {"LayerNormalization", &Importer::layerNormalization},
      {"LeakyRelu", &Importer::leakyRelu},
      {"Less", &Importer::less},
      {"LessOrEqual", &Importer::lessOrEqual},
      {"Log", &Importer::unary<a::LogOp>},
      {"LogSoftmax", &Importer::logSoftmax},
      {"MatMul", &Importer::matmul},
      {"Max", &Importer::variadic<a::MaxOp>},
      {"MaxPool", &Importer::maxPool},
      {"Min", &Importer::variadic<a::MinOp>},
      {"Mul", &Importer::binary<a::MulOp>},
      {"Neg", &Importer::unary<a::NegOp>},
      {"NegativeLogLikelihoodLoss", &Importer::nll},
      {"Pow", &Importer::pow},
      {"Reciprocal", &Importer::reciprocal},
      {"ReduceMax", &Importer::reduceMax},
      {"ReduceMean", &Importer::reduceMean},
      {"ReduceSum", &Importer::reduceSum},
      {"Relu", &Importer::unary<a::ReluOp>},
      {"Reshape", &Importer::reshapeOp},
      {"Shape", &Importer::shape},
      {"Sigmoid", &Importer::unary<a::SigmoidOp>},
      {"Size", &Importer::size},
      {"Slice", &Importer::slice},
      {"Softmax", &Importer::softmax},
      {"SoftmaxCrossEntropyLoss", &Importer::sce},
      {"Sqrt", &Importer::unary<a::SqrtOp>},
      {"Squeeze", &Importer::squeeze},
      {"Sub", &Importer::binary<a::SubOp>},
      {"Tanh", &Importer::unary<a::TanhOp>},
      {"Transpose", &Importer::transpose},
      {"Unsqueeze", &Importer::unsqueeze},
      {"Where", &Importer::where},
  };
  return table;
}

LogicalResult Importer::importGraphInputs(func::FuncOp func) {
  const onnx::GraphProto &graph = model.graph();
  llvm::StringSet<> initializers;
  for (const auto &init : graph.initializer())
    initializers.insert(init.name());
  SmallVector<Type> argTypes;
  size_t position = 0;
  bool ok = true;
  for (const auto &input : graph.input()) {
    if (initializers.contains(input.name()))
      continue;
    std::string what = "graph input '" + input.name() + "'";
    const NpyArray *known =
        position < options.inputValues.size() && options.inputValues[position]
            ? &*options.inputValues[position]
            : nullptr;
    ++position;
    if (!input.type().has_tensor_type()) {
      record("only tensor inputs are supported", what);
      ok = false;
      continue;
    }
    const auto &tensorType = input.type().tensor_type();
    std::optional<DType> dtype = dtypeOfOnnx(tensorType.elem_type());
    Type element = dtype ? mlirTypeOf(*dtype, context) : Type();
    if (!element) {
      record("dtype " + onnxTypeName(tensorType.elem_type()) +
                 " is not supported in compiled code",
             what);
      ok = false;
      continue;
    }
    SmallVector<int64_t> shape;
    if (known) {
      shape.assign(known->shape.begin(), known->shape.end());
      bool fits = tensorType.has_shape() && tensorType.shape().dim_size() ==
                                                static_cast<int>(shape.size());
      for (int i = 0; fits && i < tensorType.shape().dim_size(); ++i) {
        const auto &dim = tensorType.shape().dim(i);
        if (dim.has_dim_value() && dim.dim_value() != shape[i])
          fits = false;
      }
      if (!fits && tensorType.has_shape()) {
        record("the given value has shape " + shapeString(shape) +
                   ", which does not fit the declared shape",
               what);
        ok = false;
        continue;
      }
      if (known->dtype != *dtype) {
        record("the given value has the wrong dtype (" +
                   std::string(::anvil::dtypeName(known->dtype)) +
                   ", expected " + ::anvil::dtypeName(*dtype) + ")",
               what);
        ok = false;
        continue;
      }
    } else if (!tensorType.has_shape()) {
      record("has no shape; give the model static shapes", what);
      ok = false;
      continue;
    } else {
      bool bound = true;
      for (const auto &[index, dim] :
           llvm::enumerate(tensorType.shape().dim())) {
        if (dim.has_dim_value() && dim.dim_value() >= 0) {
          shape.push_back(dim.dim_value());
          continue;
        }
        std::string symbol = dim.has_dim_param() ? dim.dim_param() : "";
        std::string shown = symbol.empty() ? "?" : symbol;
        if (!llvm::is_contained(symbols, shown))
          symbols.push_back(shown);
        auto binding = options.bindings.find(symbol);
        if (!symbol.empty() && binding != options.bindings.end()) {
          shape.push_back(binding->second);
          continue;
        }
        if (options.unboundSize > 0) {
          shape.push_back(options.unboundSize);
          continue;
        }
        if (symbol.empty())
          record("dimension " + std::to_string(index) +
                     " has neither a size nor a name, so --bind cannot set "
                     "it; give it a size (or a name) in the model, e.g. "
                     "with onnx.tools.update_model_dims",
                 what);
        else
          record("symbolic dimension '" + symbol +
                     "' is unbound; give its size with --bind " + symbol +
                     "=VALUE",
                 what);
        bound = false;
        break;
      }
      if (!bound) {
        ok = false;
        continue;
      }
    }
    auto type = RankedTensorType::get(shape, element);
    argTypes.push_back(type);
    Value arg = func.getBody().front().addArgument(type, func.getLoc());
    Val val{arg, std::nullopt, false};
    if (known)
      val.data = *known;
    values[input.name()] = std::move(val);
  }
  if (position < options.inputValues.size()) {
    record("the model has " + std::to_string(position) +
               " graph input(s) but " +
               std::to_string(options.inputValues.size()) + " were given",
           "the inputs");
    ok = false;
  }
  func.setType(builder.getFunctionType(argTypes, {}));
  // The ONNX names travel with the function, for an export.
  position = 0;
  for (const auto &input : graph.input())
    if (!initializers.contains(input.name()) &&
        position < func.getNumArguments())
      func.setArgAttr(position++, "onnx.name",
                      builder.getStringAttr(input.name()));
  return success(ok);
}

/// Records the dtypes a node uses that compiled code cannot hold.
void Importer::checkNodeTypes() {
  auto check = [&](const std::string &name) {
    auto it = declaredTypes.find(name);
    if (it == declaredTypes.end())
      return;
    std::optional<DType> dtype = dtypeOfOnnx(it->second);
    if (!dtype || !mlirTypeOf(*dtype, context))
      (void)fail("dtype " + onnxTypeName(it->second) + " is not supported");
  };
  for (const std::string &name : node->input())
    if (!name.empty())
      check(name);
  for (const std::string &name : node->output())
    if (!name.empty())
      check(name);
}

LogicalResult Importer::importNode() {
  auto handler = handlers().find(node->op_type());
  bool foreign = !node->domain().empty() && node->domain() != "ai.onnx";
  if (foreign || handler == handlers().end()) {
    record("unsupported op " +
               (foreign ? node->domain() + "." : std::string()) +
               node->op_type(),
           nodeLabel());
    return failure();
  }
  size_t before = problems.size();
  checkNodeTypes();
  if (problems.size() != before)
    return failure();
  for (int i = 0; i < node->input_size(); ++i)
    if (has(i) && !values.count(node->input(i)))
      return failure(); // an input that failed to import: already reported
  before = problems.size();
  if (succeeded(fold()))
    return success();
  if (problems.size() != before)
    return failure();
  return (this->*handler->second)();
}

OwningOpRef<ModuleOp> Importer::run(OnnxProblems &out) {
  ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      lastDiagnostic = diag.str();
    return success();
  });
  const onnx::GraphProto &graph = model.graph();
  for (const auto &vi : graph.value_info())
    if (vi.type().has_tensor_type())
      declaredTypes[vi.name()] = vi.type().tensor_type().elem_type();
  for (const auto &vi : graph.output())
    if (vi.type().has_tensor_type())
      declaredTypes[vi.name()] = vi.type().tensor_type().elem_type();

  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(fileLoc, "forward",
                                           builder.getFunctionType({}, {}));
  builder.setInsertionPointToEnd(func.addEntryBlock());
  bool ok = succeeded(importGraphInputs(func));
  out.symbols = symbols;

  for (const auto &init : graph.initializer()) {
    Val val;
    try {
      val.data =
          tensorFromProto(init, path + ": initializer '" + init.name() + "'");
    } catch (const ::anvil::Error &e) {
      record(e.what(), "'" + init.name() + "'");
      ok = false;
      continue;
    }
    val.trainable =
        val.data->dtype == DType::F32 || val.data->dtype == DType::F64;
    values[init.name()] = std::move(val);
  }

  for (int i = 0; i < graph.node_size(); ++i) {
    node = &graph.node(i);
    nodeIndex = i;
    std::string label = node->name().empty() ? node->op_type() : node->name();
    loc = NameLoc::get(builder.getStringAttr(label), fileLoc);
    if (failed(importNode()))
      ok = false;
  }

  SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    auto it = values.find(output.name());
    Value v =
        it == values.end() ? Value() : materialize(output.name(), it->second);
    if (!v) {
      ok = false;
      if (it == values.end() && problems.empty())
        record("is not produced by any node",
               "graph output '" + output.name() + "'");
      continue;
    }
    results.push_back(v);
  }
  if (!ok || !problems.empty()) {
    for (auto &[key, who] : problems) {
      std::string line = key;
      size_t shown = std::min<size_t>(who.size(), 8);
      line += " (" + std::to_string(who.size()) + "x: ";
      for (size_t i = 0; i < shown; ++i)
        line += (i ? ", " : "") + who[i];
      if (shown < who.size())
        line += ", ...";
      line += ")";
      out.lines.push_back(line);
      out.count += who.size();
    }
    if (out.lines.empty())
      out.lines.push_back("the model could not be imported");
    return nullptr;
  }
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setType(builder.getFunctionType(func.getArgumentTypes(),
                                       ValueRange(results).getTypes()));
  for (int i = 0; i < graph.output_size(); ++i)
    func.setResultAttr(i, "onnx.name",
                       builder.getStringAttr(graph.output(i).name()));
  if (failed(mlir::verify(*module))) {
    out.lines.push_back("the imported module does not verify: " +
                        lastDiagnostic);
    out.count = 1;
    return nullptr;
  }
  return module;
}

/// The first graph output that no node produces and that is no graph input
/// or initializer passed straight through, or null. libonnx 1.12's version
/// converter dereferences null on one (graphProtoToGraph looks the output
/// up among those three and uses what it finds); its checker lets it pass.
const onnx::ValueInfoProto *danglingOutput(const onnx::GraphProto &graph) {
  llvm::StringSet<> defined;
  for (const auto &input : graph.input())
    defined.insert(input.name());
  for (const auto &init : graph.initializer())
    defined.insert(init.name());
  for (const auto &node : graph.node())
    for (const std::string &name : node.output())
      defined.insert(name);
  for (const auto &output : graph.output())
    if (!defined.contains(output.name()))
      return &output;
  return nullptr;
}

/// ONNX's schemas, the convolutions' shape inference guarded by a check of
/// the input's and the weight's ranks. libonnx 1.12's convPoolShapeInference
/// and convTransposeShapeInference take the kernel's size from the weight's
/// rank and the window attributes' from the input's, and index past the end
/// of one with the other when they differ (a SIGSEGV). The ranks may come
/// from inference itself, so the check runs inside it; a node that fails
/// it keeps no inferred shape, and the importer reports it (conv()).
class GuardedSchemaRegistry : public onnx::ISchemaRegistry {
public:
  const onnx::OpSchema *GetSchema(const std::string &key,
                                  const int maxInclusiveVersion,
                                  const std::string &domain) const override {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(key, maxInclusiveVersion, domain);
    int weight = key == "QLinearConv" ? 3 : 1;
    bool isConv = key == "Conv" || key == "ConvInteger" ||
                  key == "QLinearConv" || key == "ConvTranspose";
    if (!schema || !isConv || !schema->has_type_and_shape_inference_function())
      return schema;
    std::unique_ptr<onnx::OpSchema> &guarded = guardedSchemas[schema];
    if (!guarded) {
      guarded = std::make_unique<onnx::OpSchema>(*schema);
      guarded->TypeAndShapeInferenceFunction(
          [infer = schema->GetTypeAndShapeInferenceFunction(),
           weight](onnx::InferenceContext &ctx) {
            if (onnx::hasInputShape(ctx, 0) &&
                onnx::hasInputShape(ctx, weight) &&
                onnx::getInputShape(ctx, 0).dim_size() !=
                    onnx::getInputShape(ctx, weight).dim_size())
              fail_shape_inference("the input's and the weight's ranks differ");
            infer(ctx);
          });
    }
    return guarded.get();
  }

private:
  mutable std::map<const onnx::OpSchema *, std::unique_ptr<onnx::OpSchema>>
      guardedSchemas;
};

} // namespace

std::string a::OnnxProblems::format(const std::string &path) const {
  std::string s = path + ": Anvil cannot compile this model; " +
                  std::to_string(count) + " problem(s):";
  for (const std::string &line : lines)
    s += "\n  " + line;
  return s;
}

bool a::isOnnxPath(const std::string &path) {
  return llvm::StringRef(path).ends_with_insensitive(".onnx");
}

OwningOpRef<ModuleOp> a::importOnnx(const std::string &path,
                                    MLIRContext &context,
                                    const OnnxImportOptions &options,
                                    OnnxProblems &problems) {
  auto oneProblem = [&](const std::string &line) -> OwningOpRef<ModuleOp> {
    problems.lines = {line};
    problems.count = 1;
    return nullptr;
  };
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return oneProblem("cannot open the file: " + std::string(strerror(errno)));
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&file))
    return oneProblem("is not a valid ONNX model (the protobuf does not "
                      "parse: a truncated or corrupt file?)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    return oneProblem("has no graph nodes (a truncated or empty model?)");
  int64_t opset = -1;
  for (const auto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset < 0)
    return oneProblem("imports no version of the default ONNX opset");
  if (opset > kMaxOpset)
    return oneProblem("uses opset " + std::to_string(opset) +
                      "; Anvil reads opsets " + std::to_string(kMinOpset) +
                      " to " + std::to_string(kMaxOpset) +
                      " (convert it with onnx.version_converter)");
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    std::string what = e.what();
    return oneProblem("is not a valid ONNX model: " +
                      what.substr(0, what.find('\n')));
  }
  if (opset < kMinOpset) {
    if (const onnx::ValueInfoProto *output = danglingOutput(model.graph()))
      return oneProblem("graph output '" + output->name() +
                        "' is produced by no node and is no graph input or "
                        "initializer; the model is corrupt");
    // The converter needs every intermediate shape and gives up on some
    // models; those import at their own opset, whose semantics the
    // importer checks where they differ (legacy broadcasting).
    try {
      model = onnx::version_conversion::ConvertVersion(model, kConvertTo);
    } catch (const std::exception &) {
    }
  }
  // ONNX's shape inference divides by strides and dilations without
  // checking them (a stride of 0 is a SIGFPE); the importer reports those
  // as the anvil ops' verifiers do, so such a model skips it.
  bool windowsValid = llvm::all_of(model.graph().node(), [](const auto &n) {
    return llvm::all_of(n.attribute(), [](const onnx::AttributeProto &a) {
      return (a.name() != "strides" && a.name() != "dilations") ||
             llvm::all_of(a.ints(), [](int64_t v) { return v >= 1; });
    });
  });
  try {
    // Only to know every value's dtype for the problem list.
    if (windowsValid) {
      GuardedSchemaRegistry schemas;
      onnx::shape_inference::InferShapes(model, &schemas);
    }
  } catch (const std::exception &) {
  }
  Importer importer(context, model, path, options);
  return importer.run(problems);
}

::anvil::NpyArray a::readTensorProto(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw ::anvil::Error("cannot open '" + path +
                         "': " + std::string(strerror(errno)));
  onnx::TensorProto tensor;
  if (!tensor.ParseFromIstream(&file))
    throw ::anvil::Error(path + ": is not a serialized onnx.TensorProto "
                                "(truncated or corrupt?)");
  return tensorFromProto(tensor, path);
}

void a::writeTensorProto(const std::string &path,
                         const ::anvil::NpyArray &array,
                         const std::string &name) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnxOfDtype(array.dtype));
  for (int64_t d : array.shape)
    tensor.add_dims(d);
  tensor.set_raw_data(std::string(array.bytes.begin(), array.bytes.end()));
  std::string bytes;
  if (!tensor.SerializeToString(&bytes))
    throw ::anvil::Error("cannot serialize the tensor for '" + path + "'");
  ::anvil::writeFileAtomically(path, bytes);
}
