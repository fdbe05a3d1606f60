//===- Passes.h - every pass of Anvil ---------------------------*- C++ -*-===//
//
// Declarations and registration of the passes in Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_PASSES_H
#define ANVIL_PASSES_PASSES_H

#include "dialects/AnvilOps.h"
#include "passes/TrainOptions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::anvil {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The attributes anvil-record-interface sets (see Passes.td), which code
/// generation reads from the final module: a public function's signature
/// on tensors, and the module's parameters kept in storage.
inline constexpr llvm::StringLiteral kSignatureAttr = "anvil.signature";
inline constexpr llvm::StringLiteral kExternalParamsAttr =
    "anvil.external_params";
/// The function attribute anvil-mark-batch sets, `anvil.batch = B : i64`:
/// the function maps each of the B samples along the leading dimension of
/// its arguments and results independently. Codegen records it in the
/// entry-point table, so that executables run any number of samples.
inline constexpr llvm::StringLiteral kBatchAttr = "anvil.batch";
/// The unit attribute anvil-parallelize-images sets on a matmul that runs
/// inside a parallel loop over images: anvil-tile-and-vectorize keeps it in
/// one block (parallel regions do not nest).
inline constexpr llvm::StringLiteral kInParallelLoopAttr =
    "anvil.in_parallel_loop";

/// Where a value holds the batch of its function: in dimension `dim`, whose
/// index i is sample (i / inner) % B (reshapes merge the batch with other
/// dimensions: multi-head attention's with the heads and the sequence).
struct BatchPlace {
  int64_t dim, inner = 1;
  bool operator==(const BatchPlace &o) const {
    return dim == o.dim && inner == o.inner;
  }
  bool operator!=(const BatchPlace &o) const { return !(*this == o); }
};
/// anvil-mark-batch's analysis of a function whose arguments and results all
/// lead with the same B: fills `places` with where each value holds the
/// batch (values absent are the same for every sample), or fails with `why`
/// (and the op it stops at, if any) when the function mixes its samples or
/// the analysis does not know an op.
LogicalResult findBatchPlaces(func::FuncOp func,
                              DenseMap<Value, BatchPlace> &places,
                              std::string *why = nullptr,
                              Operation **where = nullptr);

/// Re-batches one function from `old` to `batch` as anvil-set-batch does
/// (arguments, then each op's inferred result type); anvil-split-batch
/// uses it on its chunk. Where the function keeps its samples apart
/// (findBatchPlaces), reshapes and slices follow the batch wherever it is;
/// elsewhere it must be their leading dimension. Fails with an error naming
/// the op that cannot follow.
LogicalResult rebatchFunction(func::FuncOp func, int64_t old, int64_t batch);

} // namespace mlir::anvil

#endif // ANVIL_PASSES_PASSES_H
