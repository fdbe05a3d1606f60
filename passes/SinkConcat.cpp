//===- SinkConcat.cpp - elementwise ops move before the concat they read --===//
//
// Expects the anvil dialect after anvil-fold-batch-norm (parameters are
// constants). A concat whose only user is an inference batch norm over its
// channels (the concat joins along axis 1) or a unary elementwise op (one
// operand, the result of the operand's type, no side effects) trades places
// with that user: the user is applied to every input of the concat (a
// batch norm to its slice of the per-channel parameters), and the concat
// joins the results. Repeated, so that a DenseNet layer's
// concat -> batch_norm -> relu becomes one batch_norm -> relu chain per
// input, joined by a concat that feeds the convolution. Leaves the ops it
// creates with the user's location and attributes.
//
// Why: the concat's result is then made of freshly computed pieces, which
// anvil-write-concat-in-place has their loops write straight into the
// concat's buffer, so that the concat copies nothing; before, the concat
// copied its inputs and the normalization read the copy again.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_SINKCONCATPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Whether `op` computes each element from the same element of its one
/// operand alone, so that it can run on the pieces of a concat.
bool isUnaryElementwise(Operation *op) {
  return op->getNumOperands() == 1 && op->getNumResults() == 1 &&
         op->getNumRegions() == 0 &&
         op->hasTrait<OpTrait::SameOperandsAndResultType>() && isPure(op);
}

/// The concat's only user, if it can move before the concat.
Operation *sinkableUser(ConcatOp concat) {
  if (!concat->hasOneUse() || concat.getInputs().size() < 2)
    return nullptr;
  Operation *user = *concat->getUsers().begin();
  if (isUnaryElementwise(user))
    return user;
  auto bn = dyn_cast<BatchNormOp>(user);
  auto type = cast<RankedTensorType>(concat.getType());
  // A batch norm's parameters run along axis 1: only a concat of channels
  // splits them into one slice per input.
  if (bn && bn.getInput() == concat.getResult() && type.getRank() >= 2 &&
      normalizeAxis(concat.getAxis(), type.getRank()) == 1)
    return user;
  return nullptr;
}

/// `param` [C] from `start` to `end`.
Value sliceOf(OpBuilder &b, Location loc, Value param, int64_t start,
              int64_t end) {
  return b.create<SliceOp>(loc, param, b.getDenseI64ArrayAttr({start}),
                           b.getDenseI64ArrayAttr({end}),
                           b.getDenseI64ArrayAttr({1}));
}

/// Applies `user` to each input of `concat` and joins the results in a new
/// concat, which replaces `user`: the new concat.
ConcatOp sink(ConcatOp concat, Operation *user) {
  OpBuilder b(user);
  Location loc = user->getLoc();
  SmallVector<Value> pieces;
  int64_t offset = 0;
  for (Value input : concat.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    // The user's clone on this input (with its attributes: a batch norm's
    // epsilon, its reason not to fold for the report), a batch norm's on
    // its slice of the parameters.
    IRMapping mapping;
    mapping.map(concat.getResult(), input);
    if (auto bn = dyn_cast<BatchNormOp>(user)) {
      int64_t end = offset + type.getDimSize(1);
      for (Value param :
           {bn.getScale(), bn.getBias(), bn.getMean(), bn.getVar()})
        mapping.map(param, sliceOf(b, loc, param, offset, end));
      offset = end;
    }
    Operation *piece = b.clone(*user, mapping);
    piece->getResult(0).setType(type);
    pieces.push_back(piece->getResult(0));
  }
  auto joined = b.create<ConcatOp>(concat.getLoc(), pieces, concat.getAxis());
  user->getResult(0).replaceAllUsesWith(joined.getResult());
  user->erase();
  concat.erase();
  return joined;
}

struct SinkConcatPass : mlir::anvil::impl::SinkConcatPassBase<SinkConcatPass> {
  using SinkConcatPassBase::SinkConcatPassBase;

  void runOnOperation() override {
    SmallVector<ConcatOp> worklist;
    getOperation().walk([&](ConcatOp concat) { worklist.push_back(concat); });
    while (!worklist.empty()) {
      ConcatOp concat = worklist.pop_back_val();
      // The new concat may trade places with its own user in turn.
      if (Operation *user = sinkableUser(concat))
        worklist.push_back(sink(concat, user));
    }
    // (The parameters' slices fold into constants in the canonicalizer
    // after this pass.)
  }
};

} // namespace
