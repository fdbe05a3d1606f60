//===- Export.h - the anvil dialect out to ONNX -----------------*- C++ -*-===//
//
// exportOnnx serializes one function of a module (the inference graph, on
// tensors: the import or graph phase) as an ONNX model at opset 17.
// Parameters become initializers with their current values (their `dense`
// value, or their initializer run with `seed`); anvil.constant becomes a
// Constant node. Graph inputs and outputs keep the names an ONNX import
// recorded (`onnx.name`), else input_K / output_K. An op without an ONNX
// form is listed, all of them at once, and nothing is serialized.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_ONNX_EXPORT_H
#define ANVIL_COMPILER_ONNX_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::anvil {

/// An exported model: the serialized ModelProto and, when the parameter
/// data was left out, one serialized TensorProto per initializer holding
/// everything but the data (name, dtype, dims), in graph order.
struct OnnxExport {
  std::string model;
  std::vector<std::pair<std::string, std::string>> initializerHeaders;
};

/// Exports @`function` of `module`. With `withData` the initializers are in
/// the model; without, they are left out and described by the headers (a
/// trainer appends them with its current values). Returns "" on success,
/// else the message to print. With `batchDims` (the dimension that holds
/// the batch, for each value of a function that keeps its samples apart:
/// anvil-mark-batch's findBatchPlaces) the batch is symbolic: the inputs'
/// and outputs' leading dimension is `dim_param: "batch"`, reshapes give
/// its dimension as -1 and slices take all of it, so that the model runs at
/// any batch.
std::string
exportOnnx(ModuleOp module, const std::string &function, uint64_t seed,
           bool withData, OnnxExport &out,
           const llvm::DenseMap<Value, int64_t> *batchDims = nullptr);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_ONNX_EXPORT_H
