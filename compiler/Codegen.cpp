//===- Codegen.cpp - LLVM IR, object files and linking --------------------===//
//
// The runtime finds entry points through a table the compiler adds to the
// LLVM module: `anvil_model_functions` ({name, signature, function, batch,
// variant_of} per entry) and `anvil_model_num_functions`; external parameters
// through `anvil_model_params` ({name, type, storage, bytes}),
// `anvil_model_num_params` and `anvil_model_weights_path`. Entry points use the
// bare-pointer convention: inputs, then outputs, each a pointer to dense
// row-major data.
//
//===----------------------------------------------------------------------===//

#include "compiler/Codegen.h"
#include "compiler/ParallelCodegen.h"
#include "dialects/DTypes.h"
#include "passes/BatchVariants.h"
#include "passes/Passes.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
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

namespace {

using ::anvil::TensorSpec;

/// The C element type of `t` in generated headers ("float", ...).
const char *cType(const TensorSpec &t) {
  return ::anvil::dtypeInfo(t.dtype).cType;
}

/// One entry point as the runtime and the C API see it.
struct EntryPoint {
  std::string name;
  std::vector<TensorSpec> inputs, results;
  /// The batch it runs any number of samples in (kBatchAttr), else 0.
  int64_t batch = 0;
  /// The entry point it is another batch's variant of (kVariantOfAttr,
  /// anvilc --batch 1,64), else empty.
  std::string variantOf;

  /// "f32[64,784];i64[64]->f32[]": inputs, then results.
  std::string signature() const {
    std::string s;
    for (auto [i, t] : llvm::enumerate(inputs))
      s += (i ? ";" : "") + t.typeText();
    s += "->";
    for (auto [i, t] : llvm::enumerate(results))
      s += (i ? ";" : "") + t.typeText();
    return s;
  }
};

/// A parameter kept outside the code (anvilc --weights-file): its name and
/// type (which gives its size), and the global that holds it at run time.
struct ExternalParam {
  TensorSpec spec;
  std::string symbol;
};

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The specs of `types`, or an internal error naming `what`.
llvm::Expected<std::vector<TensorSpec>> specsOf(TypeRange types,
                                                const std::string &what) {
  std::vector<TensorSpec> specs;
  for (Type t : types) {
    // anvil-record-interface has refused the types the runtime can't pass.
    std::optional<TensorSpec> spec = specOf(t);
    if (!spec)
      return error("internal error: " + what +
                   " has a type the runtime cannot pass");
    specs.push_back(*spec);
  }
  return specs;
}

/// The functions that anvil-record-interface gave an `anvil.signature`
/// (func.func before the llvm phase, llvm.func after it), in order.
llvm::Expected<std::vector<EntryPoint>> readEntryPoints(ModuleOp module) {
  std::vector<EntryPoint> entries;
  for (Operation &op : *module.getBody()) {
    auto type = op.getAttrOfType<TypeAttr>(kSignatureAttr);
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!type || !symbol)
      continue;
    auto function = dyn_cast<FunctionType>(type.getValue());
    std::string name = symbol.getName().str();
    if (!function)
      return error("internal error: @" + name + " has a malformed " +
                   kSignatureAttr.str());
    auto inputs = specsOf(function.getInputs(), "@" + name);
    if (!inputs)
      return inputs.takeError();
    auto results = specsOf(function.getResults(), "@" + name);
    if (!results)
      return results.takeError();
    int64_t batch = 0;
    if (auto b = op.getAttrOfType<IntegerAttr>(kBatchAttr))
      batch = b.getInt();
    std::string variantOf;
    if (auto v = op.getAttrOfType<StringAttr>(kVariantOfAttr))
      variantOf = v.str();
    entries.push_back({name, std::move(*inputs), std::move(*results), batch,
                       std::move(variantOf)});
  }
  return entries;
}

/// The parameters in `anvil.external_params`, in order.
llvm::Expected<std::vector<ExternalParam>> readExternalParams(ModuleOp module) {
  std::vector<ExternalParam> params;
  auto list = module->getAttrOfType<ArrayAttr>(kExternalParamsAttr);
  if (!list)
    return params;
  for (Attribute entry : list) {
    auto dict = dyn_cast<DictionaryAttr>(entry);
    auto name = dict ? dict.getAs<StringAttr>("name") : nullptr;
    auto storage = dict ? dict.getAs<FlatSymbolRefAttr>("storage") : nullptr;
    auto type = dict ? dict.getAs<TypeAttr>("type") : nullptr;
    std::optional<TensorSpec> spec =
        type && name ? specOf(type.getValue(), name) : std::nullopt;
    if (!storage || !spec)
      return error("internal error: a malformed " + kExternalParamsAttr.str());
    params.push_back({*spec, storage.getValue().str()});
  }
  return params;
}

} // namespace

/// Adds the tables the runtime reads and gives entry points their prefix.
static llvm::Error addTables(llvm::Module &module,
                             const std::vector<EntryPoint> &entries,
                             const std::vector<ExternalParam> &params,
                             const std::string &weightsPath) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *entryType = llvm::StructType::get(ctx, {ptr, ptr, ptr, i64, ptr});
  std::vector<llvm::Constant *> rows;
  auto str = [&](const std::string &s) -> llvm::Constant * {
    auto *init = llvm::ConstantDataArray::getString(ctx, s);
    return new llvm::GlobalVariable(module, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init);
  };
  for (const EntryPoint &e : entries) {
    llvm::Function *fn = module.getFunction(e.name);
    if (!fn)
      return error("internal error: entry point @" + e.name + " vanished");
    fn->setName("anvil_" + e.name);
    rows.push_back(llvm::ConstantStruct::get(
        entryType, {str(e.name), str(e.signature()), fn,
                    llvm::ConstantInt::get(i64, e.batch), str(e.variantOf)}));
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
      return error("internal error: parameter storage @" + p.symbol +
                   " vanished");
    paramRows.push_back(llvm::ConstantStruct::get(
        paramType, {str(p.spec.name), str(p.spec.typeText()), storage,
                    llvm::ConstantInt::get(i64, p.spec.byteSize())}));
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
  return llvm::Error::success();
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

/// Whether `path` exists as something other than a file or a directory
/// (/dev/null, a pipe): renaming a temporary onto it would replace it.
static bool isSpecialFile(const std::string &path) {
  llvm::sys::fs::file_status status;
  return !llvm::sys::fs::status(path, status) &&
         llvm::sys::fs::exists(status) &&
         !llvm::sys::fs::is_regular_file(status) &&
         !llvm::sys::fs::is_directory(status);
}

llvm::Error
mlir::anvil::writeOutput(const std::string &path,
                         llvm::function_ref<void(llvm::raw_ostream &)> write) {
  // A device or a pipe is written as it is (run as root, the rename below
  // turned /dev/null into a regular file).
  if (isSpecialFile(path)) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (!ec) {
      write(os);
      os.flush();
      ec = os.error();
      os.clear_error();
    }
    if (ec)
      return error("cannot write '" + path + "': " + ec.message());
    return llvm::Error::success();
  }
  // A temporary beside the output (so the rename is atomic), removed if
  // anvilc fails or is interrupted (TempFile registers it for signals).
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp)
    return error("cannot write '" + path +
                 "': " + llvm::toString(temp.takeError()));
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
    return error("cannot write '" + path + "': " + ec.message());
  }
  if (llvm::Error e = temp->keep(path))
    return error("cannot write '" + path +
                 "': " + llvm::toString(std::move(e)));
  return llvm::Error::success();
}

llvm::Error mlir::anvil::checkWritable(const std::string &path,
                                       const std::string &what) {
  llvm::SmallString<256> dir(path);
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_filename(dir);
  if (!llvm::sys::fs::is_directory(dir))
    return error("cannot write " + what + " '" + path + "': the directory '" +
                 dir + "' does not exist");
  if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write))
    return error("cannot write " + what + " '" + path + "': the directory '" +
                 dir + "' is not writable");
  return llvm::Error::success();
}

/// Makes every target Debian's libLLVM has available (once).
static void initializeTargets() {
  static bool done = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    // Inline asm (anvil-int8-matmul's vpdpbusd) is parsed when the object
    // is emitted.
    llvm::InitializeAllAsmParsers();
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

/// The target of `triple`, or an error naming --target-triple.
static llvm::Expected<const llvm::Target *>
lookupTarget(const std::string &triple) {
  initializeTargets();
  std::string why;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, why);
  if (target)
    return target;
  std::string names;
  for (const llvm::Target &t : llvm::TargetRegistry::targets())
    names += (names.empty() ? "" : ", ") + std::string(t.getName());
  return error("unknown --target-triple '" + triple + "' (" + why +
               "); the architectures this anvilc knows: " + names);
}

llvm::Error mlir::anvil::checkTarget(const TargetOptions &target) {
  std::string triple = target.tripleOrHost();
  llvm::Expected<const llvm::Target *> llvmTarget = lookupTarget(triple);
  if (!llvmTarget)
    return llvmTarget.takeError();
  if (target.cpu.empty())
    return llvm::Error::success();
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      (*llvmTarget)->createMCSubtargetInfo(triple, "", ""));
  if (info && !info->isCPUStringValid(target.cpu))
    return error("unknown --target-cpu '" + target.cpu + "' for " + triple +
                 "; `anvilc --target-cpu=help` lists the valid ones");
  return llvm::Error::success();
}

bool mlir::anvil::targetHasFeature(const TargetOptions &target,
                                   llvm::StringRef feature) {
  if (target.cpu.empty() && target.isHost()) {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    auto it = host.find(feature);
    return it != host.end() && it->second;
  }
  std::string triple = target.tripleOrHost();
  llvm::Expected<const llvm::Target *> llvmTarget = lookupTarget(triple);
  if (!llvmTarget) {
    llvm::consumeError(llvmTarget.takeError()); // checkTarget reports it
    return false;
  }
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      (*llvmTarget)
          ->createMCSubtargetInfo(
              triple, target.cpu.empty() ? "generic" : target.cpu, ""));
  return info && info->checkFeatures(("+" + feature).str());
}

llvm::Expected<std::vector<std::string>>
mlir::anvil::targetCpus(const TargetOptions &target) {
  std::string triple = target.tripleOrHost();
  llvm::Expected<const llvm::Target *> llvmTarget = lookupTarget(triple);
  if (!llvmTarget)
    return llvmTarget.takeError();
  std::vector<std::string> cpus;
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      (*llvmTarget)->createMCSubtargetInfo(triple, "", ""));
  if (info)
    for (const llvm::SubtargetSubTypeKV &cpu :
         info->getAllProcessorDescriptions())
      cpus.push_back(cpu.Key);
  return cpus;
}

/// 2 GiB: what x86-64's default (small) code model addresses, data
/// included; beyond it the link fails with truncated relocations.
static constexpr int64_t kMaxStaticBytes = int64_t(1) << 31;

llvm::Error mlir::anvil::checkStaticStorage(ModuleOp module) {
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
    return llvm::Error::success();
  return error(
      "the model needs " + std::to_string(total) +
      " bytes of static storage (parameters and the arenas of "
      "temporaries; the largest, @" +
      largestName + ", has " + std::to_string(largest) +
      " bytes), more than the 2 GiB (2147483648 bytes) an executable or "
      "library can hold; use a smaller --batch or a smaller model");
}

void mlir::anvil::printMemoryPlans(ModuleOp module, llvm::raw_ostream &os) {
  for (auto func : module.getOps<func::FuncOp>()) {
    auto plan = func->getAttrOfType<DictionaryAttr>("anvil.memory_plan");
    if (!plan)
      continue;
    os << "memory plan of @" << func.getName() << ": arena "
       << cast<IntegerAttr>(plan.get("arena_bytes")).getInt() << " bytes";
    if (auto of = func->getAttrOfType<StringAttr>(kVariantOfAttr))
      if (auto batch = func->getAttrOfType<IntegerAttr>(kBatchAttr))
        os << " (@" << of.getValue() << " compiled for batch " << batch.getInt()
           << ")";
    os << "\n";
    os << llvm::formatv("  {0,10} {1,10}  {2,-10} {3}\n", "offset", "bytes",
                        "live", "type");
    for (Attribute entry : cast<ArrayAttr>(plan.get("buffers"))) {
      auto e = cast<DictionaryAttr>(entry);
      ArrayRef<int64_t> live = cast<DenseI64ArrayAttr>(e.get("live"));
      os << llvm::formatv("  {0,10} {1,10}  {2,-10} {3}\n",
                          cast<IntegerAttr>(e.get("offset")).getInt(),
                          cast<IntegerAttr>(e.get("bytes")).getInt(),
                          llvm::formatv("[{0}, {1}]", live[0], live[1]).str(),
                          cast<TypeAttr>(e.get("type")).getValue());
    }
  }
}

llvm::Error mlir::anvil::emitObject(ModuleOp module,
                                    const std::string &weightsPath,
                                    const TargetOptions &target,
                                    const std::string &path,
                                    TimingScope &timing) {
  limitFullUnrolling();
  auto entries = readEntryPoints(module);
  if (!entries)
    return entries.takeError();
  auto params = readExternalParams(module);
  if (!params)
    return params.takeError();
  std::string triple = target.tripleOrHost();
  llvm::Expected<const llvm::Target *> llvmTarget = lookupTarget(triple);
  if (!llvmTarget)
    return llvmTarget.takeError();
  // Default: this machine's CPU and features, or a generic one for others.
  std::string cpu = target.cpu, features;
  if (cpu.empty() && target.isHost()) {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  } else if (cpu.empty()) {
    cpu = "generic";
  }
  MachineFactory makeMachine = [=, t = *llvmTarget] {
    return std::unique_ptr<llvm::TargetMachine>(
        t->createTargetMachine(triple, cpu, features, {}, llvm::Reloc::PIC_));
  };
  std::unique_ptr<llvm::TargetMachine> machine = makeMachine();
  if (!machine)
    return error("cannot create a target machine for " + triple + " / " + cpu);

  llvm::LLVMContext context;
  TimingScope translating = timing.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  translating.stop();
  if (!llvmModule)
    return error("translation to LLVM IR failed");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  if (llvm::Error e = addTables(*llvmModule, *entries, *params, weightsPath))
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
  if (llvm::Error e = optimizeAndEmit(std::move(llvmModule), makeMachine, jobs,
                                      object, timing))
    return e;
  TimingScope writing = timing.nest("write the object");
  return writeOutput(path, [&](llvm::raw_ostream &os) {
    os.write(object.data(), object.size());
  });
}

/// A fresh name beside `path` for a temporary that is renamed to `path`
/// once everything is written, and removed if anvilc is interrupted first.
static std::string temporaryFor(const std::string &path) {
  llvm::SmallString<256> temp;
  llvm::sys::fs::createUniquePath(path + "-%%%%%%.tmp", temp, false);
  llvm::sys::RemoveFileOnSignal(temp);
  return temp.str().str();
}

/// Renames a temporary to `to` (removes it when `to` is empty or the
/// rename fails) and forgets it.
static llvm::Error finishTemporary(const std::string &temp,
                                   const std::string &to = "") {
  llvm::Error result = llvm::Error::success();
  if (!to.empty())
    if (std::error_code ec = llvm::sys::fs::rename(temp, to))
      result = error("cannot write '" + to + "': " + ec.message());
  if (to.empty() || result)
    llvm::sys::fs::remove(temp);
  llvm::sys::DontRemoveFileOnSignal(temp);
  return result;
}

/// Links `object` with the runtime found in `libDir` and the main()
/// library `mainLibrary` into the executable `output`.
static llvm::Error linkObject(const std::string &object,
                              const std::string &libDir,
                              const std::string &mainLibrary,
                              const std::string &output) {
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx)
    cxx = llvm::sys::findProgramByName("g++");
  if (!cxx)
    return error("no C++ linker (c++ or g++) on PATH; install g++");
  std::string mainLib = libDir + "/lib" + mainLibrary + ".a";
  std::string runtimeLib = libDir + "/libAnvilRuntime.a";
  std::string checksLib = libDir + "/libAnvilChecks.a";
  for (const std::string &lib : {mainLib, runtimeLib, checksLib})
    if (!llvm::sys::fs::exists(lib))
      return error("the model runtime is missing: " + lib +
                   " (was anvilc moved away from its build or install tree?)");
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
  std::string why;
  if (llvm::sys::ExecuteAndWait(*cxx, args, std::nullopt, {}, 0, 0, &why))
    return error("linking failed" + (why.empty() ? "" : ": " + why));
  return llvm::Error::success();
}

/// Writes the weights file to `temp`; errors name `path`, where it goes.
static llvm::Error writeWeightsTo(const std::string &temp,
                                  const std::string &path,
                                  const std::vector<::anvil::NamedTensor> &w) {
  try {
    ::anvil::writeWeights(temp, w);
  } catch (const ::anvil::Error &e) {
    // The message names the temporary; the user knows the real name.
    std::string message = e.what();
    if (size_t at = message.find(temp); at != std::string::npos)
      message.replace(at, temp.size(), path);
    return error(message);
  }
  return llvm::Error::success();
}

llvm::Error mlir::anvil::buildExecutable(ModuleOp module,
                                         const TargetOptions &target,
                                         const LinkOptions &link,
                                         const std::string &output,
                                         TimingScope &timing) {
  // The object, the executable and its weights are temporaries until all of
  // them are written: then the weights, and last the executable, are
  // renamed into place. Any failure (or a signal) removes them all.
  for (const std::string &path : {output, link.weightsPath})
    if (isSpecialFile(path))
      return error("cannot write '" + path +
                   "': it is not a regular file (executables and weights "
                   "files are written beside it and renamed into place)");
  std::string object = temporaryFor(output + ".o");
  std::string built = temporaryFor(output);
  std::string weights =
      link.weightsPath.empty() ? "" : temporaryFor(link.weightsPath);
  llvm::Error e = emitObject(module, link.weightsPath, target, object, timing);
  TimingScope linking = timing.nest("link");
  if (!e && !weights.empty())
    e = writeWeightsTo(weights, link.weightsPath, link.weights);
  if (!e)
    e = linkObject(object, link.libDir, link.mainLibrary, built);
  if (!e && !weights.empty())
    e = finishTemporary(weights, link.weightsPath);
  if (!e)
    e = finishTemporary(built, output);
  // (Each is gone or renamed already when there is nothing to remove.)
  llvm::consumeError(finishTemporary(object));
  llvm::consumeError(finishTemporary(built));
  if (!weights.empty())
    llvm::consumeError(finishTemporary(weights));
  return e;
}

/// The C header of a library built from `model`: one documented prototype
/// per entry point, with its exact shapes and buffer sizes.
static std::string libraryHeader(const std::vector<EntryPoint> &entries,
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
     << " * ends the process with status 1.";
  if (llvm::any_of(entries,
                   [](const EntryPoint &e) { return !e.variantOf.empty(); }))
    os << " Compiled with --batch for several\n"
       << " * sizes, the model has beside each function (at the largest\n"
       << " * batch) one per other size, <name>__b<size>: the same model and\n"
       << " * parameters for that many samples; the caller picks per call.";
  os << " */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdbool.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n";
  for (const EntryPoint &e : entries) {
    std::string upper = llvm::StringRef(e.name).upper();
    os << "\n/* @" << e.name << "(" << e.signature() << ")\n";
    if (!e.variantOf.empty())
      os << " * @" << e.variantOf << " compiled for batch " << e.batch << "\n";
    auto describe = [&](const char *kind, size_t i, const TensorSpec &t) {
      os << " *   " << kind << i << ": " << cType(t);
      for (int64_t d : t.shape)
        os << "[" << d << "]";
      os << ", " << t.byteSize() << " bytes\n";
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
      os << "}\n#define " << prefix << "BYTES " << t.byteSize() << "\n";
    };
    for (auto [i, t] : llvm::enumerate(e.inputs))
      defines("INPUT", i, t);
    for (auto [i, t] : llvm::enumerate(e.results))
      defines("RESULT", i, t);
    os << "void anvil_" << e.name << "(";
    bool first = true;
    for (auto [i, t] : llvm::enumerate(e.inputs)) {
      os << (first ? "" : ", ") << "const " << cType(t) << " *input" << i;
      first = false;
    }
    for (auto [i, t] : llvm::enumerate(e.results)) {
      os << (first ? "" : ", ") << cType(t) << " *result" << i;
      first = false;
    }
    os << ");\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return h;
}

/// Archives `object` with the run-time checks it calls into `output`.
static llvm::Error archiveLibrary(const std::string &object,
                                  const std::string &libDir,
                                  const std::string &output) {
  // The model's object, and the run-time checks it calls (so that the
  // library needs nothing of Anvil's to link).
  std::string checksLib = libDir + "/libAnvilChecks.a";
  auto fail = [&](const std::string &what, llvm::Error e) {
    return error(what + ": " + llvm::toString(std::move(e)));
  };
  std::vector<llvm::NewArchiveMember> members;
  llvm::Expected<llvm::NewArchiveMember> model =
      llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
  if (!model)
    return fail("cannot read the object file", model.takeError());
  members.push_back(std::move(*model));
  auto buffer = llvm::MemoryBuffer::getFile(checksLib);
  if (!buffer)
    return error("the model runtime is missing: " + checksLib + " (" +
                 buffer.getError().message() + ")");
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
  return llvm::Error::success();
}

llvm::Error
mlir::anvil::buildLibrary(ModuleOp module, const TargetOptions &target,
                          const std::string &libDir, const std::string &output,
                          const std::string &model, TimingScope &timing) {
  auto entries = readEntryPoints(module);
  if (!entries)
    return entries.takeError();
  if (isSpecialFile(output))
    return error("cannot write '" + output +
                 "': it is not a regular file (a library is written beside "
                 "it and renamed into place)");
  std::string object = temporaryFor(output + ".o");
  llvm::Error e = emitObject(module, "", target, object, timing);
  TimingScope archiving = timing.nest("archive");
  if (!e)
    e = archiveLibrary(object, libDir, output);
  llvm::consumeError(finishTemporary(object));
  if (e)
    return e;
  // libmlp.a gets mlp.h beside it.
  llvm::StringRef stem = llvm::sys::path::stem(output);
  stem.consume_front("lib");
  llvm::SmallString<128> header = llvm::sys::path::parent_path(output);
  llvm::sys::path::append(header, stem + ".h");
  std::string guard = "ANVIL_MODEL_" + stem.upper() + "_H";
  for (char &c : guard)
    if (!llvm::isAlnum(c))
      c = '_';
  return writeOutput(header.str().str(), [&](llvm::raw_ostream &os) {
    os << libraryHeader(*entries, guard, model);
  });
}
