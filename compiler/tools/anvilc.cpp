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
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory anvilCategory("anvilc options");
static cl::SubCommand runCommand(
    "run", "Run a function of a model on .npy inputs and write .npy outputs");

// Top level: compile.
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::cat(anvilCategory));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR (object: the object "
             "file): import, graph, optimize, backend, bufferize, llvm, "
             "object"),
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
static cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("Print each function's static arena: its size and the offset, "
             "size and lifetime of every buffer in it"),
    cl::cat(anvilCategory));
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
                                     cl::sub(runCommand), cl::Required);
static cl::opt<bool>
    reference("reference",
              cl::desc("Run on the naive reference kernels (the numeric truth) "
                       "instead of compiled code"),
              cl::sub(runCommand));
static cl::opt<std::string>
    function("function",
             cl::desc("Function to run (default: @forward, or the only one)"),
             cl::sub(runCommand));
static cl::list<std::string>
    inputs("input",
           cl::desc("An input .npy, one per function argument, in order"),
           cl::value_desc("file.npy"), cl::sub(runCommand));
static cl::list<std::string>
    outputs("output", cl::desc("Where to write each result (.npy), in order"),
            cl::value_desc("file.npy"), cl::sub(runCommand));
static cl::opt<std::string> paramsDir(
    "params",
    cl::desc("Directory with one <param name>.npy per anvil.param; without "
             "it parameters take their initializers"),
    cl::value_desc("dir"), cl::sub(runCommand));
static cl::opt<uint64_t>
    seed("seed", cl::desc("Seed for parameters without a `seed` attribute"),
         cl::init(0), cl::sub(runCommand));

/// Prints `message` as anvilc's one error line and returns the exit code.
static int reportError(const std::string &message) {
  llvm::errs() << "anvilc: error: " << message << "\n";
  return 1;
}

/// Parses and verifies `path`; diagnostics print with file:line:col.
static OwningOpRef<ModuleOp> loadModel(const std::string &path,
                                       MLIRContext &context) {
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    reportError("cannot open model '" + path + "': " + error);
    return nullptr;
  }
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
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

/// Runs the phases on `module` up to `stopAfter` (all of them and the link
/// step when unset), writing the IR (or object) of that phase or the
/// executable to `output`.
static int compile(MLIRContext &context, ModuleOp module,
                   std::optional<mlir::anvil::Phase> stopAfter,
                   const std::string &output, uint64_t seed) {
  using mlir::anvil::Phase;
  auto entries = mlir::anvil::collectEntryPoints(module);
  if (failed(entries))
    return 1;
  mlir::anvil::PipelineOptions options;
  options.seed = seed;
  // With --weights-file the values go to a file, computed as the
  // materializing pass would, and the code reads them from globals.
  std::vector<::anvil::NamedTensor> weights;
  std::string weightsPath;
  if (!weightsFile.empty() && !stopAfter) {
    if (emitKind == "lib")
      return reportError("--weights-file works with executables only so far");
    options.externalWeights = true;
    llvm::SmallString<256> absolute(weightsFile);
    llvm::sys::fs::make_absolute(absolute);
    weightsPath = absolute.str().str();
    llvm::StringSet<> seen;
    module.walk([&](mlir::anvil::ParamOp param) {
      if (!seen.insert(param.getName()).second)
        return;
      ::anvil::NpyArray values =
          ::anvil::ref::toNpy(::anvil::ref::initialValue(param, seed));
      weights.push_back({param.getName().str(), values.bytes});
    });
  }
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
    mlir::anvil::buildPhasePipeline(pm, phase, options);
    if (failed(pm.run(module)))
      return reportError("the " + name + " phase failed (see above)");
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
    if (stopAfter == phase)
      return writeIR(module, output);
  }
  bool linking = !stopAfter.has_value();
  std::string object = linking ? output + ".o" : output;
  mlir::anvil::TargetOptions target{targetTriple, targetCpu};
  if (std::string e = mlir::anvil::emitObject(module, *entries, params,
                                              weightsPath, target, object);
      !e.empty())
    return reportError(e);
  if (!linking)
    return 0;
  std::string e;
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
    e = mlir::anvil::linkExecutable(object, libDir, output);
    if (e.empty() && options.externalWeights) {
      try {
        ::anvil::writeWeights(weightsPath, weights);
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
  int rc = compile(context, module, std::nullopt, exe, seed);
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
  if (stopAfter == mlir::anvil::Phase::Import)
    return writeIR(*module, output);
  return compile(context, *module, stopAfter, output, compileSeed);
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
  cl::ParseCommandLineOptions(
      argc, argv,
      "Anvil: a compiler for neural-network graphs\n\n"
      "  anvilc MODEL.mlir [-o EXE]             compile to a native "
      "executable\n"
      "  anvilc MODEL.mlir --compile-to=PHASE   stop after a phase, print "
      "its IR\n"
      "  anvilc run MODEL.mlir --input x.npy ... --output y.npy ...\n"
      "                                         compile and run (or "
      "--reference)\n");

  DialectRegistry registry;
  mlir::anvil::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  try {
    return runCommand ? runMain(context) : compileMain(context);
  } catch (const ::anvil::Error &e) {
    return reportError(e.what());
  }
}
