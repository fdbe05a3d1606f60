//===- Export.cpp - the anvil dialect out to ONNX -------------------------===//
//
// One node (or a short chain) per anvil op, in program order; values are
// named v0, v1, ... Attributes are read from the op's attribute dictionary,
// with the defaults the ops document.
//
// Quantized ops: anvil.quantize and anvil.dequantize are QuantizeLinear and
// DequantizeLinear. An anvil.qmatmul as anvil-quantize writes it (u8
// activations from an anvil.quantize by a constant scale, constant i8
// weights with zero point 0, its one user an anvil.dequantize of zero point
// 0 by scale_x * scale_w) is written in the QDQ form that ONNX Runtime and
// TensorRT recognize: MatMul(DequantizeLinear(q_x, scale_x, zp_x),
// DequantizeLinear(W_i8, scale_w[, axis 1])), the weights an int8
// initializer, scale_w = the dequantize's scale / scale_x; that dequantize
// is then an Identity. Any other anvil.qmatmul is MatMulInteger. An
// anvil.qconv2d likewise becomes Conv(DequantizeLinear(q_x),
// DequantizeLinear(W_i8, scale_w, axis 0)) (its dequantize per output
// channel, axis 1), or else ConvInteger. When that dequantize's one user
// adds a per-channel bias known at export time ([O, 1, 1], as anvil-quantize
// leaves a convolution's bias), the bias is the Conv's third input,
// DequantizeLinear(round(b / scale), scale, axis 0) with b in int32 and
// scale = scale_x * scale_w, and the add an Identity: ONNX Runtime fuses a
// QDQ Conv into QLinearConv only when every input comes from a
// DequantizeLinear (the bias an int32 one) and a QuantizeLinear, through a
// Relu or not, takes its output. The int32 bias differs from the f32 one by
// at most half an accumulator step (scale / 2) per channel.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Export.h"
#include "compiler/Onnx/TensorProto.h"
#include "dialects/AnvilOps.h"
#include "dialects/ParamInit.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

using namespace mlir;
namespace a = mlir::anvil;

namespace {

class Exporter {
public:
  Exporter(func::FuncOp func, uint64_t seed, bool withData,
           onnx::GraphProto &graph,
           const llvm::DenseMap<Value, int64_t> *batchDims)
      : func(func), seed(seed), withData(withData), graph(graph),
        batchDims(batchDims) {}

  /// Fills the graph; returns the ops that have no ONNX form.
  std::vector<std::string> run();

private:
  std::string nameOf(Value v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    std::string name = "v" + std::to_string(counter++);
    names[v] = name;
    return name;
  }
  std::string fresh() { return "t" + std::to_string(counter++); }
  onnx::NodeProto &node(const std::string &type,
                        std::vector<std::string> inputs,
                        std::vector<std::string> outputs) {
    onnx::NodeProto &n = *graph.add_node();
    n.set_op_type(type);
    n.set_name(type + "_" + std::to_string(counter++));
    for (auto &i : inputs)
      n.add_input(i);
    for (auto &o : outputs)
      n.add_output(o);
    return n;
  }
  static void setInt(onnx::NodeProto &n, const std::string &name, int64_t v) {
    auto *at = n.add_attribute();
    at->set_name(name);
    at->set_type(onnx::AttributeProto::INT);
    at->set_i(v);
  }
  static void setFloat(onnx::NodeProto &n, const std::string &name, double v) {
    auto *at = n.add_attribute();
    at->set_name(name);
    at->set_type(onnx::AttributeProto::FLOAT);
    at->set_f(static_cast<float>(v));
  }
  static void setInts(onnx::NodeProto &n, const std::string &name,
                      ArrayRef<int64_t> v) {
    auto *at = n.add_attribute();
    at->set_name(name);
    at->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      at->add_ints(x);
  }
  /// A Constant node with these int64 values; returns its output's name.
  std::string intsConstant(ArrayRef<int64_t> values) {
    std::string name = fresh();
    auto &n = node("Constant", {}, {name});
    auto *at = n.add_attribute();
    at->set_name("value");
    at->set_type(onnx::AttributeProto::TENSOR);
    ::anvil::NpyArray array;
    array.dtype = ::anvil::DType::I64;
    array.shape = {static_cast<int64_t>(values.size())};
    const char *bytes = reinterpret_cast<const char *>(values.data());
    array.bytes.assign(bytes, bytes + values.size() * 8);
    a::tensorToProto(array, *at->mutable_t());
    return name;
  }
  std::string scalarConstant(double value, Type element) {
    std::string name = fresh();
    auto &n = node("Constant", {}, {name});
    auto *at = n.add_attribute();
    at->set_name("value");
    at->set_type(onnx::AttributeProto::TENSOR);
    auto type = RankedTensorType::get({}, element);
    a::tensorToProto(element.isF64() ? DenseElementsAttr::get(type, value)
                                     : DenseElementsAttr::get(
                                           type, static_cast<float>(value)),
                     *at->mutable_t());
    return name;
  }
  int64_t intAttr(Operation *op, StringRef name, int64_t fallback) {
    auto attr = op->getAttrOfType<IntegerAttr>(name);
    return attr ? attr.getInt() : fallback;
  }
  std::optional<double> floatAttr(Operation *op, StringRef name) {
    auto attr = op->getAttrOfType<FloatAttr>(name);
    return attr ? std::optional<double>(attr.getValueAsDouble()) : std::nullopt;
  }
  SmallVector<int64_t> intsAttr(Operation *op, StringRef name,
                                ArrayRef<int64_t> fallback) {
    auto attr = op->getAttrOfType<DenseI64ArrayAttr>(name);
    return SmallVector<int64_t>(attr ? attr.asArrayRef() : fallback);
  }

  /// The operand names, with a Transpose of the last two dimensions where
  /// a matmul says so.
  std::string transposedLast(Value v) {
    int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
    SmallVector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
      perm.push_back(i);
    std::swap(perm[rank - 1], perm[rank - 2]);
    std::string name = fresh();
    setInts(node("Transpose", {nameOf(v)}, {name}), "perm", perm);
    return name;
  }

  bool exportOp(Operation *op);
  bool exportQdq(Operation *op);
  std::string foldedBias(Operation *op, a::DequantizeOp dq,
                         DenseElementsAttr scale, const std::string &base);

  /// An initializer holding `value`; returns its name.
  std::string initializer(const std::string &name, DenseElementsAttr value) {
    onnx::TensorProto &t = *graph.add_initializer();
    t.set_name(name);
    a::tensorToProto(value, t);
    return name;
  }

  /// The dimension of `v` that holds a symbolic batch, if any.
  std::optional<int64_t> batchDim(Value v) const {
    if (!batchDims)
      return std::nullopt;
    auto it = batchDims->find(v);
    if (it == batchDims->end())
      return std::nullopt;
    return it->second;
  }

  func::FuncOp func;
  uint64_t seed;
  bool withData;
  onnx::GraphProto &graph;
  const llvm::DenseMap<Value, int64_t> *batchDims;
  llvm::DenseMap<Value, std::string> names;
  llvm::StringSet<> initializers;
  llvm::DenseSet<Operation *> qdqProducts; // exported as QDQ: see the header
  llvm::DenseSet<Operation *> foldedAdds;  // biases folded into a QDQ Conv
  llvm::StringSet<> constantInitializers;  // from anvil.constant ops
  int counter = 0;
};

bool Exporter::exportOp(Operation *op) {
  auto in = [&](unsigned i) { return nameOf(op->getOperand(i)); };
  std::vector<std::string> ins;
  for (Value v : op->getOperands())
    ins.push_back(nameOf(v));
  std::string out = op->getNumResults() ? nameOf(op->getResult(0)) : "";
  auto simple = [&](const std::string &type) -> onnx::NodeProto & {
    return node(type, ins, {out});
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](a::ParamOp p) {
        // Initializers carry the parameter's name.
        names[p.getResult()] = p.getName().str();
        if (!initializers.insert(p.getName()).second)
          return true; // the same parameter read twice
        onnx::TensorProto &t = *graph.add_initializer();
        t.set_name(p.getName().str());
        if (withData) {
          a::tensorToProto(a::initialValueAttr(p, seed), t);
          return true;
        }
        t.set_data_type(a::onnxOfElementType(p.getType().getElementType()));
        for (int64_t d : p.getType().getShape())
          t.add_dims(d);
        return true;
      })
      .Case([&](a::ConstantOp c) {
        // 8-bit constants (the weights and zero points of quantized ops)
        // are initializers, where ONNX's quantized models keep them.
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        if (dense && dense.getElementType().isInteger(8)) {
          initializers.insert(out);
          constantInitializers.insert(out);
          initializer(out, dense);
          return true;
        }
        auto &n = node("Constant", {}, {out});
        auto *at = n.add_attribute();
        at->set_name("value");
        at->set_type(onnx::AttributeProto::TENSOR);
        if (!dense)
          return false;
        a::tensorToProto(dense, *at->mutable_t());
        return true;
      })
      .Case([&](a::AddOp) {
        // A bias folded into a QDQ Conv (see the header).
        if (foldedAdds.contains(op))
          return node("Identity", {in(0)}, {out}), true;
        return simple("Add"), true;
      })
      .Case([&](a::SubOp) { return simple("Sub"), true; })
      .Case([&](a::MulOp) { return simple("Mul"), true; })
      .Case([&](a::DivOp) { return simple("Div"), true; })
      .Case([&](a::PowOp) { return simple("Pow"), true; })
      .Case([&](a::MaxOp) { return simple("Max"), true; })
      .Case([&](a::MinOp) { return simple("Min"), true; })
      .Case([&](a::NegOp) { return simple("Neg"), true; })
      .Case([&](a::AbsOp) { return simple("Abs"), true; })
      .Case([&](a::ExpOp) { return simple("Exp"), true; })
      .Case([&](a::LogOp) { return simple("Log"), true; })
      .Case([&](a::SqrtOp) { return simple("Sqrt"), true; })
      .Case([&](a::ReluOp) { return simple("Relu"), true; })
      .Case([&](a::SigmoidOp) { return simple("Sigmoid"), true; })
      .Case([&](a::TanhOp) { return simple("Tanh"), true; })
      .Case([&](a::ErfOp) { return simple("Erf"), true; })
      .Case(
          [&](a::GlobalAvgPoolOp) { return simple("GlobalAveragePool"), true; })
      .Case([&](a::RsqrtOp) {
        std::string s = fresh();
        node("Sqrt", ins, {s});
        node("Reciprocal", {s}, {out});
        return true;
      })
      .Case([&](a::LeakyReluOp) {
        setFloat(simple("LeakyRelu"), "alpha",
                 floatAttr(op, "alpha").value_or(0.01));
        return true;
      })
      .Case([&](a::ClipOp) {
        Type element =
            cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
        std::vector<std::string> inputs = {in(0)};
        auto lo = floatAttr(op, "min"), hi = floatAttr(op, "max");
        inputs.push_back(lo ? scalarConstant(*lo, element) : "");
        if (hi)
          inputs.push_back(scalarConstant(*hi, element));
        node("Clip", inputs, {out});
        return true;
      })
      .Case([&](a::SoftmaxOp) {
        setInt(simple("Softmax"), "axis", intAttr(op, "axis", -1));
        return true;
      })
      .Case([&](a::LogSoftmaxOp) {
        setInt(simple("LogSoftmax"), "axis", intAttr(op, "axis", -1));
        return true;
      })
      .Case([&](a::MatmulOp) {
        std::string lhs = op->hasAttr("transpose_a")
                              ? transposedLast(op->getOperand(0))
                              : in(0);
        std::string rhs = op->hasAttr("transpose_b")
                              ? transposedLast(op->getOperand(1))
                              : in(1);
        node("MatMul", {lhs, rhs}, {out});
        return true;
      })
      .Case([&](a::QuantizeOp) {
        setInt(simple("QuantizeLinear"), "axis", intAttr(op, "axis", 1));
        return true;
      })
      .Case([&](a::DequantizeOp dq) {
        // After a QDQ matmul or convolution, whose MatMul or Conv is
        // already f32.
        Operation *product = dq.getInput().getDefiningOp();
        if (product && qdqProducts.contains(product)) {
          node("Identity", {in(0)}, {out});
          return true;
        }
        setInt(simple("DequantizeLinear"), "axis", intAttr(op, "axis", 1));
        return true;
      })
      .Case([&](a::QMatmulOp q) {
        if (exportQdq(q))
          return true;
        simple("MatMulInteger");
        return true;
      })
      .Case([&](a::QConv2DOp q) {
        if (exportQdq(q))
          return true;
        auto &n = simple("ConvInteger");
        setInts(n, "strides", intsAttr(op, "strides", {1, 1}));
        setInts(n, "pads", intsAttr(op, "pads", {0, 0, 0, 0}));
        setInts(n, "dilations", intsAttr(op, "dilations", {1, 1}));
        return true;
      })
      .Case([&](a::ReshapeOp) {
        // A symbolic batch: its dimension is whatever the elements make.
        SmallVector<int64_t> shape = intsAttr(op, "shape", {});
        if (std::optional<int64_t> d = batchDim(op->getResult(0)))
          shape[*d] = -1;
        node("Reshape", {in(0), intsConstant(shape)}, {out});
        return true;
      })
      .Case([&](a::FlattenOp) {
        setInt(simple("Flatten"), "axis", intAttr(op, "axis", 1));
        return true;
      })
      .Case([&](a::TransposeOp) {
        setInts(simple("Transpose"), "perm", intsAttr(op, "perm", {}));
        return true;
      })
      .Case([&](a::ConcatOp) {
        setInt(simple("Concat"), "axis", intAttr(op, "axis", 0));
        return true;
      })
      .Case([&](a::GatherOp) {
        setInt(simple("Gather"), "axis", intAttr(op, "axis", 0));
        return true;
      })
      .Case([&](a::CastOp c) {
        setInt(simple("Cast"), "to", a::onnxOfElementType(c.getTo()));
        return true;
      })
      .Case([&](a::SliceOp) {
        // A slice takes all of a symbolic batch (anvil-mark-batch).
        SmallVector<int64_t> ends = intsAttr(op, "ends", {});
        if (std::optional<int64_t> d = batchDim(op->getOperand(0)))
          ends[*d] = std::numeric_limits<int64_t>::max();
        node("Slice",
             {in(0), intsConstant(intsAttr(op, "starts", {})),
              intsConstant(ends), "", intsConstant(intsAttr(op, "steps", {}))},
             {out});
        return true;
      })
      .Case([&](a::Conv2DOp) {
        auto &n = simple("Conv");
        setInts(n, "strides", intsAttr(op, "strides", {1, 1}));
        setInts(n, "pads", intsAttr(op, "pads", {0, 0, 0, 0}));
        setInts(n, "dilations", intsAttr(op, "dilations", {1, 1}));
        setInt(n, "group", intAttr(op, "groups", 1));
        return true;
      })
      .Case([&](a::MaxPool2DOp p) {
        auto &n = simple("MaxPool");
        setInts(n, "kernel_shape", p.getKernel());
        setInts(n, "strides", p.getStrideValues());
        setInts(n, "pads", intsAttr(op, "pads", {0, 0, 0, 0}));
        setInts(n, "dilations", intsAttr(op, "dilations", {1, 1}));
        setInt(n, "ceil_mode", op->hasAttr("ceil_mode"));
        return true;
      })
      .Case([&](a::AvgPool2DOp p) {
        auto &n = simple("AveragePool");
        setInts(n, "kernel_shape", p.getKernel());
        setInts(n, "strides", p.getStrideValues());
        setInts(n, "pads", intsAttr(op, "pads", {0, 0, 0, 0}));
        setInt(n, "ceil_mode", op->hasAttr("ceil_mode"));
        setInt(n, "count_include_pad", op->hasAttr("count_include_pad"));
        return true;
      })
      .Case([&](a::BatchNormOp) {
        setFloat(simple("BatchNormalization"), "epsilon",
                 floatAttr(op, "epsilon").value_or(1e-5));
        return true;
      })
      .Case([&](a::LayerNormOp) {
        auto &n = simple("LayerNormalization");
        setInt(n, "axis", intAttr(op, "axis", -1));
        setFloat(n, "epsilon", floatAttr(op, "epsilon").value_or(1e-5));
        return true;
      })
      .Case([&](a::DropoutOp) {
        if (op->hasAttr("training"))
          return false;
        node("Identity", {in(0)}, {out});
        return op->getResult(1).use_empty();
      })
      .Case([&](a::ReduceSumOp) {
        auto &n = node("ReduceSum",
                       {in(0), intsConstant(intsAttr(op, "axes", {}))}, {out});
        setInt(n, "keepdims", op->hasAttr("keepdims"));
        return true;
      })
      .Case<a::ReduceMeanOp, a::ReduceMaxOp>([&](Operation *) {
        auto &n = simple(isa<a::ReduceMeanOp>(op) ? "ReduceMean" : "ReduceMax");
        setInts(n, "axes", intsAttr(op, "axes", {}));
        setInt(n, "keepdims", op->hasAttr("keepdims"));
        return true;
      })
      .Default([](Operation *) { return false; });
}

/// A qmatmul or qconv2d as anvil-quantize writes it, in the QDQ form (see
/// the header); false for any other.
bool Exporter::exportQdq(Operation *op) {
  bool conv = isa<a::QConv2DOp>(op);
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  auto x = lhs.getDefiningOp<a::QuantizeOp>();
  auto w = rhs.getDefiningOp<a::ConstantOp>();
  if (!x || !w || !op->hasOneUse())
    return false;
  auto dq = dyn_cast<a::DequantizeOp>(*op->getUsers().begin());
  DenseElementsAttr xScale, wZero, dqScale, dqZero;
  if (!dq || !matchPattern(x.getScale(), m_Constant(&xScale)) ||
      !matchPattern(op->getOperand(3), m_Constant(&wZero)) ||
      !matchPattern(dq.getScale(), m_Constant(&dqScale)) ||
      !matchPattern(dq.getZeroPoint(), m_Constant(&dqZero)) ||
      xScale.getNumElements() != 1)
    return false;
  auto isZero = [](DenseElementsAttr v) {
    return llvm::all_of(v.getValues<APInt>(),
                        [](const APInt &i) { return i.isZero(); });
  };
  auto wType = cast<RankedTensorType>(rhs.getType());
  int64_t rank = cast<RankedTensorType>(dq.getType()).getRank();
  bool perChannel = dqScale.getType().getRank() == 1;
  int64_t axis = intAttr(dq, "axis", 1);
  // The channel axis of the product: a matmul's last, a convolution's 1.
  bool channelAxis = conv ? axis == 1 : axis == rank - 1 || axis == -1;
  if (!isZero(wZero) || !isZero(dqZero) || wType.getRank() != (conv ? 4 : 2) ||
      (perChannel && !channelAxis))
    return false;
  // scale_w = the accumulators' scale / scale_x.
  float sx = *xScale.getValues<float>().begin();
  SmallVector<float> sw;
  for (float s : dqScale.getValues<float>())
    sw.push_back(s / sx);
  std::string base = nameOf(op->getResult(0));
  std::string wScale = initializer(
      base + "_w_scale",
      DenseElementsAttr::get(
          RankedTensorType::get(dqScale.getType().getShape(),
                                FloatType::getF32(op->getContext())),
          ArrayRef<float>(sw)));
  std::string dqx = fresh(), dqw = fresh();
  node("DequantizeLinear",
       {nameOf(lhs), nameOf(x.getScale()), nameOf(op->getOperand(2))}, {dqx});
  // The weights' output channels: a matmul's columns (axis 1), a filter's
  // O (axis 0).
  auto &n = node("DequantizeLinear", {nameOf(rhs), wScale}, {dqw});
  if (perChannel)
    setInt(n, "axis", conv ? 0 : 1);
  if (conv) {
    std::vector<std::string> inputs{dqx, dqw};
    std::string bias = foldedBias(op, dq, dqScale, base);
    if (!bias.empty())
      inputs.push_back(bias);
    auto &c = node("Conv", inputs, {base});
    setInts(c, "strides", intsAttr(op, "strides", {1, 1}));
    setInts(c, "pads", intsAttr(op, "pads", {0, 0, 0, 0}));
    setInts(c, "dilations", intsAttr(op, "dilations", {1, 1}));
  } else {
    node("MatMul", {dqx, dqw}, {base});
  }
  qdqProducts.insert(op);
  return true;
}

/// The int32 DequantizeLinear of a QDQ Conv's bias (see the header), when
/// `dq`'s one user is an anvil.add of it and a compile-time [O, 1, 1]
/// reshape of a [O] bias, whose quotients by `scale` (the accumulators'
/// scale, per channel or per tensor) fit int32; else "". The add is then
/// exported as an Identity.
std::string Exporter::foldedBias(Operation *op, a::DequantizeOp dq,
                                 DenseElementsAttr scale,
                                 const std::string &base) {
  if (!dq->hasOneUse())
    return "";
  auto add = dyn_cast<a::AddOp>(*dq->getUsers().begin());
  if (!add || add->getOperand(0) != dq.getResult() ||
      add.getType() != dq.getType())
    return "";
  auto reshape = add->getOperand(1).getDefiningOp<a::ReshapeOp>();
  if (!reshape)
    return "";
  auto outType = cast<RankedTensorType>(dq.getType());
  int64_t channels = outType.getDimSize(1);
  auto biasType = cast<RankedTensorType>(reshape.getType());
  if (biasType.getShape() != ArrayRef<int64_t>{channels, 1, 1})
    return "";
  std::vector<double> b;
  Value source = reshape->getOperand(0);
  if (auto param = source.getDefiningOp<a::ParamOp>()) {
    if (!withData) // the model's values are not being written
      return "";
    b = a::initialValues(param, seed);
  } else if (auto c = source.getDefiningOp<a::ConstantOp>()) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.getElementType().isF32())
      return "";
    for (float v : dense.getValues<float>())
      b.push_back(v);
  } else {
    return "";
  }
  if (static_cast<int64_t>(b.size()) != channels)
    return "";
  SmallVector<float> scales(scale.getValues<float>());
  SmallVector<int32_t> q;
  for (int64_t o = 0; o < channels; ++o) {
    double s = scales[scales.size() == 1 ? 0 : o];
    double v = std::nearbyint(b[o] / s);
    if (!(s > 0) || !(std::abs(v) < 2147483647.0))
      return "";
    q.push_back(static_cast<int32_t>(v));
  }
  MLIRContext *ctx = op->getContext();
  std::string values = initializer(
      base + "_b_i32",
      DenseElementsAttr::get(
          RankedTensorType::get({channels}, IntegerType::get(ctx, 32)),
          ArrayRef<int32_t>(q)));
  std::string scaleName = initializer(
      base + "_b_scale",
      DenseElementsAttr::get(RankedTensorType::get(scale.getType().getShape(),
                                                   FloatType::getF32(ctx)),
                             ArrayRef<float>(scales)));
  std::string name = fresh();
  auto &n = node("DequantizeLinear", {values, scaleName}, {name});
  if (scales.size() > 1)
    setInt(n, "axis", 0);
  foldedAdds.insert(add);
  return name;
}

std::vector<std::string> Exporter::run() {
  std::vector<std::string> unsupported;
  // Inputs and outputs hold a symbolic batch in their leading dimension.
  auto setType = [&](onnx::ValueInfoProto &vi, Value value) {
    auto t = cast<RankedTensorType>(value.getType());
    auto *tt = vi.mutable_type()->mutable_tensor_type();
    tt->set_elem_type(a::onnxOfElementType(t.getElementType()));
    auto *shape = tt->mutable_shape();
    std::optional<int64_t> batch = batchDim(value);
    for (auto [i, d] : llvm::enumerate(t.getShape())) {
      if (batch && *batch == static_cast<int64_t>(i))
        shape->add_dim()->set_dim_param("batch");
      else
        shape->add_dim()->set_dim_value(d);
    }
  };
  for (BlockArgument arg : func.getArguments()) {
    auto name =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name");
    names[arg] =
        name ? name.str() : "input_" + std::to_string(arg.getArgNumber());
    onnx::ValueInfoProto &vi = *graph.add_input();
    vi.set_name(names[arg]);
    setType(vi, arg);
  }
  for (Operation &op : func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto name = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
        std::string outName = name ? name.str() : "output_" + std::to_string(i);
        // Every graph output is its own value: an Identity names it.
        node("Identity", {nameOf(v)}, {outName});
        onnx::ValueInfoProto &vi = *graph.add_output();
        vi.set_name(outName);
        setType(vi, v);
      }
      continue;
    }
    if (!exportOp(&op))
      unsupported.push_back(op.getName().getStringRef().str());
  }
  // The QDQ form leaves the accumulators' scales and the weights' zero
  // points unread: drop the Constant nodes and constant initializers that
  // no node reads (parameters stay, as a trainer expects them all).
  llvm::StringSet<> read;
  for (const onnx::NodeProto &n : graph.node())
    for (const std::string &i : n.input())
      read.insert(i);
  auto *nodes = graph.mutable_node();
  nodes->erase(std::remove_if(nodes->begin(), nodes->end(),
                              [&](const onnx::NodeProto &n) {
                                return n.op_type() == "Constant" &&
                                       !read.contains(n.output(0));
                              }),
               nodes->end());
  auto *inits = graph.mutable_initializer();
  inits->erase(std::remove_if(inits->begin(), inits->end(),
                              [&](const onnx::TensorProto &t) {
                                return constantInitializers.contains(
                                           t.name()) &&
                                       !read.contains(t.name());
                              }),
               inits->end());
  return unsupported;
}

} // namespace

std::string a::exportOnnx(ModuleOp module, const std::string &function,
                          uint64_t seed, bool withData, OnnxExport &out,
                          const llvm::DenseMap<Value, int64_t> *batchDims) {
  auto func = module.lookupSymbol<func::FuncOp>(function);
  if (!func)
    return "the model has no function @" + function + " to export";
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("anvil");
  auto *opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name(function);
  std::vector<std::string> unsupported;
  try {
    unsupported = Exporter(func, seed, withData, graph, batchDims).run();
  } catch (const ::anvil::Error &e) {
    return e.what();
  }
  if (!unsupported.empty()) {
    std::map<std::string, int> counts;
    for (const std::string &op : unsupported)
      ++counts[op];
    std::string message = "@" + function + " has ops without an ONNX form:";
    for (const auto &[op, count] : counts)
      message += "\n  " + op + " (" + std::to_string(count) + "x)";
    return message;
  }
  out.initializerHeaders.clear();
  if (!withData) {
    for (const onnx::TensorProto &t : graph.initializer())
      out.initializerHeaders.push_back({t.name(), t.SerializeAsString()});
    graph.clear_initializer();
  }
  if (!model.SerializeToString(&out.model))
    return "cannot serialize the ONNX model";
  return "";
}
