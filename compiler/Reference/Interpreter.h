//===- Interpreter.h - run anvil IR on the reference kernels ----*- C++ -*-===//
//
// Executes a function of a verified module op by op with the naive kernels
// of Kernels.h. It is the numeric truth for every compiled path and backs
// `anvilc run --reference`. Parameters take the values given with setParam
// or written by an earlier `anvil.assign`, or else their initializers (seeded
// from the op's `seed`, or from its name and the interpreter's seed). Runtime
// value errors and shape disagreements between a kernel and the dialect's
// inference throw anvil::Error prefixed with the op's location.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_REFERENCE_INTERPRETER_H
#define ANVIL_COMPILER_REFERENCE_INTERPRETER_H

#include "compiler/Reference/Tensor.h"

#include "dialects/AnvilOps.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <map>

namespace anvil::ref {

/// The starting value of `param` (mlir::anvil::initialValues) as a tensor.
Tensor initialValue(mlir::anvil::ParamOp param, uint64_t seed);

class Interpreter {
public:
  explicit Interpreter(mlir::ModuleOp module, uint64_t seed = 0)
      : module(module), seed(seed) {}

  /// Uses `value` for the parameter named `name` instead of its initializer.
  void setParam(const std::string &name, Tensor value) {
    params[name] = std::move(value);
  }

  /// Called with each op, its operands and its results, as soon as they
  /// are computed (`anvilc quantize` records the ranges of activations).
  using Observer =
      std::function<void(mlir::Operation *, const std::vector<Tensor> &operands,
                         const std::vector<Tensor> &results)>;
  void setObserver(Observer observer) { this->observer = std::move(observer); }

  /// The parameters given with setParam or written by `anvil.assign`.
  const std::map<std::string, Tensor> &assignedParams() const { return params; }

  /// Runs `function` on `args` (already checked against its signature) and
  /// returns its results.
  std::vector<Tensor> run(llvm::StringRef function,
                          const std::vector<Tensor> &args);

private:
  std::vector<Tensor> evaluate(mlir::Operation *op,
                               const std::vector<Tensor> &operands);

  mlir::ModuleOp module;
  uint64_t seed;
  std::map<std::string, Tensor> params;
  Observer observer;
};

} // namespace anvil::ref

#endif // ANVIL_COMPILER_REFERENCE_INTERPRETER_H
