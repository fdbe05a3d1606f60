//===- PlanMemory.cpp - one static arena per function ---------------------===//
//
// Lifetimes are positions in the function's top-level block: a buffer lives
// from its allocation to the last top-level op that uses it or any view of
// it (uses nested in loops count at their top-level ancestor). Placement is
// greedy by decreasing size, first fit at 64-byte alignment among buffers
// whose lifetimes overlap. An alloc inside a top-level scf.forall gets one
// slot per iteration. A function marked `anvil.arena_argument` (the chunk
// of anvil-split-batch, which several threads run at once) takes its arena
// as a trailing argument instead of a global; it is planned first, and each
// call of it allocates the arena just before the call, which the caller's
// plan then places like any temporary (one slot per chunk). See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

constexpr int64_t kAlignment = 64;
constexpr llvm::StringLiteral kArenaArgumentAttr = "anvil.arena_argument";

/// Whether `op` calls a function that takes its arena as an argument: such a
/// callee keeps no buffer it is given (its results are out-parameters), so
/// a buffer passed to it lives until the call, like any other use.
bool callsChunk(Operation *op, ModuleOp module) {
  auto call = dyn_cast<func::CallOp>(op);
  auto callee =
      call ? module.lookupSymbol<func::FuncOp>(call.getCallee()) : nullptr;
  return callee && callee->hasAttr(kArenaArgumentAttr);
}

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0; // all slots
  // An alloc in the body of a top-level scf.forall gets one slot per
  // iteration, `slotBytes` apart, indexed by the forall's induction
  // variable (null at the top level: one slot).
  Value slot;
  int64_t slotBytes = 0;
  int64_t first = 0, last = 0; // lifetime, in top-level op positions
  int64_t offset = 0;
  SmallVector<Operation *> deallocs;
};

/// The top-level op of `block` that contains `op`.
Operation *topLevel(Operation *op, Block &block) {
  while (op && op->getBlock() != &block)
    op = op->getParentOp();
  return op;
}

/// Fills `buffer`'s lifetime end and deallocs; fails if the buffer escapes
/// through something whose aliasing the planner does not understand.
LogicalResult analyze(Buffer &buffer, Block &block,
                      const DenseMap<Operation *, int64_t> &position,
                      ModuleOp module) {
  SmallVector<Value> worklist = {buffer.alloc.getResult()};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user)) {
        buffer.deallocs.push_back(user);
        continue;
      }
      // Results are returned through out-parameters, so a buffer that
      // flows into a terminator or a call escapes the plan.
      if (user->hasTrait<OpTrait::IsTerminator>() ||
          (isa<func::CallOp>(user) && !callsChunk(user, module)))
        return failure();
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v)
          for (Value r : user->getResults())
            worklist.push_back(r);
      Operation *top = topLevel(user, block);
      if (!top)
        return failure();
      buffer.last = std::max(buffer.last, position.lookup(top));
    }
  }
  return success();
}

struct PlanMemoryPass : mlir::anvil::impl::PlanMemoryPassBase<PlanMemoryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Chunks first: their callers place the arenas they allocate for them.
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        funcs.push_back(func);
    std::stable_partition(funcs.begin(), funcs.end(), [](func::FuncOp func) {
      return func->hasAttr(kArenaArgumentAttr);
    });
    for (func::FuncOp func : funcs)
      plan(module, func);
  }

  /// `func`'s arena as a trailing argument, allocated at each call (the
  /// caller's plan places it) and freed right after.
  Value arenaArgument(ModuleOp module, func::FuncOp func, MemRefType type) {
    Block &block = func.getBody().front();
    Value arena = block.addArgument(type, func.getLoc());
    func.setType(FunctionType::get(func.getContext(), block.getArgumentTypes(),
                                   func.getResultTypes()));
    std::optional<SymbolTable::UseRange> uses = func.getSymbolUses(module);
    for (const SymbolTable::SymbolUse &use : *uses) {
      auto call = cast<func::CallOp>(use.getUser());
      OpBuilder b(call);
      Value buffer = b.create<memref::AllocOp>(call.getLoc(), type,
                                               b.getI64IntegerAttr(kAlignment));
      call->insertOperands(call->getNumOperands(), buffer);
      b.setInsertionPointAfter(call);
      b.create<memref::DeallocOp>(call.getLoc(), buffer);
      // The copies of its results into the caller's outputs (contiguous
      // rows) become memref.copy, one memcpy: a loop nest beside a call in
      // a parallel loop's body would leave the alloca scope OpenMP's
      // lowering wraps it in with several blocks, which is invalid.
      for (Value operand : call.getOperands())
        for (Operation *user : llvm::to_vector(operand.getUsers()))
          if (auto copy = dyn_cast<linalg::CopyOp>(user);
              copy && copy->getBlock() == call->getBlock() &&
              copy.getInputs().front() == operand) {
            OpBuilder cb(copy);
            cb.create<memref::CopyOp>(copy.getLoc(), operand,
                                      copy.getOutputs().front());
            copy.erase();
          }
    }
    return arena;
  }

  void plan(ModuleOp module, func::FuncOp func) {
    Block &block = func.getBody().front();
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(block))
      position[&op] = i;
    std::vector<Buffer> buffers;
    auto consider = [&](memref::AllocOp alloc, Operation *top, Value slot,
                        int64_t slots) {
      if (!alloc.getType().hasStaticShape() ||
          !alloc.getType().getLayout().isIdentity() ||
          alloc.getType().getMemorySpace())
        return;
      Buffer b;
      b.alloc = alloc;
      MemRefType type = alloc.getType();
      b.bytes =
          type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
      if (slot) {
        b.slot = slot;
        b.slotBytes = llvm::alignTo(b.bytes, kAlignment);
        b.bytes = b.slotBytes * slots;
      }
      b.first = b.last = position[top];
      if (succeeded(analyze(b, block, position, module)))
        buffers.push_back(std::move(b));
    };
    for (Operation &op : block) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        consider(alloc, &op, Value(), 1);
      // The temporaries of each iteration of a parallel loop (the padded
      // image and im2col matrix of anvil-parallelize-images): one slot per
      // iteration, so that the threads do not share them. Only a loop
      // from 0 in steps of 1 (the slot is the induction variable), and only
      // allocs freed in the same iteration (else they would outlive it).
      auto forall = dyn_cast<scf::ForallOp>(op);
      if (!forall || forall.getRank() != 1)
        continue;
      std::optional<int64_t> lb =
          getConstantIntValue(forall.getMixedLowerBound()[0]);
      std::optional<int64_t> ub =
          getConstantIntValue(forall.getMixedUpperBound()[0]);
      std::optional<int64_t> step =
          getConstantIntValue(forall.getMixedStep()[0]);
      if (lb != 0 || step != 1 || !ub || *ub < 1)
        continue;
      for (Operation &inner : *forall.getBody()) {
        auto alloc = dyn_cast<memref::AllocOp>(inner);
        if (alloc && llvm::all_of(alloc->getUsers(), [&](Operation *user) {
              return !isa<memref::DeallocOp>(user) ||
                     user->getBlock() == forall.getBody();
            }))
          consider(alloc, &op, forall.getInductionVar(0), *ub);
      }
    }
    if (buffers.empty())
      return;

    // Largest first, lowest offset that collides with no live buffer.
    std::vector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    llvm::stable_sort(order,
                      [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });
    std::vector<Buffer *> placed;
    int64_t arenaBytes = 0;
    for (Buffer *b : order) {
      std::vector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *p : placed)
        if (p->first <= b->last && b->first <= p->last)
          taken.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [start, end] : taken) {
        if (offset + b->bytes <= start)
          break;
        offset = std::max<int64_t>(offset, llvm::alignTo(end, kAlignment));
      }
      b->offset = offset;
      placed.push_back(b);
      arenaBytes = std::max(arenaBytes, offset + b->bytes);
    }
    arenaBytes = llvm::alignTo(arenaBytes, kAlignment);

    // The arena, its uses, and the plan as an attribute.
    OpBuilder builder(module.getBodyRegion());
    auto arenaType = MemRefType::get({arenaBytes}, builder.getIntegerType(8));
    Value arena;
    if (func->hasAttr(kArenaArgumentAttr)) {
      arena = arenaArgument(module, func, arenaType);
    } else {
      builder.setInsertionPointToStart(module.getBody());
      std::string name = "__anvil_arena_" + func.getName().str();
      builder.create<memref::GlobalOp>(
          func.getLoc(), name, builder.getStringAttr("private"), arenaType,
          /*initial_value=*/Attribute(), /*constant=*/false,
          builder.getI64IntegerAttr(kAlignment));
      builder.setInsertionPointToStart(&block);
      arena =
          builder.create<memref::GetGlobalOp>(func.getLoc(), arenaType, name);
    }
    SmallVector<Attribute> entries;
    for (Buffer &b : buffers) {
      MemRefType type = b.alloc.getType();
      builder.setInsertionPoint(b.alloc);
      Value offset =
          builder.create<arith::ConstantIndexOp>(b.alloc.getLoc(), b.offset);
      if (b.slot) {
        Location loc = b.alloc.getLoc();
        Value size = builder.create<arith::ConstantIndexOp>(loc, b.slotBytes);
        offset = builder.create<arith::AddIOp>(
            loc, offset, builder.create<arith::MulIOp>(loc, b.slot, size));
      }
      Value view = builder.create<memref::ViewOp>(b.alloc.getLoc(), type, arena,
                                                  offset, ValueRange{});
      b.alloc.replaceAllUsesWith(view);
      for (Operation *d : b.deallocs)
        d->erase();
      b.alloc.erase();
      SmallVector<NamedAttribute> entry = {
          builder.getNamedAttr("offset", builder.getI64IntegerAttr(b.offset)),
          builder.getNamedAttr("bytes", builder.getI64IntegerAttr(b.bytes)),
          builder.getNamedAttr("type", TypeAttr::get(type)),
          builder.getNamedAttr("live",
                               builder.getDenseI64ArrayAttr({b.first, b.last})),
      };
      if (b.slot)
        entry.push_back(builder.getNamedAttr(
            "slots", builder.getI64IntegerAttr(b.bytes / b.slotBytes)));
      entries.push_back(builder.getDictionaryAttr(entry));
    }
    func->setAttr(
        "anvil.memory_plan",
        builder.getDictionaryAttr(
            {builder.getNamedAttr("arena_bytes",
                                  builder.getI64IntegerAttr(arenaBytes)),
             builder.getNamedAttr("buffers", builder.getArrayAttr(entries))}));
  }
};

} // namespace
