//===- anvil-opt.cpp - the mlir-opt of Anvil ------------------------------===//
//
// Parses, verifies, transforms and prints IR with every dialect and pass of
// Anvil registered, plus the upstream dialects Anvil lowers through. Used by
// the lit tests and by anyone debugging one pass at a time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::anvil::registerAllDialects(registry);
  mlir::anvil::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Anvil optimizer driver\n", registry));
}
