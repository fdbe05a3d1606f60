//===- Int8Epilogue.h - what an int8 convolution's tiles absorb -*- C++ -*-===//
//
// The decision of anvil-int8-matmul's `epilogue` that the fusion report
// must predict, in one place: which elementwise ops after an
// anvil.qconv2d its register tiles compute before their stores, so that
// the i32 product is never written to memory.
//
// A quantized layer leaves the graph as qconv2d -> dequantize (its scale,
// per channel) -> add (a bias, or the folded batch norm's shift, per
// channel) -> add (a residual) -> relu -> quantize (the next layer's
// input). The tiles take that chain, each op present or not but in this
// order, each the only user of the one before; a quantize only when it is
// the last value's only user, so that the tiles store either f32 (the
// chain's last value, when something else reads it) or ui8 (the next
// layer's input), never both.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_INT8EPILOGUE_H
#define ANVIL_PASSES_INT8EPILOGUE_H

#include "dialects/AnvilOps.h"

#include "mlir/IR/Matchers.h"

#include <string>

namespace mlir::anvil {

/// Whether anvil-int8-matmul's tiles for a qconv2d of `o` output channels
/// write its NCHW result themselves (each tile transposed in registers):
/// with VNNI, when 16 divides O, or O is one narrow block. Only those
/// tiles hold a run of positions per channel, which the epilogue needs.
inline bool int8ConvTilesNchw(int64_t o, bool vnni, bool narrow) {
  return vnni && (o % 16 == 0 || (narrow && o <= 16));
}

/// Whether anvil-int8-matmul rewrites `conv` at all: ui8 activations,
/// constant i8 weights with zero point 0 and a constant input zero point
/// (its padding); else it keeps the portable generic.
inline bool int8ConvTakesTiles(QConv2DOp conv) {
  DenseElementsAttr w, wz, xz;
  return cast<RankedTensorType>(conv.getInput().getType())
             .getElementType()
             .isUnsignedInteger(8) &&
         matchPattern(conv.getWeight(), m_Constant(&w)) &&
         w.getElementType().isSignlessInteger(8) &&
         matchPattern(conv.getWeightZeroPoint(), m_Constant(&wz)) &&
         llvm::all_of(wz.getValues<APInt>(),
                      [](const APInt &v) { return v.isZero(); }) &&
         matchPattern(conv.getInputZeroPoint(), m_Constant(&xz));
}

/// The chain of ops after a qconv2d that its tiles compute (see above);
/// each member null when absent.
struct Int8Epilogue {
  DequantizeOp dequantize;
  AddOp shift; // + a [1, O, 1, 1] or [O, 1, 1] constant
  Value shiftValue;
  AddOp residual; // + a tensor of the result's type, made before the conv
  Value residualValue;
  ReluOp relu;
  QuantizeOp quantize; // per tensor, to ui8, constant scale and zero point

  explicit operator bool() const { return static_cast<bool>(dequantize); }
  /// The ops, in order.
  SmallVector<Operation *> ops() const {
    SmallVector<Operation *> all;
    for (Operation *op :
         {static_cast<Operation *>(dequantize), static_cast<Operation *>(shift),
          static_cast<Operation *>(residual), static_cast<Operation *>(relu),
          static_cast<Operation *>(quantize)})
      if (op)
        all.push_back(op);
    return all;
  }
  /// The op whose result the tiles' stores replace.
  Operation *last() const { return ops().back(); }
};

namespace int8_epilogue_detail {
template <typename Op> Op soleUser(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  return dyn_cast<Op>(*value.getUsers().begin());
}
/// Whether `value` is a constant of `type` (its elements as a dense attr).
inline bool isConstantOf(Value value, int64_t rank) {
  DenseElementsAttr attr;
  return matchPattern(value, m_Constant(&attr)) &&
         cast<ShapedType>(value.getType()).getRank() <= rank;
}
/// A scale or zero point the tiles read by channel: per tensor (rank 0, or
/// one element) or one per output channel along axis 1, constant.
inline bool perChannelConstant(Value value, int64_t axis, int64_t channels) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!isConstantOf(value, 1))
    return false;
  if (type.getNumElements() == 1)
    return true;
  return axis == 1 && type.getRank() == 1 && type.getDimSize(0) == channels;
}
} // namespace int8_epilogue_detail

/// The chain `conv`'s tiles compute, or an empty one with the reason in
/// `why` (which names the first op that stays out).
inline Int8Epilogue matchInt8Epilogue(QConv2DOp conv, std::string &why) {
  using namespace int8_epilogue_detail;
  Int8Epilogue m;
  auto type = cast<RankedTensorType>(conv.getType());
  int64_t channels = type.getDimSize(1);
  DequantizeOp dq = soleUser<DequantizeOp>(conv.getResult());
  if (!dq) {
    why = conv.getResult().hasOneUse() ? "its only user is not a dequantize"
                                       : "its i32 result has several users";
    return m;
  }
  int64_t axis = static_cast<int64_t>(dq.getAxis());
  if (axis < 0)
    axis += 4;
  if (!perChannelConstant(dq.getScale(), axis, channels) ||
      !perChannelConstant(dq.getZeroPoint(), axis, channels)) {
    why = "the dequantize's scale or zero point is not a constant per "
          "tensor or per output channel";
    return m;
  }
  m.dequantize = dq;
  auto f32 = cast<RankedTensorType>(dq.getType());
  Value y = dq.getResult();
  auto other = [](AddOp add, Value y) {
    return add.getLhs() == y ? add.getRhs() : add.getLhs();
  };
  if (AddOp add = soleUser<AddOp>(y); add && add.getType() == f32) {
    Value v = other(add, y);
    auto vt = cast<RankedTensorType>(v.getType());
    // [1, O, 1, 1] or [O, 1, 1]: one value per channel.
    int64_t rank = vt.getRank();
    if (v != y && (rank == 3 || rank == 4) && isConstantOf(v, 4) &&
        vt.getNumElements() == channels &&
        vt.getDimSize(rank - 3) == channels) {
      m.shift = add;
      m.shiftValue = v;
      y = add.getResult();
    }
  }
  if (AddOp add = soleUser<AddOp>(y); add && add.getType() == f32) {
    Value v = other(add, y);
    Operation *def = v.getDefiningOp();
    // Made before the convolution: the tiles read it where the conv was.
    bool before =
        def ? def->getBlock() == conv->getBlock() && def->isBeforeInBlock(conv)
            : cast<BlockArgument>(v).getOwner() == conv->getBlock();
    if (v != y && v.getType() == f32 && before) {
      m.residual = add;
      m.residualValue = v;
      y = add.getResult();
    }
  }
  if (ReluOp relu = soleUser<ReluOp>(y)) {
    m.relu = relu;
    y = relu.getResult();
  }
  if (QuantizeOp q = soleUser<QuantizeOp>(y)) {
    auto qt = cast<RankedTensorType>(q.getType());
    if (qt.getElementType().isUnsignedInteger(8) &&
        cast<RankedTensorType>(q.getScale().getType()).getNumElements() == 1 &&
        isConstantOf(q.getScale(), 1) && isConstantOf(q.getZeroPoint(), 1))
      m.quantize = q;
  }
  return m;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_INT8EPILOGUE_H
