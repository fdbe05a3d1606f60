//===- AnvilOps.h - the anvil graph dialect ---------------------*- C++ -*-===//
//
// Declares the `anvil` dialect and its ops (generated from AnvilOps.td).
// Include this to build or match anvil ops; register the dialect with
// `registry.insert<mlir::anvil::AnvilDialect>()`.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVILOPS_H
#define ANVIL_DIALECTS_ANVILOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/AnvilOpsDialect.h.inc"

#include "dialects/AnvilInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/AnvilOps.h.inc"

namespace mlir::anvil {

/// The initializers an `anvil.param` accepts, in the order the docs list them.
llvm::ArrayRef<llvm::StringRef> paramInitializers();

/// Normalizes a possibly negative `axis` of a rank-`rank` tensor into
/// [0, rank), or returns -1 when it is out of range.
int64_t normalizeAxis(int64_t axis, int64_t rank);

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_ANVILOPS_H
