//===- AnvilOps.h - the anvil graph dialect ---------------------*- C++ -*-===//
//
// Declares the `anvil` dialect and its ops (generated from AnvilOps.td).
// Include this to build or match anvil ops; register the dialect with
// `registry.insert<mlir::anvil::AnvilDialect>()`.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVILOPS_H
#define ANVIL_DIALECTS_ANVILOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/AnvilOpsDialect.h.inc"

namespace mlir::anvil {

/// The most bytes one tensor may take: 2^40 (1 TiB), beyond the memory of
/// any machine Anvil compiles for and far from overflowing a 64-bit byte
/// offset.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// Why a tensor of `type` cannot exist (its element count or byte size
/// overflows 64 bits, or it exceeds kMaxTensorBytes), or "" when it can.
std::string tensorSizeProblem(Type type);

/// Checks every operand and result type of `op` with tensorSizeProblem.
LogicalResult verifyTensorSizes(Operation *op);

/// The trait every anvil op has: its tensors fit the size limit.
template <typename ConcreteType>
class BoundedTensors : public OpTrait::TraitBase<ConcreteType, BoundedTensors> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return verifyTensorSizes(op);
  }
};

/// An index operand of an IndexingOpInterface op: its values must lie in
/// [low, high) (low is -high where negative indices count from the back).
/// `role` names what it holds ("labels", "indices") for messages.
struct IndexBound {
  OpOperand *operand;
  int64_t low, high;
  llvm::StringRef role;
};

/// The interface's verifier: a constant index operand of `op` lies in range.
LogicalResult verifyConstantIndices(Operation *op);

} // namespace mlir::anvil

#include "dialects/AnvilEnums.h.inc"
#include "dialects/AnvilInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/AnvilOps.h.inc"

namespace mlir::anvil {

/// Normalizes a possibly negative `axis` of a rank-`rank` tensor into
/// [0, rank), or returns -1 when it is out of range.
int64_t normalizeAxis(int64_t axis, int64_t rank);

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_ANVILOPS_H
