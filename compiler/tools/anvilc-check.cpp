//===- anvilc-check.cpp - anvilc check ------------------------------------===//
//
// `anvilc check MODEL`: imports (or parses) the model and says what it
// holds: its functions, anvil ops and symbolic dimensions; or lists every
// problem at once and exits 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"

#include <map>

using namespace mlir;
using namespace anvilc;

/// `anvilc check`: imports (or parses) the model and says what it holds, or
/// lists every problem at once.
int anvilc::checkMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(context);
  if (!module)
    return 1;
  std::map<std::string, int> ops;
  module->walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "anvil")
      ++ops[op->getName().stripDialect().str()];
  });
  llvm::outs() << modelPath << ": OK, Anvil can compile it\n";
  // Unbound ones were taken as 1 (see importModel); a compile needs them.
  std::vector<std::string> unbound;
  for (const std::string &symbol : symbols())
    if (symbol == "?" || !llvm::any_of(bindings, [&](const std::string &b) {
          return llvm::StringRef(b).split('=').first == symbol;
        }))
      unbound.push_back(symbol);
  if (!unbound.empty()) {
    llvm::outs() << "  symbolic dimensions: " << llvm::join(symbols(), ", ")
                 << " (unbound ones taken as 1 here; to compile, give each "
                    "its size with --bind NAME=SIZE)\n";
  }
  for (auto func : module->getOps<func::FuncOp>())
    llvm::outs() << "  @" << func.getName() << " : "
                 << typeString(func.getFunctionType()) << "\n";
  llvm::outs() << "  anvil ops:";
  for (const auto &[name, count] : ops)
    llvm::outs() << " " << name << " x" << count;
  llvm::outs() << "\n";
  return 0;
}
