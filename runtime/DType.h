//===- DType.h - element types and tensor specs -----------------*- C++ -*-===//
//
// The one table of the element types Anvil handles, with what every format
// it meets calls each: the short name of signatures and messages, the size,
// the .npy descriptor, the weights-file code, the C type of generated
// headers, the ONNX TensorProto data type and the MLIR element type (as a
// kind and a width; dialects/DTypes.h makes the mlir::Type of it). Beside it,
// TensorSpec: a tensor's name, element type and shape. Header-only and free
// of MLIR, so that the runtime linked into executables, the dialect and the
// compiler all read the same rows.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_DTYPE_H
#define ANVIL_RUNTIME_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace anvil {

/// Element types of tensors crossing the runtime's file boundaries.
enum class DType { F32, F64, I64, I32, I8, U8, Bool };

/// One row of the element-type table.
struct DTypeInfo {
  DType dtype;
  /// "f32": signatures of compiled models ("f32[64,784]") and messages.
  const char *name;
  /// Bytes per element in files and memory.
  size_t size;
  /// numpy's descriptor, little-endian ("<f4"; one-byte types use '|').
  const char *npyDescr;
  /// The element type code of weights files (Weights.h). Part of the file
  /// format: never renumber.
  uint8_t checkpointCode;
  /// The C type of generated headers ("float").
  const char *cType;
  /// onnx.TensorProto.DataType (onnx.proto; TensorProto.cpp checks them).
  int onnxType;
  /// The MLIR element type: a float (f32, f64) or integer (i64 .. i1) of
  /// `mlirBits` bits, signless except uint8, which is MLIR's `ui8` (only the
  /// quantization ops take it; arithmetic stays signless); 0 bits when
  /// compiled code has none.
  bool isFloat;
  unsigned mlirBits;
};

inline constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "f32", 4, "<f4", 0, "float", 1, true, 32},
    {DType::F64, "f64", 8, "<f8", 1, "double", 11, true, 64},
    {DType::I64, "i64", 8, "<i8", 2, "int64_t", 7, false, 64},
    {DType::I32, "i32", 4, "<i4", 3, "int32_t", 6, false, 32},
    {DType::I8, "i8", 1, "|i1", 4, "int8_t", 3, false, 8},
    {DType::U8, "u8", 1, "|u1", 5, "uint8_t", 2, false, 8},
    {DType::Bool, "bool", 1, "|b1", 6, "bool", 9, false, 1},
};

/// The row of `dtype`.
inline const DTypeInfo &dtypeInfo(DType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i;
  return kDTypes[0]; // unreachable: every enumerator has a row
}

/// The first row whose `field` equals `value`, if any.
template <typename T, typename F>
std::optional<DType> findDType(F DTypeInfo::*field, const T &value) {
  for (const DTypeInfo &i : kDTypes)
    if (i.*field == value)
      return i.dtype;
  return std::nullopt;
}

/// Bytes per element of `dtype`.
inline size_t dtypeSize(DType dtype) { return dtypeInfo(dtype).size; }
/// A short name: "f32", "i64", "bool", ...
inline const char *dtypeName(DType dtype) { return dtypeInfo(dtype).name; }
/// The dtype named `name` ("f32"), if any.
inline std::optional<DType> dtypeFromName(std::string_view name) {
  for (const DTypeInfo &i : kDTypes)
    if (name == i.name)
      return i.dtype;
  return std::nullopt;
}
/// The dtype of numpy descriptor `descr` ("<f4"; "<b1" for "|b1" too, as
/// some writers use '<' for one-byte types), if any.
inline std::optional<DType> dtypeFromNpy(std::string_view descr) {
  for (const DTypeInfo &i : kDTypes)
    if (descr == i.npyDescr || (descr.size() > 1 && descr[0] == '<' &&
                                descr.substr(1) == i.npyDescr + 1))
      return i.dtype;
  return std::nullopt;
}
/// The dtype of weights-file code `code`, if any.
inline std::optional<DType> dtypeFromCheckpointCode(uint8_t code) {
  return findDType(&DTypeInfo::checkpointCode, code);
}
/// The dtype of ONNX data type `type`, if Anvil has one.
inline std::optional<DType> dtypeFromOnnx(int type) {
  return findDType(&DTypeInfo::onnxType, type);
}

/// The bytes of a dense array of `dtype` and `shape`, or -1 if a dimension
/// is negative or the count overflows (beyond 2^62).
inline int64_t byteCount(DType dtype, const std::vector<int64_t> &shape) {
  uint64_t n = dtypeSize(dtype);
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > (uint64_t(1) << 62) / uint64_t(d)))
      return -1;
    n *= d;
  }
  return static_cast<int64_t>(n);
}

/// Calls `f(T())` with the C type T of `dtype`'s elements (uint8_t for
/// bool, whose bytes may hold any value in files).
template <typename F> auto visitDType(DType dtype, F &&f) {
  switch (dtype) {
  case DType::F32:
    return f(float());
  case DType::F64:
    return f(double());
  case DType::I64:
    return f(int64_t());
  case DType::I32:
    return f(int32_t());
  case DType::I8:
    return f(int8_t());
  case DType::U8:
  case DType::Bool:
    break;
  }
  return f(uint8_t());
}

/// Element `i` of the raw little-endian data `bytes` of `dtype`, as a
/// double (a bool as 0 or 1).
inline double loadElement(DType dtype, const char *bytes, int64_t i) {
  double v = visitDType(dtype, [&](auto t) {
    std::memcpy(&t, bytes + i * sizeof(t), sizeof(t));
    return static_cast<double>(t);
  });
  return dtype == DType::Bool ? (v != 0.0) : v;
}

/// Stores `v` as element `i` of the raw data `bytes` of `dtype`, rounded as
/// a C cast does (integers through int64, a bool as v != 0).
inline void storeElement(DType dtype, char *bytes, int64_t i, double v) {
  if (dtype == DType::Bool)
    v = v != 0.0;
  visitDType(dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_floating_point_v<T>)
      t = static_cast<T>(v);
    else
      t = static_cast<T>(static_cast<int64_t>(v));
    std::memcpy(bytes + i * sizeof(t), &t, sizeof(t));
    return 0;
  });
}

/// What a tensor is, short of its data: a name (empty where it has none,
/// such as the arguments of a signature), an element type and a shape.
struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  /// product(shape) x dtypeSize(dtype), or -1 on overflow (byteCount).
  int64_t byteSize() const { return byteCount(dtype, shape); }
  /// "f32[784,256]", as in the signatures of compiled models.
  std::string typeText() const {
    std::string s = std::string(dtypeName(dtype)) + "[";
    for (size_t i = 0; i < shape.size(); ++i)
      s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
  }
  /// The same element type and shape (names aside).
  bool sameType(const TensorSpec &other) const {
    return dtype == other.dtype && shape == other.shape;
  }
};

} // namespace anvil

#endif // ANVIL_RUNTIME_DTYPE_H
