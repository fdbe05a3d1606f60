//===- TensorProto.h - ONNX tensors and data types --------------*- C++ -*-===//
//
// ONNX data types against Anvil's dtypes (the ONNX column of the table in
// runtime/DType.h), and onnx.TensorProto payloads read and written; the
// importer, the exporter and `anvilc run`'s .pb files all use it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_ONNX_TENSORPROTO_H
#define ANVIL_COMPILER_ONNX_TENSORPROTO_H

#include "dialects/DTypes.h"
#include "runtime/Npy.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/ArrayRef.h"

#include <optional>
#include <string>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace mlir::anvil {

/// The Anvil dtype of an ONNX TensorProto data type, if it has one.
std::optional<::anvil::DType> dtypeOfOnnx(int type);
/// The ONNX data type of `dtype`.
int onnxOfDtype(::anvil::DType dtype);
/// "float", "int64", ...; "type N" for a number ONNX does not define.
std::string onnxTypeName(int type);
/// The ONNX data type of an element type of compiled code (UNDEFINED: none).
int onnxOfElementType(Type type);

/// "[2, 3]", for messages.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// The data of a TensorProto; throws anvil::Error mentioning `where`.
::anvil::NpyArray tensorFromProto(const onnx::TensorProto &t,
                                  const std::string &where);

/// Fills `t`'s data type, dims and raw_data from `array` / `attr` (its
/// name is left as it is).
void tensorToProto(const ::anvil::NpyArray &array, onnx::TensorProto &t);
void tensorToProto(DenseElementsAttr attr, onnx::TensorProto &t);

/// Reads a serialized onnx.TensorProto; throws anvil::Error naming the file.
::anvil::NpyArray readTensorProto(const std::string &path);
/// Writes `array` as a serialized onnx.TensorProto, atomically.
void writeTensorProto(const std::string &path, const ::anvil::NpyArray &array,
                      const std::string &name = "");

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_ONNX_TENSORPROTO_H
