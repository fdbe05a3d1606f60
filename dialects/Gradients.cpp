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

#include <array>
#include <cmath>

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
Value lossScale(OpBuilder &b, Location loc, Value dy, LossReduction reduction,
                int64_t count, int64_t rank) {
  if (reduction == LossReduction::Mean)
    return b.create<DivOp>(loc, dy,
                           scalar(b, loc, tensorType(dy).getElementType(),
                                  static_cast<double>(count)));
  if (reduction == LossReduction::Sum)
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

SmallVector<Value> SliceOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<SliceGradOp>(
      getLoc(), grads[0],
      b.getDenseI64ArrayAttr(tensorType(getInput()).getShape()),
      getStartsAttr(), getEndsAttr(), getStepsAttr())};
}

SmallVector<Value> GatherOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // A scatter-add into the data's shape; the indices get no gradient.
  RankedTensorType type = tensorType(getInput());
  int64_t axis = normalizeAxis(getAxis(), type.getRank());
  return {b.create<GatherGradOp>(getLoc(), grads[0], getIndices(), axis,
                                 type.getDimSize(axis)),
          Value()};
}

SmallVector<Value> CastOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // Between float types the gradient is cast back; an integer (or i1) on
  // either side is piecewise constant, so nothing flows through it.
  Type from = tensorType(getInput()).getElementType();
  if (!grads[0] || !isa<FloatType>(from) ||
      !isa<FloatType>(tensorType(getResult()).getElementType()))
    return {Value()};
  if (tensorType(grads[0]).getElementType() == from)
    return {grads[0]};
  return {b.create<CastOp>(getLoc(), grads[0], from)};
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

// y = conv2d_grad_input(x, w) is the adjoint C_w^T x of the convolution
// C_w: so dx = C_w dy (the convolution of dy with the same attributes), and
// <dy, C_w^T x> = <C_w dy, x> makes dw the filter gradient of a convolution
// whose input is dy and whose output gradient is x.
SmallVector<Value> Conv2DGradInputOp::buildGradients(OpBuilder &b,
                                                     ValueRange grads) {
  Location loc = getLoc();
  RankedTensorType w = tensorType(getWeight());
  Value dy = grads[0];
  Value dx = b.create<Conv2DOp>(loc, tensorType(getGrad()), dy, getWeight(),
                                Value(), getStridesAttr(), getPadsAttr(),
                                getDilationsAttr(), getGroupsAttr());
  Value dw = b.create<Conv2DGradFilterOp>(
      loc, dy, getGrad(),
      b.getDenseI64ArrayAttr({w.getDimSize(2), w.getDimSize(3)}),
      getStridesAttr(), getPadsAttr(), getDilationsAttr(), getGroupsAttr());
  return {dx, dw};
}

SmallVector<Value> MaxPool2DOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return {b.create<MaxPool2DGradOp>(
      getLoc(), getInput(), grads[0], getKernelAttr(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getCeilModeAttr())};
}

SmallVector<Value> AvgPool2DOp::buildGradients(OpBuilder &b, ValueRange grads) {
  RankedTensorType in = tensorType(getInput());
  return {b.create<AvgPool2DGradOp>(
      getLoc(), grads[0],
      b.getDenseI64ArrayAttr({in.getDimSize(2), in.getDimSize(3)}),
      getKernelAttr(), getStridesAttr(), getPadsAttr(), getCeilModeAttr(),
      getCountIncludePadAttr())};
}

//===----------------------------------------------------------------------===//
// More elementwise ops, softmax, and the rest
//===----------------------------------------------------------------------===//
//
// Where an op's derivative is a step (relu, abs, max, clip...), relu_grad
// selects: relu_grad(t, g) is g where t > 0, else 0.

SmallVector<Value> PowOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // d(a^e)/da = e a^(e-1); d(a^e)/de = a^e ln a.
  Location loc = getLoc();
  Type elt = tensorType(getLhs()).getElementType();
  Value em1 = b.create<SubOp>(loc, getRhs(), scalar(b, loc, elt, 1.0));
  Value dl = b.create<MulOp>(
      loc, grads[0],
      b.create<MulOp>(loc, getRhs(), b.create<PowOp>(loc, getLhs(), em1)));
  Value dr = b.create<MulOp>(
      loc, grads[0],
      b.create<MulOp>(loc, getResult(), b.create<LogOp>(loc, getLhs())));
  return {sumToShape(b, loc, dl, tensorType(getLhs())),
          sumToShape(b, loc, dr, tensorType(getRhs()))};
}

/// max/min: the gradient goes to the chosen operand (to rhs on ties).
static SmallVector<Value> selectGradients(OpBuilder &b, Location loc, Value lhs,
                                          Value rhs, Value dy, bool max) {
  Value margin = max ? b.create<SubOp>(loc, lhs, rhs).getResult()
                     : b.create<SubOp>(loc, rhs, lhs).getResult();
  // margin has the broadcast shape, as dy does.
  Value dl = b.create<ReluGradOp>(loc, margin, dy);
  Value dr = b.create<SubOp>(loc, dy, dl);
  return {sumToShape(b, loc, dl, tensorType(lhs)),
          sumToShape(b, loc, dr, tensorType(rhs))};
}

SmallVector<Value> MaxOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return selectGradients(b, getLoc(), getLhs(), getRhs(), grads[0], true);
}

SmallVector<Value> MinOp::buildGradients(OpBuilder &b, ValueRange grads) {
  return selectGradients(b, getLoc(), getLhs(), getRhs(), grads[0], false);
}

SmallVector<Value> AbsOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // sign(x) dy: dy where x > 0, -dy where x < 0, 0 at 0.
  Location loc = getLoc();
  Value positive = b.create<ReluGradOp>(loc, getInput(), grads[0]);
  Value negative =
      b.create<ReluGradOp>(loc, b.create<NegOp>(loc, getInput()), grads[0]);
  return {b.create<SubOp>(loc, positive, negative)};
}

SmallVector<Value> RsqrtOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // d x^(-1/2) = -y^3 / 2.
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value cube = b.create<MulOp>(
      loc, b.create<MulOp>(loc, getResult(), getResult()), getResult());
  return {b.create<MulOp>(
      loc, grads[0], b.create<MulOp>(loc, cube, scalar(b, loc, elt, -0.5)))};
}

SmallVector<Value> ErfOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // 2 / sqrt(pi) e^(-x^2).
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value x2 = b.create<MulOp>(loc, getInput(), getInput());
  Value e = b.create<ExpOp>(loc, b.create<NegOp>(loc, x2));
  return {b.create<MulOp>(
      loc, grads[0],
      b.create<MulOp>(loc, e, scalar(b, loc, elt, 2.0 / std::sqrt(M_PI))))};
}

SmallVector<Value> GeluOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value x = getInput();
  auto c = [&](double v) { return scalar(b, loc, elt, v); };
  auto mul = [&](Value l, Value r) { return b.create<MulOp>(loc, l, r); };
  auto add = [&](Value l, Value r) { return b.create<AddOp>(loc, l, r); };
  Value derivative;
  if (getTanhApprox()) {
    // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 a x^2), t = tanh(k (x + a x^3)).
    double k = std::sqrt(2.0 / M_PI), a = 0.044715;
    Value x2 = mul(x, x);
    Value t = b.create<TanhOp>(loc, mul(c(k), add(x, mul(c(a), mul(x2, x)))));
    Value sech2 = b.create<SubOp>(loc, c(1.0), mul(t, t));
    Value inner = mul(c(k), add(c(1.0), mul(c(3 * a), x2)));
    derivative = add(mul(c(0.5), add(c(1.0), t)),
                     mul(mul(c(0.5), x), mul(sech2, inner)));
  } else {
    // Phi(x) + x phi(x).
    Value phi = mul(c(1.0 / std::sqrt(2 * M_PI)),
                    b.create<ExpOp>(loc, mul(c(-0.5), mul(x, x))));
    Value cdf =
        mul(c(0.5), add(c(1.0), b.create<ErfOp>(loc, mul(x, c(M_SQRT1_2)))));
    derivative = add(cdf, mul(x, phi));
  }
  return {mul(grads[0], derivative)};
}

SmallVector<Value> LeakyReluOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // dy where x > 0, alpha dy elsewhere.
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value passed = b.create<ReluGradOp>(loc, getInput(), grads[0]);
  Value rest = b.create<SubOp>(loc, grads[0], passed);
  return {b.create<AddOp>(
      loc, passed,
      b.create<MulOp>(loc, rest,
                      scalar(b, loc, elt, getAlpha().convertToDouble())))};
}

SmallVector<Value> ClipOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // dy strictly inside the bounds.
  Location loc = getLoc();
  Type elt = tensorType(getInput()).getElementType();
  Value g = grads[0];
  if (auto lo = getMin())
    g = b.create<ReluGradOp>(
        loc,
        b.create<SubOp>(loc, getInput(),
                        scalar(b, loc, elt, lo->convertToDouble())),
        g);
  if (auto hi = getMax())
    g = b.create<ReluGradOp>(
        loc,
        b.create<SubOp>(loc, scalar(b, loc, elt, hi->convertToDouble()),
                        getInput()),
        g);
  return {g};
}

SmallVector<Value> SoftmaxOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // y (dy - sum(dy y)).
  Location loc = getLoc();
  int64_t axis = getAxis();
  Value dyy = b.create<MulOp>(loc, grads[0], getResult());
  Value sum = b.create<ReduceSumOp>(loc, dyy, b.getDenseI64ArrayAttr({axis}),
                                    /*keepdims=*/true);
  return {
      b.create<MulOp>(loc, getResult(), b.create<SubOp>(loc, grads[0], sum))};
}

SmallVector<Value> LogSoftmaxOp::buildGradients(OpBuilder &b,
                                                ValueRange grads) {
  // dy - softmax(x) sum(dy).
  Location loc = getLoc();
  int64_t axis = getAxis();
  Value sum =
      b.create<ReduceSumOp>(loc, grads[0], b.getDenseI64ArrayAttr({axis}),
                            /*keepdims=*/true);
  Value probs = b.create<SoftmaxOp>(loc, getInput(), getAxisAttr());
  return {b.create<SubOp>(loc, grads[0], b.create<MulOp>(loc, probs, sum))};
}

SmallVector<Value> GlobalAvgPoolOp::buildGradients(OpBuilder &b,
                                                   ValueRange grads) {
  // dy / (H W), broadcast back over the spatial dimensions.
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  double count = 1;
  for (int64_t d = 2; d < type.getRank(); ++d)
    count *= type.getDimSize(d);
  Value scaled = b.create<DivOp>(loc, grads[0],
                                 scalar(b, loc, type.getElementType(), count));
  return {b.create<AddOp>(loc, splat(b, loc, type, 0.0), scaled)};
}

SmallVector<Value> ConcatOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // Each input's slice of dy.
  Location loc = getLoc();
  RankedTensorType type = tensorType(getResult());
  int64_t axis = normalizeAxis(getAxis(), type.getRank()), offset = 0;
  SmallVector<Value> result;
  for (Value input : getInputs()) {
    RankedTensorType t = tensorType(input);
    SmallVector<int64_t> starts(type.getRank(), 0), ends(type.getShape()),
        steps(type.getRank(), 1);
    starts[axis] = offset;
    ends[axis] = offset + t.getDimSize(axis);
    result.push_back(b.create<SliceOp>(
        loc, grads[0], b.getDenseI64ArrayAttr(starts),
        b.getDenseI64ArrayAttr(ends), b.getDenseI64ArrayAttr(steps)));
    offset += t.getDimSize(axis);
  }
  return result;
}

SmallVector<Value> DropoutOp::buildGradients(OpBuilder &b, ValueRange grads) {
  // Training: dy through the kept elements, scaled; otherwise the identity.
  Location loc = getLoc();
  if (!grads[0])
    return {Value()};
  double ratio = getRatio().convertToDouble();
  if (!getTraining() || ratio == 0.0)
    return {grads[0]};
  Type elt = tensorType(getInput()).getElementType();
  Value mask = b.create<CastOp>(loc, getMask(), elt);
  return {b.create<MulOp>(loc, b.create<MulOp>(loc, grads[0], mask),
                          scalar(b, loc, elt, 1.0 / (1.0 - ratio)))};
}

//===----------------------------------------------------------------------===//
// Normalization in training form
//===----------------------------------------------------------------------===//

namespace {

/// The sum (or mean) of `v` over `axes`, in f64 when `v` is f32, rounded
/// once: a batch norm's sums run over batch x height x width values (50,176
/// for 64 28x28 maps), and such a sum in f32, accumulated in order, loses
/// up to that many ulps, which the backward pass's differences then
/// magnify (PyTorch sums them pairwise).
Value wideReduce(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> axes,
                 bool mean, bool keepdims) {
  Type elt = tensorType(v).getElementType();
  bool widen = elt.isF32();
  if (widen)
    v = b.create<CastOp>(loc, v, b.getF64Type());
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  Value r = mean
                ? b.create<ReduceMeanOp>(loc, v, axesAttr, keepdims).getResult()
                : b.create<ReduceSumOp>(loc, v, axesAttr, keepdims).getResult();
  return widen ? b.create<CastOp>(loc, r, elt).getResult() : r;
}

/// The gradients of y = x_hat * scale + bias with x_hat = (x - mean) /
/// sqrt(var + eps) over `axes` (batch statistics): {dx, dx_hat * x_hat and
/// dy, both still to be summed into scale's and bias's shapes}, with
/// `scale` already shaped to broadcast against x.
///   dx = r (g - mean(g) - x_hat mean(g x_hat)),  g = dy * scale.
std::array<Value, 3> normalizationGradients(OpBuilder &b, Location loc, Value x,
                                            Value dy, Value scale,
                                            ArrayRef<int64_t> axes,
                                            double epsilon) {
  Type elt = tensorType(x).getElementType();
  auto mean = [&](Value v) {
    return wideReduce(b, loc, v, axes, /*mean=*/true, /*keepdims=*/true);
  };
  Value centered = b.create<SubOp>(loc, x, mean(x));
  Value var = mean(b.create<MulOp>(loc, centered, centered));
  Value r = b.create<RsqrtOp>(
      loc, b.create<AddOp>(loc, var, scalar(b, loc, elt, epsilon)));
  Value xHat = b.create<MulOp>(loc, centered, r);
  Value g = b.create<MulOp>(loc, dy, scale);
  Value inner = b.create<SubOp>(
      loc, b.create<SubOp>(loc, g, mean(g)),
      b.create<MulOp>(loc, xHat, mean(b.create<MulOp>(loc, g, xHat))));
  return {b.create<MulOp>(loc, r, inner), b.create<MulOp>(loc, dy, xHat), dy};
}

} // namespace

SmallVector<Value> LayerNormOp::buildGradients(OpBuilder &b, ValueRange grads) {
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  int64_t axis = normalizeAxis(getAxis(), type.getRank());
  SmallVector<int64_t> normalized, outer;
  for (int64_t d = 0; d < type.getRank(); ++d)
    (d < axis ? outer : normalized).push_back(d);
  auto [dx, dScale, dBias] =
      normalizationGradients(b, loc, getInput(), grads[0], getScale(),
                             normalized, getEpsilon().convertToDouble());
  auto sumOuter = [&](Value v) -> Value {
    if (outer.empty())
      return v;
    return b.create<ReduceSumOp>(loc, v, b.getDenseI64ArrayAttr(outer),
                                 /*keepdims=*/false);
  };
  return {dx, sumOuter(dScale), sumOuter(dBias)};
}

SmallVector<Value> BatchNormTrainOp::buildGradients(OpBuilder &b,
                                                    ValueRange grads) {
  // Only the normalized output is differentiated: the batch statistics feed
  // running averages, not the loss.
  Location loc = getLoc();
  RankedTensorType type = tensorType(getInput());
  if (!grads[0])
    return {Value(), Value(), Value()};
  SmallVector<int64_t> axes = {0}, column(type.getRank() - 1, 1);
  for (int64_t d = 2; d < type.getRank(); ++d)
    axes.push_back(d);
  column[0] = type.getDimSize(1);
  Value scale =
      b.create<ReshapeOp>(loc, getScale(), b.getDenseI64ArrayAttr(column));
  auto [dx, dScale, dBias] =
      normalizationGradients(b, loc, getInput(), grads[0], scale, axes,
                             getEpsilon().convertToDouble());
  auto perChannel = [&](Value v) -> Value {
    return wideReduce(b, loc, v, axes, /*mean=*/false, /*keepdims=*/false);
  };
  return {dx, perChannel(dScale), perChannel(dBias)};
}

SmallVector<Value> FakeQuantizeOp::buildGradients(OpBuilder &b,
                                                  ValueRange grads) {
  // Straight through the rounding, stopped where the value was clamped;
  // the range is fixed (calibrated), not learned.
  if (!grads[0])
    return {Value(), Value()};
  return {
      b.create<FakeQuantizeGradOp>(getLoc(), getInput(), getRange(), grads[0]),
      Value()};
}

SmallVector<Value> FakeQuantizeWeightsOp::buildGradients(OpBuilder &,
                                                         ValueRange grads) {
  // Straight through: every weight is within its scale's range, and the
  // scale (max |w| / 127) is not differentiated.
  return {grads[0]};
}
