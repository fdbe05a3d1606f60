//===- OnnxFuzzer.cpp - libFuzzer harness for the ONNX importer -----------===//
//
// Feeds arbitrary bytes to importOnnx as a .onnx file, with no bindings: any
// input must give a module that verifies or a list of problems, never a
// crash, a sanitizer report or an escaping exception (libonnx's checker,
// shape inference and version converter throw; the importer must catch).
// An anvil::Error is a clear message too: anvilc prints it and exits 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Import.h"
#include "fuzz/FuzzContext.h"
#include "fuzz/FuzzFile.h"
#include "runtime/Error.h"

#include "mlir/IR/Verifier.h"

#include <cstdlib>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = ::anvil::fuzz::writeFuzzFile("input.onnx", data, size);
  ::anvil::fuzz::FuzzContext fuzz;
  MLIRContext &context = fuzz.context;

  mlir::anvil::OnnxProblems problems;
  OwningOpRef<ModuleOp> module;
  try {
    module = mlir::anvil::importOnnx(
        path, context, mlir::anvil::OnnxImportOptions(), problems);
  } catch (const ::anvil::Error &) {
    return 0;
  }
  if (!module && problems.empty()) {
    llvm::errs() << "importOnnx failed without naming a problem\n";
    std::abort();
  }
  if (module && failed(verify(*module))) {
    llvm::errs() << "importOnnx returned a module that does not verify\n";
    std::abort();
  }
  return 0;
}
