//===- Registration.cpp - what Anvil's tools register ---------------------===//
//
// Anvil's tools know every upstream dialect, extension and pass (linking the
// shared libMLIR makes that free), so that no interface model a lowering
// needs can be missing, plus Anvil's own dialect, passes and pipelines.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "compiler/Pipelines.h"
#include "dialects/AnvilOps.h"
#include "passes/BatchVariants.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::anvil::registerAllDialects(DialectRegistry &registry) {
  registry.insert<AnvilDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::anvil::registerAllPasses() {
  mlir::registerAllPasses();
  registerAnvilPasses();
  registerAnvilBatchVariantsPasses();
  registerPipelines();
}
