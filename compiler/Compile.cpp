//===- Compile.cpp - a model through the phases to its output -------------===//
//
// The phase loop of anvilc (see Compile.h): a pass manager per phase, so
// that the compile can stop after any phase and dump or report between
// them; then code generation (Codegen.h) for the object, library or
// executable. Everything the user could get wrong (the target, an output
// that cannot be written) is checked before the first pass runs.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compile.h"

#include "compiler/Diagnosed.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

llvm::Error error(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Writes `module` as text to `path` ("-" or "": `os`).
llvm::Error writeIR(ModuleOp module, const std::string &path,
                    llvm::raw_ostream &os) {
  if (path.empty() || path == "-") {
    module.print(os);
    return llvm::Error::success();
  }
  return writeOutput(path,
                     [&](llvm::raw_ostream &file) { module.print(file); });
}

/// What can be checked before anything compiles: the target, that an
/// executable for it can be linked here, and that every output can be
/// written.
llvm::Error checkJob(const CompileJob &job) {
  bool linking = !job.stopAfter.has_value();
  if (llvm::Error e = checkTarget(job.target))
    return e;
  if (linking && !job.library && !job.target.isHost())
    return error("cannot link an executable for " + job.target.tripleOrHost() +
                 " on this " + llvm::sys::getDefaultTargetTriple() +
                 " machine; make an object (--compile-to=object) or a library "
                 "(--emit=lib) and link it on the target");
  if (!job.output.empty() && job.output != "-")
    if (llvm::Error e = checkWritable(job.output, "the output"))
      return e;
  if (!job.weightsPath.empty())
    if (llvm::Error e = checkWritable(job.weightsPath, "the weights"))
      return e;
  if (!job.dumpPhasesTo.empty())
    if (std::error_code ec =
            llvm::sys::fs::create_directories(job.dumpPhasesTo))
      return error("cannot create '" + job.dumpPhasesTo + "': " + ec.message());
  return llvm::Error::success();
}

} // namespace

llvm::Error mlir::anvil::compileModule(MLIRContext &context, ModuleOp module,
                                       CompileJob job, TimingScope &root,
                                       llvm::raw_ostream &os) {
  if (!job.weightsPath.empty()) {
    if (job.library)
      return error("--weights-file works with executables only so far");
    llvm::SmallString<256> absolute(job.weightsPath);
    llvm::sys::fs::make_absolute(absolute);
    job.weightsPath = absolute.str().str();
    job.options.externalWeights = true;
  }
  // Outputs go where they can be written, or nothing is compiled.
  if (llvm::Error e = checkJob(job))
    return e;
  bool linking = !job.stopAfter.has_value();
  LinkOptions link{job.libDir, job.mainLibrary, job.weightsPath, {}};
  for (auto [number, phase] : llvm::enumerate(allPhases())) {
    std::string name = phaseName(phase).str();
    if (phase == Phase::Object)
      break;
    TimingScope timing = root.nest(name);
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return diagnosedError();
    pm.enableTiming(timing);
    // Verifying after each of the ~45 passes took half the time of the
    // MLIR phases on big models; once per phase still names the phase.
    pm.enableVerifier(job.verifyEachPass);
    buildPhasePipeline(pm, phase, job.options);
    if (failed(pm.run(module)))
      return error("the " + name + " phase failed (see above)");
    TimingScope verifying = timing.nest("verify");
    if (!job.verifyEachPass && failed(verify(module)))
      return error("internal error: the " + name +
                   " phase left invalid IR (see above); "
                   "--verify-each-pass finds the pass");
    verifying.stop();
    // The weights file starts from the parameters as the train phase left
    // them (with the optimizer state), before they become storage.
    if (phase == Phase::Train && !job.weightsPath.empty()) {
      auto values = startingValues(module, job.options.seed, job.initial,
                                   job.initialPath);
      if (!values)
        return values.takeError();
      link.weights = std::move(*values);
      link.weights.insert(link.weights.end(), job.extras.begin(),
                          job.extras.end());
    }
    if (phase == Phase::Bufferize && job.printMemoryPlan)
      printMemoryPlans(module, os);
    // (Objects too: whoever links them would hit the same wall.)
    if (phase == Phase::Bufferize &&
        (linking || job.stopAfter == Phase::Object))
      if (llvm::Error e = checkStaticStorage(module))
        return e;
    if (phase == Phase::Optimize)
      writeFusionReport(module, job.options, job.fusionReport, os);
    if (!job.dumpPhasesTo.empty())
      if (llvm::Error e = writeIR(module,
                                  llvm::formatv("{0}/{1:2}-{2}.mlir",
                                                job.dumpPhasesTo, number, name),
                                  os))
        return e;
    if (job.stopAfter == phase)
      return writeIR(module, job.output, os);
  }
  TimingScope timing = root.nest("object");
  if (!linking)
    return emitObject(module, "", job.target, job.output, timing);
  if (job.library)
    return buildLibrary(module, job.target, job.libDir, job.output,
                        job.modelName, timing);
  return buildExecutable(module, job.target, link, job.output, timing);
}
