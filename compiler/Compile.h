//===- Compile.h - a model through the phases to its output -----*- C++ -*-===//
//
// compileModule runs the phases of Pipelines.h on a loaded module, one by
// one, and writes what the job asks for: the IR (or object) of the phase it
// stops after, or an executable (with its weights file) or a static library
// (with its C header). Along the way it checks the target and that the
// outputs can be written before anything compiles, verifies the IR after
// each phase, and writes the dumps and reports asked for (every phase's IR,
// the memory plan, the fusion report). It leaves the module as the last
// phase run left it. Failures are llvm::Errors with one line for the user
// (a pass's own diagnostics print before them), as in Codegen.h.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_COMPILE_H
#define ANVIL_COMPILER_COMPILE_H

#include "compiler/Codegen.h"
#include "compiler/FusionReport.h"
#include "compiler/Parameters.h"
#include "compiler/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::anvil {

/// What one compilation makes, and what it reports on the way.
struct CompileJob {
  /// The phase to stop after and write (unset: all of them and the link).
  std::optional<Phase> stopAfter;
  /// The IR, object, executable or library ("" or "-" for IR: stdout).
  std::string output;
  PipelineOptions options;
  TargetOptions target;
  /// Where the parameters go when they are kept out of the code ("" = in
  /// the code); made absolute, since the executable records it.
  std::string weightsPath;
  /// Starting values of parameters, by name, overriding their initializers.
  ParamValues initial;
  /// Where `initial` comes from, for errors.
  std::string initialPath;
  /// Extra entries of the weights file (a trainer's defaults).
  std::vector<::anvil::NamedTensor> extras;
  /// The main() library: AnvilModelMain or AnvilTrainerMain.
  std::string mainLibrary = "AnvilModelMain";
  /// A static library and its C header instead of an executable.
  bool library = false;
  /// Where the runtime libraries are (build/lib beside build/bin/anvilc).
  std::string libDir;
  /// The model's file name, for the library header's comment.
  std::string modelName;

  /// Write the IR after every phase to DIR/NN-<phase>.mlir ("": no).
  std::string dumpPhasesTo;
  /// Print every function's static arena after bufferization.
  bool printMemoryPlan = false;
  /// Print the kernels after the optimize phase.
  FusionReportFormat fusionReport = FusionReportFormat::None;
  /// Verify after every pass, not only after every phase.
  bool verifyEachPass = false;
};

/// Runs `job` on `module`: the phases up to `job.stopAfter` (all of them
/// and the link step when unset). Reports (memory plan, fusion report, the
/// IR written to stdout) go to `os`; each phase is timed under `timing`.
llvm::Error compileModule(MLIRContext &context, ModuleOp module, CompileJob job,
                          TimingScope &timing, llvm::raw_ostream &os);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_COMPILE_H
