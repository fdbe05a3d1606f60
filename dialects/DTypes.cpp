//===- DTypes.cpp - element types of the table as MLIR types --------------===//

#include "dialects/DTypes.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

Type mlir::anvil::mlirTypeOf(::anvil::DType dtype, MLIRContext &context) {
  const ::anvil::DTypeInfo &info = ::anvil::dtypeInfo(dtype);
  if (info.mlirBits == 0)
    return {};
  if (info.isFloat)
    return info.mlirBits == 32 ? Type(Float32Type::get(&context))
                               : Type(Float64Type::get(&context));
  // uint8 alone is unsigned: the table's one type whose bits are read
  // differently from the signless integer of its width.
  return IntegerType::get(&context, info.mlirBits,
                          dtype == ::anvil::DType::U8 ? IntegerType::Unsigned
                                                      : IntegerType::Signless);
}

std::optional<::anvil::DType> mlir::anvil::dtypeOf(Type type) {
  for (const ::anvil::DTypeInfo &info : ::anvil::kDTypes)
    if (mlirTypeOf(info.dtype, *type.getContext()) == type)
      return info.dtype;
  return std::nullopt;
}

std::optional<::anvil::TensorSpec> mlir::anvil::specOf(Type type,
                                                       llvm::StringRef name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  std::optional<::anvil::DType> dtype = dtypeOf(tensor.getElementType());
  if (!dtype)
    return std::nullopt;
  return ::anvil::TensorSpec{
      name.str(), *dtype,
      std::vector<int64_t>(tensor.getShape().begin(), tensor.getShape().end())};
}
