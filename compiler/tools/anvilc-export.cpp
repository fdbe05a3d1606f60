//===- anvilc-export.cpp - anvilc export ----------------------------------===//
//
// `anvilc export MODEL --weights CKPT -o out.onnx`: writes a function of the
// model (with the given parameter values) as ONNX opset 17, atomically; one
// whose samples never mix (anvil-mark-batch's analysis) with a symbolic
// batch, so that ONNX runtimes run it at any batch.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Codegen.h"
#include "compiler/Onnx/Export.h"
#include "passes/Passes.h"

using namespace mlir;
using namespace anvilc;

// `anvilc export` (and the model, --function, --weights and --seed of
// anvilc.h).
static cl::opt<std::string> exportOutput("o",
                                         cl::desc("The ONNX file to write"),
                                         cl::value_desc("file.onnx"),
                                         cl::sub(exportCommand()),
                                         cl::cat(category()), cl::Required);

/// `anvilc export`: the model, with --weights applied, as ONNX.
int anvilc::exportMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(context);
  if (!module)
    return 1;
  if (llvm::Error e =
          mlir::anvil::checkWritable(exportOutput, "the ONNX model"))
    return reportError(std::move(e));
  auto picked = pickFunction(*module);
  if (!picked)
    return reportError(picked.takeError());
  std::string name = picked->getName().str();
  // A function that keeps its samples apart exports with a symbolic batch.
  llvm::DenseMap<Value, mlir::anvil::BatchPlace> places;
  llvm::DenseMap<Value, int64_t> batchDims;
  if (succeeded(mlir::anvil::findBatchPlaces(*picked, places)))
    for (auto &[value, place] : places)
      batchDims[value] = place.dim;
  mlir::anvil::OnnxExport exported;
  if (std::string e =
          mlir::anvil::exportOnnx(*module, name, seed, true, exported,
                                  batchDims.empty() ? nullptr : &batchDims);
      !e.empty())
    return reportError(modelPath + ": " + e + "\nnothing was exported");
  return reportError(mlir::anvil::writeOutput(
      exportOutput, [&](llvm::raw_ostream &os) { os << exported.model; }));
}
