//===- CheckpointKeys.h - the names of non-parameter tensors ----*- C++ -*-===//
//
// A weights file or checkpoint (Weights.h) holds the parameters by their own
// names, plus the tensors named here: the optimizer state that BuildTrainStep
// creates as more parameters, the training metadata the trainer writes, and
// what anvilc train stores for the trainer. The compiler and the runtime
// both spell the names from this header, so they cannot drift apart. Names
// starting with `__` are metadata; runtime/README.md lists them all.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_CHECKPOINTKEYS_H
#define ANVIL_RUNTIME_CHECKPOINTKEYS_H

namespace anvil::keys {

/// SGD's velocity of parameter P is the tensor `P.momentum`.
constexpr const char *kMomentumSuffix = ".momentum";
/// Adam's first and second moments of parameter P: `P.adam_m`, `P.adam_v`.
constexpr const char *kAdamMSuffix = ".adam_m";
constexpr const char *kAdamVSuffix = ".adam_v";
/// Adam's step count, shared by every parameter (f32 scalar).
constexpr const char *kAdamStep = "__adam_step";

/// The activation range ([lo, hi], f32) that quantization-aware training
/// (anvilc train --qat) fake-quantized the input of the layer whose weight
/// parameter is P with: `P.qat_range`, which anvilc quantize then uses.
constexpr const char *kQatRangeSuffix = ".qat_range";
/// The same for a matmul whose weights were fake-quantized per output
/// column (anvilc train --qat --per-channel): `P.qat_range_per_column`, so
/// that anvilc quantize quantizes it on the grid it was trained on.
constexpr const char *kQatRangePerColumnSuffix = ".qat_range_per_column";
/// Epochs done (i64 scalar), written by the trainer's --save.
constexpr const char *kEpoch = "__epoch";
/// The trainer's shuffling seed (i64 scalar).
constexpr const char *kSeed = "__seed";

/// anvilc train's --lr (f64 scalar), the trainer's default learning rate.
constexpr const char *kLearningRate = "__lr";
/// The ONNX ModelProto of @forward without parameter data (u8).
constexpr const char *kOnnxModel = "__onnx.model";
/// `__onnx.init:P`: parameter P's serialized TensorProto header (u8).
constexpr const char *kOnnxInitPrefix = "__onnx.init:";
/// Why the model has no ONNX form (u8 text), instead of the two above.
constexpr const char *kOnnxError = "__onnx.error";

} // namespace anvil::keys

#endif // ANVIL_RUNTIME_CHECKPOINTKEYS_H
