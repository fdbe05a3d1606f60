//===- QuantParams.h - the scales and zero points of int8 -------*- C++ -*-===//
//
// How an int8 scale and zero point follow from a calibrated range or from
// weights, in one place: anvil-quantize (post-training), the reference
// kernels of anvil.fake_quantize and anvil.fake_quantize_weights
// (quantization-aware training) and their lowerings compute them the same
// way, so that a model trained through fake quantization is exactly the
// int8 model it becomes.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_QUANTPARAMS_H
#define ANVIL_DIALECTS_QUANTPARAMS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

namespace mlir::anvil {

/// `x / scale` in f32, rounded half to even and clamped to [lo, hi]: the
/// formula of anvil.quantize.
inline int64_t quantizeValue(double x, float scale, int64_t lo, int64_t hi) {
  float q = std::nearbyint(static_cast<float>(x) / scale);
  return std::clamp<int64_t>(static_cast<int64_t>(q), lo, hi);
}

/// The u8 scale and zero point of activations calibrated to [lo, hi]: the
/// range widened to hold 0 (exactly representable, as zero padding and
/// ReLU's zeros need); the scale computed in f64, 1 when it is not positive
/// and finite.
inline std::pair<float, int64_t> activationParams(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  float scale = static_cast<float>((hi - lo) / 255.0);
  if (!(scale > 0.0f) || !std::isfinite(scale))
    scale = 1.0f;
  return {scale, quantizeValue(-lo, scale, 0, 255)};
}

/// The symmetric i8 scale of weights whose largest magnitude is `amax`
/// (quantized to [-127, 127]).
inline float weightScale(double amax) {
  return amax > 0.0 ? static_cast<float>(amax / 127.0) : 1.0f;
}

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_QUANTPARAMS_H
