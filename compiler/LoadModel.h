//===- LoadModel.h - a model file into the anvil dialect --------*- C++ -*-===//
//
// ModelLoader reads the model a tool is given: Anvil's graph IR (.mlir),
// parsed and verified, or an ONNX model (.onnx), imported with its symbolic
// dimensions bound. For a .mlir file it keeps the source text and installs
// the diagnostic handler that prints every later error (the parser's and
// every pass's) as file:line:col with the source line; the loader must
// outlive the passes that run on the module. Failures are llvm::Errors
// with one line for the user (an ONNX model's: every problem at once), or
// a DiagnosedError when MLIR has printed them (Diagnosed.h).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOADMODEL_H
#define ANVIL_COMPILER_LOADMODEL_H

#include "compiler/Onnx/Import.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SourceMgr.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir::anvil {

/// The sizes of symbolic dimensions given as NAME=SIZE (`--bind`); an
/// error names the first that is not a name and a positive size.
llvm::Expected<std::map<std::string, int64_t>>
parseBindings(llvm::ArrayRef<std::string> bindings);

class ModelLoader {
public:
  explicit ModelLoader(MLIRContext &context) : context(context) {}
  /// Unregisters the diagnostic handler (before the context goes away).
  ~ModelLoader();

  /// The model at `path`: parsed and verified when it is .mlir, imported
  /// with `onnx` when it is .onnx.
  llvm::Expected<OwningOpRef<ModuleOp>> load(const std::string &path,
                                             const OnnxImportOptions &onnx);

  /// The symbolic dimensions of the ONNX model last loaded (see
  /// OnnxProblems::symbols).
  llvm::ArrayRef<std::string> symbols() const { return onnxSymbols; }

private:
  MLIRContext &context;
  std::shared_ptr<llvm::SourceMgr> sourceMgr;
  std::unique_ptr<SourceMgrDiagnosticHandler> diagnostics;
  std::vector<std::string> onnxSymbols;
};

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_LOADMODEL_H
