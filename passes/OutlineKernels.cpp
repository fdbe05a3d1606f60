//===- OutlineKernels.cpp - each loop nest in a function of its own -------===//
//
// Expects bufferized functions (memrefs, one block each, as
// anvil-plan-memory leaves them). Every op at the top level of a function
// that holds a loop nest (an op with regions and no results: a linalg op, an
// scf.for or scf.forall) moves into a new private function that the old
// place calls. The values the nest reads from outside are arguments, except
// those computed from constants and globals alone (an arena view, an index
// constant), which are recomputed inside: LLVM then still sees that two
// views of the arena at different offsets do not overlap. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Whether the bare-pointer calling convention (which anvilc lowers every
/// function with) can pass `type`: memrefs need a static shape and layout.
bool passable(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref)
    return !isa<UnrankedMemRefType>(type);
  if (!memref.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(memref, strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// Decides, once per op, whether a value can be recomputed inside a kernel
/// instead of passed to it: it comes from a pure op without regions whose
/// operands can all be recomputed too (constants, memref.get_global and
/// views of them).
class Recomputable {
public:
  bool operator()(Value value) {
    Operation *op = value.getDefiningOp();
    if (!op)
      return false;
    auto [it, inserted] = known.try_emplace(op, false);
    if (!inserted)
      return it->second;
    bool result =
        op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
        llvm::all_of(op->getOperands(), [&](Value v) { return (*this)(v); });
    known[op] = result;
    return result;
  }

private:
  DenseMap<Operation *, bool> known;
};

struct OutlineKernelsPass
    : mlir::anvil::impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  using OutlineKernelsPassBase::OutlineKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (!func.isExternal() && func.getBody().hasOneBlock())
        outlineIn(func, symbols);
  }

  /// A loop nest that can move: regions, no results, and everything it
  /// reads from outside passable.
  static bool isKernel(Operation &op) {
    if (op.getNumRegions() == 0 || op.getNumResults() != 0 ||
        op.hasTrait<OpTrait::IsTerminator>())
      return false;
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op.getRegions(), captured);
    captured.insert(op.operand_begin(), op.operand_end());
    return llvm::all_of(captured,
                        [](Value v) { return passable(v.getType()); });
  }

  void outlineIn(func::FuncOp func, SymbolTable &symbols) {
    SmallVector<Operation *> kernels;
    for (Operation &op : func.getBody().front())
      if (isKernel(op))
        kernels.push_back(&op);
    if (static_cast<int64_t>(kernels.size()) < minKernels)
      return;
    // Positions in the block as it was (the calls added are never
    // recomputed, so they need none).
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(func.getBody().front()))
      position[&op] = i;
    Recomputable recomputable;
    for (auto [i, kernel] : llvm::enumerate(kernels))
      outline(func, kernel,
              func.getName().str() + "_kernel" + std::to_string(i),
              recomputable, position, symbols);
  }

  void outline(func::FuncOp func, Operation *kernel, const std::string &name,
               Recomputable &recomputable,
               const DenseMap<Operation *, int64_t> &position,
               SymbolTable &symbols) {
    // What the kernel reads from outside, in a fixed order; the values
    // recomputed inside are replaced by the operands of their definitions,
    // down to constants and globals.
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(kernel->getRegions(), captured);
    captured.insert(kernel->operand_begin(), kernel->operand_end());
    SetVector<Value> arguments;
    SetVector<Operation *> recomputed;
    SmallVector<Value> worklist(captured.begin(), captured.end());
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      if (!recomputable(v)) {
        arguments.insert(v);
        continue;
      }
      Operation *def = v.getDefiningOp();
      if (recomputed.insert(def))
        worklist.append(def->operand_begin(), def->operand_end());
    }

    // The kernel's function: the recomputed ops in their original order
    // (so each comes after its operands), then the kernel.
    OpBuilder builder(func);
    auto type = builder.getFunctionType(
        TypeRange(ValueRange(arguments.getArrayRef())), {});
    auto callee = builder.create<func::FuncOp>(kernel->getLoc(), name, type);
    callee.setPrivate();
    // Kept apart in LLVM (its inliner would take a function with one call
    // back), and local to the object.
    callee->setAttr("no_inline", builder.getUnitAttr());
    callee->setAttr(
        "llvm.linkage",
        LLVM::LinkageAttr::get(builder.getContext(), LLVM::Linkage::Internal));
    symbols.insert(callee, Block::iterator(func));
    Block *body = callee.addEntryBlock();
    IRMapping mapping;
    for (auto [value, argument] : llvm::zip(arguments, body->getArguments()))
      mapping.map(value, argument);
    builder.setInsertionPointToStart(body);
    SmallVector<Operation *> ordered(recomputed.begin(), recomputed.end());
    llvm::sort(ordered, [&](Operation *a, Operation *b) {
      return position.lookup(a) < position.lookup(b);
    });
    for (Operation *op : ordered)
      builder.clone(*op, mapping);
    builder.clone(*kernel, mapping);
    builder.create<func::ReturnOp>(kernel->getLoc());

    // The kernel's place calls it.
    builder.setInsertionPoint(kernel);
    builder.create<func::CallOp>(kernel->getLoc(), callee,
                                 arguments.getArrayRef());
    kernel->erase();
  }
};

} // namespace
