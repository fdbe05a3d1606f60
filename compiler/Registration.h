//===- Registration.h - what Anvil's tools register -------------*- C++ -*-===//
//
// One place that says which dialects and passes Anvil's tools know, so that
// anvilc and anvil-opt can never disagree.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_REGISTRATION_H
#define ANVIL_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
namespace anvil {

/// Adds the anvil dialect and the upstream dialects Anvil's IR uses.
void registerAllDialects(DialectRegistry &registry);

/// Registers Anvil's passes with the global pass registry (for anvil-opt and
/// `--pass-pipeline` style flags).
void registerAllPasses();

} // namespace anvil
} // namespace mlir

#endif // ANVIL_COMPILER_REGISTRATION_H
