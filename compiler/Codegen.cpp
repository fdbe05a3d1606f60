//===- Codegen.cpp - LLVM IR, object files and linking --------------------===//
//
// The runtime finds entry points through a table the compiler adds to the
// LLVM module: `anvil_model_functions` ({name, signature, function} per
// entry) and `anvil_model_num_functions`; external parameters through
// `anvil_model_params` ({name, type, storage, bytes}), `anvil_model_num_params`
// and `anvil_model_weights_path`. Entry points use the bare-pointer
// convention: inputs, then outputs, each a pointer to dense row-major data.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::anvil;

std::string TensorSpec::str() const {
  std::string s = dtype + "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "," : "") + std::to_string(d);
  return s + "]";
}

std::string TensorSpec::cType() const {
  return llvm::StringSwitch<std::string>(dtype)
      .Case("f32", "float")
      .Case("f64", "double")
      .Case("i64", "int64_t")
      .Case("i32", "int32_t")
      .Case("i8", "int8_t")
      .Default("bool");
}

int64_t TensorSpec::bytes() const {
  int64_t n = llvm::StringSwitch<int64_t>(dtype)
                  .Cases("f64", "i64", 8)
                  .Cases("f32", "i32", 4)
                  .Default(1);
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string EntryPoint::signature() const {
  std::string s;
  for (auto [i, t] : llvm::enumerate(inputs))
    s += (i ? ";" : "") + t.str();
  s += "->";
  for (auto [i, t] : llvm::enumerate(results))
    s += (i ? ";" : "") + t.str();
  return s;
}

/// The spec of a static tensor (or memref) type, or nullopt if the runtime
/// can't pass it.
static std::optional<TensorSpec> specOf(Type type) {
  auto tensor = dyn_cast<ShapedType>(type);
  if (!tensor || !tensor.hasRank() || !tensor.hasStaticShape())
    return std::nullopt;
  Type elt = tensor.getElementType();
  std::string dtype = elt.isF32()                 ? "f32"
                      : elt.isF64()               ? "f64"
                      : elt.isSignlessInteger(64) ? "i64"
                      : elt.isSignlessInteger(32) ? "i32"
                      : elt.isSignlessInteger(8)  ? "i8"
                      : elt.isSignlessInteger(1)  ? "bool"
                                                  : "";
  if (dtype.empty())
    return std::nullopt;
  return TensorSpec{dtype, std::vector<int64_t>(tensor.getShape().begin(),
                                                tensor.getShape().end())};
}

FailureOr<std::vector<EntryPoint>>
mlir::anvil::collectEntryPoints(ModuleOp module) {
  std::vector<EntryPoint> entries;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isPrivate() || func.isExternal())
      continue;
    EntryPoint entry{func.getName().str(), {}, {}};
    FunctionType type = func.getFunctionType();
    for (auto [i, t] : llvm::enumerate(type.getInputs())) {
      auto spec = specOf(t);
      if (!spec)
        return func.emitError("argument ")
               << i << " has type " << t
               << ", which a compiled entry point cannot take; use a tensor "
                  "with a static shape of f32, f64, i64, i32, i8 or i1";
      entry.inputs.push_back(*spec);
    }
    for (auto [i, t] : llvm::enumerate(type.getResults())) {
      auto spec = specOf(t);
      if (!spec)
        return func.emitError("result ")
               << i << " has type " << t
               << ", which a compiled entry point cannot return";
      entry.results.push_back(*spec);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<ExternalParam> mlir::anvil::collectExternalParams(ModuleOp module) {
  std::vector<ExternalParam> params;
  for (auto global : module.getOps<memref::GlobalOp>()) {
    auto name = global->getAttrOfType<StringAttr>("anvil.param_name");
    if (!name)
      continue;
    // Parameters have the element types entry points have (AnvilOps.td).
    std::optional<TensorSpec> type = specOf(global.getType());
    assert(type && "a parameter of a type the runtime cannot hold");
    params.push_back({name.str(), global.getSymName().str(), *type});
  }
  return params;
}

/// Adds the tables the runtime reads and gives entry points their prefix.
static std::string addTables(llvm::Module &module,
                             const std::vector<EntryPoint> &entries,
                             const std::vector<ExternalParam> &params,
                             const std::string &weightsPath) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *entryType = llvm::StructType::get(ctx, {ptr, ptr, ptr});
  std::vector<llvm::Constant *> rows;
  auto str = [&](const std::string &s) -> llvm::Constant * {
    auto *init = llvm::ConstantDataArray::getString(ctx, s);
    return new llvm::GlobalVariable(module, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init);
  };
  for (const EntryPoint &e : entries) {
    llvm::Function *fn = module.getFunction(e.name);
    if (!fn)
      return "internal error: entry point @" + e.name + " vanished";
    fn->setName("anvil_" + e.name);
    rows.push_back(llvm::ConstantStruct::get(
        entryType, {str(e.name), str(e.signature()), fn}));
  }
  auto *arrayType = llvm::ArrayType::get(entryType, rows.size());
  new llvm::GlobalVariable(
      module, arrayType, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantArray::get(arrayType, rows), "anvil_model_functions");
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  new llvm::GlobalVariable(
      module, i32, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(i32, rows.size()), "anvil_model_num_functions");

  // {name, type, storage, bytes} per external parameter.
  auto *paramType = llvm::StructType::get(ctx, {ptr, ptr, ptr, i64});
  std::vector<llvm::Constant *> paramRows;
  for (const ExternalParam &p : params) {
    llvm::GlobalVariable *storage = module.getGlobalVariable(p.symbol, true);
    if (!storage)
      return "internal error: parameter storage @" + p.symbol + " vanished";
    paramRows.push_back(llvm::ConstantStruct::get(
        paramType, {str(p.name), str(p.type.str()), storage,
                    llvm::ConstantInt::get(i64, p.type.bytes())}));
  }
  auto *paramArray = llvm::ArrayType::get(paramType, paramRows.size());
  new llvm::GlobalVariable(
      module, paramArray, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantArray::get(paramArray, paramRows), "anvil_model_params");
  new llvm::GlobalVariable(
      module, i32, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(i32, paramRows.size()), "anvil_model_num_params");
  auto *path = llvm::ConstantDataArray::getString(ctx, weightsPath);
  new llvm::GlobalVariable(module, path->getType(), true,
                           llvm::GlobalValue::ExternalLinkage, path,
                           "anvil_model_weights_path");
  return "";
}

std::string mlir::anvil::emitObject(ModuleOp module,
                                    const std::vector<EntryPoint> &entries,
                                    const std::vector<ExternalParam> &params,
                                    const std::string &weightsPath,
                                    const TargetOptions &target,
                                    const std::string &path) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = target.triple.empty()
                           ? llvm::sys::getDefaultTargetTriple()
                           : target.triple;
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return "unknown target triple '" + triple + "': " + error;
  std::string cpu = target.cpu, features;
  if (cpu.empty()) {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, features, {}, llvm::Reloc::PIC_));
  if (!machine)
    return "cannot create a target machine for " + triple + " / " + cpu;

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return "translation to LLVM IR failed";
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  if (std::string e = addTables(*llvmModule, entries, params, weightsPath);
      !e.empty())
    return e;
  if (llvm::Error e =
          makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get()))
    return "LLVM optimization failed: " + llvm::toString(std::move(e));

  std::string temp = path + ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(temp, ec, llvm::sys::fs::OF_None);
    if (ec)
      return "cannot write '" + path + "': " + ec.message();
    llvm::legacy::PassManager pm;
    if (machine->addPassesToEmitFile(pm, out, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return "the target cannot emit object files";
    pm.run(*llvmModule);
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return "cannot write '" + path + "': " + ec.message();
  }
  return "";
}

std::string mlir::anvil::linkExecutable(const std::string &object,
                                        const std::string &libDir,
                                        const std::string &mainLibrary,
                                        const std::string &output) {
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx)
    cxx = llvm::sys::findProgramByName("g++");
  if (!cxx)
    return "no C++ linker (c++ or g++) on PATH; install g++";
  std::string mainLib = libDir + "/lib" + mainLibrary + ".a";
  std::string runtimeLib = libDir + "/libAnvilRuntime.a";
  for (const std::string &lib : {mainLib, runtimeLib})
    if (!llvm::sys::fs::exists(lib))
      return "the model runtime is missing: " + lib +
             " (was anvilc moved away from its build or install tree?)";
  std::string temp = output + ".tmp";
  // Parallel loops call LLVM's OpenMP runtime (Debian's libomp-19-dev).
  std::vector<llvm::StringRef> args = {*cxx,
                                       "-o",
                                       temp,
                                       object,
                                       mainLib,
                                       runtimeLib,
                                       "-L" ANVIL_OPENMP_DIR,
                                       "-Wl,-rpath," ANVIL_OPENMP_DIR,
                                       "-lomp",
                                       "-lz",
                                       "-lm",
                                       "-lpthread"};
#ifdef ANVIL_MODEL_LINK_FLAGS
  // A sanitizer build's runtime is instrumented: link the sanitizers' own.
  args.push_back(ANVIL_MODEL_LINK_FLAGS);
#endif
  std::string error;
  int rc =
      llvm::sys::ExecuteAndWait(*cxx, args, std::nullopt, {}, 0, 0, &error);
  if (rc != 0) {
    llvm::sys::fs::remove(temp);
    return "linking failed" + (error.empty() ? "" : ": " + error);
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    return "cannot write '" + output + "': " + ec.message();
  }
  return "";
}

std::string mlir::anvil::archiveLibrary(const std::string &object,
                                        const std::string &output) {
  auto ar = llvm::sys::findProgramByName("ar");
  if (!ar)
    return "no archiver (ar) on PATH; install binutils";
  std::string temp = output + ".tmp";
  llvm::sys::fs::remove(temp);
  std::vector<llvm::StringRef> args = {*ar, "rcs", temp, object};
  std::string error;
  if (llvm::sys::ExecuteAndWait(*ar, args, std::nullopt, {}, 0, 0, &error)) {
    llvm::sys::fs::remove(temp);
    return "archiving failed" + (error.empty() ? "" : ": " + error);
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    return "cannot write '" + output + "': " + ec.message();
  }
  return "";
}

std::string mlir::anvil::libraryHeader(const std::vector<EntryPoint> &entries,
                                       const std::string &guard,
                                       const std::string &model) {
  std::string h;
  llvm::raw_string_ostream os(h);
  os << "/* Generated by anvilc from " << model << ". Do not edit.\n"
     << " *\n"
     << " * C API of the compiled model: one function per entry point. Every\n"
     << " * buffer is dense and row-major with exactly the shape below;\n"
     << " * inputs are read, never written; results are written in full.\n"
     << " * Temporaries live in a static arena inside the library, so no\n"
     << " * call allocates memory, and calls of the same function must not\n"
     << " * run concurrently. Parallel loops run on LLVM's OpenMP runtime:\n"
     << " * link with -L/usr/lib/llvm-19/lib -lomp -lm (Debian's\n"
     << " * libomp-19-dev); OMP_NUM_THREADS sets the thread count. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdbool.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n";
  for (const EntryPoint &e : entries) {
    std::string upper = llvm::StringRef(e.name).upper();
    os << "\n/* @" << e.name << "(" << e.signature() << ")\n";
    auto describe = [&](const char *kind, size_t i, const TensorSpec &t) {
      os << " *   " << kind << i << ": " << t.cType();
      for (int64_t d : t.shape)
        os << "[" << d << "]";
      os << ", " << t.bytes() << " bytes\n";
    };
    for (auto [i, t] : llvm::enumerate(e.inputs))
      describe("input", i, t);
    for (auto [i, t] : llvm::enumerate(e.results))
      describe("result", i, t);
    os << " */\n";
    auto defines = [&](const char *kind, size_t i, const TensorSpec &t) {
      std::string prefix =
          "ANVIL_" + upper + "_" + kind + std::to_string(i) + "_";
      os << "#define " << prefix << "RANK " << t.shape.size() << "\n";
      os << "#define " << prefix << "SHAPE {";
      for (auto [j, d] : llvm::enumerate(t.shape))
        os << (j ? ", " : "") << d;
      os << "}\n#define " << prefix << "BYTES " << t.bytes() << "\n";
    };
    for (auto [i, t] : llvm::enumerate(e.inputs))
      defines("INPUT", i, t);
    for (auto [i, t] : llvm::enumerate(e.results))
      defines("RESULT", i, t);
    os << "void anvil_" << e.name << "(";
    bool first = true;
    for (auto [i, t] : llvm::enumerate(e.inputs)) {
      os << (first ? "" : ", ") << "const " << t.cType() << " *input" << i;
      first = false;
    }
    for (auto [i, t] : llvm::enumerate(e.results)) {
      os << (first ? "" : ", ") << t.cType() << " *result" << i;
      first = false;
    }
    os << ");\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return h;
}
