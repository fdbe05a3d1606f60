//===- UntieEmptyTensors.cpp - a tensor.empty per 16 uses ---------------===//
//
// Gives every 16 uses of a `tensor.empty` their own copy, so that one-shot
// bufferization's analysis stays linear in the op count; see Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_UNTIEEMPTYTENSORSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

/// Uses that share one empty tensor: few enough that the analysis stays
/// linear, enough that it still finds the in-place writes between
/// neighbours (an epilogue over its matmul's product shares the product's
/// empty tensor after CSE, and writes over it).
constexpr size_t kUsesPerEmpty = 16;

struct UntieEmptyTensorsPass
    : mlir::anvil::impl::UntieEmptyTensorsPassBase<UntieEmptyTensorsPass> {
  void runOnOperation() override {
    // Program order, so that the first user keeps the original and the
    // output does not depend on the order of use lists.
    DenseMap<Operation *, int64_t> order;
    SmallVector<tensor::EmptyOp> empties;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      int64_t next = order.size();
      order[op] = next;
      if (auto empty = dyn_cast<tensor::EmptyOp>(op))
        empties.push_back(empty);
    });
    for (tensor::EmptyOp op : empties) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : op->getUses())
        uses.push_back(&use);
      llvm::stable_sort(uses, [&](OpOperand *a, OpOperand *b) {
        return order.lookup(a->getOwner()) < order.lookup(b->getOwner());
      });
      // Right after the original: same block, so never inside a loop the
      // original is outside of; its size operands dominate it already.
      OpBuilder b(op);
      b.setInsertionPointAfter(op);
      Value current = op.getResult();
      for (size_t i = kUsesPerEmpty; i < uses.size(); ++i) {
        if (i % kUsesPerEmpty == 0)
          current = b.clone(*op)->getResult(0);
        uses[i]->set(current);
      }
    }
  }
};

} // namespace
