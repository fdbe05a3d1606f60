//===- Registration.cpp - what Anvil's tools register ---------------------===//

#include "compiler/Registration.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::anvil::registerAllDialects(DialectRegistry &registry) {
  registry.insert<AnvilDialect, func::FuncDialect>();
}

void mlir::anvil::registerAllPasses() {
  // Upstream graph clean-ups Anvil relies on (canonicalize, cse, ...).
  registerTransformsPasses();
}
