//===- anvilc.cpp - Anvil's compiler driver -------------------------------===//
//
// `anvilc MODEL -o EXE` compiles a model graph through the phases of
// compiler/Pipelines.h into a native executable; `--compile-to=PHASE` stops
// after a phase and prints its IR, `--dump-phases-to=DIR` writes every phase.
// The subcommands (run, train, check, export) live in anvilc-<name>.cpp and
// share what anvilc.h declares: loading a model and compile(). Every user
// error (a missing file, malformed IR, a wrong input shape, a bad .npy)
// prints one message naming the file and exits 1; nothing half-written is
// left behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Codegen.h"
#include "compiler/FusionReport.h"
#include "compiler/Onnx/Import.h"
#include "compiler/Parameters.h"
#include "compiler/Registration.h"
#include "dialects/AnvilOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/TargetParser/Host.h"
#include <cstring>

using namespace mlir;
using namespace anvilc;

// Function-local statics: the options of the other files name them while
// they are constructed, in an order C++ leaves open between files.
cl::OptionCategory &anvilc::category() {
  static cl::OptionCategory category("anvilc options");
  return category;
}
cl::SubCommand &anvilc::runCommand() {
  static cl::SubCommand command(
      "run", "Run a function of a model on .npy inputs and write .npy outputs");
  return command;
}
cl::SubCommand &anvilc::trainCommand() {
  static cl::SubCommand command(
      "train", "Compile a model into a native trainer executable");
  return command;
}
cl::SubCommand &anvilc::checkCommand() {
  static cl::SubCommand command(
      "check", "Check that Anvil can compile a model; list every problem");
  return command;
}
cl::SubCommand &anvilc::exportCommand() {
  static cl::SubCommand command("export",
                                "Write a model (with trained weights) as ONNX");
  return command;
}

int anvilc::reportError(const std::string &message) {
  llvm::errs() << "anvilc: error: " << message << "\n";
  return 1;
}

enum class Emit { Exe, Lib };

// Options of several subcommands.
cl::opt<int64_t>
    anvilc::batch("batch",
                  cl::desc("Batch size (default: the model's): the model is "
                           "re-batched, every shape following the new batch"),
                  cl::init(0), cl::sub(cl::SubCommand::getTopLevel()),
                  cl::sub(trainCommand()), cl::cat(category()));
cl::opt<uint64_t> anvilc::seed(
    "seed", cl::desc("Seed for parameters without a `seed` attribute"),
    cl::init(0), cl::sub(cl::SubCommand::getTopLevel()), cl::sub(runCommand()),
    cl::sub(trainCommand()), cl::sub(exportCommand()), cl::cat(category()));

// Top level: compile.
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::cat(category()));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR (object: the object "
             "file): import, graph, train, optimize, backend, bufferize, "
             "llvm, object"),
    cl::value_desc("phase"), cl::cat(category()));
static cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output: the executable (default: the model's name), or with "
             "--compile-to the IR (default: stdout) or object file"),
    cl::value_desc("file"), cl::cat(category()));
static cl::opt<std::string> dumpPhasesTo(
    "dump-phases-to",
    cl::desc("Write the IR after every phase to DIR/NN-<phase>.mlir"),
    cl::value_desc("dir"), cl::cat(category()));
static EnumOpt<Emit> emitKind(
    "emit", cl::desc("What to make"),
    cl::values(clEnumValN(Emit::Exe, "exe", "An executable (the default)"),
               clEnumValN(Emit::Lib, "lib",
                          "A static library plus a C header beside it")),
    cl::init(Emit::Exe), cl::cat(category()));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Keep the parameters out of the executable: write them to FILE, "
             "which the executable loads at start (or --weights FILE)"),
    cl::value_desc("file"), cl::cat(category()));
cl::opt<std::string> anvilc::weightsIn(
    "weights",
    cl::desc("Use these parameter values (a trainer's checkpoint or a "
             "weights file) instead of the initializers"),
    cl::value_desc("ckpt"), cl::sub(cl::SubCommand::getTopLevel()),
    cl::sub(runCommand()), cl::sub(exportCommand()), cl::cat(category()));
static cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("Print each function's static arena: its size and the offset, "
             "size and lifetime of every buffer in it"),
    cl::cat(category()));
static cl::opt<unsigned> codegenThreads(
    "codegen-threads",
    cl::desc("Threads that optimize and emit the object's parts in parallel "
             "(default 0: one per core; 1: in one piece)"),
    cl::init(0), cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool>
    noFusion("no-fusion",
             cl::desc("No graph fusions, for comparison: batch norms stay "
                      "(anvil-fold-batch-norm) and elementwise ops keep one "
                      "loop each (anvil-fuse-elementwise)"),
             cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<mlir::anvil::FusionReportFormat> fusionReport(
    "fusion-report", cl::ValueOptional,
    cl::desc("Print every kernel of the model: its source names, pattern, "
             "FLOPs, bytes moved and the fusions not taken, with reasons"),
    cl::values(clEnumValN(mlir::anvil::FusionReportFormat::Text, "text",
                          "as text (the default)"),
               clEnumValN(mlir::anvil::FusionReportFormat::Json, "json",
                          "as one JSON object"),
               clEnumValN(mlir::anvil::FusionReportFormat::Text, "", "")),
    cl::init(mlir::anvil::FusionReportFormat::None), cl::cat(category()));
static cl::opt<bool> exactMath(
    "exact-math",
    cl::desc("Call libm for f32 exp, tanh and erf instead of the vectorized "
             "polynomials of anvil-approximate-math (within 8 ulp)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> verifyEachPass(
    "verify-each-pass",
    cl::desc("Verify the IR after every pass, not only after every phase "
             "(slower; for finding a compiler bug)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple (default: this machine's)"),
                 cl::cat(category()));
static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("Target CPU (default: this machine's, with all its "
                       "features; a generic one for another triple); "
                       "--target-cpu=help lists the target's CPUs"),
              cl::cat(category()));

// ONNX models everywhere.
cl::list<std::string>
    anvilc::bindings("bind",
                     cl::desc("Size of a symbolic dimension of an ONNX model's "
                              "inputs (repeat or comma-separate)"),
                     cl::value_desc("NAME=VALUE"), cl::CommaSeparated,
                     cl::sub(cl::SubCommand::getAll()), cl::cat(category()));

/// The model's text and the handler that prints diagnostics as
/// file:line:col with the source line, from parsing through every pass.
static std::shared_ptr<llvm::SourceMgr> sourceMgr;
static std::unique_ptr<SourceMgrDiagnosticHandler> diagnostics;

/// The symbolic dimensions of the ONNX model last imported.
std::vector<std::string> anvilc::symbols;

/// Imports an ONNX model; prints every problem when it cannot.
static OwningOpRef<ModuleOp>
importModel(const std::string &path, MLIRContext &context,
            const std::vector<::anvil::NpyArray> *known) {
  mlir::anvil::OnnxImportOptions options;
  for (const std::string &binding : bindings) {
    auto [name, value] = llvm::StringRef(binding).split('=');
    int64_t size = 0;
    if (name.empty() || value.getAsInteger(10, size) || size <= 0) {
      reportError("--bind wants NAME=SIZE with a positive size, not '" +
                  binding + "'");
      return nullptr;
    }
    options.bindings[name.str()] = size;
  }
  if (known)
    options.inputValues.assign(known->begin(), known->end());
  // `check` says which ops Anvil takes; that does not depend on the batch.
  if (checkCommand())
    options.unboundSize = 1;
  mlir::anvil::OnnxProblems problems;
  OwningOpRef<ModuleOp> module =
      mlir::anvil::importOnnx(path, context, options, problems);
  if (!module)
    reportError(problems.format(path));
  symbols = problems.symbols;
  return module;
}

OwningOpRef<ModuleOp>
anvilc::loadModel(const std::string &path, MLIRContext &context,
                  const std::vector<::anvil::NpyArray> *known) {
  if (mlir::anvil::isOnnxPath(path))
    return importModel(path, context, known);
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    reportError("cannot open model '" + path + "': " + error);
    return nullptr;
  }
  sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  diagnostics =
      std::make_unique<SourceMgrDiagnosticHandler>(*sourceMgr, &context);
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

std::string anvilc::typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// build/lib beside build/bin/anvilc: where the model runtime lives.
static std::string libDir;

/// Writes `module` as text to `path` ("-" or "" = stdout).
static int writeIR(ModuleOp module, const std::string &path) {
  if (path.empty() || path == "-") {
    module.print(llvm::outs());
    return 0;
  }
  std::string error = mlir::anvil::writeOutput(
      path, [&](llvm::raw_ostream &os) { module.print(os); });
  return error.empty() ? 0 : reportError(error);
}

std::string anvilc::checkWritable(const std::string &path,
                                  const std::string &what) {
  llvm::SmallString<256> dir(path);
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_filename(dir);
  if (!llvm::sys::fs::is_directory(dir))
    return "cannot write " + what + " '" + path + "': the directory '" +
           dir.str().str() + "' does not exist";
  if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write))
    return "cannot write " + what + " '" + path + "': the directory '" +
           dir.str().str() + "' is not writable";
  return "";
}

/// A fresh name beside `path` for a temporary that is renamed to `path`
/// at the end, removed if anvilc is interrupted before.
static std::string temporaryFor(const std::string &path) {
  llvm::SmallString<256> temp;
  llvm::sys::fs::createUniquePath(path + "-%%%%%%.tmp", temp, false);
  llvm::sys::RemoveFileOnSignal(temp);
  return temp.str().str();
}

/// Removes a temporary (or renames it to `to` when given) and forgets it.
static std::string finishTemporary(const std::string &temp,
                                   const std::string &to = "") {
  std::string error;
  if (!to.empty())
    if (std::error_code ec = llvm::sys::fs::rename(temp, to))
      error = "cannot write '" + to + "': " + ec.message();
  if (to.empty() || !error.empty())
    llvm::sys::fs::remove(temp);
  llvm::sys::DontRemoveFileOnSignal(temp);
  return error;
}

/// Prints the `anvil.memory_plan` of every function (see PlanMemory.cpp).
static void printPlans(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>()) {
    auto plan = func->getAttrOfType<DictionaryAttr>("anvil.memory_plan");
    if (!plan)
      continue;
    llvm::outs() << "memory plan of @" << func.getName() << ": arena "
                 << cast<IntegerAttr>(plan.get("arena_bytes")).getInt()
                 << " bytes\n";
    llvm::outs() << llvm::formatv("  {0,10} {1,10}  {2,-10} {3}\n", "offset",
                                  "bytes", "live", "type");
    for (Attribute entry : cast<ArrayAttr>(plan.get("buffers"))) {
      auto e = cast<DictionaryAttr>(entry);
      ArrayRef<int64_t> live = cast<DenseI64ArrayAttr>(e.get("live"));
      std::string range =
          "[" + std::to_string(live[0]) + ", " + std::to_string(live[1]) + "]";
      llvm::outs() << llvm::formatv(
          "  {0,10} {1,10}  {2,-10} {3}\n",
          cast<IntegerAttr>(e.get("offset")).getInt(),
          cast<IntegerAttr>(e.get("bytes")).getInt(), range,
          typeString(cast<TypeAttr>(e.get("type")).getValue()));
    }
  }
}

int anvilc::compile(MLIRContext &context, ModuleOp module, Job job) {
  using mlir::anvil::Phase;
  if (!job.weightsPath.empty()) {
    if (emitKind == Emit::Lib)
      return reportError("--weights-file works with executables only so far");
    llvm::SmallString<256> absolute(job.weightsPath);
    llvm::sys::fs::make_absolute(absolute);
    job.weightsPath = absolute.str().str();
    job.options.externalWeights = true;
  }
  job.options.fuseElementwise = job.options.foldBatchNorm = !noFusion;
  job.options.approximateMath = !exactMath;
  bool linking = !job.stopAfter.has_value();
  mlir::anvil::TargetOptions target{targetTriple, targetCpu, codegenThreads};
  if (std::string e = mlir::anvil::checkTarget(target); !e.empty())
    return reportError(e);
  if (linking && emitKind == Emit::Exe && !target.isHost())
    return reportError(
        "cannot link an executable for " + target.tripleOrHost() + " on this " +
        llvm::sys::getDefaultTargetTriple() +
        " machine; make an object (--compile-to=object) or a library "
        "(--emit=lib) and link it on the target");
  // Outputs go where they can be written, or nothing is compiled.
  if (!job.output.empty() && job.output != "-")
    if (std::string e = checkWritable(job.output, "the output"); !e.empty())
      return reportError(e);
  if (!job.weightsPath.empty())
    if (std::string e = checkWritable(job.weightsPath, "the weights");
        !e.empty())
      return reportError(e);
  FailureOr<std::vector<mlir::anvil::EntryPoint>> entries;
  std::vector<::anvil::NamedTensor> weights;
  std::vector<mlir::anvil::ExternalParam> params;
  if (!dumpPhasesTo.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpPhasesTo))
      return reportError("cannot create '" + dumpPhasesTo +
                         "': " + ec.message());
  int number = 0;
  for (Phase phase : mlir::anvil::allPhases()) {
    std::string name = mlir::anvil::phaseName(phase).str();
    if (phase == Phase::Object)
      break;
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    // Verifying after each of the ~45 passes took half the time of the
    // MLIR phases on big models; once per phase still names the phase.
    pm.enableVerifier(verifyEachPass);
    mlir::anvil::buildPhasePipeline(pm, phase, job.options);
    if (failed(pm.run(module)))
      return reportError("the " + name + " phase failed (see above)");
    if (!verifyEachPass && failed(verify(module)))
      return reportError("internal error: the " + name +
                         " phase left invalid IR (see above); "
                         "--verify-each-pass finds the pass");
    if (phase == Phase::Train) {
      // The entry points and parameters are all there, still on tensors.
      entries = mlir::anvil::collectEntryPoints(module);
      if (failed(entries))
        return 1;
      if (!job.weightsPath.empty()) {
        auto values = mlir::anvil::startingValues(module, job.options.seed,
                                                  job.initial, job.initialPath);
        if (!values)
          return reportError(llvm::toString(values.takeError()));
        weights = std::move(*values);
      }
    }
    if (phase == Phase::Bufferize && printMemoryPlan)
      printPlans(module);
    // (Objects too: whoever links them would hit the same wall.)
    if (phase == Phase::Bufferize &&
        (linking || job.stopAfter == Phase::Object))
      if (std::string e = mlir::anvil::checkStaticStorage(module); !e.empty())
        return reportError(e);
    if (phase == Phase::Optimize)
      params = mlir::anvil::collectExternalParams(module);
    if (phase == Phase::Optimize)
      mlir::anvil::writeFusionReport(module, job.options, fusionReport,
                                     llvm::outs());
    if (!dumpPhasesTo.empty()) {
      char prefix[16];
      std::snprintf(prefix, sizeof(prefix), "%02d-", number++);
      if (int rc =
              writeIR(module, dumpPhasesTo + "/" + prefix + name + ".mlir"))
        return rc;
    }
    if (job.stopAfter == phase)
      return writeIR(module, job.output);
  }
  if (!linking) {
    std::string e = mlir::anvil::emitObject(
        module, *entries, params, job.weightsPath, target, job.output);
    return e.empty() ? 0 : reportError(e);
  }
  // The object, the executable and its weights are temporaries until all of
  // them are written: then the weights, and last the executable, are
  // renamed into place. Any failure (or a signal) removes them all.
  std::string object = temporaryFor(job.output + ".o");
  std::string built = temporaryFor(job.output);
  std::string weightsTemp =
      job.weightsPath.empty() ? "" : temporaryFor(job.weightsPath);
  std::string e = mlir::anvil::emitObject(module, *entries, params,
                                          job.weightsPath, target, object);
  const std::string &output = job.output;
  if (e.empty() && emitKind == Emit::Lib) {
    e = mlir::anvil::archiveLibrary(object, libDir, output);
    if (e.empty()) {
      // libmlp.a gets mlp.h beside it.
      llvm::StringRef stem = llvm::sys::path::stem(output);
      stem.consume_front("lib");
      llvm::SmallString<128> header = llvm::sys::path::parent_path(output);
      llvm::sys::path::append(header, stem + ".h");
      std::string guard = "ANVIL_MODEL_" + stem.upper() + "_H";
      for (char &c : guard)
        if (!llvm::isAlnum(c))
          c = '_';
      e = mlir::anvil::writeOutput(
          header.str().str(), [&](llvm::raw_ostream &os) {
            os << mlir::anvil::libraryHeader(
                *entries, guard, llvm::sys::path::filename(modelPath).str());
          });
    }
  } else if (e.empty()) {
    if (!job.weightsPath.empty()) {
      weights.insert(weights.end(), job.extras.begin(), job.extras.end());
      try {
        ::anvil::writeWeights(weightsTemp, weights);
      } catch (const ::anvil::Error &error) {
        // The message names the temporary; the user knows the real name.
        e = error.what();
        if (size_t at = e.find(weightsTemp); at != std::string::npos)
          e.replace(at, weightsTemp.size(), job.weightsPath);
      }
    }
    if (e.empty())
      e = mlir::anvil::linkExecutable(object, libDir, job.mainLibrary, built);
    if (e.empty() && !weightsTemp.empty())
      e = finishTemporary(weightsTemp, job.weightsPath);
    if (e.empty())
      e = finishTemporary(built, output);
  }
  finishTemporary(object);
  finishTemporary(built);
  if (!weightsTemp.empty())
    finishTemporary(weightsTemp);
  return e.empty() ? 0 : reportError(e);
}

static int compileMain(MLIRContext &context) {
  if (targetCpu == "help") {
    std::vector<std::string> cpus;
    mlir::anvil::TargetOptions target{targetTriple, ""};
    if (std::string e = mlir::anvil::targetCpus(target, cpus); !e.empty())
      return reportError(e);
    llvm::outs() << "CPUs for " << target.tripleOrHost() << ":\n";
    for (const std::string &cpu : cpus)
      llvm::outs() << "  " << cpu << "\n";
    return 0;
  }
  if (modelPath.empty())
    return reportError("no model given; see anvilc --help");
  if (batch < 0)
    return reportError("--batch must be a positive size, not " +
                       std::to_string(batch));
  std::optional<mlir::anvil::Phase> stopAfter;
  if (!compileTo.empty()) {
    stopAfter = mlir::anvil::parsePhase(compileTo);
    if (!stopAfter) {
      std::string names;
      for (auto phase : mlir::anvil::allPhases())
        names +=
            (names.empty() ? "" : ", ") + mlir::anvil::phaseName(phase).str();
      return reportError("unknown phase '" + compileTo +
                         "'; the phases are: " + names);
    }
  }
  OwningOpRef<ModuleOp> module = loadModel(modelPath, context);
  if (!module)
    return 1;
  std::string output = outputPath;
  std::string stem = llvm::sys::path::stem(modelPath).str();
  if (output.empty() && stopAfter == mlir::anvil::Phase::Object)
    output = stem + ".o";
  else if (output.empty() && !stopAfter)
    output = emitKind == Emit::Lib ? "lib" + stem + ".a" : stem;
  if (!weightsIn.empty())
    if (llvm::Error e = mlir::anvil::applyWeights(*module, weightsIn))
      return reportError(llvm::toString(std::move(e)));
  if (stopAfter == mlir::anvil::Phase::Import)
    return writeIR(*module, output);
  Job job;
  job.stopAfter = stopAfter;
  job.output = output;
  job.options.seed = seed;
  job.options.batch = batch;
  if (!stopAfter)
    job.weightsPath = weightsFile;
  return compile(context, *module, std::move(job));
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  libDir = llvm::sys::path::parent_path(
               llvm::sys::path::parent_path(llvm::sys::fs::getMainExecutable(
                   argv[0], reinterpret_cast<void *>(&reportError))))
               .str() +
           "/lib";
  // MLIR's own flags (--mlir-print-ir-after-all, ...) work but stay out of
  // --help; --help-hidden lists them.
  cl::HideUnrelatedOptions(category());
  cl::HideUnrelatedOptions(category(), runCommand());
  cl::HideUnrelatedOptions(category(), trainCommand());
  cl::HideUnrelatedOptions(category(), checkCommand());
  cl::HideUnrelatedOptions(category(), exportCommand());
  cl::ParseCommandLineOptions(
      argc, argv,
      "Anvil: a compiler for neural-network graphs\n\n"
      "  anvilc MODEL.mlir [-o EXE]             compile to a native "
      "executable\n"
      "  anvilc MODEL.mlir --compile-to=PHASE   stop after a phase, print "
      "its IR\n"
      "  anvilc train MODEL.mlir --lr 0.05 --momentum 0.9 -o trainer\n"
      "                                         compile a native trainer\n"
      "  anvilc run MODEL.mlir --input x.npy ... --output y.npy ...\n"
      "                                         compile and run (or "
      "--reference)\n"
      "  anvilc run MODEL.onnx --inputs a.pb,b.pb --outputs DIR\n"
      "                                         the same with onnx.TensorProto "
      "files\n"
      "  anvilc check MODEL.onnx                list everything Anvil cannot "
      "compile\n"
      "  anvilc export MODEL --weights CKPT -o out.onnx\n"
      "                                         write the trained model as "
      "ONNX\n\n"
      "MODEL is Anvil's graph IR (.mlir) or an ONNX model (.onnx, opsets "
      "7-17).\n");

  // LLVM's parser lets a subcommand take the top level's options; those it
  // does not use would be silently ignored, so they are an error naming the
  // subcommand. (run and train compile through compile(), which reads the
  // phase dumps, the memory plan and the target; --seed and --batch are
  // declared for the subcommands that read them.)
  if (runCommand() || trainCommand() || checkCommand() || exportCommand()) {
    const char *sub = runCommand()     ? "run"
                      : trainCommand() ? "train"
                      : checkCommand() ? "check"
                                       : "export";
    std::vector<cl::Option *> unused = {&compileTo, &outputPath, &emitKind,
                                        &weightsFile};
    if (checkCommand() || exportCommand())
      unused.insert(unused.end(), {&dumpPhasesTo, &printMemoryPlan,
                                   &targetTriple, &targetCpu});
    if (!trainCommand())
      unused.push_back(&batch);
    if (checkCommand())
      unused.push_back(&seed);
    for (cl::Option *option : unused)
      if (option->getNumOccurrences() > 0)
        return reportError("--" + option->ArgStr.str() +
                           " is not an option of `anvilc " + sub +
                           "`; `anvilc " + sub + " --help` lists its options");
  }

  DialectRegistry registry;
  mlir::anvil::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Errors name the op by its source line; the generic op dump adds noise.
  context.printOpOnDiagnostic(false);
  int rc;
  try {
    rc = runCommand()      ? runMain(context)
         : trainCommand()  ? trainMain(context)
         : checkCommand()  ? checkMain(context)
         : exportCommand() ? exportMain(context)
                           : compileMain(context);
  } catch (const ::anvil::Error &e) {
    rc = reportError(e.what());
  }
  diagnostics.reset(); // it unregisters itself from the context
  return rc;
}
