//===- TensorProto.cpp - ONNX tensors and data types ----------------------===//
//
// ONNX data types against Anvil's dtypes and MLIR element types, and
// TensorProto payloads: raw_data or the typed fields on reading (checked
// against the dims before anything of their size is allocated), raw_data on
// writing. External data is refused with advice.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/TensorProto.h"
#include "runtime/Error.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringRef.h"

#include <onnx/onnx_pb.h>

#include <cerrno>
#include <cstring>
#include <fstream>

using namespace mlir;
using ::anvil::DType;
using ::anvil::NpyArray;

namespace mlir::anvil {

std::optional<DType> dtypeOfOnnx(int type) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
    return DType::F32;
  case onnx::TensorProto::DOUBLE:
    return DType::F64;
  case onnx::TensorProto::INT64:
    return DType::I64;
  case onnx::TensorProto::INT32:
    return DType::I32;
  case onnx::TensorProto::INT8:
    return DType::I8;
  case onnx::TensorProto::UINT8:
    return DType::U8;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  default:
    return std::nullopt;
  }
}

int onnxOfDtype(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return onnx::TensorProto::FLOAT;
  case DType::F64:
    return onnx::TensorProto::DOUBLE;
  case DType::I64:
    return onnx::TensorProto::INT64;
  case DType::I32:
    return onnx::TensorProto::INT32;
  case DType::I8:
    return onnx::TensorProto::INT8;
  case DType::U8:
    return onnx::TensorProto::UINT8;
  case DType::Bool:
    return onnx::TensorProto::BOOL;
  }
  return onnx::TensorProto::UNDEFINED;
}

std::string onnxTypeName(int type) {
  if (!onnx::TensorProto_DataType_IsValid(type))
    return "type " + std::to_string(type);
  return llvm::StringRef(onnx::TensorProto_DataType_Name(type)).lower();
}

/// The element type compiled code uses for `dtype` (null: none).
Type mlirTypeOf(DType dtype, MLIRContext &context) {
  switch (dtype) {
  case DType::F32:
    return Float32Type::get(&context);
  case DType::F64:
    return Float64Type::get(&context);
  case DType::I64:
    return IntegerType::get(&context, 64);
  case DType::I32:
    return IntegerType::get(&context, 32);
  case DType::I8:
    return IntegerType::get(&context, 8);
  case DType::Bool:
    return IntegerType::get(&context, 1);
  case DType::U8:
    return {};
  }
  return {};
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The data of a TensorProto; throws anvil::Error mentioning `where`.
NpyArray tensorFromProto(const onnx::TensorProto &t, const std::string &where) {
  std::optional<DType> dtype = dtypeOfOnnx(t.data_type());
  if (!dtype)
    throw ::anvil::Error(where + ": holds a tensor of " +
                         onnxTypeName(t.data_type()) +
                         ", which Anvil does not handle");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw ::anvil::Error(where +
                         ": keeps its data in an external file, which Anvil "
                         "does not read; save the model with the data inside");
  NpyArray array;
  array.dtype = *dtype;
  for (int64_t d : t.dims()) {
    if (d < 0)
      throw ::anvil::Error(where + ": has a negative dimension");
    array.shape.push_back(d);
  }
  // The dims are the file's claim: compare the data present with them
  // before allocating anything of their size.
  int64_t bytes = ::anvil::byteCount(*dtype, array.shape);
  if (bytes < 0)
    throw ::anvil::Error(where + ": claims shape " + shapeString(array.shape) +
                         ", more data than any file can hold; the file is "
                         "corrupt");
  size_t size = ::anvil::dtypeSize(*dtype);
  int64_t n = bytes / static_cast<int64_t>(size);
  auto mismatch = [&](size_t got) {
    return ::anvil::Error(where + ": has " + std::to_string(got) +
                          " values for shape " + shapeString(array.shape) +
                          " (" + std::to_string(n) +
                          "); the file is truncated or corrupt");
  };
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<size_t>(bytes))
      throw mismatch(t.raw_data().size() / size);
    array.bytes.assign(t.raw_data().begin(), t.raw_data().end());
    return array;
  }
  auto copy = [&](const auto &field, auto convert) {
    if (static_cast<int64_t>(field.size()) != n)
      throw mismatch(field.size());
    array.bytes.resize(bytes);
    for (int64_t i = 0; i < n; ++i) {
      auto v = convert(field.Get(i));
      std::memcpy(array.bytes.data() + i * size, &v, size);
    }
  };
  switch (*dtype) {
  case DType::F32:
    copy(t.float_data(), [](float v) { return v; });
    break;
  case DType::F64:
    copy(t.double_data(), [](double v) { return v; });
    break;
  case DType::I64:
    copy(t.int64_data(), [](int64_t v) { return v; });
    break;
  case DType::I32:
    copy(t.int32_data(), [](int32_t v) { return v; });
    break;
  case DType::I8:
    copy(t.int32_data(), [](int32_t v) { return static_cast<int8_t>(v); });
    break;
  case DType::U8:
    copy(t.int32_data(), [](int32_t v) { return static_cast<uint8_t>(v); });
    break;
  case DType::Bool:
    copy(t.int32_data(),
         [](int32_t v) { return static_cast<uint8_t>(v != 0); });
    break;
  }
  return array;
}

NpyArray readTensorProto(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw ::anvil::Error("cannot open '" + path +
                         "': " + std::string(strerror(errno)));
  onnx::TensorProto tensor;
  if (!tensor.ParseFromIstream(&file))
    throw ::anvil::Error(path + ": is not a serialized onnx.TensorProto "
                                "(truncated or corrupt?)");
  return tensorFromProto(tensor, path);
}

void writeTensorProto(const std::string &path, const NpyArray &array,
                      const std::string &name) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnxOfDtype(array.dtype));
  for (int64_t d : array.shape)
    tensor.add_dims(d);
  tensor.set_raw_data(std::string(array.bytes.begin(), array.bytes.end()));
  std::string bytes;
  if (!tensor.SerializeToString(&bytes))
    throw ::anvil::Error("cannot serialize the tensor for '" + path + "'");
  ::anvil::writeFileAtomically(path, bytes);
}

} // namespace mlir::anvil
