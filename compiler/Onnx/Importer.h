//===- Importer.h - the ONNX importer's shared context -----------*- C++
//-*-===//
//
// The Importer walks one ONNX graph in order (Import.cpp) and hands each
// node to the handler registered for its op type. Handlers live in one file
// per op family (ImportElementwise.cpp, ImportMatMul.cpp, ImportConv.cpp,
// ImportNormalization.cpp, ImportShape.cpp, ImportResize.cpp,
// ImportConstant.cpp, ImportReduction.cpp, ImportLoss.cpp, ImportQuant.cpp);
// each file registers its handlers in its add...Handlers function. The helpers
// they share (the current node's operands and attributes, building a verified
// op, recording a problem) are in ImportUtils.cpp. Internal to compiler/Onnx.
//
// Adding an op: declare its handler below, define it in its family's file
// and add it to that file's table.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_ONNX_IMPORTER_H
#define ANVIL_COMPILER_ONNX_IMPORTER_H

#include "compiler/Onnx/Import.h"
#include "compiler/Onnx/TensorProto.h"
#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::anvil::onnx_import {

using ::anvil::DType;
using ::anvil::NpyArray;

/// The product of `dims` (1 for none).
int64_t product(llvm::ArrayRef<int64_t> dims);
/// The values of an integer or float array as doubles / int64s.
std::vector<double> valuesOf(const NpyArray &array);
std::vector<int64_t> intsOf(const NpyArray &array);
/// `data` as an attribute of element type `element` (its MLIR type).
DenseElementsAttr attrOf(const NpyArray &data, Type element);
/// The elements of `attr` as an array; nothing for an element type that has
/// no row in the dtype table.
std::optional<NpyArray> arrayOf(DenseElementsAttr attr);
/// A possibly negative axis of a rank-`rank` tensor, normalized (the
/// dialect's rule), or nothing when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

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
  using HandlerTable = std::map<std::string, Handler>;

  /// Every op type the importer knows, from the families' tables.
  static const HandlerTable &handlers();
  static void addElementwiseHandlers(HandlerTable &table);
  static void addMatMulHandlers(HandlerTable &table);
  static void addConvHandlers(HandlerTable &table);
  static void addNormalizationHandlers(HandlerTable &table);
  static void addShapeHandlers(HandlerTable &table);
  static void addResizeHandlers(HandlerTable &table);
  static void addConstantHandlers(HandlerTable &table);
  static void addReductionHandlers(HandlerTable &table);
  static void addLossHandlers(HandlerTable &table);
  static void addQuantHandlers(HandlerTable &table);
  /// Whether op `opType` takes uint8 tensors (the quantized ops, and
  /// MaxPool); every other op computes on signless types only.
  static bool takesUint8(const std::string &opType);

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
  /// The attributes the dialect keeps as an enum's spelling
  /// (AnvilEnums.td), from the enum.
  NamedAttribute predicateAttr(ComparePredicate predicate) {
    return named("predicate",
                 builder.getStringAttr(stringifyComparePredicate(predicate)));
  }
  NamedAttribute reductionAttr(LossReduction reduction) {
    return named("reduction",
                 builder.getStringAttr(stringifyLossReduction(reduction)));
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

  // ImportElementwise.cpp
  template <typename OpT> LogicalResult binary();
  template <typename OpT> LogicalResult unary();
  /// Max and Min: one or more operands, folded pairwise.
  template <typename OpT> LogicalResult variadic();
  LogicalResult pow();
  LogicalResult compare(ComparePredicate predicate);
  LogicalResult equal() { return compare(ComparePredicate::eq); }
  LogicalResult greater() { return compare(ComparePredicate::gt); }
  LogicalResult less() { return compare(ComparePredicate::lt); }
  LogicalResult greaterOrEqual() { return compare(ComparePredicate::ge); }
  LogicalResult lessOrEqual() { return compare(ComparePredicate::le); }
  LogicalResult where();
  LogicalResult reciprocal();
  LogicalResult leakyRelu();
  LogicalResult clip();
  LogicalResult softmax();
  LogicalResult logSoftmax();
  LogicalResult softmaxLike(bool log);
  LogicalResult identity();
  LogicalResult castOp();
  /// HardSigmoid: clip(alpha * x + beta, 0, 1); HardSwish: x times that.
  Value hardSigmoid(Value x, double alpha, double beta);
  LogicalResult hardSigmoidOp();
  LogicalResult hardSwish();
  /// Mul, or anvil.gelu when it completes an Erf-based GELU
  /// (x * 0.5 * (1 + erf(x / sqrt(2))), as exporters write it).
  LogicalResult mul();
  Value matchErfGelu(Value lhs, Value rhs);

  // ImportMatMul.cpp
  LogicalResult matmul();
  LogicalResult gemm();
  /// Einsum as transposes, reshapes, reduce_sums and batched matmuls.
  LogicalResult einsum();

  // ImportConv.cpp
  LogicalResult conv();
  /// The convolution of the node's attributes over x and w, plus `bias`
  /// when given (Conv, and the quantized convolutions).
  Value convOf(Value x, Value w, Value bias);
  LogicalResult maxPool();
  LogicalResult averagePool();
  LogicalResult pool(bool max);
  LogicalResult globalAveragePool();
  /// ConvTranspose (1-D, 2-D, 3-D) as anvil.conv2d_grad_input plus bias.
  LogicalResult convTranspose();
  /// The window of a Conv or ConvTranspose node (`what` names it in errors):
  /// 1, 2 or 3 spatial dimensions, the weight's kernel (checked against
  /// kernel_shape), and strides and dilations (default 1; checked to have
  /// one per dimension).
  struct ConvWindow {
    int64_t spatial;
    SmallVector<int64_t> kernel;
    std::vector<int64_t> strides, dilations;
  };
  FailureOr<ConvWindow> convWindow(Value x, Value w, const std::string &what);
  // ImportVolume.cpp: 3-D ones as 2-D ones over depth slices.
  Value conv3dOf(Value x, Value w, Value bias, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads,
                 int64_t groups);
  Value pool3dOf(Value x, bool max, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                 ArrayRef<int64_t> pads, bool ceilMode, bool countIncludePad);
  Value convTranspose3dOf(Value x, Value w, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads,
                          ArrayRef<int64_t> outputPadding,
                          ArrayRef<int64_t> outSizes, int64_t groups);
  /// x with `before` and `after` rows of `value` added along `axis` (a
  /// negative `after` crops the end).
  Value padAxis(Value x, int64_t axis, int64_t before, int64_t after,
                double value);
  /// [N, C, D, H, W] as [N, D, C, H, W] (and back: the same permutation).
  Value depthToBatchOrder(Value x);
  /// Of xt [N, D, C, H, W], the depth rows start, start + step, ... (`count`
  /// of them) as one batch [N * count, C, H, W].
  Value depthTaps(Value xt, int64_t start, int64_t step, int64_t count);
  /// A [N * D, C, H, W] result back as [N, C, D, H, W].
  Value depthFromBatch(Value y, int64_t batch);
  /// Depth tap i of a [O, C, kd, kh, kw] filter, as [O, C, kh, kw].
  Value depthTap(Value w, int64_t i);
  /// Spatial padding for auto_pad, or the explicit pads.
  LogicalResult paddingFor(ArrayRef<int64_t> in, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> dilations,
                           SmallVectorImpl<int64_t> &pads);

  // ImportNormalization.cpp
  LogicalResult batchNormalization();
  LogicalResult layerNormalization();
  LogicalResult dropout();

  // ImportShape.cpp
  LogicalResult flatten();
  LogicalResult reshapeOp();
  /// The shape a Reshape gives `inShape` (its 0s and -1 resolved).
  LogicalResult reshapeTarget(ArrayRef<int64_t> inShape,
                              std::vector<int64_t> &shape);
  LogicalResult transpose();
  LogicalResult concat();
  LogicalResult gather();
  LogicalResult gatherElements();
  LogicalResult shape();
  LogicalResult size();
  LogicalResult squeeze();
  LogicalResult unsqueeze();
  LogicalResult slice();
  LogicalResult pad();
  LogicalResult split();
  LogicalResult expand();
  LogicalResult tile();

  // ImportResize.cpp
  LogicalResult resize();
  /// A constant tensor of `shape` holding `value` everywhere.
  Value splat(ArrayRef<int64_t> shape, Type elementType, double value);
  /// x gathered along `axis` at the constant `indices`.
  Value gatherAt(Value x, int64_t axis, ArrayRef<int64_t> indices);
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

  // ImportConstant.cpp
  LogicalResult constantOp();
  LogicalResult constantOfShape();
  /// Evaluates the node at compile time when all its inputs are integer
  /// constants (the shape arithmetic of exported models), with the dialect's
  /// folders (evaluate); fails otherwise.
  LogicalResult fold();
  /// The value of an OpT of the constants `args` and `attrs`, computed by
  /// the op's folder: builds the op on temporary anvil.constant operands,
  /// folds it as createOrFold does (OpBuilder::tryFold) and reads the
  /// constant back, leaving no op behind. Nothing when the op does not
  /// verify or its folder declines (an undefined result, a type it does not
  /// compute in).
  template <typename OpT>
  std::optional<NpyArray> evaluate(ArrayRef<const NpyArray *> args,
                                   ArrayRef<NamedAttribute> attrs = {});

  // ImportReduction.cpp
  LogicalResult reduceSum();
  LogicalResult reduceMean();
  LogicalResult reduceMax();
  /// Axes from an attribute, or an input from opset `axesInputSince`.
  template <typename OpT> LogicalResult reduce(int64_t axesInputSince);

  // ImportQuant.cpp
  LogicalResult quantizeLinear();
  LogicalResult dequantizeLinear();
  LogicalResult matMulInteger();
  LogicalResult qlinearMatMul();
  LogicalResult convInteger();
  LogicalResult qlinearConv();
  /// The scale and zero point of a QuantizeLinear or DequantizeLinear and
  /// its axis attribute (per channel); a missing zero point is 0 of
  /// `zeroElement`.
  struct QuantParams {
    Value scale, zeroPoint;
    SmallVector<NamedAttribute> attrs;
  };
  FailureOr<QuantParams> quantParams(int scaleInput, int zeroInput,
                                     Type zeroElement, int64_t rank);
  /// `q - zeroPoint` (null: an i32 0) as f32, exact; a per-channel zero
  /// point along `axis`.
  Value minusZeroPoint(Value q, Value zeroPoint, int64_t axis);
  /// Fails unless a contraction of `length` 8-bit products sums exactly in
  /// f32.
  LogicalResult checkContraction(int64_t length);
  /// The integer matmul of the node's operands less their zero points: an
  /// anvil.qmatmul (i32, exact at any K); a missing zero point is 0 of the
  /// operand's type.
  Value integerMatmul(int aInput, int aZero, int bInput, int bZero);
  /// The integer convolution of the node's operands less their zero points,
  /// as integral f32 (refused beyond checkContraction's length).
  Value integerConv(int xInput, int xZero, int wInput, int wZero);
  /// The zero point input `i` of an 8-bit operand `q`, or a 0 of q's type.
  Value zeroPointOf(Value q, int i);
  /// `acc` requantized: saturate(roundeven(acc * a_scale * w_scale /
  /// y_scale) + y_zero_point); a per-channel scale along `channelAxis` (1:
  /// NCHW; -1: the last).
  Value requantize(Value acc, int aScale, int wScale, int yScale, int yZero,
                   int64_t channelAxis);

  // ImportLoss.cpp
  LogicalResult sce();
  LogicalResult nll();
  LogicalResult loss(bool softmax);

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
  /// The model file ("path":0:0): the module, the function, and (inside a
  /// NameLoc of their name) graph inputs, initializers and constants.
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  /// The current node's location: what every op built for it carries.
  Location loc = UnknownLoc::get(&context);
  std::string lastDiagnostic;
  /// Problem kind -> the nodes (or values) that have it, in order.
  std::vector<std::pair<std::string, std::vector<std::string>>> problems;
};

/// Builds an OpT at the current node's location after inferring its result
/// types; on failure records the verifier's message as the node's problem
/// and returns null (a null operand: an earlier failure, returns null).
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

} // namespace mlir::anvil::onnx_import

#endif // ANVIL_COMPILER_ONNX_IMPORTER_H
