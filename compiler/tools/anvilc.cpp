//===- anvilc.cpp - Anvil's compiler driver -------------------------------===//
//
// `anvilc MODEL -o EXE` compiles a model graph through the phases of
// compiler/Pipelines.h into a native executable; `--compile-to=PHASE` stops
// after a phase and prints its IR, `--dump-phases-to=DIR` writes every phase.
// `anvilc run MODEL --input ... --output ...` compiles and runs in one step,
// or with --reference runs the reference interpreter. Every user error (a
// missing file, malformed IR, a wrong input shape, a bad .npy) prints one
// message naming the file and exits 1; nothing half-written is left behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen.h"
#include "compiler/Onnx/Export.h"
#include "compiler/Onnx/Import.h"
#include "compiler/Parameters.h"
#include "compiler/Pipelines.h"
#include "compiler/Reference/Interpreter.h"
#include "compiler/Registration.h"
#include "dialects/AnvilOps.h"
#include "runtime/CheckpointKeys.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"
#include "runtime/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/TargetParser/Host.h"
#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory anvilCategory("anvilc options");
static cl::SubCommand runCommand(
    "run", "Run a function of a model on .npy inputs and write .npy outputs");

static cl::SubCommand
    trainCommand("train", "Compile a model into a native trainer executable");
static cl::SubCommand
    checkCommand("check",
                 "Check that Anvil can compile a model; list every problem");
static cl::SubCommand
    exportCommand("export", "Write a model (with trained weights) as ONNX");

/// Prints `message` as anvilc's one error line and returns the exit code.
static int reportError(const std::string &message) {
  llvm::errs() << "anvilc: error: " << message << "\n";
  return 1;
}

/// The parser of an enumerated option (its `cl::values`): a value not among
/// them is one error line that lists them ("--emit must be exe or lib, not
/// 'x'"), and `name` gives a value's name back.
template <typename T> struct NamedParser : cl::parser<T> {
  using cl::parser<T>::parser;

  bool parse(cl::Option &option, llvm::StringRef, llvm::StringRef arg,
             T &value) {
    unsigned n = this->getNumOptions();
    for (unsigned i = 0; i < n; ++i)
      if (this->getOption(i) == arg) {
        value = this->Values[i].V.getValue();
        return false;
      }
    std::string names;
    for (unsigned i = 0; i < n; ++i)
      names += (i == 0       ? ""
                : i + 1 == n ? " or "
                             : ", ") +
               this->getOption(i).str();
    return reportError("--" + option.ArgStr.str() + " must be " + names +
                       ", not '" + arg.str() + "'");
  }

  /// The name of `value` ("" when it has none: the option's default).
  llvm::StringRef name(T value) const {
    for (const auto &option : this->Values)
      if (option.V.getValue() == value)
        return option.Name;
    return "";
  }
};
template <typename T> using EnumOpt = cl::opt<T, false, NamedParser<T>>;

enum class Emit { Exe, Lib };
enum class Optimizer { Sgd, Adam, AdamW };
enum class Loss { Model, CrossEntropy, Nll, Mse };

// Options of several subcommands.
static cl::opt<int64_t>
    batch("batch",
          cl::desc("Batch size (default: the model's): the model is "
                   "re-batched, every shape following the new batch"),
          cl::init(0), cl::sub(cl::SubCommand::getTopLevel()),
          cl::sub(trainCommand), cl::cat(anvilCategory));
static cl::opt<uint64_t>
    seed("seed", cl::desc("Seed for parameters without a `seed` attribute"),
         cl::init(0), cl::sub(cl::SubCommand::getTopLevel()),
         cl::sub(runCommand), cl::sub(trainCommand), cl::sub(exportCommand),
         cl::cat(anvilCategory));

// Top level: compile.
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::cat(anvilCategory));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR (object: the object "
             "file): import, graph, train, optimize, backend, bufferize, "
             "llvm, object"),
    cl::value_desc("phase"), cl::cat(anvilCategory));
static cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output: the executable (default: the model's name), or with "
             "--compile-to the IR (default: stdout) or object file"),
    cl::value_desc("file"), cl::cat(anvilCategory));
static cl::opt<std::string> dumpPhasesTo(
    "dump-phases-to",
    cl::desc("Write the IR after every phase to DIR/NN-<phase>.mlir"),
    cl::value_desc("dir"), cl::cat(anvilCategory));
static EnumOpt<Emit> emitKind(
    "emit", cl::desc("What to make"),
    cl::values(clEnumValN(Emit::Exe, "exe", "An executable (the default)"),
               clEnumValN(Emit::Lib, "lib",
                          "A static library plus a C header beside it")),
    cl::init(Emit::Exe), cl::cat(anvilCategory));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Keep the parameters out of the executable: write them to FILE, "
             "which the executable loads at start (or --weights FILE)"),
    cl::value_desc("file"), cl::cat(anvilCategory));
static cl::opt<std::string> weightsIn(
    "weights",
    cl::desc("Use these parameter values (a trainer's checkpoint or a "
             "weights file) instead of the initializers"),
    cl::value_desc("ckpt"), cl::sub(cl::SubCommand::getTopLevel()),
    cl::sub(runCommand), cl::sub(exportCommand), cl::cat(anvilCategory));
static cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("Print each function's static arena: its size and the offset, "
             "size and lifetime of every buffer in it"),
    cl::cat(anvilCategory));
static cl::opt<unsigned> codegenThreads(
    "codegen-threads",
    cl::desc("Threads that optimize and emit the object's parts in parallel "
             "(default 0: one per core; 1: in one piece)"),
    cl::init(0), cl::sub(cl::SubCommand::getAll()), cl::cat(anvilCategory));
static cl::opt<bool> verifyEachPass(
    "verify-each-pass",
    cl::desc("Verify the IR after every pass, not only after every phase "
             "(slower; for finding a compiler bug)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(anvilCategory));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple (default: this machine's)"),
                 cl::cat(anvilCategory));
static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("Target CPU (default: this machine's, with all its "
                       "features; a generic one for another triple); "
                       "--target-cpu=help lists the target's CPUs"),
              cl::cat(anvilCategory));

// `anvilc run`.
static cl::opt<std::string> runModel(cl::Positional, cl::desc("<model.mlir>"),
                                     cl::sub(runCommand),
                                     cl::cat(anvilCategory), cl::Required);
static cl::opt<bool>
    reference("reference",
              cl::desc("Run on the naive reference kernels (the numeric truth) "
                       "instead of compiled code"),
              cl::sub(runCommand), cl::cat(anvilCategory));
static cl::opt<std::string>
    function("function",
             cl::desc("Function to run (default: @forward, or the only one)"),
             cl::sub(runCommand), cl::cat(anvilCategory));
static cl::list<std::string>
    inputs("input",
           cl::desc("An input (.npy, or .pb: an onnx.TensorProto), one per "
                    "function argument, in order"),
           cl::value_desc("file"), cl::sub(runCommand), cl::cat(anvilCategory));
static cl::list<std::string>
    inputList("inputs", cl::desc("Inputs as one comma-separated list"),
              cl::value_desc("a.pb,b.pb"), cl::CommaSeparated,
              cl::sub(runCommand), cl::cat(anvilCategory));
static cl::list<std::string> outputs(
    "output", cl::desc("Where to write each result (.npy or .pb), in order"),
    cl::value_desc("file"), cl::sub(runCommand), cl::cat(anvilCategory));
static cl::opt<std::string> outputDir(
    "outputs",
    cl::desc("Write result K to DIR/output_K.pb (an onnx.TensorProto)"),
    cl::value_desc("dir"), cl::sub(runCommand), cl::cat(anvilCategory));
static cl::opt<std::string> paramsDir(
    "params",
    cl::desc("Directory with one <param name>.npy per anvil.param; without "
             "it parameters take their initializers"),
    cl::value_desc("dir"), cl::sub(runCommand), cl::cat(anvilCategory));

// `anvilc train`.
static cl::opt<std::string> trainModel(cl::Positional, cl::desc("<model.mlir>"),
                                       cl::sub(trainCommand),
                                       cl::cat(anvilCategory), cl::Required);
static cl::opt<std::string>
    trainOutput("o",
                cl::desc("The trainer executable (default: trainer); "
                         "its weights go to <trainer>.weights"),
                cl::value_desc("file"), cl::init("trainer"),
                cl::sub(trainCommand), cl::cat(anvilCategory));
static EnumOpt<Loss> trainLoss(
    "loss",
    cl::desc("The loss of @forward's result against the target (default: "
             "the model's own @loss)"),
    cl::values(clEnumValN(Loss::CrossEntropy, "cross-entropy",
                          "Softmax cross-entropy against class indices"),
               clEnumValN(Loss::Nll, "nll",
                          "Negative log-likelihood against class indices"),
               clEnumValN(Loss::Mse, "mse", "Mean squared error")),
    cl::init(Loss::Model), cl::sub(trainCommand), cl::cat(anvilCategory));
static EnumOpt<Optimizer>
    optimizer("optimizer", cl::desc("The optimizer (default: sgd)"),
              cl::values(clEnumValN(Optimizer::Sgd, "sgd",
                                    "SGD (with --momentum, --nesterov)"),
                         clEnumValN(Optimizer::Adam, "adam",
                                    "Adam (betas 0.9, 0.999, epsilon 1e-8)"),
                         clEnumValN(Optimizer::AdamW, "adamw",
                                    "AdamW (betas 0.9, 0.999, epsilon 1e-8)")),
              cl::init(Optimizer::Sgd), cl::sub(trainCommand),
              cl::cat(anvilCategory));
static cl::opt<double> trainLr("lr",
                               cl::desc("Learning rate (the trainer's "
                                        "default; its --lr overrides)"),
                               cl::init(0.05), cl::sub(trainCommand),
                               cl::cat(anvilCategory));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum"),
                                cl::init(0.0), cl::sub(trainCommand),
                                cl::cat(anvilCategory));
static cl::opt<bool> nesterov("nesterov", cl::desc("Nesterov momentum"),
                              cl::sub(trainCommand), cl::cat(anvilCategory));
static cl::opt<double> weightDecay("weight-decay", cl::desc("L2 weight decay"),
                                   cl::init(0.0), cl::sub(trainCommand),
                                   cl::cat(anvilCategory));
static cl::opt<double>
    clipNorm("clip-norm",
             cl::desc("Clip the gradients' global L2 norm to this (0: off)"),
             cl::init(0.0), cl::sub(trainCommand), cl::cat(anvilCategory));
static cl::opt<std::string>
    freeze("freeze", cl::desc("Do not train parameters whose name matches"),
           cl::value_desc("regex"), cl::sub(trainCommand),
           cl::cat(anvilCategory));
static cl::opt<std::string>
    initFrom("init-from",
             cl::desc("Start from the parameters of a checkpoint or weights "
                      "file (names not in it keep their initializers)"),
             cl::value_desc("ckpt"), cl::sub(trainCommand),
             cl::cat(anvilCategory));
static cl::opt<std::string> reinit(
    "reinit",
    cl::desc("With --init-from: initialize the parameters whose name matches "
             "afresh (from their initializers and --seed) instead of taking "
             "them and their optimizer state from the checkpoint"),
    cl::value_desc("regex"), cl::sub(trainCommand), cl::cat(anvilCategory));

// `anvilc export`.
static cl::opt<std::string> exportModel(cl::Positional,
                                        cl::desc("<model.mlir|model.onnx>"),
                                        cl::sub(exportCommand),
                                        cl::cat(anvilCategory), cl::Required);
static cl::opt<std::string> exportOutput("o",
                                         cl::desc("The ONNX file to write"),
                                         cl::value_desc("file.onnx"),
                                         cl::sub(exportCommand),
                                         cl::cat(anvilCategory), cl::Required);
static cl::opt<std::string> exportFunction(
    "function", cl::desc("The function to export (default: @forward)"),
    cl::init("forward"), cl::sub(exportCommand), cl::cat(anvilCategory));

// `anvilc check`, and ONNX models everywhere.
static cl::opt<std::string> checkModel(cl::Positional,
                                       cl::desc("<model.onnx|model.mlir>"),
                                       cl::sub(checkCommand),
                                       cl::cat(anvilCategory), cl::Required);
static cl::list<std::string>
    bindings("bind",
             cl::desc("Size of a symbolic dimension of an ONNX model's "
                      "inputs (repeat or comma-separate)"),
             cl::value_desc("NAME=VALUE"), cl::CommaSeparated,
             cl::sub(cl::SubCommand::getAll()), cl::cat(anvilCategory));

/// The model's text and the handler that prints diagnostics as
/// file:line:col with the source line, from parsing through every pass.
static std::shared_ptr<llvm::SourceMgr> sourceMgr;
static std::unique_ptr<SourceMgrDiagnosticHandler> diagnostics;

/// The symbolic dimensions of the ONNX model last imported.
static std::vector<std::string> symbols;

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
  if (checkCommand)
    options.unboundSize = 1;
  mlir::anvil::OnnxProblems problems;
  OwningOpRef<ModuleOp> module =
      mlir::anvil::importOnnx(path, context, options, problems);
  if (!module)
    reportError(problems.format(path));
  symbols = problems.symbols;
  return module;
}

/// Parses and verifies `path` (or imports it, for .onnx); diagnostics print
/// with file:line:col. `known` are the values `anvilc run` was given.
static OwningOpRef<ModuleOp>
loadModel(const std::string &path, MLIRContext &context,
          const std::vector<::anvil::NpyArray> *known = nullptr) {
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

static func::FuncOp pickFunction(ModuleOp module, const std::string &name,
                                 const std::string &path) {
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      throw ::anvil::Error(path + ": has no function @" + name);
    return func;
  }
  if (auto forward = module.lookupSymbol<func::FuncOp>("forward"))
    return forward;
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() == 1)
    return funcs.front();
  std::string names;
  for (func::FuncOp f : funcs)
    names += " @" + f.getName().str();
  throw ::anvil::Error(path +
                       ": has no @forward; choose a function with "
                       "--function (it has:" +
                       names + ")");
}

static std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

static bool isTensorProto(const std::string &path) {
  return llvm::StringRef(path).ends_with_insensitive(".pb");
}

/// Reads an .npy or, for .pb, an onnx.TensorProto.
static ::anvil::NpyArray readArray(const std::string &path) {
  return isTensorProto(path) ? mlir::anvil::readTensorProto(path)
                             : ::anvil::readNpy(path);
}

/// Writes an .npy or, for .pb, an onnx.TensorProto (atomically).
static void writeArray(const std::string &path,
                       const ::anvil::NpyArray &array) {
  if (isTensorProto(path))
    mlir::anvil::writeTensorProto(path, array);
  else
    ::anvil::writeNpy(path, array);
}

/// Checks an array read from `path` against the type the function expects.
static ::anvil::ref::Tensor checkInput(const ::anvil::NpyArray &array,
                                       const std::string &path, Type type,
                                       const std::string &what) {
  ::anvil::ref::Tensor t = ::anvil::ref::fromNpy(array);
  auto tensorType = cast<RankedTensorType>(type);
  ::anvil::ref::Shape expected(tensorType.getShape().begin(),
                               tensorType.getShape().end());
  auto dtype = ::anvil::ref::dtypeOf(tensorType.getElementType());
  if (t.shape != expected || t.dtype != dtype)
    throw ::anvil::Error(
        path + ": holds a " + ::anvil::dtypeName(t.dtype) + " array of shape " +
        ::anvil::ref::shapeToString(t.shape) + ", but " + what + " is " +
        typeString(type) + "; save an array of that shape and dtype");
  return t;
}

/// Loads an .npy or .pb and checks it against the type the function expects.
static ::anvil::ref::Tensor loadInput(const std::string &path, Type type,
                                      const std::string &what) {
  return checkInput(readArray(path), path, type, what);
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

/// Reports unless the directory `path` would be written into exists and is
/// writable: checked before compiling, so that a typo costs no compile and
/// no output is made without the others.
static std::string checkWritable(const std::string &path,
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

/// What one compilation makes.
struct Job {
  std::optional<mlir::anvil::Phase> stopAfter; // unset: link
  std::string output;
  mlir::anvil::PipelineOptions options;
  /// Where the parameters go when they are kept out of the code ("" = in).
  std::string weightsPath;
  /// Starting values of parameters, by name, overriding their initializers.
  mlir::anvil::ParamValues initial;
  /// Where `initial` comes from, for errors.
  std::string initialPath;
  /// Extra entries of the weights file (a trainer's defaults).
  std::vector<::anvil::NamedTensor> extras;
  std::string mainLibrary = "AnvilModelMain";
};

/// Runs the phases on `module` up to `job.stopAfter` (all of them and the
/// link step when unset), writing the IR (or object) of that phase, or the
/// executable or library, to `job.output`.
static int compile(MLIRContext &context, ModuleOp module, Job job) {
  using mlir::anvil::Phase;
  if (!job.weightsPath.empty()) {
    if (emitKind == Emit::Lib)
      return reportError("--weights-file works with executables only so far");
    llvm::SmallString<256> absolute(job.weightsPath);
    llvm::sys::fs::make_absolute(absolute);
    job.weightsPath = absolute.str().str();
    job.options.externalWeights = true;
  }
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

/// Compiles `module` into a temporary executable and runs `functionName` on
/// the inputs, writing the results to `outputFiles`.
static int runCompiled(MLIRContext &context, ModuleOp module,
                       const std::string &functionName,
                       const std::vector<std::string> &inputFiles,
                       const std::vector<::anvil::NpyArray> &arrays,
                       const std::vector<std::string> &outputFiles) {
  if (!paramsDir.empty())
    return reportError("--params works with --reference only");
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("anvilc-run", dir))
    return reportError("cannot create a temporary directory: " + ec.message());
  std::string exe = (dir + "/model").str();
  Job job;
  job.output = exe;
  job.options.seed = seed;
  int rc = compile(context, module, job);
  // The executable reads and writes .npy; other formats go through dir.
  std::vector<std::pair<std::string, std::string>> converted;
  if (rc == 0) {
    std::vector<std::string> args = {exe, "--function", functionName};
    for (size_t i = 0; i < inputFiles.size(); ++i) {
      std::string file = inputFiles[i];
      if (isTensorProto(file)) {
        file = (dir + "/input_" + std::to_string(i) + ".npy").str();
        ::anvil::writeNpy(file, arrays[i]);
      }
      args.insert(args.end(), {"--input", file});
    }
    for (size_t i = 0; i < outputFiles.size(); ++i) {
      std::string file = outputFiles[i];
      if (isTensorProto(file)) {
        file = (dir + "/output_" + std::to_string(i) + ".npy").str();
        converted.push_back({file, outputFiles[i]});
      }
      args.insert(args.end(), {"--output", file});
    }
    std::vector<llvm::StringRef> refs(args.begin(), args.end());
    std::string error;
    rc = llvm::sys::ExecuteAndWait(exe, refs, std::nullopt, {}, 0, 0, &error);
    if (rc < 0)
      rc = reportError("the compiled model crashed" +
                       (error.empty() ? "" : ": " + error));
  }
  try {
    if (rc == 0)
      for (const auto &[from, to] : converted)
        writeArray(to, ::anvil::readNpy(from));
  } catch (const ::anvil::Error &e) {
    rc = reportError(e.what());
  }
  llvm::sys::fs::remove_directories(dir);
  return rc;
}

static int runMain(MLIRContext &context) {
  std::vector<std::string> inputFiles(inputs.begin(), inputs.end());
  for (const std::string &file : inputList)
    if (!file.empty()) // `--inputs ""`: a model without inputs
      inputFiles.push_back(file);
  std::vector<::anvil::NpyArray> arrays;
  for (const std::string &file : inputFiles)
    arrays.push_back(readArray(file));
  OwningOpRef<ModuleOp> module = loadModel(runModel, context, &arrays);
  if (!module)
    return 1;
  if (!weightsIn.empty())
    if (llvm::Error e = mlir::anvil::applyWeights(*module, weightsIn))
      return reportError(llvm::toString(std::move(e)));
  func::FuncOp func = pickFunction(*module, function, runModel);
  FunctionType type = func.getFunctionType();
  std::vector<std::string> outputFiles(outputs.begin(), outputs.end());
  if (!outputDir.empty()) {
    if (!outputFiles.empty())
      return reportError("give --output files or an --outputs directory, "
                         "not both");
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return reportError("cannot create '" + outputDir + "': " + ec.message());
    for (unsigned k = 0; k < type.getNumResults(); ++k)
      outputFiles.push_back(outputDir + "/output_" + std::to_string(k) + ".pb");
  }
  if (inputFiles.size() != type.getNumInputs())
    return reportError("@" + func.getName().str() + " takes " +
                       std::to_string(type.getNumInputs()) + " input(s); got " +
                       std::to_string(inputFiles.size()) + " input file(s)");
  if (outputFiles.size() != type.getNumResults())
    return reportError("@" + func.getName().str() + " returns " +
                       std::to_string(type.getNumResults()) +
                       " result(s); got " + std::to_string(outputFiles.size()) +
                       " --output file(s)");
  // Inputs are checked against the signature before anything compiles.
  std::vector<::anvil::ref::Tensor> args;
  for (unsigned i = 0; i < inputFiles.size(); ++i)
    args.push_back(checkInput(arrays[i], inputFiles[i], type.getInput(i),
                              "argument " + std::to_string(i) + " of @" +
                                  func.getName().str()));
  if (!reference)
    return runCompiled(context, *module, func.getName().str(), inputFiles,
                       arrays, outputFiles);

  ::anvil::ref::Interpreter interpreter(*module, seed);
  if (!paramsDir.empty()) {
    // Every parameter must be given: a silent fallback to initializers
    // would hide a typo in a file name.
    std::vector<std::string> missing;
    module->walk([&](mlir::anvil::ParamOp param) {
      std::string path = paramsDir + "/" + param.getName().str() + ".npy";
      if (!llvm::sys::fs::exists(path)) {
        missing.push_back(path);
        return;
      }
      interpreter.setParam(
          param.getName().str(),
          loadInput(path, param.getType(),
                    "parameter \"" + param.getName().str() + "\""));
    });
    if (!missing.empty()) {
      std::string list;
      for (const std::string &m : missing)
        list += "\n  " + m;
      return reportError(std::to_string(missing.size()) +
                         " parameter file(s) missing from --params:" + list);
    }
  }
  std::vector<::anvil::ref::Tensor> results =
      interpreter.run(func.getName(), args);
  for (size_t i = 0; i < results.size(); ++i)
    writeArray(outputFiles[i], ::anvil::ref::toNpy(results[i]));
  return 0;
}

static int trainMain(MLIRContext &context) {
  if (optimizer != Optimizer::Sgd && (momentum != 0.0 || nesterov))
    return reportError("--momentum and --nesterov are for --optimizer sgd");
  // Values a step cannot use: the trainer would diverge or never learn.
  auto number = [](double v) { return llvm::formatv("{0}", v).str(); };
  if (!(trainLr > 0.0) || !std::isfinite(trainLr))
    return reportError("--lr must be a finite number > 0, not " +
                       number(trainLr));
  if (!(momentum >= 0.0 && momentum < 1.0))
    return reportError("--momentum must be in [0, 1), not " + number(momentum));
  if (!(clipNorm >= 0.0) || !std::isfinite(clipNorm))
    return reportError("--clip-norm must be >= 0 (0: off), not " +
                       number(clipNorm));
  if (!(weightDecay >= 0.0) || !std::isfinite(weightDecay))
    return reportError("--weight-decay must be >= 0, not " +
                       number(weightDecay));
  if (batch < 0)
    return reportError("--batch must be a positive size, not " +
                       std::to_string(batch));
  OwningOpRef<ModuleOp> module = loadModel(trainModel, context);
  if (!module)
    return 1;
  Job job;
  job.output = trainOutput;
  job.weightsPath = trainOutput + ".weights";
  job.mainLibrary = "AnvilTrainerMain";
  job.options.seed = seed;
  job.options.batch = batch;
  job.options.train = true;
  job.options.optimizer = optimizer.getParser().name(optimizer).str();
  job.options.momentum = momentum;
  job.options.nesterov = nesterov;
  job.options.weightDecay = weightDecay;
  job.options.clipNorm = clipNorm;
  job.options.freeze = freeze;
  job.options.loss = trainLoss.getParser().name(trainLoss).str();
  if (!freeze.empty())
    if (auto matched =
            mlir::anvil::matchParams(*module, freeze, "--freeze", trainModel);
        !matched)
      return reportError(llvm::toString(matched.takeError()));
  if (!reinit.empty() && initFrom.empty())
    return reportError("--reinit chooses parameters not to take from "
                       "--init-from CKPT; give --init-from too");
  if (!initFrom.empty()) {
    // The parameters that --reinit names start afresh, with their optimizer
    // state.
    std::vector<std::string> fresh;
    if (!reinit.empty()) {
      auto matched =
          mlir::anvil::matchParams(*module, reinit, "--reinit", trainModel);
      if (!matched)
        return reportError(llvm::toString(matched.takeError()));
      fresh = std::move(*matched);
    }
    auto initial = mlir::anvil::readInitialValues(initFrom, fresh);
    if (!initial)
      return reportError(llvm::toString(initial.takeError()));
    job.initial = std::move(*initial);
    job.initialPath = initFrom;
  }
  job.extras.push_back(
      ::anvil::scalarTensor(::anvil::keys::kLearningRate, double(trainLr)));
  // The trainer's --export-onnx: @forward without its parameter data (see
  // runtime/OnnxOut.h), or why it has no ONNX form.
  mlir::anvil::OnnxExport exported;
  std::string why =
      mlir::anvil::exportOnnx(*module, "forward", seed, false, exported);
  auto bytes = [](const std::string &name, const std::string &data) {
    ::anvil::NamedTensor t{name,
                           ::anvil::DType::U8,
                           {static_cast<int64_t>(data.size())},
                           std::vector<char>(data.begin(), data.end())};
    return t;
  };
  if (why.empty()) {
    job.extras.push_back(bytes(::anvil::keys::kOnnxModel, exported.model));
    for (const auto &[name, header] : exported.initializerHeaders)
      job.extras.push_back(
          bytes(::anvil::keys::kOnnxInitPrefix + name, header));
  } else {
    job.extras.push_back(bytes(::anvil::keys::kOnnxError, why));
  }
  return compile(context, *module, std::move(job));
}

/// `anvilc check`: imports (or parses) the model and says what it holds, or
/// lists every problem at once.
static int checkMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(checkModel, context);
  if (!module)
    return 1;
  std::map<std::string, int> ops;
  module->walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "anvil")
      ++ops[op->getName().stripDialect().str()];
  });
  llvm::outs() << checkModel << ": OK, Anvil can compile it\n";
  // Unbound ones were taken as 1 (see importModel); a compile needs them.
  std::vector<std::string> unbound;
  for (const std::string &symbol : symbols)
    if (symbol == "?" || !llvm::any_of(bindings, [&](const std::string &b) {
          return llvm::StringRef(b).split('=').first == symbol;
        }))
      unbound.push_back(symbol);
  if (!unbound.empty()) {
    llvm::outs() << "  symbolic dimensions: " << llvm::join(symbols, ", ")
                 << " (unbound ones taken as 1 here; to compile, give each "
                    "its size with --bind NAME=SIZE)\n";
  }
  for (auto func : module->getOps<func::FuncOp>())
    llvm::outs() << "  @" << func.getName() << " : "
                 << typeString(func.getFunctionType()) << "\n";
  llvm::outs() << "  anvil ops:";
  for (const auto &[name, count] : ops)
    llvm::outs() << " " << name << " x" << count;
  llvm::outs() << "\n";
  return 0;
}

/// `anvilc export`: the model, with --weights applied, as ONNX.
static int exportMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(exportModel, context);
  if (!module)
    return 1;
  if (!weightsIn.empty())
    if (llvm::Error e = mlir::anvil::applyWeights(*module, weightsIn))
      return reportError(llvm::toString(std::move(e)));
  if (std::string e = checkWritable(exportOutput, "the ONNX model"); !e.empty())
    return reportError(e);
  mlir::anvil::OnnxExport exported;
  if (std::string e = mlir::anvil::exportOnnx(*module, exportFunction, seed,
                                              true, exported);
      !e.empty())
    return reportError(exportModel + ": " + e + "\nnothing was exported");
  std::string e = mlir::anvil::writeOutput(
      exportOutput, [&](llvm::raw_ostream &os) { os << exported.model; });
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
  cl::HideUnrelatedOptions(anvilCategory);
  cl::HideUnrelatedOptions(anvilCategory, runCommand);
  cl::HideUnrelatedOptions(anvilCategory, trainCommand);
  cl::HideUnrelatedOptions(anvilCategory, checkCommand);
  cl::HideUnrelatedOptions(anvilCategory, exportCommand);
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
  if (runCommand || trainCommand || checkCommand || exportCommand) {
    const char *sub = runCommand     ? "run"
                      : trainCommand ? "train"
                      : checkCommand ? "check"
                                     : "export";
    std::vector<cl::Option *> unused = {&compileTo, &outputPath, &emitKind,
                                        &weightsFile};
    if (checkCommand || exportCommand)
      unused.insert(unused.end(), {&dumpPhasesTo, &printMemoryPlan,
                                   &targetTriple, &targetCpu});
    if (!trainCommand)
      unused.push_back(&batch);
    if (checkCommand)
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
    rc = runCommand      ? runMain(context)
         : trainCommand  ? trainMain(context)
         : checkCommand  ? checkMain(context)
         : exportCommand ? exportMain(context)
                         : compileMain(context);
  } catch (const ::anvil::Error &e) {
    rc = reportError(e.what());
  }
  diagnostics.reset(); // it unregisters itself from the context
  return rc;
}
