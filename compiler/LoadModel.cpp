//===- LoadModel.cpp - a model file into the anvil dialect ----------------===//
//
// The .mlir parser (with the source manager that later diagnostics point
// into) or the ONNX importer, chosen by the file's extension; see
// LoadModel.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/LoadModel.h"

#include "compiler/Diagnosed.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

using namespace mlir;
using namespace mlir::anvil;

static llvm::Error error(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::map<std::string, int64_t>>
mlir::anvil::parseBindings(llvm::ArrayRef<std::string> bindings) {
  std::map<std::string, int64_t> sizes;
  for (const std::string &binding : bindings) {
    auto [name, value] = llvm::StringRef(binding).split('=');
    int64_t size = 0;
    if (name.empty() || value.getAsInteger(10, size) || size <= 0)
      return error("--bind wants NAME=SIZE with a positive size, not '" +
                   binding + "'");
    sizes[name.str()] = size;
  }
  return sizes;
}

ModelLoader::~ModelLoader() = default;

llvm::Expected<OwningOpRef<ModuleOp>>
ModelLoader::load(const std::string &path, const OnnxImportOptions &onnx) {
  if (isOnnxPath(path)) {
    OnnxProblems problems;
    OwningOpRef<ModuleOp> module = importOnnx(path, context, onnx, problems);
    onnxSymbols = problems.symbols;
    if (!module)
      return error(problems.format(path));
    return module;
  }
  std::string message;
  auto file = openInputFile(path, &message);
  if (!file)
    return error("cannot open model '" + path + "': " + message);
  sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  diagnostics =
      std::make_unique<SourceMgrDiagnosticHandler>(*sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return diagnosedError();
  return module;
}
