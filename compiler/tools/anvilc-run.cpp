//===- anvilc-run.cpp - anvilc run ----------------------------------------===//
//
// `anvilc run MODEL --input ... --output ...`: compiles the model into a
// temporary executable and runs one function on .npy or .pb inputs, or with
// --reference runs it on the reference interpreter. Inputs are checked
// against the function's signature before anything compiles.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Onnx/Import.h"
#include "compiler/Reference/Interpreter.h"
#include "dialects/AnvilOps.h"
#include "dialects/DTypes.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"

using namespace mlir;
using namespace anvilc;

// `anvilc run` (and the model, --function, --weights and --seed of
// anvilc.h).
static cl::opt<bool>
    reference("reference",
              cl::desc("Run on the naive reference kernels (the numeric truth) "
                       "instead of compiled code"),
              cl::sub(runCommand()), cl::cat(category()));
static cl::list<std::string>
    inputs("input",
           cl::desc("An input (.npy, or .pb: an onnx.TensorProto), one per "
                    "function argument, in order"),
           cl::value_desc("file"), cl::sub(runCommand()), cl::cat(category()));
static cl::list<std::string>
    inputList("inputs", cl::desc("Inputs as one comma-separated list"),
              cl::value_desc("a.pb,b.pb"), cl::CommaSeparated,
              cl::sub(runCommand()), cl::cat(category()));
static cl::list<std::string>
    outputs("output",
            cl::desc("Where to write each result (.npy or .pb), in order"),
            cl::value_desc("file"), cl::sub(runCommand()), cl::cat(category()));
static cl::opt<std::string> outputDir(
    "outputs",
    cl::desc("Write result K to DIR/output_K.pb (an onnx.TensorProto)"),
    cl::value_desc("dir"), cl::sub(runCommand()), cl::cat(category()));
static cl::opt<std::string> paramsDir(
    "params",
    cl::desc("Directory with one <param name>.npy per anvil.param; without "
             "it parameters take their initializers"),
    cl::value_desc("dir"), cl::sub(runCommand()), cl::cat(category()));

llvm::Expected<func::FuncOp> anvilc::pickFunction(ModuleOp module) {
  const std::string &name = function, &path = modelPath;
  auto error = [](const std::string &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      return error(path + ": has no function @" + name);
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
  return error(path +
               ": has no @forward; choose a function with "
               "--function (it has:" +
               names + ")");
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
  auto dtype = mlir::anvil::dtypeOf(tensorType.getElementType());
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

int anvilc::runMain(MLIRContext &context) {
  std::vector<std::string> inputFiles(inputs.begin(), inputs.end());
  for (const std::string &file : inputList)
    if (!file.empty()) // `--inputs ""`: a model without inputs
      inputFiles.push_back(file);
  std::vector<::anvil::NpyArray> arrays;
  for (const std::string &file : inputFiles)
    arrays.push_back(readArray(file));
  OwningOpRef<ModuleOp> module = loadModel(context, &arrays);
  if (!module)
    return 1;
  auto picked = pickFunction(*module);
  if (!picked)
    return reportError(picked.takeError());
  func::FuncOp func = *picked;
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
