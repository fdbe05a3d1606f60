//===- Quantize.cpp - post-training int8 quantization ---------------------===//
//
// Rewrites each `anvil.matmul` and one-group `anvil.conv2d` that carries a
// calibrated input range (`anvil.calibration = array<f64: min, max>`, set
// by `anvilc quantize` from the reference interpreter's observations) and
// whose weights are known at compile time (an anvil.constant, or an
// anvil.param with its value or initializer) into
//
//   quantize(x) to ui8 (asymmetric: scale and zero point from the range,
//   widened to hold 0) -> anvil.qmatmul / anvil.qconv2d by i8 weights
//   quantized now (symmetric, zero point 0; a matmul's per output column
//   or per tensor, a convolution's always per output channel) ->
//   dequantize the i32 accumulators by scale_x * scale_w[n].
//
// The bias and activation after the product stay in f32, on the
// dequantized result (a convolution's bias becomes an anvil.add of it as
// [O, 1, 1], its values, when known, rounded to the accumulators' grid
// scale_x * scale_w[o]: the int32 bias of ONNX's QLinearConv). The new ops are
// exactly what anvil-int8-matmul packs into VNNI or AVX2 tiles. The zero point
// is the quantized 0: the padding of a convolution, which qconv2d fills with
// it, stays exactly 0. A matmul without a range, with transposed activations,
// or with weights computed at run time stays f32, as does a grouped (depthwise)
// convolution; every op loses the attribute.
//
//===----------------------------------------------------------------------===//

#include "passes/Quantize.h"
#include "dialects/ParamInit.h"
#include "dialects/QuantParams.h"
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

struct QuantizePass : mlir::anvil::impl::QuantizePassBase<QuantizePass> {
  using QuantizePassBase::QuantizePassBase;

  void runOnOperation() override {
    for (const CalibratedLayer &l : takeCalibratedLayers(getOperation())) {
      if (auto matmul = dyn_cast<MatmulOp>(l.op))
        rewrite(matmul, l.lo, l.hi);
      else
        rewrite(cast<Conv2DOp>(l.op), l.lo, l.hi);
    }
  }

  /// The ops both rewrites build, at `op`.
  struct Builder {
    OpBuilder b;
    Location loc;
    Type f32, i8, i32, ui8;

    explicit Builder(Operation *op)
        : b(op), loc(op->getLoc()), f32(b.getF32Type()), i8(b.getI8Type()),
          i32(b.getI32Type()),
          ui8(IntegerType::get(op->getContext(), 8, IntegerType::Unsigned)) {}

    static RankedTensorType scalar(Type t) {
      return RankedTensorType::get({}, t);
    }
    Value constant(DenseElementsAttr value) {
      return b.create<ConstantOp>(loc, value);
    }
    /// quantize(x) by `scale` and the ui8 zero point `zero`, which it
    /// returns too.
    std::pair<Value, Value> quantize(Value x, float scale, int64_t zero) {
      Value xs = constant(DenseElementsAttr::get(scalar(f32), scale));
      Value xz = constant(DenseElementsAttr::get(
          scalar(ui8), APInt(8, static_cast<uint64_t>(zero))));
      Value q = b.create<QuantizeOp>(loc, ValueRange{x, xs, xz},
                                     ArrayRef<NamedAttribute>{})
                    .getResult();
      return {q, xz};
    }
    Value weightZero() {
      return constant(DenseElementsAttr::get(scalar(i8), APInt(8, 0)));
    }
    /// The i32 accumulators `acc` dequantized by `scales` (one, or one per
    /// index of `axis`).
    Value dequantize(Value acc, ArrayRef<float> scales, int64_t axis) {
      Value ds, dz;
      if (scales.size() > 1) {
        auto n = static_cast<int64_t>(scales.size());
        ds = constant(
            DenseElementsAttr::get(RankedTensorType::get({n}, f32), scales));
        dz = constant(DenseElementsAttr::get(RankedTensorType::get({n}, i32),
                                             APInt(32, 0)));
      } else {
        ds = constant(DenseElementsAttr::get(scalar(f32), scales[0]));
        dz = constant(DenseElementsAttr::get(scalar(i32), APInt(32, 0)));
      }
      return b
          .create<DequantizeOp>(loc, ValueRange{acc, ds, dz},
                                ArrayRef<NamedAttribute>{b.getNamedAttr(
                                    "axis", b.getI64IntegerAttr(axis))})
          .getResult();
    }
  };

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
    auto [xScale, xZero] = activationParams(lo, hi);

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
      wScale[c] = weightScale(amax[c]);
    std::vector<int8_t> q(k * n);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j)
        q[i * n + j] = static_cast<int8_t>(
            quantizeValue(at(i, j), wScale[perChannel ? j : 0], -127, 127));

    Builder b(op);
    auto [qx, xz] = b.quantize(op.getLhs(), xScale, xZero);
    Value qw = b.constant(DenseElementsAttr::get(
        RankedTensorType::get({k, n}, b.i8), ArrayRef<int8_t>(q)));
    Value acc =
        b.b.create<QMatmulOp>(b.loc, ValueRange{qx, qw, xz, b.weightZero()},
                              ArrayRef<NamedAttribute>{})
            .getResult();
    // The accumulators' scale: scale_x * scale_w, per column (the last
    // axis) or one.
    std::vector<float> accScale;
    for (float s : wScale)
      accScale.push_back(xScale * s);
    auto resultType = cast<RankedTensorType>(op.getType());
    Value y = b.dequantize(acc, accScale, resultType.getRank() - 1);
    op.replaceAllUsesWith(y);
    op.erase();
  }

  void rewrite(Conv2DOp op, double lo, double hi) {
    auto wType = cast<RankedTensorType>(op.getWeight().getType());
    if (op.getGroups() != 1 || !wType.getElementType().isF32())
      return;
    std::optional<std::vector<double>> w = knownValues(op.getWeight(), seed);
    if (!w)
      return;
    auto [xScale, xZero] = activationParams(lo, hi);
    // Weights: i8 symmetric per output channel (a filter's channels differ
    // in magnitude far more than a matmul's columns, above all after a
    // folded batch norm).
    int64_t o = wType.getDimSize(0), per = wType.getNumElements() / o;
    std::vector<float> accScale(o);
    std::vector<int8_t> q(w->size());
    for (int64_t c = 0; c < o; ++c) {
      double amax = 0.0;
      for (int64_t i = 0; i < per; ++i)
        amax = std::max(amax, std::abs((*w)[c * per + i]));
      float scale = weightScale(amax);
      for (int64_t i = 0; i < per; ++i)
        q[c * per + i] = static_cast<int8_t>(
            quantizeValue((*w)[c * per + i], scale, -127, 127));
      accScale[c] = xScale * scale;
    }

    Builder b(op);
    auto [qx, xz] = b.quantize(op.getInput(), xScale, xZero);
    Value qw = b.constant(DenseElementsAttr::get(
        RankedTensorType::get(wType.getShape(), b.i8), ArrayRef<int8_t>(q)));
    Value acc =
        b.b.create<QConv2DOp>(
               b.loc, ValueRange{qx, qw, xz, b.weightZero()},
               ArrayRef<NamedAttribute>{
                   b.b.getNamedAttr("strides", op.getStridesAttr()),
                   b.b.getNamedAttr("pads", op.getPadsAttr()),
                   b.b.getNamedAttr("dilations", op.getDilationsAttr())})
            .getResult();
    Value y = b.dequantize(acc, accScale, 1);
    if (Value bias = op.getBias()) {
      // A bias known now is put on the accumulators' grid, round(b / s) * s
      // with s = scale_x * scale_w: the int32 bias of QLinearConv and of the
      // QDQ export (compiler/Onnx/Export.cpp), so that the exported model
      // computes what this one does; off by at most s / 2 from b.
      if (std::optional<std::vector<double>> values = knownValues(bias, seed)) {
        std::vector<float> grid(o);
        for (int64_t c = 0; c < o; ++c) {
          double steps = std::nearbyint((*values)[c] / accScale[c]);
          grid[c] = std::abs(steps) < 2147483647.0
                        ? static_cast<float>(steps * accScale[c])
                        : static_cast<float>((*values)[c]);
        }
        bias = b.constant(DenseElementsAttr::get(
            RankedTensorType::get({o}, b.f32), ArrayRef<float>(grid)));
      }
      Value column = b.b.create<ReshapeOp>(b.loc, bias,
                                           b.b.getDenseI64ArrayAttr({o, 1, 1}));
      y = b.b.create<AddOp>(b.loc, y, column);
    }
    op.replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace
