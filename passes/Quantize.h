//===- Quantize.h - what anvil-quantize reads -------------------*- C++ -*-===//
//
// The attribute by which `anvilc quantize` (and `anvilc train --qat`) hands
// each matmul's and convolution's calibrated input range to anvil-quantize
// (passes/Quantize.cpp) and anvil-fake-quantize (passes/FakeQuantize.cpp),
// the helper both read it with, and the mark of a parameter that training
// leaves alone (a fake quantization's range).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_QUANTIZE_H
#define ANVIL_PASSES_QUANTIZE_H

#include "dialects/AnvilOps.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::anvil {

/// On an anvil.matmul or anvil.conv2d: `array<f64: min, max>`, the range its
/// activations (lhs, input) took on the calibration data.
inline constexpr llvm::StringLiteral kCalibrationAttr = "anvil.calibration";

/// A matmul or convolution and the range `anvilc quantize` calibrated for
/// its activations.
struct CalibratedLayer {
  Operation *op;
  double lo, hi;
};

/// The anvil.matmul and anvil.conv2d ops under `root` that carry a range
/// (kCalibrationAttr), in walk order; every one of them loses the attribute,
/// with a range or not (what anvil-quantize and anvil-fake-quantize read).
inline llvm::SmallVector<CalibratedLayer>
takeCalibratedLayers(Operation *root) {
  llvm::SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<MatmulOp, Conv2DOp>(op))
      ops.push_back(op);
  });
  llvm::SmallVector<CalibratedLayer> layers;
  for (Operation *op : ops) {
    auto range = op->getAttrOfType<DenseF64ArrayAttr>(kCalibrationAttr);
    op->removeAttr(kCalibrationAttr);
    if (range && range.size() == 2)
      layers.push_back({op, range.asArrayRef()[0], range.asArrayRef()[1]});
  }
  return layers;
}

/// On an anvil.param: a value the model reads but training does not change
/// (anvil-fake-quantize's ranges): autodiff gives it no gradient, so the
/// optimizer leaves it.
inline constexpr llvm::StringLiteral kFixedParamAttr = "anvil.fixed";
} // namespace mlir::anvil

#endif // ANVIL_PASSES_QUANTIZE_H
