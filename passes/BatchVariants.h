//===- BatchVariants.h - one entry point, several batches -*- C++ -*-===//
//
// anvil-batch-variants (BatchVariants.td) and the attributes it sets, which
// code generation, the fusion report and the memory plan read.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_BATCHVARIANTS_H
#define ANVIL_PASSES_BATCHVARIANTS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::anvil {

#define GEN_PASS_DECL
#include "passes/BatchVariants.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/BatchVariants.h.inc"

/// On a clone of an entry point for another batch (anvil-batch-variants):
/// the name of the function it is a variant of, `anvil.variant_of = "f"`.
inline constexpr llvm::StringLiteral kVariantOfAttr = "anvil.variant_of";
/// On a public function that anvil-batch-variants left at one batch: why.
inline constexpr llvm::StringLiteral kBatchVariantsAttr =
    "anvil.batch_variants";

} // namespace mlir::anvil

#endif // ANVIL_PASSES_BATCHVARIANTS_H
