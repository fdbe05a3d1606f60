//===- ParallelCodegen.h - LLVM code generation on N threads -*- C++ -*-===//
//
// Optimizes an LLVM module at O3 and emits one relocatable object, either
// in one piece or split by function into parts compiled on their own
// threads (each with its own LLVMContext and TargetMachine) and joined
// with `ld -r`. Used by Codegen.cpp's emitObject.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_PARALLELCODEGEN_H
#define ANVIL_COMPILER_PARALLELCODEGEN_H

#include "mlir/Support/Timing.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <functional>
#include <memory>
#include <string>

namespace mlir::anvil {

/// Makes a fresh TargetMachine for the module's target (one per thread).
using MachineFactory = std::function<std::unique_ptr<llvm::TargetMachine>()>;

/// Optimizes `module` (O3) and emits it as one object file into `object`.
/// With `jobs` > 1 the functions are split into `jobs` balanced parts
/// (llvm::SplitModule) compiled in parallel and joined with `ld -r`; the
/// symbols the split had to make visible across parts (hidden) are made
/// local again (`objcopy --localize-hidden`), so the object exports what
/// a one-piece one would. `jobs` > 1 needs binutils for the host's object
/// format. Errors follow Codegen.h: an llvm::Error with one line. The
/// steps (split, optimize and emit, join) are timed under `timing`.
llvm::Error optimizeAndEmit(std::unique_ptr<llvm::Module> module,
                            const MachineFactory &makeMachine, unsigned jobs,
                            llvm::SmallVectorImpl<char> &object,
                            TimingScope &timing);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_PARALLELCODEGEN_H
