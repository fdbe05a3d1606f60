//===- Import.cpp - ONNX models into the anvil dialect --------------------===//
//
// The driver: reading and checking the model (libonnx's checker, version
// converter and shape inference), the graph inputs, initializers, the walk
// over the nodes and the problem list. One Importer walks the graph in order.
// Every ONNX value maps to an MLIR value, a compile-time tensor (initializers,
// Constant nodes, values given to `anvilc run`), or both; compile-time tensors
// become anvil ops only when something uses them as a tensor, and ops that need
// a constant operand (a Reshape's shape) read them directly. A node that cannot
// be imported records a problem and leaves its outputs undefined; nodes that
// depend on it are still checked for op and dtype support, so one run lists
// everything.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"
#include "runtime/Error.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <fstream>
#include <memory>

using namespace mlir;
namespace a = mlir::anvil;
using a::onnx_import::Importer;
using ::anvil::DType;
using ::anvil::NpyArray;

namespace mlir::anvil::onnx_import {

const Importer::HandlerTable &Importer::handlers() {
  static const HandlerTable table = [] {
    HandlerTable t;
    addElementwiseHandlers(t);
    addMatMulHandlers(t);
    addConvHandlers(t);
    addNormalizationHandlers(t);
    addShapeHandlers(t);
    addResizeHandlers(t);
    addConstantHandlers(t);
    addReductionHandlers(t);
    addLossHandlers(t);
    addQuantHandlers(t);
    return t;
  }();
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
                     "' is unbound; give its size with " +
                     (index == 0 ? "--batch VALUE or " : "") + "--bind " +
                     symbol + "=VALUE",
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
    Value arg = func.getBody().front().addArgument(
        type, NameLoc::get(builder.getStringAttr(input.name()), fileLoc));
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
    if (!dtype || !mlirTypeOf(*dtype, context) ||
        (*dtype == DType::U8 && !takesUint8(node->op_type())))
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
    // The node's name (its op type when it has none) at "file:N:1" for the
    // graph's N-th node: every op built for it carries this location through
    // every phase, so dumps (--mlir-print-debuginfo), diagnostics and
    // reports name the ONNX node.
    std::string label = node->name().empty() ? node->op_type() : node->name();
    loc = NameLoc::get(builder.getStringAttr(label),
                       FileLineColLoc::get(&context, path, i + 1, 1));
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

} // namespace mlir::anvil::onnx_import

namespace {

constexpr int kMinOpset = 7, kMaxOpset = 21, kConvertTo = 13;
/// The newest opset and IR version Debian's libonnx 1.12 knows.
constexpr int kLibonnxOpset = 17, kLibonnxIrVersion = 8;
/// The domain a node of an op libonnx does not know moves to in
/// checkableCopy, so that its checker and shape inference pass over it.
constexpr const char *kNewOpDomain = "anvil.newer_than_libonnx";

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

/// `model` (opset 18 to 21) in the form libonnx 1.12's checker and shape
/// inference know: opset 17 and IR version 8, each node checked against its
/// opset-17 schema with the inputs and attributes added since dropped (the
/// axes input of ReduceMean and friends in 18, num_outputs of Split,
/// AveragePool's dilations and Cast's saturate in 19), and ops new since 17
/// moved to a domain of their own, which both skip. The copy only serves
/// those checks and the dtypes they infer; the importer reads the model
/// itself, with its own opset's semantics, and reports the new ops.
onnx::ModelProto checkableCopy(const onnx::ModelProto &model) {
  onnx::ModelProto copy = model;
  copy.set_ir_version(std::min<int64_t>(copy.ir_version(), kLibonnxIrVersion));
  for (auto &entry : *copy.mutable_opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      entry.set_version(kLibonnxOpset);
  bool newOps = false;
  for (onnx::NodeProto &node : *copy.mutable_graph()->mutable_node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), kLibonnxOpset, "");
    if (!schema) {
      node.set_domain(kNewOpDomain);
      newOps = true;
      continue;
    }
    while (node.input_size() > schema->max_input())
      node.mutable_input()->RemoveLast();
    google::protobuf::RepeatedPtrField<onnx::AttributeProto> known;
    for (const onnx::AttributeProto &attr : node.attribute())
      if (schema->attributes().count(attr.name()))
        *known.Add() = attr;
    node.mutable_attribute()->Swap(&known);
  }
  if (newOps) {
    auto *entry = copy.add_opset_import();
    entry->set_domain(kNewOpDomain);
    entry->set_version(1);
  }
  return copy;
}

/// ONNX's schemas, the convolutions' shape inference guarded by a check of
/// the input's and the weight's ranks. libonnx 1.12's convPoolShapeInference
/// and convTransposeShapeInference take the kernel's size from the weight's
/// rank and the window attributes' from the input's, and index past the end
/// of one with the other when they differ (a SIGSEGV). The ranks may come
/// from inference itself, so the check runs inside it; a node that fails
/// it keeps no inferred shape, and the importer reports it (conv()).
/// LayerNormalization's inference indexes the input's dimensions from its
/// axis without checking it against the rank (a rank-0 input is a SIGSEGV;
/// found by fuzz-onnx): it is guarded by the axis check the importer makes
/// (layerNormalization()).
class GuardedSchemaRegistry : public onnx::ISchemaRegistry {
public:
  const onnx::OpSchema *GetSchema(const std::string &key,
                                  const int maxInclusiveVersion,
                                  const std::string &domain) const override {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(key, maxInclusiveVersion, domain);
    if (!schema || !schema->has_type_and_shape_inference_function())
      return schema;
    onnx::InferenceFunction check;
    if (key == "Conv" || key == "ConvInteger" || key == "QLinearConv" ||
        key == "ConvTranspose")
      check = [weight =
                   key == "QLinearConv" ? 3 : 1](onnx::InferenceContext &ctx) {
        if (onnx::hasInputShape(ctx, 0) && onnx::hasInputShape(ctx, weight) &&
            onnx::getInputShape(ctx, 0).dim_size() !=
                onnx::getInputShape(ctx, weight).dim_size())
          fail_shape_inference("the input's and the weight's ranks differ");
      };
    else if (key == "LayerNormalization")
      check = [](onnx::InferenceContext &ctx) {
        if (!onnx::hasInputShape(ctx, 0))
          return;
        int64_t rank = onnx::getInputShape(ctx, 0).dim_size();
        const onnx::AttributeProto *attr = ctx.getAttribute("axis");
        int64_t axis = attr ? attr->i() : -1;
        if (axis < -rank || axis >= rank)
          fail_shape_inference("axis out of range");
      };
    else
      return schema;
    std::unique_ptr<onnx::OpSchema> &guarded = guardedSchemas[schema];
    if (!guarded) {
      guarded = std::make_unique<onnx::OpSchema>(*schema);
      guarded->TypeAndShapeInferenceFunction(
          [infer = schema->GetTypeAndShapeInferenceFunction(),
           check](onnx::InferenceContext &ctx) {
            check(ctx);
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
  // What libonnx checks and infers: the model, or for an opset newer than
  // libonnx's a copy in a form it knows.
  std::optional<onnx::ModelProto> copy;
  if (opset > kLibonnxOpset)
    copy = checkableCopy(model);
  onnx::ModelProto &checked = copy ? *copy : model;
  try {
    onnx::checker::check_model(checked);
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
  bool windowsValid = llvm::all_of(checked.graph().node(), [](const auto &n) {
    return llvm::all_of(n.attribute(), [](const onnx::AttributeProto &a) {
      return (a.name() != "strides" && a.name() != "dilations") ||
             llvm::all_of(a.ints(), [](int64_t v) { return v >= 1; });
    });
  });
  try {
    // Only to know every value's dtype for the problem list.
    if (windowsValid) {
      GuardedSchemaRegistry schemas;
      onnx::shape_inference::InferShapes(checked, &schemas);
    }
  } catch (const std::exception &) {
  }
  if (copy)
    *model.mutable_graph()->mutable_value_info() = copy->graph().value_info();
  // The batch is the leading dimension of the graph inputs: a symbolic one
  // nothing binds takes --batch, everywhere that symbol appears.
  OnnxImportOptions bound = options;
  if (options.batch > 0)
    for (const onnx::ValueInfoProto &input : model.graph().input()) {
      const auto &type = input.type().tensor_type();
      if (type.has_shape() && type.shape().dim_size() > 0 &&
          type.shape().dim(0).has_dim_param())
        bound.bindings.emplace(type.shape().dim(0).dim_param(), options.batch);
    }
  Importer importer(context, model, path, bound);
  return importer.run(problems);
}
