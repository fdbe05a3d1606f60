//===- HoistQuantize.cpp - quantize before the max pools it reads ---------===//
//
// Expects the anvil dialect after parameters became constants (a quantize's
// scale is then a constant). An anvil.quantize whose input is made by a
// max_pool2d, a reshape or a flatten trades places with that op: the op
// then runs on the quantized values. Repeated, so that LeNet's
// relu -> max_pool2d -> flatten -> quantize becomes relu -> quantize ->
// max_pool2d -> flatten. Leaves every quantize it moved with its location
// and the moved ops marked `anvil.after_quantize`; a quantize right after
// such an op that stays gets `anvil.not_hoisted = "<why>"`, for the fusion
// report.
//
// Why it is exact: a quantize with positive scales is monotone (the
// division, round-half-to-even, the zero point's add and the clamp all keep
// order), and the maximum of monotone images is the image of the maximum;
// a per-tensor quantize maps each element alone, so it commutes with any
// reshape. (NaN has no quantized value in either order.)
//
// Why it pays: the quantize then follows the relu, the end of a quantized
// convolution's epilogue, so anvil-int8-matmul's tiles quantize as they
// store, and the pool reads and writes 1 byte per element instead of 4.
// Quantizing before a 2x2 pool divides 4x as many elements, which the
// stores' saving outweighs (see docs/QUANTIZE.md).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_HOISTQUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Whether `op` is one a quantize can move before.
bool isHoistable(Operation *op) {
  return isa_and_nonnull<MaxPool2DOp, ReshapeOp, FlattenOp>(op);
}

std::string usersText(Value value) {
  int64_t n = std::distance(value.use_begin(), value.use_end());
  return std::to_string(n) + " users";
}

/// Why `quantize` cannot move before `producer` (which makes its input),
/// or "" when it can.
std::string refusal(QuantizeOp quantize, Operation *producer) {
  std::string name = producer->getName().stripDialect().str();
  if (!producer->hasOneUse())
    return "the " + name + "'s result has " + usersText(producer->getResult(0));
  auto scaleType = cast<RankedTensorType>(quantize.getScale().getType());
  if (scaleType.getRank() > 0) {
    // Per channel: only a max pool keeps the channels where they were.
    int64_t rank =
        cast<RankedTensorType>(quantize.getInput().getType()).getRank();
    int64_t axis =
        normalizeAxis(static_cast<int64_t>(quantize.getAxis()), rank);
    if (!isa<MaxPool2DOp>(producer) || axis != 1)
      return "it quantizes per channel, along an axis the " + name + " moves";
  }
  if (!isa<MaxPool2DOp>(producer))
    return "";
  // A maximum commutes with a monotone map only: positive scales.
  DenseElementsAttr scales;
  if (!matchPattern(quantize.getScale(), m_Constant(&scales)))
    return "its scale is not a constant, so its sign is unknown (a max pool "
           "commutes with an increasing quantize only)";
  for (APFloat s : scales.getValues<APFloat>())
    if (!s.isFiniteNonZero() || s.isNegative())
      return "its scale is not positive and finite (a max pool commutes with "
             "an increasing quantize only)";
  Value input = producer->getOperand(0);
  if (!input.hasOneUse())
    return "the max_pool2d's input has " + usersText(input) +
           ": the others read it as f32, so quantizing it whole would add "
           "a pass over it, not save one";
  return "";
}

/// `value`'s definition, or a clone of it before `before` when it is a
/// constant defined after it; null when it does not dominate `before`.
Value availableBefore(Value value, Operation *before) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != before->getBlock() ||
      def->isBeforeInBlock(before))
    return value;
  if (def->getNumOperands() != 0 || !def->hasTrait<OpTrait::ConstantLike>())
    return nullptr;
  OpBuilder b(before);
  return b.clone(*def)->getResult(0);
}

/// Moves `quantize` before `producer`: quantize its input, then `producer`
/// on the quantized values, which replaces `quantize`. False (and nothing
/// changed) when its scale or zero point is computed after `producer`.
bool hoist(QuantizeOp quantize, Operation *producer) {
  Value scale = availableBefore(quantize.getScale(), producer);
  Value zero = availableBefore(quantize.getZeroPoint(), producer);
  if (!scale || !zero)
    return false;
  OpBuilder b(producer);
  auto early = b.create<QuantizeOp>(
      quantize.getLoc(), producer->getOperand(0), scale, zero,
      b.getI64IntegerAttr(static_cast<int64_t>(quantize.getAxis())));
  OperationState state(producer->getLoc(), producer->getName());
  state.addOperands(early.getResult());
  state.addAttributes(producer->getAttrs());
  state.addAttribute("anvil.after_quantize", b.getUnitAttr());
  // The moved op keeps its shape and takes the quantized element type.
  auto type = cast<RankedTensorType>(producer->getResult(0).getType());
  state.addTypes(
      type.clone(cast<RankedTensorType>(early.getType()).getElementType()));
  Operation *moved = b.create(state);
  quantize.getResult().replaceAllUsesWith(moved->getResult(0));
  quantize.erase();
  producer->erase();
  return true;
}

struct HoistQuantizePass
    : mlir::anvil::impl::HoistQuantizePassBase<HoistQuantizePass> {
  using HoistQuantizePassBase::HoistQuantizePassBase;

  void runOnOperation() override {
    // Until nothing moves: a quantize moved before a flatten may then move
    // before the max pool that feeds it.
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<QuantizeOp> candidates;
      getOperation().walk([&](QuantizeOp q) {
        if (isHoistable(q.getInput().getDefiningOp()))
          candidates.push_back(q);
      });
      for (QuantizeOp q : candidates) {
        Operation *producer = q.getInput().getDefiningOp();
        std::string why = refusal(q, producer);
        if (why.empty() && hoist(q, producer)) {
          changed = true;
          continue;
        }
        if (why.empty())
          why = "its scale or zero point is computed after the " +
                producer->getName().stripDialect().str();
        q->setAttr("anvil.not_hoisted", StringAttr::get(&getContext(), why));
      }
    }
  }
};

} // namespace
