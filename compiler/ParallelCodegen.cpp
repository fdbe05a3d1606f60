//===- ParallelCodegen.cpp - LLVM optimization and emission on N threads --===//
//
// LLVM's O3 pipeline and code generation were most of the compile time of
// big models (ResNet-18's trainer: about 27 of 34 CPU seconds) and ran on
// one core. A model's code is many independent functions (entry points and
// one outlined function per parallel loop), so it splits well: each part
// is optimized and emitted on its own thread, in its own LLVMContext.
//
//===----------------------------------------------------------------------===//

#include "compiler/ParallelCodegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <thread>

using namespace mlir;
using namespace mlir::anvil;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// O3 and object emission of one module with its own machine.
static llvm::Error emitOne(llvm::Module &module,
                           std::unique_ptr<llvm::TargetMachine> machine,
                           llvm::SmallVectorImpl<char> &object) {
  if (!machine)
    return error("cannot create a target machine for " +
                 module.getTargetTriple());
  if (llvm::Error e = makeOptimizingTransformer(3, 0, machine.get())(&module))
    return error("LLVM optimization failed: " + llvm::toString(std::move(e)));
  llvm::raw_svector_ostream out(object);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, out, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return error("the target cannot emit object files");
  pm.run(module);
  return llvm::Error::success();
}

/// Runs `program` with `args`.
static llvm::Error runTool(llvm::StringRef name,
                           std::vector<llvm::StringRef> args) {
  auto program = llvm::sys::findProgramByName(name);
  if (!program)
    return error("no '" + name +
                 "' on PATH (binutils) to join the parts of the object; "
                 "install binutils");
  args.insert(args.begin(), *program);
  std::string error;
  if (llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0,
                                &error) != 0)
    return ::error(name + " failed joining the object" +
                   (error.empty() ? "" : ": " + error));
  return llvm::Error::success();
}

/// Joins relocatable objects into one with `ld -r`, then makes the hidden
/// symbols (locals SplitModule promoted) local again.
static llvm::Error join(const std::vector<llvm::SmallVector<char, 0>> &parts,
                        llvm::SmallVectorImpl<char> &object) {
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("anvilc-parts", dir))
    return ::error("cannot create a temporary directory: " + ec.message());
  llvm::Error error = llvm::Error::success();
  std::vector<std::string> files;
  for (size_t i = 0; i < parts.size() && !error; ++i) {
    files.push_back((dir + "/part" + llvm::Twine(i) + ".o").str());
    std::error_code ec;
    llvm::raw_fd_ostream os(files.back(), ec);
    if (!ec)
      os.write(parts[i].data(), parts[i].size());
    if (ec || os.has_error())
      error = ::error("cannot write a temporary object in " + dir);
  }
  std::string joined = (dir + "/joined.o").str();
  if (!error) {
    std::vector<llvm::StringRef> args = {"-r", "-o", joined};
    args.insert(args.end(), files.begin(), files.end());
    error = runTool("ld", args);
  }
  if (!error)
    error = runTool("objcopy", {"--localize-hidden", joined});
  if (!error) {
    auto buffer = llvm::MemoryBuffer::getFile(joined);
    if (!buffer)
      error = ::error("cannot read the joined object: " +
                      buffer.getError().message());
    else
      object.assign((*buffer)->getBufferStart(), (*buffer)->getBufferEnd());
  }
  llvm::sys::fs::remove_directories(dir);
  return error;
}

llvm::Error mlir::anvil::optimizeAndEmit(std::unique_ptr<llvm::Module> module,
                                         const MachineFactory &makeMachine,
                                         unsigned jobs,
                                         llvm::SmallVectorImpl<char> &object,
                                         TimingScope &timing) {
  size_t functions = 0;
  for (llvm::Function &f : *module)
    functions += !f.isDeclaration();
  // Small models are not worth two threads, the split and the join.
  if (jobs <= 1 || functions < 8) {
    TimingScope emitting = timing.nest("optimize and emit (1 part)");
    return emitOne(*module, makeMachine(), object);
  }

  // Each part travels as bitcode into its thread's own context.
  TimingScope splitting = timing.nest("split");
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(*module, jobs, [&](std::unique_ptr<llvm::Module> part) {
    bitcode.emplace_back();
    llvm::raw_svector_ostream os(bitcode.back());
    llvm::WriteBitcodeToFile(*part, os);
  });
  module.reset();
  splitting.stop();
  TimingScope emitting = timing.nest(
      "optimize and emit (" + std::to_string(bitcode.size()) + " parts)");
  std::vector<llvm::SmallVector<char, 0>> parts(bitcode.size());
  std::vector<std::string> errors(bitcode.size()); // one per thread
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bitcode.size(); ++i)
    threads.emplace_back([&, i] {
      llvm::LLVMContext context;
      llvm::StringRef data(bitcode[i].data(), bitcode[i].size());
      auto part =
          llvm::parseBitcodeFile(llvm::MemoryBufferRef(data, "part"), context);
      if (!part) {
        errors[i] = "internal error: " + llvm::toString(part.takeError());
        return;
      }
      if (llvm::Error e = emitOne(**part, makeMachine(), parts[i]))
        errors[i] = llvm::toString(std::move(e));
    });
  for (std::thread &t : threads)
    t.join();
  emitting.stop();
  for (const std::string &e : errors)
    if (!e.empty())
      return error(e);
  TimingScope joining = timing.nest("join the parts");
  return join(parts, object);
}
