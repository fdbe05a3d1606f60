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
#include "compiler/Pipelines.h"
#include "compiler/Reference/Interpreter.h"
#include "compiler/Registration.h"
#include "dialects/AnvilOps.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"
#include "runtime/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Regex.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include <cstring>
#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory anvilCategory("anvilc options");
static cl::SubCommand runCommand(
    "run", "Run a function of a model on .npy inputs and write .npy outputs");

static cl::SubCommand
    trainCommand("train", "Compile a model into a native trainer executable");

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
static cl::opt<std::string> emitKind(
    "emit",
    cl::desc("What to make: exe (an executable; the default) or lib (a "
             "static library plus a C header beside it)"),
    cl::value_desc("exe|lib"), cl::init("exe"), cl::cat(anvilCategory));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Keep the parameters out of the executable: write them to FILE, "
             "which the executable loads at start (or --weights FILE)"),
    cl::value_desc("file"), cl::cat(anvilCategory));
static cl::opt<std::string> weightsIn(
    "weights",
    cl::desc("Compile these parameter values (a trainer's checkpoint or a "
             "weights file) into the output instead of the initializers"),
    cl::value_desc("ckpt"), cl::cat(anvilCategory));
static cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("Print each function's static arena: its size and the offset, "
             "size and lifetime of every buffer in it"),
    cl::cat(anvilCategory));
static cl::opt<int64_t> compileBatch(
    "batch",
    cl::desc("Batch size (default: the model's): the model is re-batched, "
             "every shape following the new batch"),
    cl::init(0), cl::cat(anvilCategory));
static cl::opt<uint64_t>
    compileSeed("seed",
                cl::desc("Seed for parameters without a `seed` attribute"),
                cl::init(0), cl::cat(anvilCategory));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple (default: this machine's)"),
                 cl::cat(anvilCategory));
static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("Target CPU (default: this machine's, with all its "
                       "features)"),
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
static cl::list<std::string> inputs(
    "input", cl::desc("An input .npy, one per function argument, in order"),
    cl::value_desc("file.npy"), cl::sub(runCommand), cl::cat(anvilCategory));
static cl::list<std::string>
    outputs("output", cl::desc("Where to write each result (.npy), in order"),
            cl::value_desc("file.npy"), cl::sub(runCommand),
            cl::cat(anvilCategory));
static cl::opt<std::string> paramsDir(
    "params",
    cl::desc("Directory with one <param name>.npy per anvil.param; without "
             "it parameters take their initializers"),
    cl::value_desc("dir"), cl::sub(runCommand), cl::cat(anvilCategory));
static cl::opt<uint64_t>
    seed("seed", cl::desc("Seed for parameters without a `seed` attribute"),
         cl::init(0), cl::sub(runCommand), cl::cat(anvilCategory));

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
static cl::opt<std::string> trainLoss(
    "loss",
    cl::desc("cross-entropy, nll or mse of @forward's result against the "
             "target (default: the model's own @loss)"),
    cl::sub(trainCommand), cl::cat(anvilCategory));
static cl::opt<std::string> optimizer(
    "optimizer",
    cl::desc("sgd (with --momentum, --nesterov), adam or adamw (betas 0.9, "
             "0.999, epsilon 1e-8)"),
    cl::init("sgd"), cl::sub(trainCommand), cl::cat(anvilCategory));
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
static cl::opt<int64_t>
    batch("batch",
          cl::desc("Batch size (default: the model's): the model is "
                   "re-batched, every shape following the new batch"),
          cl::init(0), cl::sub(trainCommand), cl::cat(anvilCategory));
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
static cl::opt<uint64_t>
    trainSeed("seed",
              cl::desc("Seed for parameters without a `seed` attribute"),
              cl::init(0), cl::sub(trainCommand), cl::cat(anvilCategory));

/// Prints `message` as anvilc's one error line and returns the exit code.
static int reportError(const std::string &message) {
  llvm::errs() << "anvilc: error: " << message << "\n";
  return 1;
}

/// The model's text and the handler that prints diagnostics as
/// file:line:col with the source line, from parsing through every pass.
static std::shared_ptr<llvm::SourceMgr> sourceMgr;
static std::unique_ptr<SourceMgrDiagnosticHandler> diagnostics;

/// Parses and verifies `path`; diagnostics print with file:line:col.
static OwningOpRef<ModuleOp> loadModel(const std::string &path,
                                       MLIRContext &context) {
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

/// Loads an .npy and checks it against the type the function expects.
static ::anvil::ref::Tensor loadInput(const std::string &path, Type type,
                                      const std::string &what) {
  ::anvil::ref::Tensor t = ::anvil::ref::fromNpy(::anvil::readNpy(path));
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

/// build/lib beside build/bin/anvilc: where the model runtime lives.
static std::string libDir;

/// Writes `module` as text to `path` ("-" or "" = stdout).
static int writeIR(ModuleOp module, const std::string &path) {
  std::string error;
  auto output = openOutputFile(path.empty() ? "-" : path, &error);
  if (!output)
    return reportError("cannot write '" + path + "': " + error);
  module.print(output->os());
  output->keep();
  return 0;
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
  std::map<std::string, ::anvil::NamedTensor> initial;
  /// Where `initial` comes from, for errors.
  std::string initialPath;
  /// Extra entries of the weights file (a trainer's defaults).
  std::vector<::anvil::NamedTensor> extras;
  std::string mainLibrary = "AnvilModelMain";
};

/// The starting value of every parameter (after the train phase, which adds
/// the optimizer state), by name: `initial` or the initializers. Throws if a
/// value in `initial` has another type than its parameter.
static std::vector<::anvil::NamedTensor> startingValues(ModuleOp module,
                                                        const Job &job) {
  std::vector<::anvil::NamedTensor> values;
  llvm::StringSet<> seen;
  module.walk([&](mlir::anvil::ParamOp param) {
    std::string name = param.getName().str();
    if (!seen.insert(name).second)
      return;
    ::anvil::NpyArray v = ::anvil::ref::toNpy(
        ::anvil::ref::initialValue(param, job.options.seed));
    ::anvil::NamedTensor value{name, v.dtype, v.shape, std::move(v.bytes)};
    auto given = job.initial.find(name);
    if (given != job.initial.end()) {
      if (given->second.typeText() != value.typeText())
        throw ::anvil::Error(job.initialPath + ": parameter '" + name +
                             "' is " + given->second.typeText() +
                             " in the file, but the model's is " +
                             value.typeText() +
                             "; leave it out with --reinit REGEX to give it "
                             "a fresh initialization");
      value.bytes = given->second.bytes;
    }
    values.push_back(std::move(value));
  });
  return values;
}

/// Runs the phases on `module` up to `job.stopAfter` (all of them and the
/// link step when unset), writing the IR (or object) of that phase, or the
/// executable or library, to `job.output`.
static int compile(MLIRContext &context, ModuleOp module, Job job) {
  using mlir::anvil::Phase;
  if (!job.weightsPath.empty()) {
    if (emitKind == "lib")
      return reportError("--weights-file works with executables only so far");
    llvm::SmallString<256> absolute(job.weightsPath);
    llvm::sys::fs::make_absolute(absolute);
    job.weightsPath = absolute.str().str();
    job.options.externalWeights = true;
  }
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
    mlir::anvil::buildPhasePipeline(pm, phase, job.options);
    if (failed(pm.run(module)))
      return reportError("the " + name + " phase failed (see above)");
    if (phase == Phase::Train) {
      // The entry points and parameters are all there, still on tensors.
      entries = mlir::anvil::collectEntryPoints(module);
      if (failed(entries))
        return 1;
      if (!job.weightsPath.empty())
        weights = startingValues(module, job);
    }
    if (phase == Phase::Bufferize && printMemoryPlan)
      printPlans(module);
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
  bool linking = !job.stopAfter.has_value();
  std::string object = linking ? job.output + ".o" : job.output;
  mlir::anvil::TargetOptions target{targetTriple, targetCpu};
  if (std::string e = mlir::anvil::emitObject(module, *entries, params,
                                              job.weightsPath, target, object);
      !e.empty())
    return reportError(e);
  if (!linking)
    return 0;
  std::string e;
  const std::string &output = job.output;
  if (emitKind == "lib") {
    e = mlir::anvil::archiveLibrary(object, output);
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
      try {
        ::anvil::writeFileAtomically(
            header.str().str(),
            mlir::anvil::libraryHeader(
                *entries, guard, llvm::sys::path::filename(modelPath).str()));
      } catch (const ::anvil::Error &error) {
        e = error.what();
      }
    }
  } else {
    e = mlir::anvil::linkExecutable(object, libDir, job.mainLibrary, output);
    if (e.empty() && !job.weightsPath.empty()) {
      weights.insert(weights.end(), job.extras.begin(), job.extras.end());
      try {
        ::anvil::writeWeights(job.weightsPath, weights);
      } catch (const ::anvil::Error &error) {
        e = error.what();
      }
    }
  }
  llvm::sys::fs::remove(object);
  return e.empty() ? 0 : reportError(e);
}

static int runCompiled(MLIRContext &context, ModuleOp module,
                       const std::string &functionName) {
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
  if (rc == 0) {
    std::vector<std::string> args = {exe, "--function", functionName};
    for (const std::string &i : inputs)
      args.insert(args.end(), {"--input", i});
    for (const std::string &o : outputs)
      args.insert(args.end(), {"--output", o});
    std::vector<llvm::StringRef> refs(args.begin(), args.end());
    std::string error;
    rc = llvm::sys::ExecuteAndWait(exe, refs, std::nullopt, {}, 0, 0, &error);
    if (rc < 0)
      rc = reportError("the compiled model crashed" +
                       (error.empty() ? "" : ": " + error));
  }
  llvm::sys::fs::remove_directories(dir);
  return rc;
}

static int runMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(runModel, context);
  if (!module)
    return 1;
  func::FuncOp func = pickFunction(*module, function, runModel);
  FunctionType type = func.getFunctionType();
  if (inputs.size() != type.getNumInputs())
    return reportError("@" + func.getName().str() + " takes " +
                       std::to_string(type.getNumInputs()) + " input(s); got " +
                       std::to_string(inputs.size()) + " --input file(s)");
  if (outputs.size() != type.getNumResults())
    return reportError("@" + func.getName().str() + " returns " +
                       std::to_string(type.getNumResults()) +
                       " result(s); got " + std::to_string(outputs.size()) +
                       " --output file(s)");
  if (!reference)
    return runCompiled(context, *module, func.getName().str());
  std::vector<::anvil::ref::Tensor> args;
  for (unsigned i = 0; i < inputs.size(); ++i)
    args.push_back(loadInput(inputs[i], type.getInput(i),
                             "argument " + std::to_string(i) + " of @" +
                                 func.getName().str()));

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
    ::anvil::writeNpy(outputs[i], ::anvil::ref::toNpy(results[i]));
  return 0;
}

/// Replaces @loss by the named loss of @forward's result against a target.
static LogicalResult synthesizeLoss(ModuleOp module, const std::string &kind) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.getNumResults() != 1)
    return module.emitError("training needs a @forward with one result");
  auto prediction = cast<RankedTensorType>(forward.getResultTypes()[0]);
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  if (auto old = module.lookupSymbol<func::FuncOp>("loss"))
    old.erase();
  Type target = kind == "mse"
                    ? Type(prediction)
                    : Type(RankedTensorType::get({prediction.getDimSize(0)},
                                                 b.getI64Type()));
  auto scalar = RankedTensorType::get({}, prediction.getElementType());
  auto loss =
      b.create<func::FuncOp>(forward.getLoc(), "loss",
                             b.getFunctionType({prediction, target}, {scalar}));
  Block *block = loss.addEntryBlock();
  b.setInsertionPointToEnd(block);
  Value y = block->getArgument(0), t = block->getArgument(1);
  Value l;
  if (kind == "cross-entropy")
    l = b.create<mlir::anvil::SoftmaxCrossEntropyOp>(loss.getLoc(), y, t);
  else if (kind == "nll")
    l = b.create<mlir::anvil::NllLossOp>(loss.getLoc(), y, t);
  else if (kind == "mse")
    l = b.create<mlir::anvil::MseLossOp>(loss.getLoc(), y, t);
  else
    return module.emitError("--loss must be cross-entropy, nll or mse, not '")
           << kind << "'";
  b.create<func::ReturnOp>(loss.getLoc(), l);
  return success();
}

static int trainMain(MLIRContext &context) {
  if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw")
    return reportError("--optimizer must be sgd, adam or adamw, not '" +
                       optimizer + "'");
  if (optimizer != "sgd" && (momentum != 0.0 || nesterov))
    return reportError("--momentum and --nesterov are for --optimizer sgd");
  OwningOpRef<ModuleOp> module = loadModel(trainModel, context);
  if (!module)
    return 1;
  if (!trainLoss.empty() && failed(synthesizeLoss(*module, trainLoss)))
    return 1;
  Job job;
  job.output = trainOutput;
  job.weightsPath = trainOutput + ".weights";
  job.mainLibrary = "AnvilTrainerMain";
  job.options.seed = trainSeed;
  job.options.batch = batch;
  job.options.train = true;
  job.options.optimizer = optimizer;
  job.options.momentum = momentum;
  job.options.nesterov = nesterov;
  job.options.weightDecay = weightDecay;
  job.options.clipNorm = clipNorm;
  job.options.freeze = freeze;
  if (!reinit.empty() && initFrom.empty())
    return reportError("--reinit chooses parameters not to take from "
                       "--init-from CKPT; give --init-from too");
  if (!initFrom.empty()) {
    job.initialPath = initFrom;
    for (::anvil::NamedTensor &t : ::anvil::readWeights(initFrom))
      job.initial[t.name] = std::move(t);
  }
  if (!reinit.empty()) {
    llvm::Regex pattern(reinit);
    std::string error;
    if (!pattern.isValid(error))
      return reportError("bad --reinit regex '" + reinit + "': " + error);
    // The model's parameters that match, then their optimizer state
    // (`<name>.momentum`, `<name>.adam_m`, ...) with them.
    std::vector<std::string> fresh;
    module->walk([&](mlir::anvil::ParamOp param) {
      if (pattern.match(param.getName()))
        fresh.push_back(param.getName().str());
    });
    if (fresh.empty())
      return reportError("--reinit '" + reinit + "' matches no parameter of " +
                         trainModel);
    for (const std::string &name : fresh) {
      job.initial.erase(name);
      for (auto it = job.initial.lower_bound(name + ".");
           it != job.initial.end() &&
           llvm::StringRef(it->first).starts_with(name + ".");)
        it = job.initial.erase(it);
    }
  }
  job.extras.push_back(::anvil::scalarTensor("__lr", double(trainLr)));
  return compile(context, *module, std::move(job));
}

/// Gives every parameter of `module` its value from the weights file at
/// `path` (as dense data), checking names and sizes.
static int applyWeights(ModuleOp module, const std::string &path) {
  std::map<std::string, ::anvil::NamedTensor> values;
  for (::anvil::NamedTensor &t : ::anvil::readWeights(path))
    values[t.name] = std::move(t);
  std::string missing;
  WalkResult result = module.walk([&](mlir::anvil::ParamOp param) {
    auto it = values.find(param.getName().str());
    if (it == values.end()) {
      missing += " " + param.getName().str();
      return WalkResult::advance();
    }
    auto type = cast<RankedTensorType>(param.getType());
    std::string modelType = ::anvil::tensorTypeText(
        *::anvil::ref::dtypeOf(type.getElementType()),
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
    if (it->second.typeText() != modelType) {
      reportError(path + ": parameter '" + param.getName().str() + "' is " +
                  it->second.typeText() + " in the file, but the model's is " +
                  modelType + "; was the file saved from another model?");
      return WalkResult::interrupt();
    }
    param.setInit("dense");
    param.setValueAttr(DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(it->second.bytes)));
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return 1;
  if (!missing.empty())
    return reportError(path + ": has no value for parameter(s):" + missing +
                       "; is it a checkpoint of this model?");
  return 0;
}

static int compileMain(MLIRContext &context) {
  if (modelPath.empty())
    return reportError("no model given; see anvilc --help");
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
  if (emitKind != "exe" && emitKind != "lib")
    return reportError("--emit must be exe or lib, not '" + emitKind + "'");
  std::string output = outputPath;
  std::string stem = llvm::sys::path::stem(modelPath).str();
  if (output.empty() && stopAfter == mlir::anvil::Phase::Object)
    output = stem + ".o";
  else if (output.empty() && !stopAfter)
    output = emitKind == "lib" ? "lib" + stem + ".a" : stem;
  if (!weightsIn.empty())
    if (int rc = applyWeights(*module, weightsIn))
      return rc;
  if (stopAfter == mlir::anvil::Phase::Import)
    return writeIR(*module, output);
  Job job;
  job.stopAfter = stopAfter;
  job.output = output;
  job.options.seed = compileSeed;
  job.options.batch = compileBatch;
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
      "--reference)\n");

  DialectRegistry registry;
  mlir::anvil::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Errors name the op by its source line; the generic op dump adds noise.
  context.printOpOnDiagnostic(false);
  int rc;
  try {
    rc = runCommand     ? runMain(context)
         : trainCommand ? trainMain(context)
                        : compileMain(context);
  } catch (const ::anvil::Error &e) {
    rc = reportError(e.what());
  }
  diagnostics.reset(); // it unregisters itself from the context
  return rc;
}
