//===- BatchVariants.h - one entry point, several batches -*- C++ -*-===//
//
// The attributes anvil-batch-variants (Passes.td) sets, which code
// generation, the fusion report and the memory plan read.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_BATCHVARIANTS_H
#define ANVIL_PASSES_BATCHVARIANTS_H

#include "llvm/ADT/StringRef.h"

namespace mlir::anvil {

/// On a clone of an entry point for another batch (anvil-batch-variants):
/// the name of the function it is a variant of, `anvil.variant_of = "f"`.
inline constexpr llvm::StringLiteral kVariantOfAttr = "anvil.variant_of";
/// On a public function that anvil-batch-variants left at one batch: why.
inline constexpr llvm::StringLiteral kBatchVariantsAttr =
    "anvil.batch_variants";

} // namespace mlir::anvil

#endif // ANVIL_PASSES_BATCHVARIANTS_H
