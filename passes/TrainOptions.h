//===- TrainOptions.h - choices of anvil-build-train-step -------*- C++ -*-===//
//
// The enumerated options of anvil-build-train-step (Passes.td), apart from
// Passes.h so that the driver's pipeline options can hold them cheaply.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_TRAINOPTIONS_H
#define ANVIL_PASSES_TRAINOPTIONS_H

namespace mlir::anvil {

/// The optimizer (the pass's `optimizer` option; anvilc train's
/// --optimizer).
enum class TrainOptimizer { Sgd, Adam, AdamW };
/// The loss: the model's own @loss, or one of @forward's result against a
/// target (the pass's `loss` option; anvilc train's --loss).
enum class TrainLoss { Model, CrossEntropy, Nll, Mse };

} // namespace mlir::anvil

#endif // ANVIL_PASSES_TRAINOPTIONS_H
