//===- anvilc.cpp - Anvil's compiler driver -------------------------------===//
//
// `anvilc MODEL --compile-to=PHASE` parses and verifies a model graph and
// prints it after the named phase; `anvilc run --reference MODEL --input ...
// --output ...` runs one of its functions through the reference
// interpreter. Every user error (a missing file, malformed IR, a wrong input
// shape, a bad .npy) prints one message naming the file and exits 1; nothing
// half-written is left behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Interpreter.h"
#include "compiler/Registration.h"
#include "dialects/AnvilOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
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
static cl::opt<std::string>
    compileTo("compile-to",
              cl::desc("Stop after this phase and print the IR: import "
                       "(parsed and verified), graph (canonicalized, CSE'd)"),
              cl::init("graph"), cl::cat(anvilCategory));
static cl::opt<std::string> outputPath("o",
                                       cl::desc("Output file (- = stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(anvilCategory));

// `anvilc run`.
static cl::opt<std::string> runModel(cl::Positional, cl::desc("<model.mlir>"),
                                     cl::sub(runCommand), cl::Required);
static cl::opt<bool> reference(
    "reference",
    cl::desc("Run on the naive reference kernels (the numeric truth)"),
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

static int runMain(MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(runModel, context);
  if (!module)
    return 1;
  if (!reference)
    return reportError("only the reference interpreter can run models so far; "
                       "pass --reference");
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
  if (compileTo != "import" && compileTo != "graph")
    return reportError("unknown phase '" + compileTo +
                       "'; the phases so far are: import, graph");
  OwningOpRef<ModuleOp> module = loadModel(modelPath, context);
  if (!module)
    return 1;
  if (compileTo == "graph") {
    PassManager pm(&context);
    // Fold constants and drop dead or duplicate ops before anything else.
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    if (failed(pm.run(*module)))
      return 1;
  }
  std::string error;
  auto output = openOutputFile(outputPath, &error);
  if (!output)
    return reportError("cannot write '" + outputPath + "': " + error);
  module->print(output->os());
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(anvilCategory);
  cl::HideUnrelatedOptions(anvilCategory, runCommand);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Anvil: a compiler for neural-network graphs\n\n"
      "  anvilc MODEL.mlir [--compile-to=import|graph] [-o FILE]\n"
      "  anvilc run --reference MODEL.mlir --input x.npy ... --output y.npy "
      "...\n");

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
