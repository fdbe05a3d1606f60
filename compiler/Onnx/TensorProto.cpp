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

#include "mlir/IR/BuiltinAttributes.h"
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
  return ::anvil::dtypeFromOnnx(type);
}

int onnxOfDtype(DType dtype) { return ::anvil::dtypeInfo(dtype).onnxType; }

int onnxOfElementType(Type type) {
  std::optional<DType> dtype = dtypeOf(type);
  return dtype ? onnxOfDtype(*dtype) : onnx::TensorProto::UNDEFINED;
}

std::string onnxTypeName(int type) {
  if (!onnx::TensorProto_DataType_IsValid(type))
    return "type " + std::to_string(type);
  return llvm::StringRef(onnx::TensorProto_DataType_Name(type)).lower();
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

void tensorToProto(const NpyArray &array, onnx::TensorProto &t) {
  t.set_data_type(onnxOfDtype(array.dtype));
  t.clear_dims();
  for (int64_t d : array.shape)
    t.add_dims(d);
  t.set_raw_data(std::string(array.bytes.begin(), array.bytes.end()));
}

void tensorToProto(DenseElementsAttr attr, onnx::TensorProto &t) {
  auto type = cast<RankedTensorType>(attr.getType());
  Type element = type.getElementType();
  t.set_data_type(onnxOfElementType(element));
  t.clear_dims();
  for (int64_t d : type.getShape())
    t.add_dims(d);
  // Element by element: a splat holds one value, and MLIR packs i1 in bits
  // where ONNX wants a byte per bool.
  std::string raw;
  auto append = [&](const void *p, size_t n) {
    raw.append(static_cast<const char *>(p), n);
  };
  if (element.isF32()) {
    for (float v : attr.getValues<float>())
      append(&v, 4);
  } else if (element.isF64()) {
    for (double v : attr.getValues<double>())
      append(&v, 8);
  } else if (element.isInteger(1)) {
    for (bool v : attr.getValues<bool>()) {
      char c = v;
      append(&c, 1);
    }
  } else {
    unsigned bytes = element.getIntOrFloatBitWidth() / 8;
    for (APInt v : attr.getValues<APInt>()) {
      int64_t x = v.getSExtValue();
      append(&x, bytes);
    }
  }
  t.set_raw_data(raw);
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
  tensorToProto(array, tensor);
  std::string bytes;
  if (!tensor.SerializeToString(&bytes))
    throw ::anvil::Error("cannot serialize the tensor for '" + path + "'");
  ::anvil::writeFileAtomically(path, bytes);
}

} // namespace mlir::anvil
