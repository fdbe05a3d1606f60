//===- Codegen.cpp - LLVM IR, object files and linking --------------------===//
//
// The runtime finds entry points through a table the compiler adds to the
// LLVM module: `anvil_model_functions` ({name, signature, function, batch} per
// entry) and `anvil_model_num_functions`; external parameters through
// `anvil_model_params` ({name, type, storage, bytes}), `anvil_model_num_params`
// and `anvil_model_weights_path`. Entry points use the bare-pointer
// convention: inputs, then outputs, each a pointer to dense row-major data.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen.h"
#include "compiler/ParallelCodegen.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include <thread>

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
    if (auto batch = func->getAttrOfType<IntegerAttr>(kBatchAttr))
      entry.batch = batch.getInt();
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
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *entryType = llvm::StructType::get(ctx, {ptr, ptr, ptr, i64});
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
        entryType, {str(e.name), str(e.signature()), fn,
                    llvm::ConstantInt::get(i64, e.batch)}));
  }
  auto *arrayType = llvm::ArrayType::get(entryType, rows.size());
  new llvm::GlobalVariable(
      module, arrayType, true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantArray::get(arrayType, rows), "anvil_model_functions");
  auto *i32 = llvm::Type::getInt32Ty(ctx);
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

/// LLVM's full unroller takes whole nests of small constant trip counts
/// apart: around a strided copy, a 14x28 nest (its inner 64-loop kept)
/// became one basic block of 93,000 instructions, and scheduling it took
/// most of a 75 s ResNet-18 trainer compile. Loops of up to 16 iterations
/// (kernel windows, register tiles) are still unrolled fully; longer ones
/// are left to the vectorizer and the partial unroller. A user's own
/// `--unroll-full-max-count=N` (a hidden LLVM option) wins.
static void limitFullUnrolling() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("unroll-full-max-count");
  if (it != options.end() && it->second->getNumOccurrences() == 0)
    it->second->addOccurrence(0, "unroll-full-max-count", "16");
}

std::string
mlir::anvil::writeOutput(const std::string &path,
                         llvm::function_ref<void(llvm::raw_ostream &)> write) {
  // A temporary beside the output (so the rename is atomic), removed if
  // anvilc fails or is interrupted (TempFile registers it for signals).
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp)
    return "cannot write '" + path + "': " + llvm::toString(temp.takeError());
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    write(os);
    os.flush();
    ec = os.error();
    os.clear_error(); // reported below, not by LLVM's abort
  }
  if (ec) {
    llvm::consumeError(temp->discard());
    return "cannot write '" + path + "': " + ec.message();
  }
  if (llvm::Error e = temp->keep(path))
    return "cannot write '" + path + "': " + llvm::toString(std::move(e));
  return "";
}

/// Makes every target Debian's libLLVM has available (once).
static void initializeTargets() {
  static bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)done;
}

std::string TargetOptions::tripleOrHost() const {
  return triple.empty() ? llvm::sys::getDefaultTargetTriple() : triple;
}

bool TargetOptions::isHost() const {
  llvm::Triple host(llvm::sys::getDefaultTargetTriple()), t(tripleOrHost());
  return t.getArch() == host.getArch() && t.getOS() == host.getOS();
}

/// The target of `triple`, or an error message in `error`.
static const llvm::Target *lookupTarget(const std::string &triple,
                                        std::string &error) {
  initializeTargets();
  std::string why;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, why);
  if (!target) {
    std::string names;
    for (const llvm::Target &t : llvm::TargetRegistry::targets())
      names += (names.empty() ? "" : ", ") + std::string(t.getName());
    error = "unknown --target-triple '" + triple + "' (" + why +
            "); the architectures this anvilc knows: " + names;
  }
  return target;
}

std::string mlir::anvil::checkTarget(const TargetOptions &target) {
  std::string triple = target.tripleOrHost(), error;
  const llvm::Target *llvmTarget = lookupTarget(triple, error);
  if (!llvmTarget)
    return error;
  if (target.cpu.empty())
    return "";
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (info && !info->isCPUStringValid(target.cpu))
    return "unknown --target-cpu '" + target.cpu + "' for " + triple +
           "; `anvilc --target-cpu=help` lists the valid ones";
  return "";
}

std::string mlir::anvil::targetCpus(const TargetOptions &target,
                                    std::vector<std::string> &cpus) {
  std::string triple = target.tripleOrHost(), error;
  const llvm::Target *llvmTarget = lookupTarget(triple, error);
  if (!llvmTarget)
    return error;
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (info)
    for (const llvm::SubtargetSubTypeKV &cpu :
         info->getAllProcessorDescriptions())
      cpus.push_back(cpu.Key);
  return "";
}

/// 2 GiB: what x86-64's default (small) code model addresses, data
/// included; beyond it the link fails with truncated relocations.
static constexpr int64_t kMaxStaticBytes = int64_t(1) << 31;

std::string mlir::anvil::checkStaticStorage(ModuleOp module) {
  int64_t total = 0, largest = 0;
  std::string largestName;
  for (auto global : module.getOps<memref::GlobalOp>()) {
    MemRefType type = global.getType();
    if (!type.hasStaticShape())
      continue;
    Type element = type.getElementType();
    int64_t bytes =
        type.getNumElements() * (element.isIntOrFloat()
                                     ? (element.getIntOrFloatBitWidth() + 7) / 8
                                     : 8);
    total += bytes; // each is at most 2^40 (the dialect's limit)
    if (bytes > largest) {
      largest = bytes;
      largestName = global.getSymName().str();
    }
  }
  if (total <= kMaxStaticBytes)
    return "";
  return "the model needs " + std::to_string(total) +
         " bytes of static storage (parameters and the arenas of "
         "temporaries; the largest, @" +
         largestName + ", has " + std::to_string(largest) +
         " bytes), more than the 2 GiB (2147483648 bytes) an executable or "
         "library can hold; use a smaller --batch or a smaller model";
}

std::string mlir::anvil::emitObject(ModuleOp module,
                                    const std::vector<EntryPoint> &entries,
                                    const std::vector<ExternalParam> &params,
                                    const std::string &weightsPath,
                                    const TargetOptions &target,
                                    const std::string &path) {
  limitFullUnrolling();
  std::string triple = target.tripleOrHost(), error;
  const llvm::Target *llvmTarget = lookupTarget(triple, error);
  if (!llvmTarget)
    return error;
  // Default: this machine's CPU and features, or a generic one for others.
  std::string cpu = target.cpu, features;
  if (cpu.empty() && target.isHost()) {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  } else if (cpu.empty()) {
    cpu = "generic";
  }
  MachineFactory makeMachine = [=] {
    return std::unique_ptr<llvm::TargetMachine>(llvmTarget->createTargetMachine(
        triple, cpu, features, {}, llvm::Reloc::PIC_));
  };
  std::unique_ptr<llvm::TargetMachine> machine = makeMachine();
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

  // Emitted into memory first: writeOutput then reports a full disk as an
  // error instead of LLVM's abort, and leaves no partial file. Joining
  // parts takes the host's binutils, so other targets get one piece.
  unsigned jobs = target.codegenThreads;
  if (jobs == 0)
    jobs = std::max(1u, std::thread::hardware_concurrency());
  if (!target.isHost())
    jobs = 1;
  llvm::SmallVector<char, 0> object;
  if (std::string e =
          optimizeAndEmit(std::move(llvmModule), makeMachine, jobs, object);
      !e.empty())
    return e;
  return writeOutput(path, [&](llvm::raw_ostream &os) {
    os.write(object.data(), object.size());
  });
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
  std::string checksLib = libDir + "/libAnvilChecks.a";
  for (const std::string &lib : {mainLib, runtimeLib, checksLib})
    if (!llvm::sys::fs::exists(lib))
      return "the model runtime is missing: " + lib +
             " (was anvilc moved away from its build or install tree?)";
  // Parallel loops call LLVM's OpenMP runtime (Debian's libomp-19-dev).
  std::vector<llvm::StringRef> args = {*cxx,
                                       "-o",
                                       output,
                                       object,
                                       mainLib,
                                       runtimeLib,
                                       checksLib,
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
    llvm::sys::fs::remove(output);
    return "linking failed" + (error.empty() ? "" : ": " + error);
  }
  return "";
}

std::string mlir::anvil::archiveLibrary(const std::string &object,
                                        const std::string &libDir,
                                        const std::string &output) {
  // The model's object, and the run-time checks it calls (so that the
  // library needs nothing of Anvil's to link).
  std::string checksLib = libDir + "/libAnvilChecks.a";
  auto fail = [&](const std::string &what, llvm::Error e) {
    return what + ": " + llvm::toString(std::move(e));
  };
  std::vector<llvm::NewArchiveMember> members;
  llvm::Expected<llvm::NewArchiveMember> model =
      llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
  if (!model)
    return fail("cannot read the object file", model.takeError());
  members.push_back(std::move(*model));
  auto buffer = llvm::MemoryBuffer::getFile(checksLib);
  if (!buffer)
    return "the model runtime is missing: " + checksLib + " (" +
           buffer.getError().message() + ")";
  llvm::Expected<std::unique_ptr<llvm::object::Archive>> checks =
      llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!checks)
    return fail(checksLib, checks.takeError());
  llvm::Error childError = llvm::Error::success();
  for (const llvm::object::Archive::Child &child :
       (*checks)->children(childError)) {
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member)
      return fail(checksLib, member.takeError());
    members.push_back(std::move(*member));
  }
  if (childError)
    return fail(checksLib, std::move(childError));
  // Written to a temporary and renamed (removed on failure and signals).
  if (llvm::Error e = llvm::writeArchive(
          output, members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true,
          /*Thin=*/false))
    return fail("cannot write '" + output + "'", std::move(e));
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
     << " * libomp-19-dev); OMP_NUM_THREADS sets the thread count. An index\n"
     << " * or label argument outside its range prints an error naming it and\n"
     << " * ends the process with status 1. */\n"
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
