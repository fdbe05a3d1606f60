//===- FoldBatchNorm.cpp - conv2d + batch_norm become one conv2d ----------===//
//
// Folds an inference anvil.batch_norm into the anvil.conv2d that produces
// its input, or into the anvil.dequantize of a quantized convolution's
// result, when every value involved is a constant (see Passes.td).
// Expects the anvil dialect after parameters became constants; leaves
// convolutions with new constant filters and biases, marked
// `anvil.fused = ["batch_norm"]` with both source locations, and marks every
// batch norm it leaves with `anvil.not_fused = "<why>"` so that the fusion
// report can say why.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir::anvil {
#define GEN_PASS_DEF_FOLDBATCHNORMPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The values of a constant operand in double, or nothing if `value` is not
/// a constant.
std::optional<std::vector<double>> constantValues(Value value) {
  DenseElementsAttr dense;
  if (!value || !matchPattern(value, m_Constant(&dense)))
    return std::nullopt;
  std::vector<double> out;
  if (dense.isSplat()) {
    out.assign(dense.getNumElements(),
               dense.getSplatValue<APFloat>().convertToDouble());
  } else if (dense.getElementType().isF32()) {
    // (Typed iteration: filters hold millions of elements.)
    auto values = dense.getValues<float>();
    out.assign(values.begin(), values.end());
  } else if (dense.getElementType().isF64()) {
    auto values = dense.getValues<double>();
    out.assign(values.begin(), values.end());
  } else {
    return std::nullopt;
  }
  return out;
}

/// `values` as a constant tensor of `type` (f32 or f64), rounded once.
Value makeConstant(OpBuilder &b, Location loc, ShapedType type,
                   ArrayRef<double> values) {
  DenseElementsAttr attr;
  if (type.getElementType().isF32()) {
    SmallVector<float> f(values.begin(), values.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(f));
  } else {
    attr = DenseElementsAttr::get(type, values);
  }
  return b.create<ConstantOp>(loc, attr);
}

/// The batch norm's per-channel factor a = scale / sqrt(var + eps) and
/// shift b = bias - mean * a (so that bn(x) = a x + b), or nothing when a
/// parameter is not a constant.
std::optional<std::pair<std::vector<double>, std::vector<double>>>
affineOf(BatchNormOp bn) {
  auto scale = constantValues(bn.getScale()),
       shift = constantValues(bn.getBias());
  auto mean = constantValues(bn.getMean()), var = constantValues(bn.getVar());
  if (!scale || !shift || !mean || !var)
    return std::nullopt;
  std::vector<double> a(scale->size()), b(scale->size());
  for (size_t c = 0; c < a.size(); ++c) {
    a[c] =
        (*scale)[c] / std::sqrt((*var)[c] + bn.getEpsilon().convertToDouble());
    b[c] = (*shift)[c] - (*mean)[c] * a[c];
  }
  return std::make_pair(a, b);
}

/// Folds `bn` into the dequantize before it (a quantized convolution's
/// i32 result, per output channel): its scale times the factor a, then an
/// add of the shift b, [1, C, 1, 1]; or says why not. ((q - zp) * s is an
/// integer times s, so the shift cannot become a zero point.)
std::string foldIntoDequantize(BatchNormOp bn, DequantizeOp dq) {
  if (!dq->hasOneUse())
    return "the dequantize's result has other users";
  auto type = cast<RankedTensorType>(bn.getType());
  auto scaleType = cast<RankedTensorType>(dq.getScale().getType());
  int64_t channels = type.getDimSize(1);
  if (type.getRank() < 2 || dq.getAxis() != 1 ||
      (scaleType.getRank() == 1 && scaleType.getDimSize(0) != channels))
    return "the dequantize's scale is not per tensor or per channel along "
           "the batch norm's axis";
  auto dqScale = constantValues(dq.getScale());
  DenseElementsAttr zero;
  if (!dqScale || !matchPattern(dq.getZeroPoint(), m_Constant(&zero)))
    return "the dequantize's scale or zero point is not a constant";
  auto affine = affineOf(bn);
  if (!affine)
    return "scale, bias, mean or var is not a constant (parameters are "
           "trained or load from a weights file)";
  auto &[a, shift] = *affine;
  std::vector<double> scale(channels);
  for (int64_t c = 0; c < channels; ++c)
    scale[c] = (dqScale->size() == 1 ? (*dqScale)[0] : (*dqScale)[c]) * a[c];
  OpBuilder b(bn);
  Location loc = b.getFusedLoc({dq.getLoc(), bn.getLoc()});
  auto perChannel = RankedTensorType::get({channels}, b.getF32Type());
  auto zeroType =
      RankedTensorType::get({channels}, zero.getType().getElementType());
  Value zeroPoint = b.create<ConstantOp>(
      loc, zero.isSplat() ? DenseElementsAttr::get(
                                zeroType, zero.getSplatValue<Attribute>())
                          : zero.reshape(zeroType));
  auto folded = b.create<DequantizeOp>(loc, dq.getType(), dq.getInput(),
                                       makeConstant(b, loc, perChannel, scale),
                                       zeroPoint, b.getI64IntegerAttr(1));
  folded->setAttr("anvil.fused",
                  b.getArrayAttr({b.getStringAttr("batch_norm")}));
  SmallVector<int64_t> shape(type.getRank(), 1);
  shape[1] = channels;
  Value bias = makeConstant(b, bn.getBias().getLoc(), type.clone(shape), shift);
  auto sum = b.create<AddOp>(loc, bn.getType(), folded.getResult(), bias);
  bn.getResult().replaceAllUsesWith(sum.getResult());
  bn.erase();
  dq.erase();
  return "";
}

/// Folds `bn` into the convolution before it, or says why not.
std::string foldInto(BatchNormOp bn) {
  if (auto dq = bn.getInput().getDefiningOp<DequantizeOp>())
    return foldIntoDequantize(bn, dq);
  auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
  if (!conv)
    return bn.getInput().getDefiningOp()
               ? "its input comes from " +
                     bn.getInput()
                         .getDefiningOp()
                         ->getName()
                         .getStringRef()
                         .str() +
                     ", not a conv2d"
               : "its input is a function argument, not a conv2d";
  if (!conv->hasOneUse())
    return "the conv2d's result has other users";
  auto affine = affineOf(bn);
  if (!affine)
    return "scale, bias, mean or var is not a constant (parameters are "
           "trained or load from a weights file)";
  auto weight = constantValues(conv.getWeight());
  if (!weight)
    return "the conv2d's filter is not a constant";
  std::optional<std::vector<double>> bias;
  if (conv.getBias() && !(bias = constantValues(conv.getBias())))
    return "the conv2d's bias is not a constant";

  // Per output channel o: w' = w * a; b' = b * a + shift.
  auto &[a, shift] = *affine;
  auto weightType = cast<ShapedType>(conv.getWeight().getType());
  int64_t channels = weightType.getDimSize(0);
  int64_t perChannel = channels ? weightType.getNumElements() / channels : 0;
  std::vector<double> newBias(channels);
  for (int64_t o = 0; o < channels; ++o) {
    for (int64_t i = 0; i < perChannel; ++i)
      (*weight)[o * perChannel + i] *= a[o];
    newBias[o] = (bias ? (*bias)[o] : 0.0) * a[o] + shift[o];
  }

  OpBuilder b(bn);
  Location loc = b.getFusedLoc({conv.getLoc(), bn.getLoc()});
  auto biasType =
      RankedTensorType::get({channels}, weightType.getElementType());
  Value operands[] = {
      conv.getInput(),
      makeConstant(b, conv.getWeight().getLoc(), weightType, *weight),
      makeConstant(b, bn.getBias().getLoc(), cast<ShapedType>(biasType),
                   newBias)};
  // The convolution's attributes, plus what was folded into it.
  SmallVector<Attribute> fused;
  if (auto earlier = conv->getAttrOfType<ArrayAttr>("anvil.fused"))
    fused.append(earlier.begin(), earlier.end());
  fused.push_back(b.getStringAttr("batch_norm"));
  SmallVector<NamedAttribute> attrs(conv->getAttrs());
  llvm::erase_if(attrs,
                 [](NamedAttribute a) { return a.getName() == "anvil.fused"; });
  attrs.push_back(b.getNamedAttr("anvil.fused", b.getArrayAttr(fused)));
  auto folded =
      b.create<Conv2DOp>(loc, TypeRange{bn.getType()}, operands, attrs);
  bn.getResult().replaceAllUsesWith(folded.getResult());
  bn.erase();
  conv.erase();
  return "";
}

struct FoldBatchNormPass
    : mlir::anvil::impl::FoldBatchNormPassBase<FoldBatchNormPass> {
  using FoldBatchNormPassBase::FoldBatchNormPassBase;

  void runOnOperation() override {
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](BatchNormOp bn) { norms.push_back(bn); });
    for (BatchNormOp bn : norms) {
      std::string why = foldInto(bn);
      if (!why.empty())
        bn->setAttr("anvil.not_fused", StringAttr::get(&getContext(), why));
    }
    // The old filters and the normalization's parameters are now unused.
    // (The canonicalizer after this pass removes them.)
  }
};

} // namespace
