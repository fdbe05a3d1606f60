//===- Kernels.h - naive reference kernels of every anvil op ----*- C++ -*-===//
//
// One plain, obviously-correct function per op of the `anvil` dialect, on
// ref::Tensor (double precision). They are the numeric truth every compiled
// kernel is tested against, so they favour clarity over speed: loops over
// multi-indices, no blocking, no tricks beyond the ones numerical stability
// needs (softmax and cross-entropy subtract the maximum). Each computes its
// own output shape from its inputs, independently of the dialect's shape
// inference, and the interpreter checks that the two agree. Bad values that
// only show at run time (an index or label out of range) throw anvil::Error.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_REFERENCE_KERNELS_H
#define ANVIL_COMPILER_REFERENCE_KERNELS_H

#include "compiler/Reference/Tensor.h"
#include "dialects/AnvilOps.h"

#include <optional>
#include <string>

namespace anvil::ref {

//===--- Elementwise ------------------------------------------------------===//

enum class BinaryKind { Add, Sub, Mul, Div, Pow, Max, Min };
enum class UnaryKind {
  Neg,
  Abs,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Relu,
  Sigmoid,
  Tanh,
  Erf,
  Gelu,
  GeluTanh
};

/// numpy-broadcasting elementwise op; integer division truncates.
Tensor binary(BinaryKind kind, const Tensor &lhs, const Tensor &rhs);
/// `lhs <predicate> rhs` (eq ne lt le gt ge) as a bool tensor, broadcasting.
Tensor compare(mlir::anvil::ComparePredicate predicate, const Tensor &lhs,
               const Tensor &rhs);
/// `condition ? lhs : rhs`, broadcasting all three.
Tensor where(const Tensor &condition, const Tensor &lhs, const Tensor &rhs);
Tensor unary(UnaryKind kind, const Tensor &x);
Tensor leakyRelu(const Tensor &x, double alpha);
Tensor clip(const Tensor &x, std::optional<double> lo,
            std::optional<double> hi);
/// 1 at each label's position along a new last axis of `classes`; a label
/// out of range gives a row of zeros.
Tensor oneHot(const Tensor &labels, int64_t classes, DType dtype);
/// `grad` where `input > 0`, else 0 (the gradient of relu).
Tensor reluGrad(const Tensor &input, const Tensor &grad);
/// Floats to integers truncate toward zero; anything to bool is `x != 0`;
/// to f32 rounds to single precision.
Tensor castTo(const Tensor &x, DType to);

//===--- Linear algebra, softmax, reductions ------------------------------===//

Tensor matmul(const Tensor &a, const Tensor &b, bool transposeA,
              bool transposeB);
/// Every element rounded to the nearest bf16 (ties to even), kept as f32:
/// the operands of a `bf16` matmul.
Tensor roundedToBf16(const Tensor &x);
Tensor softmax(const Tensor &x, int64_t axis);
Tensor logSoftmax(const Tensor &x, int64_t axis);
enum class ReduceKind { Sum, Mean, Max };
Tensor reduce(ReduceKind kind, const Tensor &x, const Shape &axes,
              bool keepdims);
/// The first position of the maximum along `axis` (dropped), as i64; a NaN
/// beats every number.
Tensor argmax(const Tensor &x, int64_t axis);

//===--- Shapes -----------------------------------------------------------===//

Tensor reshape(const Tensor &x, const Shape &shape);
Tensor transpose(const Tensor &x, const Shape &perm);
Tensor flatten(const Tensor &x, int64_t axis);
Tensor concat(const std::vector<Tensor> &inputs, int64_t axis);
Tensor slice(const Tensor &x, const Shape &starts, const Shape &ends,
             const Shape &steps);
Tensor gather(const Tensor &x, const Tensor &indices, int64_t axis);
/// ONNX GatherElements: out[idx] = x[idx with indices[idx] at `axis`].
Tensor gatherElements(const Tensor &x, const Tensor &indices, int64_t axis);
/// The gradient of slice: zeros of `shape`, with `grad` at the positions the
/// slice with `starts` and `steps` read.
Tensor sliceGrad(const Tensor &grad, const Shape &shape, const Shape &starts,
                 const Shape &steps);
/// The gradient of gather with respect to its data (whose size along `axis`
/// is `axisSize`): each slice of `grad` added at its index; repeated indices
/// accumulate.
Tensor gatherGrad(const Tensor &grad, const Tensor &indices, int64_t axis,
                  int64_t axisSize);

//===--- Convolution and pooling (NCHW) -----------------------------------===//

/// `pads` is [top, left, bottom, right]; `bias` may be null.
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor *bias,
              const Shape &strides, const Shape &pads, const Shape &dilations,
              int64_t groups);
Tensor maxPool2d(const Tensor &x, const Shape &kernel, const Shape &strides,
                 const Shape &pads, const Shape &dilations, bool ceilMode);
Tensor avgPool2d(const Tensor &x, const Shape &kernel, const Shape &strides,
                 const Shape &pads, bool ceilMode, bool countIncludePad);
Tensor globalAvgPool(const Tensor &x);
/// The gradients of conv2d: of its input (`inputSize` is [H, W]) and of its
/// filter (`kernel` is [kh, kw]), from the gradient of its output.
Tensor conv2dGradInput(const Tensor &grad, const Tensor &w,
                       const Shape &inputSize, const Shape &strides,
                       const Shape &pads, const Shape &dilations,
                       int64_t groups);
Tensor conv2dGradFilter(const Tensor &x, const Tensor &grad,
                        const Shape &kernel, const Shape &strides,
                        const Shape &pads, const Shape &dilations,
                        int64_t groups);
/// The gradient of max_pool2d: each output gradient goes to the first
/// maximum of its window (row-major order).
Tensor maxPool2dGrad(const Tensor &x, const Tensor &grad, const Shape &kernel,
                     const Shape &strides, const Shape &pads,
                     const Shape &dilations);
/// The gradient of avg_pool2d (of an input of spatial size `inputSize`):
/// each output gradient divided by its window's divisor, given to every
/// in-bounds cell of the window.
Tensor avgPool2dGrad(const Tensor &grad, const Shape &inputSize,
                     const Shape &kernel, const Shape &strides,
                     const Shape &pads, bool ceilMode, bool countIncludePad);

//===--- Normalization and dropout ----------------------------------------===//

Tensor batchNorm(const Tensor &x, const Tensor &scale, const Tensor &bias,
                 const Tensor &mean, const Tensor &var, double epsilon);
/// Returns {output, batch mean, biased batch variance}.
std::vector<Tensor> batchNormTrain(const Tensor &x, const Tensor &scale,
                                   const Tensor &bias, double epsilon);
Tensor layerNorm(const Tensor &x, const Tensor &scale, const Tensor &bias,
                 int64_t axis, double epsilon);
/// Returns {output, mask}; element i is kept when
/// mlir::anvil::dropoutUniform(seed, i) >= ratio (dialects/ParamInit.h).
std::vector<Tensor> dropout(const Tensor &x, double ratio, bool training,
                            uint64_t seed);

//===--- Quantization (ONNX QuantizeLinear, DequantizeLinear) -------------===//

/// `saturate(roundeven(x / scale) + zeroPoint)` in the zero point's dtype (i8
/// or u8), the division in f32 as ONNX computes it, so that ties fall where
/// it puts them; NaN becomes the dtype's minimum. `scale` and `zeroPoint`
/// have one element (per tensor) or rank 1, one entry per index of `x`'s
/// dimension `axis` (per channel).
Tensor quantize(const Tensor &x, const Tensor &scale, const Tensor &zeroPoint,
                int64_t axis);
/// `(q - zeroPoint) * scale` as f32 (the product rounded once), with the
/// per-tensor or per-channel parameters of quantize; the zero point has
/// q's dtype or i32.
Tensor dequantize(const Tensor &q, const Tensor &scale, const Tensor &zeroPoint,
                  int64_t axis);

/// anvil.fake_quantize: `(clamp(roundeven(x / s) + zp, 0, 255) - zp) * s`
/// in f32, `s` and `zp` those of the u8 quantization of `range` ([lo, hi]) by
/// mlir::anvil::activationParams (dialects/QuantParams.h).
Tensor fakeQuantize(const Tensor &x, const Tensor &range);
/// Its straight-through gradient: `grad` where `roundeven(x / s) + zp` is
/// within [0, 255], else 0.
Tensor fakeQuantizeGrad(const Tensor &x, const Tensor &range,
                        const Tensor &grad);
/// anvil.fake_quantize_weights: `clamp(roundeven(w / s), -127, 127) * s`, `s`
/// = mlir::anvil::weightScale(max |w|) of the whole tensor, or with `axis` of
/// each index of that dimension.
Tensor fakeQuantizeWeights(const Tensor &w, std::optional<int64_t> axis);

/// `sum_k (a[..., m, k] - aZero) * (b[..., k, n] - bZero[n])` as i32 (the
/// exact integer sum, wrapped modulo 2^32 like ONNX's int32 accumulator): `a`
/// is [..., M, K], `b` [K, N] or [..., K, N] with a's batch dimensions;
/// `aZero` one value, `bZero` one value or one per column.
Tensor qmatmul(const Tensor &a, const Tensor &b, const Tensor &aZero,
               const Tensor &bZero);
/// `sum_{c,i,j} (x[n, c, h', w'] - xZero) * (w[o, c, i, j] - wZero[o])` as
/// i32 (exact, wrapped like qmatmul): one-group NCHW convolution as conv2d's,
/// the padding counting as xZero (a quantized 0, it adds nothing); `xZero`
/// one value, `wZero` one value or one per output channel.
Tensor qconv2d(const Tensor &x, const Tensor &w, const Tensor &xZero,
               const Tensor &wZero, const Shape &strides, const Shape &pads,
               const Shape &dilations);

//===--- Losses -----------------------------------------------------------===//

/// `reduction` says whether the losses are averaged, summed or kept apart.
Tensor softmaxCrossEntropy(const Tensor &logits, const Tensor &labels,
                           mlir::anvil::LossReduction reduction);
Tensor nllLoss(const Tensor &logProbs, const Tensor &labels,
               mlir::anvil::LossReduction reduction);
Tensor mseLoss(const Tensor &input, const Tensor &target,
               mlir::anvil::LossReduction reduction);

} // namespace anvil::ref

#endif // ANVIL_COMPILER_REFERENCE_KERNELS_H
