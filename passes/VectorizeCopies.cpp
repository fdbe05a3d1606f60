//===- VectorizeCopies.cpp - small static copies as vector transfers ------===//
//
// Rewrites each small static linalg.copy between memrefs whose rows are
// contiguous into one vector.transfer_read and vector.transfer_write (see
// Passes.td). Expects bufferized IR, before linalg becomes loops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_VECTORIZECOPIESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

/// A static memref whose last dimension is contiguous, with at most
/// `limit` elements.
bool smallRows(Type type, int64_t limit) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.hasStaticShape() && memref.getRank() > 0 &&
         memref.getNumElements() > 0 && memref.getNumElements() <= limit &&
         isLastMemrefDimUnitStride(memref);
}

struct VectorizeCopiesPass
    : mlir::anvil::impl::VectorizeCopiesPassBase<VectorizeCopiesPass> {
  using VectorizeCopiesPassBase::VectorizeCopiesPassBase;

  void runOnOperation() override {
    SmallVector<linalg::CopyOp> copies;
    getOperation().walk([&](linalg::CopyOp copy) {
      if (copy.hasPureBufferSemantics() &&
          smallRows(copy.getInputs()[0].getType(), maxElements) &&
          smallRows(copy.getOutputs()[0].getType(), maxElements))
        copies.push_back(copy);
    });
    for (linalg::CopyOp copy : copies) {
      OpBuilder b(copy);
      Location loc = copy.getLoc();
      Value from = copy.getInputs()[0], to = copy.getOutputs()[0];
      auto type = cast<MemRefType>(from.getType());
      // Static shapes, read and written whole: every lane is in bounds.
      SmallVector<Value> origin(type.getRank(),
                                b.create<arith::ConstantIndexOp>(loc, 0));
      SmallVector<bool> inBounds(type.getRank(), true);
      Value rows = b.create<vector::TransferReadOp>(
          loc, VectorType::get(type.getShape(), type.getElementType()), from,
          origin, ArrayRef<bool>(inBounds));
      b.create<vector::TransferWriteOp>(loc, rows, to, origin,
                                        ArrayRef<bool>(inBounds));
      copy.erase();
    }
  }
};

} // namespace
