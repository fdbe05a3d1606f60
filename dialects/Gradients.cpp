//===- Gradients.cpp - the gradient of each differentiable anvil op -------===//
//
// GradientOpInterface::buildGradients for every op that declares it: anvil
// ops computing each operand's gradient from the results' gradients. Every
// gradient has its operand's exact type: where an operand was broadcast, the
// gradient is summed back over the broadcast dimensions (sumToShape).
// Autodiff (passes/Autodiff.cpp) chains these in reverse order.
//
//===----------------------------------------------------------------------===//

#include "dialects/AnvilOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A constant of `type` filled with `value`.
Value splat(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  Type elt = type.getElementType();
  return b.create<ConstantOp>(
      loc, DenseElementsAttr::get(type, b.getFloatAttr(elt, value)));
}

/// A rank-0 constant, which broadcasts against anything.
Value scalar(OpBuilder &b, Location loc, Type elt, double value) {
  return splat(b, loc, RankedTensorType::get({}, elt), value);
}

/// `grad` (of a broadcast result) summed back to the operand type `target`:
/// over the leading dimensions the operand lacks, and over the dimensions
/// where it had size 1.
Value sumToShape(OpBuilder &b, Location loc, Value grad,
                 RankedTensorType target) {
  RankedTensorType type = tensorType(grad);
  if (type == target)
    return grad;
  int64_t lead = type.getRank() - target.getRank();
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d < lead ||
        (target.getDimSize(d - lead) == 1 && type.getDimSize(d) != 1))
      axes.push_back(d);
  Value sum = grad;
  if (!axes.empty())
    sum = b.create<ReduceSumOp>(loc, grad, b.getDenseI64ArrayAttr(axes),
                                /*keepdims=*/true);
  return b.create<ReshapeOp>(loc, sum,
                             b.getDenseI64ArrayAttr(target.getShape()));
}

/// `grad` (of a reduced result) broadcast back to `target`, the reduced
/// dimensions first restored as 1s.
Value broadcastTo(OpBuilder &b, Location loc, Value grad,
                  RankedTensorType target, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept(target.getShape());
  for (int64_t a : axes)
    kept[a < 0 ? a + target.getRank() : a] = 1;
  Value g = b.create<ReshapeOp>(loc, grad, b.getDenseI64ArrayAttr(kept));
  return b.create<AddOp>(loc, splat(b, loc, target, 0.0), g);
}

/// The factor a loss's per-sample gradients carry: the result gradient,
/// divided by the count for `mean`, shaped to broadcast against `[N, ...]`.
Value lossScale(OpBuilder &b, Location loc, Value dy, StringRef reduction,
                int64_t count, int64_t rank) {
  if (reduction == "mean")
    return b.create<DivOp>(loc, dy,
                           scalar(b, loc, tensorType(dy).getElementType(),
                                  static_cast<double>(count)));
  if (reduction == "sum")
    return dy;
  // none: [N] (or the full shape for mse), reshaped to broadcast.
  RankedTensorType type = tensorType(dy);
  if (type.getRank() == rank)
    return dy;
  SmallVector<int64_t> shape(type.getShape());
  shape.resize(rank, 1);
  return b.create<ReshapeOp>(loc, dy, b.getDenseI64ArrayAttr(shape));
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

SmallVector<Value> AddOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  return {sumToShape(b, loc, grads[0], tensorType(getLhs())),
          sumToShape(b, loc, grads[0], tensorType(getRhs()))};
}

SmallVector<Value> SubOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  Value negated = b.create<NegOp>(loc, grads[0]);
  return {sumToShape(b, loc, grads[0], tensorType(getLhs())),
          sumToShape(b, loc, negated, tensorType(getRhs()))};
}

SmallVector<Value> MulOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  Value dl = b.create<MulOp>(loc, grads[0], getRhs());
  Value dr = b.create<MulOp>(loc, grads[0], getLhs());
  return {sumToShape(b, loc, dl, tensorType(getLhs())),
          sumToShape(b, loc, dr, tensorType(getRhs()))};
}

SmallVector<Value> DivOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  // d(l / r) = dy / r, and -dy * (l / r) / r.
  Value dl = b.create<DivOp>(loc, grads[0], getRhs());
  Value dr = b.create<NegOp>(
      loc, b.create<DivOp>(loc, b.create<MulOp>(loc, grads[0], getResult()),
                           getRhs()));
  return {sumToShape(b, loc, dl, tensorType(getLhs())),
          sumToShape(b, loc, dr, tensorType(getRhs()))};
}

SmallVector<Value> NegOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<NegOp>(getLoc(), grads[0])};
}

SmallVector<Value> ExpOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<MulOp>(getLoc(), grads[0], getResult())};
}

SmallVector<Value> LogOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<DivOp>(getLoc(), grads[0], getInput())};
}

SmallVector<Value> SqrtOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // d sqrt(x) = dy / (2 sqrt(x)).
  Location loc = getLoc();
  Value half = b.create<MulOp>(
      loc, grads[0],
      scalar(b, loc, tensorType(getInput()).getElementType(), 0.5));
  return {b.create<DivOp>(loc, half, getResult())};
}

SmallVector<Value> ReluOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<ReluGradOp>(getLoc(), getInput(), grads[0])};
}

SmallVector<Value> SigmoidOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // dy * y * (1 - y).
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value oneMinus = b.create<SubOp>(loc, scalar(b, loc, elt, 1.0), getResult());
  return {b.create<MulOp>(loc, b.create<MulOp>(loc, grads[0], getResult()),
                          oneMinus)};
}

SmallVector<Value> TanhOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // dy * (1 - y^2).
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value square = b.create<MulOp>(loc, getResult(), getResult());
  Value oneMinus = b.create<SubOp>(loc, scalar(b, loc, elt, 1.0), square);
  return {b.create<MulOp>(loc, grads[0], oneMinus)};
}

//===----------------------------------------------------------------------===//
// Linear algebra and shapes
//===----------------------------------------------------------------------===//

SmallVector<Value> MatmulOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // With C = op(A) op(B): dA = dC op(B)^T and dB = op(A)^T dC, written back
  // in A's and B's stored orientation; batch broadcasting sums back.
  Location loc = getLoc();
  Value dc = grads[0], a = getLhs(), bv = getRhs();
  bool ta = getTransposeA(), tb = getTransposeB();
  Value da = ta ? b.create<MatmulOp>(loc, bv, dc, tb, true)
                : b.create<MatmulOp>(loc, dc, bv, false, !tb);
  Value db = tb ? b.create<MatmulOp>(loc, dc, a, true, ta)
                : b.create<MatmulOp>(loc, a, dc, !ta, false);
  return {sumToShape(b, loc, da, tensorType(a)),
          sumToShape(b, loc, db, tensorType(bv))};
}

SmallVector<Value> ReshapeOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<ReshapeOp>(
      getLoc(), grads[0],
      b.getDenseI64ArrayAttr(tensorType(getInput()).getShape()))};
}

SmallVector<Value> FlattenOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<ReshapeOp>(
      getLoc(), grads[0],
      b.getDenseI64ArrayAttr(tensorType(getInput()).getShape()))};
}

SmallVector<Value> TransposeOp::buildGradients(OpBuilder &b, ValueRange grads) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  return {b.create<TransposeOp>(getLoc(), grads[0],
                                b.getDenseI64ArrayAttr(inverse))};
}

SmallVector<Value> ReduceSumOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {
      broadcastTo(b, getLoc(), grads[0], tensorType(getInput()), getAxes())};
}

SmallVector<Value> ReduceMeanOp::buildGradients(OpBuilder &b,
                                                ValueRange grads) {
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  double count = 1;
  for (int64_t a : getAxes())
    count *= type.getDimSize(a < 0 ? a + type.getRank() : a);
  Value scaled = b.create<DivOp>(loc, grads[0],
                                 scalar(b, loc, type.getElementType(), count));
  return {broadcastTo(b, loc, scaled, type, getAxes())};
}

//===----------------------------------------------------------------------===//
// Losses (the targets get no gradient, except mse's)
//===----------------------------------------------------------------------===//

SmallVector<Value> SoftmaxCrossEntropyOp::buildGradients(OpBuilder &b,
                                                         ValueRange grads) {
  // (softmax(x) - one_hot(labels)) * dy (/ N for mean).
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  Value probs = b.create<SoftmaxOp>(loc, getInput(), b.getI64IntegerAttr(1));
  Value labels = b.create<OneHotOp>(loc, getTarget(), type.getDimSize(1),
                                    TypeAttr::get(type.getElementType()));
  Value diff = b.create<SubOp>(loc, probs, labels);
  Value scale = lossScale(b, loc, grads[0], getReduction(), type.getDimSize(0),
                          type.getRank());
  return {b.create<MulOp>(loc, diff, scale), Value()};
}

SmallVector<Value> NllLossOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // -one_hot(labels) * dy (/ N for mean).
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  Value labels = b.create<OneHotOp>(loc, getTarget(), type.getDimSize(1),
                                    TypeAttr::get(type.getElementType()));
  Value scale = lossScale(b, loc, grads[0], getReduction(), type.getDimSize(0),
                          type.getRank());
  return {b.create<NegOp>(loc, b.create<MulOp>(loc, labels, scale)), Value()};
}

SmallVector<Value> MseLossOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // 2 (x - t) * dy (/ count for mean); the target's is the negation.
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  Value diff = b.create<SubOp>(loc, getInput(), getTarget());
  Value twice =
      b.create<MulOp>(loc, diff, scalar(b, loc, type.getElementType(), 2.0));
  Value scale = lossScale(b, loc, grads[0], getReduction(),
                          type.getNumElements(), type.getRank());
  Value dx = b.create<MulOp>(loc, twice, scale);
  return {dx, b.create<NegOp>(loc, dx)};
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

SmallVector<Value> Conv2DOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  RankedTensorType in = tensorType(getInput()), w = tensorType(getWeight());
  Value dy = grads[0];
  Value dx = b.create<Conv2DGradInputOp>(
      loc, dy, getWeight(),
      b.getDenseI64ArrayAttr({in.getDimSize(2), in.getDimSize(3)}),
      getStridesAttr(), getPadsAttr(), getDilationsAttr(), getGroupsAttr());
  Value dw = b.create<Conv2DGradFilterOp>(
      loc, getInput(), dy,
      b.getDenseI64ArrayAttr({w.getDimSize(2), w.getDimSize(3)}),
      getStridesAttr(), getPadsAttr(), getDilationsAttr(), getGroupsAttr());
  SmallVector<Value> result = {dx, dw};
  if (getBias())
    result.push_back(b.create<ReduceSumOp>(
        loc, dy, b.getDenseI64ArrayAttr({0, 2, 3}), /*keepdims=*/false));
  return result;
}

SmallVector<Value> MaxPool2DOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<MaxPool2DGradOp>(
      getLoc(), getInput(), grads[0], getKernelAttr(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getCeilModeAttr())};
}
