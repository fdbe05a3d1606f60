//===- Codegen.cpp - LLVM IR, object files and linking --------------------===//
//
// The runtime finds entry points through a table the compiler adds to the
// LLVM module: `anvil_model_functions` ({name, signature, function} per
// entry) and `anvil_model_num_functions`. Entry points use the bare-pointer
// convention: inputs, then outputs, each a pointer to dense row-major data.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
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

/// "f32[64,784]" for a static tensor type, or "" if the runtime can't pass it.
static std::string describe(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return "";
  Type elt = tensor.getElementType();
  std::string s = elt.isF32()                 ? "f32"
                  : elt.isF64()               ? "f64"
                  : elt.isSignlessInteger(64) ? "i64"
                  : elt.isSignlessInteger(32) ? "i32"
                  : elt.isSignlessInteger(8)  ? "i8"
                  : elt.isSignlessInteger(1)  ? "bool"
                                              : "";
  if (s.empty())
    return "";
  s += "[";
  for (auto [i, d] : llvm::enumerate(tensor.getShape()))
    s += (i ? "," : "") + std::to_string(d);
  return s + "]";
}

FailureOr<std::vector<EntryPoint>>
mlir::anvil::collectEntryPoints(ModuleOp module) {
  std::vector<EntryPoint> entries;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isPrivate() || func.isExternal())
      continue;
    std::string signature;
    FunctionType type = func.getFunctionType();
    for (auto [i, t] : llvm::enumerate(type.getInputs())) {
      std::string d = describe(t);
      if (d.empty())
        return func.emitError("argument ")
               << i << " has type " << t
               << ", which a compiled entry point cannot take; use a tensor "
                  "with a static shape of f32, f64, i64, i32, i8 or i1";
      signature += (i ? ";" : "") + d;
    }
    signature += "->";
    for (auto [i, t] : llvm::enumerate(type.getResults())) {
      std::string d = describe(t);
      if (d.empty())
        return func.emitError("result ")
               << i << " has type " << t
               << ", which a compiled entry point cannot return";
      signature += (i ? ";" : "") + d;
    }
    entries.push_back({func.getName().str(), signature});
  }
  return entries;
}

/// Adds the table the runtime reads and gives entry points their prefix.
static std::string addFunctionTable(llvm::Module &module,
                                    const std::vector<EntryPoint> &entries) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *entryType = llvm::StructType::get(ctx, {ptr, ptr, ptr});
  std::vector<llvm::Constant *> rows;
  for (const EntryPoint &e : entries) {
    llvm::Function *fn = module.getFunction(e.name);
    if (!fn)
      return "internal error: entry point @" + e.name + " vanished";
    fn->setName("anvil_" + e.name);
    auto str = [&](const std::string &s) -> llvm::Constant * {
      auto *init = llvm::ConstantDataArray::getString(ctx, s);
      return new llvm::GlobalVariable(module, init->getType(), true,
                                      llvm::GlobalValue::PrivateLinkage, init);
    };
    rows.push_back(llvm::ConstantStruct::get(
        entryType, {str(e.name), str(e.signature), fn}));
  }
  auto *arrayType = llvm::ArrayType::get(entryType, rows.size());
  new llvm::GlobalVariable(
      module, arrayType, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantArray::get(arrayType, rows), "anvil_model_functions");
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  new llvm::GlobalVariable(
      module, i32, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(i32, rows.size()), "anvil_model_num_functions");
  return "";
}

std::string mlir::anvil::emitObject(ModuleOp module,
                                    const std::vector<EntryPoint> &entries,
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
  if (std::string e = addFunctionTable(*llvmModule, entries); !e.empty())
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
                                        const std::string &output) {
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx)
    cxx = llvm::sys::findProgramByName("g++");
  if (!cxx)
    return "no C++ linker (c++ or g++) on PATH; install g++";
  std::string mainLib = libDir + "/libAnvilModelMain.a";
  std::string runtimeLib = libDir + "/libAnvilRuntime.a";
  for (const std::string &lib : {mainLib, runtimeLib})
    if (!llvm::sys::fs::exists(lib))
      return "the model runtime is missing: " + lib +
             " (was anvilc moved away from its build or install tree?)";
  std::string temp = output + ".tmp";
  std::vector<llvm::StringRef> args = {*cxx,    "-o",       temp,  object,
                                       mainLib, runtimeLib, "-lm", "-lpthread"};
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
