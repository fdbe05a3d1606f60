//===- Parameters.h - parameter values from weights files -------*- C++ -*-===//
//
// What anvilc does with the values of a model's `anvil.param`s: takes them
// from a weights file or checkpoint into the IR (--weights), chooses them by
// name (--freeze, --reinit), and computes the starting value of each for the
// weights file beside an executable or trainer (--init-from, initializers).
// Every function reports a bad file or name as an llvm::Error whose message
// names the file and the parameter; none prints or throws (the convention
// of the driver-facing library, see Codegen.h).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_PARAMETERS_H
#define ANVIL_COMPILER_PARAMETERS_H

#include "runtime/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::anvil {

/// Parameter values by name.
using ParamValues = std::map<std::string, ::anvil::NamedTensor>;

/// Gives every parameter of `module` its value from the weights file at
/// `path` (as dense data), checking that the file has each one, with the
/// model's type.
llvm::Error applyWeights(ModuleOp module, const std::string &path);

/// The names of the parameters of `module` that match `regex`; an error
/// when it is not a valid regex or matches none. `option` (--freeze, ...)
/// and `modelPath` name them in the message.
llvm::Expected<std::vector<std::string>>
matchParams(ModuleOp module, const std::string &regex, llvm::StringRef option,
            const std::string &modelPath);

/// The values of the checkpoint or weights file at `path` (--init-from)
/// for the parameters of `module`, less those of the parameters whose name
/// matches `reinit` (a regex; "" for none) and their optimizer state
/// (`<name>.momentum`, `<name>.adam_m`, ...), which start afresh (--reinit).
llvm::Expected<ParamValues> readInitialValues(ModuleOp module,
                                              const std::string &path,
                                              const std::string &reinit,
                                              const std::string &modelPath);

/// The starting value of every parameter of `module` (after the train
/// phase, which adds the optimizer state), by name: its value in `initial`
/// or else its initializer (with `seed`). An error names `initialPath` when
/// a value in `initial` has another type than its parameter.
llvm::Expected<std::vector<::anvil::NamedTensor>>
startingValues(ModuleOp module, uint64_t seed, const ParamValues &initial,
               const std::string &initialPath);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_PARAMETERS_H
