//===- Codegen.h - LLVM IR, object files and linking ------------*- C++ -*-===//
//
// The object phase and the link step: a module in the LLVM dialect becomes
// LLVM IR (with a table of its entry functions for the runtime), is
// optimized for the target machine and written as an object file, which is
// then linked with Anvil's model runtime into an executable, or archived
// into a static library with a C header. What the runtime sees (entry
// signatures, external parameters) comes from the attributes that
// anvil-record-interface left on the module, not from the caller.
//
// Errors: like the rest of the driver-facing library (Parameters.h), every
// function that can fail on user input or the machine returns llvm::Error
// (llvm::Expected<T> when it makes a value) whose message is one line for
// the user, naming the file or option; the caller prints it. Problems in
// the IR itself are MLIR diagnostics, reported by the pass that finds them.
// Every file is written through a temporary that is renamed once complete
// and removed on failure or SIGINT/SIGTERM.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_CODEGEN_H
#define ANVIL_COMPILER_CODEGEN_H

#include "runtime/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::anvil {

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
/// Debian's libLLVM has); the error names the option.
llvm::Error checkTarget(const TargetOptions &target);

/// Whether the target's CPU has `feature` (LLVM's name, e.g. "avx512vnni"):
/// the host's own features by default, else the named (or generic) CPU's.
bool targetHasFeature(const TargetOptions &target, llvm::StringRef feature);

/// The CPU names the target knows (`--target-cpu=help`).
llvm::Expected<std::vector<std::string>>
targetCpus(const TargetOptions &target);

/// Checks that the module's globals (after bufferization: parameters and
/// arenas) fit the 2 GiB an executable's data may take on x86-64; the error
/// gives the size.
llvm::Error checkStaticStorage(ModuleOp module);

/// Prints the static arena of every function (its `anvil.memory_plan`,
/// after bufferization): its size and the offset, size and lifetime of
/// every buffer in it (`anvilc --print-memory-plan`).
void printMemoryPlans(ModuleOp module, llvm::raw_ostream &os);

/// Checks, before anything compiles, that `path` could be written: its
/// directory exists and is writable. `what` ("the output") names it.
llvm::Error checkWritable(const std::string &path, const std::string &what);

/// Writes `path` through a temporary beside it that `write` fills and that
/// is renamed at the end: a full disk, or a signal, leaves no file behind.
llvm::Error writeOutput(const std::string &path,
                        llvm::function_ref<void(llvm::raw_ostream &)> write);

/// Translates `module` (LLVM dialect) to LLVM IR, renames each entry point
/// `<name>` to `anvil_<name>`, adds the tables the runtime reads
/// (`anvil_model_functions`; `anvil_model_params` with the external
/// parameters (name, type, storage, bytes) and `anvil_model_weights_path`,
/// the weights file to load by default), optimizes at -O3 and writes an
/// object file to `path`. Its steps are timed under `timing` (anvilc
/// --time-phases; a default TimingScope times nothing).
llvm::Error emitObject(ModuleOp module, const std::string &weightsPath,
                       const TargetOptions &target, const std::string &path,
                       TimingScope &timing);

/// What an executable is linked from besides its object.
struct LinkOptions {
  /// Where the runtime libraries are (build/lib beside build/bin/anvilc).
  std::string libDir;
  /// The main() library: AnvilModelMain (inference) or AnvilTrainerMain.
  std::string mainLibrary = "AnvilModelMain";
  /// The weights file the executable loads ("": parameters are in the
  /// code), as an absolute path, and what it holds.
  std::string weightsPath;
  std::vector<::anvil::NamedTensor> weights;
};

/// Emits `module`'s object and links it with the runtime and LLVM's OpenMP
/// into the executable `output`, and writes its weights file: an executable
/// never appears without its weights. Timed under `timing`: the object's
/// steps (emitObject) and the link.
llvm::Error buildExecutable(ModuleOp module, const TargetOptions &target,
                            const LinkOptions &link, const std::string &output,
                            TimingScope &timing);

/// Emits `module`'s object and archives it, with the run-time checks it
/// calls (libAnvilChecks.a in `libDir`), into the static library `output`
/// (`libmlp.a`), and writes its C header beside it (`mlp.h`): one
/// documented prototype per entry point, with its exact shapes and buffer
/// sizes. `model` (the source's name) goes into the header's comment.
/// Timed under `timing`, like buildExecutable.
llvm::Error buildLibrary(ModuleOp module, const TargetOptions &target,
                         const std::string &libDir, const std::string &output,
                         const std::string &model, TimingScope &timing);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_CODEGEN_H
