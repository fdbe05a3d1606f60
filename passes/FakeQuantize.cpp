//===- FakeQuantize.cpp - quantization-aware training's fake quantization -===//
//
// Puts anvil.fake_quantize on the activations and anvil.fake_quantize_weights
// on the weights of each calibrated matmul and one-group convolution with
// parameter weights, the range a fixed parameter (`<weight>.qat_range`).
// See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Quantize.h"
#include "runtime/CheckpointKeys.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_FAKEQUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct FakeQuantizePass
    : mlir::anvil::impl::FakeQuantizePassBase<FakeQuantizePass> {
  using FakeQuantizePassBase::FakeQuantizePassBase;

  void runOnOperation() override {
    for (const CalibratedLayer &l : takeCalibratedLayers(getOperation())) {
      Operation *op = l.op;
      auto weights = op->getOperand(1).getDefiningOp<ParamOp>();
      if (!weights)
        continue;
      std::optional<int64_t> axis;
      if (auto matmul = dyn_cast<MatmulOp>(op)) {
        if (matmul.getTransposeA() || weights.getType().getRank() != 2)
          continue;
        if (perChannel)
          axis = matmul.getTransposeB() ? 0 : 1;
      } else {
        if (cast<Conv2DOp>(op).getGroups() != 1)
          continue;
        axis = 0;
      }
      rewrite(op, weights, l.lo, l.hi, axis);
    }
  }

  void rewrite(Operation *op, ParamOp weights, double lo, double hi,
               std::optional<int64_t> axis) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto rangeType = RankedTensorType::get({2}, b.getF32Type());
    auto value = DenseElementsAttr::get(
        rangeType,
        ArrayRef<float>{static_cast<float>(lo), static_cast<float>(hi)});
    // A matmul fake-quantized per output column says so in its range's
    // name (a convolution's weights are always per output channel).
    bool perColumn = axis && isa<MatmulOp>(op);
    std::string name = weights.getName().str() +
                       (perColumn ? ::anvil::keys::kQatRangePerColumnSuffix
                                  : ::anvil::keys::kQatRangeSuffix);
    auto range =
        b.create<ParamOp>(loc, rangeType, name, Initializer::Dense, nullptr,
                          nullptr, nullptr, nullptr, nullptr, value);
    range->setAttr(kFixedParamAttr, b.getUnitAttr());
    Value x = b.create<FakeQuantizeOp>(loc, op->getOperand(0), range);
    Value w = b.create<FakeQuantizeWeightsOp>(loc, op->getOperand(1),
                                              axis ? b.getI64IntegerAttr(*axis)
                                                   : IntegerAttr());
    op->setOperand(0, x);
    op->setOperand(1, w);
  }
};

} // namespace
