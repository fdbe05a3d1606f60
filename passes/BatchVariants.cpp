//===- BatchVariants.cpp - entry points compiled for several batches ------===//
//
// Clones every public function that anvil-mark-batch proved keeps its
// samples apart once per other batch size (see Passes.td): a public
// `@<name>__b<b>` re-batched by anvil-set-batch's rebatchFunction, marked
// with its batch and the function it is a variant of, which code generation
// records in the entry-point table (the runtime's chunk planner picks among
// them per call). The clones read the same parameters as the original.
// Expects anvil IR after anvil-mark-batch; runs before anvil-split-batch,
// which then splits each variant on its own. A public function that mixes
// its samples (a model's @loss) keeps its one batch, and says so in
// `anvil.batch_variants`; if no function can have variants, that is an
// error naming one that cannot.
//
//===----------------------------------------------------------------------===//

#include "passes/BatchVariants.h"
#include "passes/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_BATCHVARIANTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct BatchVariantsPass
    : mlir::anvil::impl::BatchVariantsPassBase<BatchVariantsPass> {
  using BatchVariantsPassBase::BatchVariantsPassBase;

  void runOnOperation() override {
    if (batches.empty())
      return;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (int64_t b : batches)
      if (b <= 0) {
        module.emitError("a batch variant must be a positive size, not ") << b;
        return signalPassFailure();
      }
    Builder builder(&getContext());
    func::FuncOp unmarked;
    bool cloned = false;
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isPrivate() || func.isExternal() ||
          func->hasAttr(kVariantOfAttr))
        continue;
      auto batchAttr = func->getAttrOfType<IntegerAttr>(kBatchAttr);
      if (!batchAttr) {
        // (A model's @loss beside its @forward: it stays at one batch.)
        func->setAttr(kBatchVariantsAttr,
                      builder.getStringAttr(
                          "no batch variants: its samples are not proven "
                          "independent (anvil-mark-batch)"));
        if (!unmarked)
          unmarked = func;
        continue;
      }
      int64_t batch = batchAttr.getInt();
      Block::iterator after = std::next(Block::iterator(func));
      for (int64_t b : batches) {
        if (b == batch)
          continue;
        std::string name = (func.getName() + "__b" + std::to_string(b)).str();
        if (symbols.lookup(name)) {
          func.emitError("cannot add the batch-")
              << b << " variant of @" << func.getName() << ": @" << name
              << " exists already; rename it";
          return signalPassFailure();
        }
        func::FuncOp clone = func.clone();
        clone.setName(name);
        if (failed(rebatchFunction(clone, batch, b))) {
          clone.erase();
          func.emitError("@")
              << func.getName() << " cannot be compiled for batch " << b
              << " too (the error above names the op); give --batch one size";
          return signalPassFailure();
        }
        clone->setAttr(kBatchAttr, builder.getI64IntegerAttr(b));
        clone->setAttr(kVariantOfAttr, builder.getStringAttr(func.getName()));
        symbols.insert(clone, after);
        after = std::next(Block::iterator(clone));
        cloned = true;
      }
    }
    // Variants asked for and none possible: say which function is why.
    if (!cloned && unmarked) {
      unmarked.emitError("@")
          << unmarked.getName()
          << " cannot be compiled for more than one batch: its samples are "
             "not proven independent (anvil-opt "
             "-anvil-mark-batch=explain=1 names the op that mixes them); "
             "give --batch one size";
      return signalPassFailure();
    }
  }
};

} // namespace
