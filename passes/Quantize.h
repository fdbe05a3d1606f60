//===- Quantize.h - what anvil-quantize reads -------------------*- C++ -*-===//
//
// The attribute by which `anvilc quantize` hands each matmul's and
// convolution's calibrated input range to anvil-quantize
// (passes/Quantize.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_QUANTIZE_H
#define ANVIL_PASSES_QUANTIZE_H

#include "llvm/ADT/StringRef.h"

namespace mlir::anvil {

/// On an anvil.matmul or anvil.conv2d: `array<f64: min, max>`, the range its
/// activations (lhs, input) took on the calibration data.
inline constexpr llvm::StringLiteral kCalibrationAttr = "anvil.calibration";

/// On an anvil.param: a value the model reads but training does not change
/// (anvil-fake-quantize's ranges): autodiff gives it no gradient, so the
/// optimizer leaves it.
inline constexpr llvm::StringLiteral kFixedParamAttr = "anvil.fixed";
} // namespace mlir::anvil

#endif // ANVIL_PASSES_QUANTIZE_H
