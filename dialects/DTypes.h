//===- DTypes.h - element types of the table as MLIR types ------*- C++ -*-===//
//
// The MLIR column of runtime/DType.h's element-type table: the element type
// compiled code uses for each dtype, the dtype of an element type, and the
// TensorSpec of a static tensor type. Everything else about a dtype (name,
// size, file codes, C type) comes from the table itself.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_DTYPES_H
#define ANVIL_DIALECTS_DTYPES_H

#include "runtime/DType.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::anvil {

/// The element type compiled code uses for `dtype` (null: none, as for u8).
Type mlirTypeOf(::anvil::DType dtype, MLIRContext &context);
/// The dtype of element type `type`, if the table has one.
std::optional<::anvil::DType> dtypeOf(Type type);
/// The spec of `type` if it is a static tensor of a dtype of the table.
std::optional<::anvil::TensorSpec> specOf(Type type, llvm::StringRef name = "");

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_DTYPES_H
