//===- anvilc-export.cpp - anvilc export ----------------------------------===//
//
// `anvilc export MODEL --weights CKPT -o out.onnx`: writes a function of the
// model (with the given parameter values) as ONNX opset 17, atomically.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Codegen.h"
#include "compiler/Onnx/Export.h"

using namespace mlir;
using namespace anvilc;

// `anvilc export`.
static cl::opt<std::string> exportModel(cl::Positional,
                                        cl::desc("<model.mlir|model.onnx>"),
                                        cl::sub(exportCommand()),
                                        cl::cat(category()), cl::Required);
static cl::opt<std::string> exportOutput("o",
                                         cl::desc("The ONNX file to write"),
                                         cl::value_desc("file.onnx"),
                                         cl::sub(exportCommand()),
                                         cl::cat(category()), cl::Required);
static cl::opt<std::string> exportFunction(
    "function", cl::desc("The function to export (default: @forward)"),
    cl::init("forward"), cl::sub(exportCommand()), cl::cat(category()));

/// `anvilc export`: the model, with --weights applied, as ONNX.
int anvilc::exportMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(exportModel, context);
  if (!module)
    return 1;
  if (!weightsIn.empty())
    if (llvm::Error e = mlir::anvil::applyWeights(*module, weightsIn))
      return reportError(llvm::toString(std::move(e)));
  if (std::string e = checkWritable(exportOutput, "the ONNX model"); !e.empty())
    return reportError(e);
  mlir::anvil::OnnxExport exported;
  if (std::string e = mlir::anvil::exportOnnx(*module, exportFunction, seed,
                                              true, exported);
      !e.empty())
    return reportError(exportModel + ": " + e + "\nnothing was exported");
  std::string e = mlir::anvil::writeOutput(
      exportOutput, [&](llvm::raw_ostream &os) { os << exported.model; });
  return e.empty() ? 0 : reportError(e);
}
