//===- Codegen.h - LLVM IR, object files and linking ------------*- C++ -*-===//
//
// The object phase and the link step: a module in the LLVM dialect becomes
// LLVM IR (with a table of its entry functions for the runtime), is
// optimized for the target machine and written as an object file, which is
// then linked with Anvil's model runtime into an executable.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_CODEGEN_H
#define ANVIL_COMPILER_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::anvil {

/// One entry point as the runtime sees it: `name`, and its signature as
/// "f32[64,784];i64[64]->f32[]" (inputs, then results).
struct EntryPoint {
  std::string name;
  std::string signature;
};

/// The public functions of a module on tensors, in order, with signatures.
/// Fails (with a diagnostic) on a type the runtime cannot pass.
FailureOr<std::vector<EntryPoint>> collectEntryPoints(ModuleOp module);

struct TargetOptions {
  std::string triple; // empty: the host
  std::string cpu;    // empty: the host CPU and its features
};

/// Translates `module` (LLVM dialect) to LLVM IR, renames each entry point
/// `<name>` to `anvil_<name>`, adds the `anvil_model_functions` table,
/// optimizes at -O3 and writes an object file to `path` (atomically).
/// Returns an error message, or "" on success.
std::string emitObject(ModuleOp module, const std::vector<EntryPoint> &entries,
                       const TargetOptions &target, const std::string &path);

/// Links `object` with the model runtime found in `libDir` into the
/// executable `output` (atomically). Returns an error message or "".
std::string linkExecutable(const std::string &object, const std::string &libDir,
                           const std::string &output);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_CODEGEN_H
