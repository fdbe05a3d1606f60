//===- Quantize.cpp - post-training int8 quantization of matmuls ----------===//
//
// Rewrites each `anvil.matmul` that carries a calibrated input range
// (`anvil.calibration = array<f64: min, max>`, set by `anvilc quantize`
// from the reference interpreter's observations) and whose weights are
// known at compile time (an anvil.constant, or an anvil.param with its
// value or initializer) into
//
//   quantize(x) to ui8 (asymmetric: scale and zero point from the range,
//   widened to hold 0) -> anvil.qmatmul by i8 weights quantized now
//   (symmetric, zero point 0, per output column or per tensor) ->
//   dequantize the i32 accumulators by scale_x * scale_w[n].
//
// The bias and activation after the matmul stay in f32, on the
// dequantized result. The new ops are exactly what anvil-int8-matmul packs
// into VNNI tiles. A matmul without a range, with transposed activations,
// or with weights computed at run time stays f32; every matmul loses the
// attribute.
//
//===----------------------------------------------------------------------===//

#include "passes/Quantize.h"
#include "dialects/ParamInit.h"
#include "passes/Passes.h"

#include <algorithm>
#include <cmath>

namespace mlir::anvil {
#define GEN_PASS_DEF_QUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The compile-time values of `weights` (row-major), or nothing when they
/// are computed at run time.
std::optional<std::vector<double>> knownValues(Value weights, uint64_t seed) {
  if (auto param = weights.getDefiningOp<ParamOp>())
    return initialValues(param, seed);
  auto constant = weights.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!dense || !dense.getElementType().isF32())
    return std::nullopt;
  auto values = dense.getValues<float>();
  return std::vector<double>(values.begin(), values.end());
}

/// `x / scale` in f32, rounded half to even and clamped to [lo, hi]: the
/// formula of anvil.quantize.
int64_t quantizeValue(double x, float scale, int64_t lo, int64_t hi) {
  float q = std::nearbyint(static_cast<float>(x) / scale);
  return std::clamp<int64_t>(static_cast<int64_t>(q), lo, hi);
}

struct QuantizePass : mlir::anvil::impl::QuantizePassBase<QuantizePass> {
  using QuantizePassBase::QuantizePassBase;

  void runOnOperation() override {
    SmallVector<MatmulOp> ops;
    getOperation().walk([&](MatmulOp op) { ops.push_back(op); });
    for (MatmulOp op : ops) {
      auto range = op->getAttrOfType<DenseF64ArrayAttr>(kCalibrationAttr);
      op->removeAttr(kCalibrationAttr);
      if (range && range.size() == 2)
        rewrite(op, range.asArrayRef()[0], range.asArrayRef()[1]);
    }
  }

  void rewrite(MatmulOp op, double lo, double hi) {
    auto wType = cast<RankedTensorType>(op.getRhs().getType());
    if (op.getTransposeA() || wType.getRank() != 2 ||
        !wType.getElementType().isF32())
      return;
    std::optional<std::vector<double>> w = knownValues(op.getRhs(), seed);
    if (!w)
      return;
    // The weights as [K, N] (a transposed rhs is [N, K]).
    bool tb = op.getTransposeB();
    int64_t k = wType.getDimSize(tb ? 1 : 0), n = wType.getDimSize(tb ? 0 : 1);
    auto at = [&](int64_t i, int64_t j) {
      return (*w)[tb ? j * k + i : i * n + j];
    };

    // Activations: ui8, the range widened to hold 0 (exactly representable,
    // as zero padding and ReLU's zeros need).
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    float xScale = static_cast<float>((hi - lo) / 255.0);
    if (!(xScale > 0.0f) || !std::isfinite(xScale))
      xScale = 1.0f;
    int64_t xZero = quantizeValue(-lo, xScale, 0, 255);

    // Weights: i8 symmetric (-127..127, zero point 0), one scale per output
    // column or one for all.
    std::vector<float> wScale(perChannel ? n : 1, 0.0f);
    std::vector<double> amax(wScale.size(), 0.0);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double &m = amax[perChannel ? j : 0];
        m = std::max(m, std::abs(at(i, j)));
      }
    for (size_t c = 0; c < wScale.size(); ++c)
      wScale[c] = amax[c] > 0.0 ? static_cast<float>(amax[c] / 127.0) : 1.0f;
    std::vector<int8_t> q(k * n);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        q[i * n + j] = static_cast<int8_t>(
            quantizeValue(at(i, j), wScale[perChannel ? j : 0], -127, 127));

    OpBuilder b(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = &getContext();
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
    Type ui8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
    auto scalar = [](Type t) { return RankedTensorType::get({}, t); };
    auto constant = [&](DenseElementsAttr value) -> Value {
      return b.create<ConstantOp>(loc, value);
    };
    Value xs = constant(DenseElementsAttr::get(scalar(f32), xScale));
    Value xz = constant(DenseElementsAttr::get(
        scalar(ui8), APInt(8, static_cast<uint64_t>(xZero))));
    Value qx = b.create<QuantizeOp>(loc, ValueRange{op.getLhs(), xs, xz},
                                    ArrayRef<NamedAttribute>{})
                   .getResult();
    Value qw = constant(DenseElementsAttr::get(
        RankedTensorType::get({k, n}, i8), ArrayRef<int8_t>(q)));
    Value wz = constant(DenseElementsAttr::get(scalar(i8), APInt(8, 0)));
    Value acc = b.create<QMatmulOp>(loc, ValueRange{qx, qw, xz, wz},
                                    ArrayRef<NamedAttribute>{})
                    .getResult();
    // The accumulators' scale: scale_x * scale_w, per column (the last
    // axis) or one.
    std::vector<float> accScale;
    for (float s : wScale)
      accScale.push_back(xScale * s);
    auto resultType = cast<RankedTensorType>(op.getType());
    Value ds, dz;
    if (perChannel) {
      ds = constant(DenseElementsAttr::get(RankedTensorType::get({n}, f32),
                                           ArrayRef<float>(accScale)));
      dz = constant(DenseElementsAttr::get(RankedTensorType::get({n}, i32),
                                           APInt(32, 0)));
    } else {
      ds = constant(DenseElementsAttr::get(scalar(f32), accScale[0]));
      dz = constant(DenseElementsAttr::get(scalar(i32), APInt(32, 0)));
    }
    Value y = b.create<DequantizeOp>(
                   loc, ValueRange{acc, ds, dz},
                   ArrayRef<NamedAttribute>{b.getNamedAttr(
                       "axis", b.getI64IntegerAttr(resultType.getRank() - 1))})
                  .getResult();
    op.replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace
