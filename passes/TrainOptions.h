//===- TrainOptions.h - choices of anvil-build-train-step -------*- C++ -*-===//
//
// The enumerated options of anvil-build-train-step (Passes.td), apart from
// Passes.h so that the driver's pipeline options can hold them cheaply. Each
// enum's cases (spelling and help line) are listed once, in a table here;
// the pass's options and anvilc train's --optimizer and --loss both take
// their cases from it (trainOptimizerCases(), trainLossCases()), so a new
// case is added in one place.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_TRAINOPTIONS_H
#define ANVIL_PASSES_TRAINOPTIONS_H

#include "llvm/ADT/ArrayRef.h"

#include <optional>

namespace mlir::anvil {

/// The optimizer (the pass's `optimizer` option; anvilc train's
/// --optimizer).
enum class TrainOptimizer { Sgd, Adam, AdamW };
/// The loss: the model's own @loss, or one of @forward's result against a
/// target (the pass's `loss` option; anvilc train's --loss).
enum class TrainLoss { Model, CrossEntropy, Nll, Mse };

/// One case of an enumerated option: its value, spelling and help line.
template <typename E> struct TrainCase {
  E value;
  const char *name;
  const char *help;
};

inline constexpr TrainCase<TrainOptimizer> kTrainOptimizers[] = {
    {TrainOptimizer::Sgd, "sgd", "SGD (with momentum, nesterov)"},
    {TrainOptimizer::Adam, "adam",
     "Adam: L2 weight decay added to the gradient, as PyTorch's Adam"},
    {TrainOptimizer::AdamW, "adamw", "AdamW: decoupled weight decay"},
};

inline constexpr TrainCase<TrainLoss> kTrainLosses[] = {
    {TrainLoss::Model, "model", "Keep the model's own @loss (the default)"},
    {TrainLoss::CrossEntropy, "cross-entropy",
     "Softmax cross-entropy against class indices"},
    {TrainLoss::Nll, "nll", "Negative log-likelihood against class indices"},
    {TrainLoss::Mse, "mse", "Mean squared error"},
};

/// A command-line modifier, used as llvm::cl::values is, that gives an
/// enumerated option (an llvm::cl::opt or a pass option) the cases of a
/// table, but `skip`.
template <typename E> struct TrainCases {
  llvm::ArrayRef<TrainCase<E>> cases;
  std::optional<E> skip;

  template <typename Opt> void apply(Opt &option) const {
    for (const TrainCase<E> &c : cases)
      if (!skip || c.value != *skip)
        option.getParser().addLiteralOption(c.name, c.value, c.help);
  }
};

/// Every optimizer.
inline TrainCases<TrainOptimizer> trainOptimizerCases() {
  return {kTrainOptimizers, std::nullopt};
}
/// Every loss; without `model` for a tool whose default (no --loss) already
/// keeps the model's own @loss.
inline TrainCases<TrainLoss> trainLossCases(bool withModel = true) {
  return {kTrainLosses, withModel ? std::nullopt
                                  : std::optional<TrainLoss>(TrainLoss::Model)};
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_TRAINOPTIONS_H
