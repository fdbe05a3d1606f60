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

/// One argument or result of an entry point: element type ("f32", "f64",
/// "i64", "i32", "i8", "bool") and static shape.
struct TensorSpec {
  std::string dtype;
  std::vector<int64_t> shape;

  /// "f32[64,784]"
  std::string str() const;
  /// The C element type ("float", "int64_t", ...).
  std::string cType() const;
  int64_t bytes() const;
};

/// One entry point as the runtime and the C API see it.
struct EntryPoint {
  std::string name;
  std::vector<TensorSpec> inputs, results;

  /// "f32[64,784];i64[64]->f32[]": inputs, then results.
  std::string signature() const;
};

/// The public functions of a module on tensors, in order, with signatures.
/// Fails (with a diagnostic) on a type the runtime cannot pass.
FailureOr<std::vector<EntryPoint>> collectEntryPoints(ModuleOp module);

/// A parameter kept outside the code (anvilc --weights-file): its name, the
/// global that holds it at run time, and its type (which gives its size).
struct ExternalParam {
  std::string name;
  std::string symbol;
  TensorSpec type;
};

/// The external parameters of a module after the optimize phase.
std::vector<ExternalParam> collectExternalParams(ModuleOp module);

struct TargetOptions {
  std::string triple; // empty: the host
  std::string cpu;    // empty: the host CPU and its features
};

/// Translates `module` (LLVM dialect) to LLVM IR, renames each entry point
/// `<name>` to `anvil_<name>`, adds the tables the runtime reads
/// (`anvil_model_functions`; `anvil_model_params` with the external
/// parameters (name, type, storage, bytes) and `anvil_model_weights_path`, the
/// weights file to load by default), optimizes at -O3 and writes an object file
/// to `path` (atomically). Returns an error message, or "" on success.
std::string emitObject(ModuleOp module, const std::vector<EntryPoint> &entries,
                       const std::vector<ExternalParam> &params,
                       const std::string &weightsPath,
                       const TargetOptions &target, const std::string &path);

/// Links `object` with the runtime found in `libDir` and the main()
/// library `mainLibrary` (AnvilModelMain for inference, AnvilTrainerMain for
/// trainers) into the executable `output` (atomically). Returns an error
/// message or "".
std::string linkExecutable(const std::string &object, const std::string &libDir,
                           const std::string &mainLibrary,
                           const std::string &output);

/// Archives `object` into the static library `output` (atomically). Returns
/// an error message or "".
std::string archiveLibrary(const std::string &object,
                           const std::string &output);

/// The C header of a library built from `model`: one documented prototype
/// per entry point, with its exact shapes and buffer sizes.
std::string libraryHeader(const std::vector<EntryPoint> &entries,
                          const std::string &guard, const std::string &model);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_CODEGEN_H
