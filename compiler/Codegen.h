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
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

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
  /// The batch it runs any number of samples in (kBatchAttr), else 0.
  int64_t batch = 0;

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
  std::string cpu;    // empty: the host CPU and its features (else generic)
  /// Threads that optimize and emit parts of the object in parallel (0:
  /// one per core); code for other targets is emitted in one piece.
  unsigned codegenThreads = 0;

  /// `triple`, or the host's.
  std::string tripleOrHost() const;
  /// Whether code for this target runs here (the host's architecture and OS).
  bool isHost() const;
};

/// Checks the triple and CPU name against the targets of LLVM (every one
/// Debian's libLLVM has). Returns an error message naming the option, or "".
std::string checkTarget(const TargetOptions &target);

/// Sets `cpus` to the CPU names the target knows; returns an error or "".
std::string targetCpus(const TargetOptions &target,
                       std::vector<std::string> &cpus);

/// Checks that the module's globals (after bufferization: parameters and
/// arenas) fit the 2 GiB an executable's data may take on x86-64. Returns
/// an error message giving the size, or "".
std::string checkStaticStorage(ModuleOp module);

/// Writes `path` through a temporary beside it that `write` fills and that
/// is renamed at the end: a full disk, or a signal, leaves no file behind.
/// Returns an error message naming `path`, or "".
std::string writeOutput(const std::string &path,
                        llvm::function_ref<void(llvm::raw_ostream &)> write);

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
/// trainers) into the executable `output` (a temporary name: the caller
/// renames it once everything it needs is written; removed on failure).
/// Returns an error message or "".
std::string linkExecutable(const std::string &object, const std::string &libDir,
                           const std::string &mainLibrary,
                           const std::string &output);

/// Archives `object`, with the run-time checks it calls (libAnvilChecks.a
/// in `libDir`), into the static library `output` (atomically). Returns an
/// error message or "".
std::string archiveLibrary(const std::string &object, const std::string &libDir,
                           const std::string &output);

/// The C header of a library built from `model`: one documented prototype
/// per entry point, with its exact shapes and buffer sizes.
std::string libraryHeader(const std::vector<EntryPoint> &entries,
                          const std::string &guard, const std::string &model);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_CODEGEN_H
