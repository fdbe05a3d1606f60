//===- OnnxOut.h - a trainer's model out to ONNX ----------------*- C++ -*-===//
//
// `anvilc train` stores in the trainer's weights file an ONNX model of
// @forward without its parameter data (`__onnx.model`) and, per parameter, a
// serialized TensorProto holding its name, dtype and dims
// (`__onnx.init:<name>`). A trainer's --export-onnx appends the current
// values: protobuf merges a repeated `graph` field, so the model is the
// stored bytes plus one more `graph` holding the initializers. No protobuf
// library is needed at run time.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ONNXOUT_H
#define ANVIL_RUNTIME_ONNXOUT_H

#include "runtime/Weights.h"

#include <string>
#include <vector>

namespace anvil {

/// The ONNX model described by the `__onnx.*` entries of `stored` (the
/// weights file) with the parameter values in `values`. Throws anvil::Error
/// if the trainer has no ONNX form (the reason anvilc recorded) or a
/// parameter is missing; a trainer calls it once before training to check.
std::string onnxModel(const std::vector<NamedTensor> &stored,
                      const std::vector<NamedTensor> &values);

} // namespace anvil

#endif // ANVIL_RUNTIME_ONNXOUT_H
