//===- MlirFuzzer.cpp - libFuzzer harness for .mlir models ----------------===//
//
// Parses arbitrary bytes as a model in Anvil's graph IR (the anvil and func
// dialects, what anvilc reads), which runs the verifiers and every op's type
// inference. A module that verifies is printed and parsed again: the printed
// form of valid IR must itself be valid (the assembly formats round-trip).
// Diagnostics are expected and swallowed; a crash, a sanitizer report or a
// failed round trip is a bug.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzContext.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ::anvil::fuzz::FuzzContext fuzz;
  MLIRContext &context = fuzz.context;

  // anvilc parses files, whose buffers end in a NUL that MLIR's lexer reads
  // as the end of input; parseSourceString does not copy, so give it one.
  std::string source(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  if (!module)
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  if (!parseSourceString<ModuleOp>(printed, &context)) {
    llvm::errs() << "valid IR printed as IR that does not parse:\n" << printed;
    std::abort();
  }
  return 0;
}
