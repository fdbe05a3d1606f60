//===- FuseMatmulEpilogue.cpp - elementwise consumers as matmul epilogues -===//
//
// Finds each static linalg.matmul whose result feeds only an elementwise
// linalg.generic (directly or through the expand_shape a convolution's
// [O, OH*OW] product becomes NCHW by), fuses the chain of elementwise ops
// after it into that one generic, rewrites the generic onto the matmul's
// 2-D iteration space and marks it `anvil.epilogue`.
// anvil-tile-and-vectorize then tiles the marked generic with the matmul's
// parallel cache blocks and fuses the matmul and its accumulator's
// initialization (zeros or the broadcast bias) into each block, so the
// epilogue reads a block that is still in cache instead of making another
// pass over memory. Expects linalg on tensors before tiling; leaves the
// same ops, some of them fused and marked. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kEpilogue = "anvil.epilogue";

/// The one op that uses `value` (however many of its operands do), or null.
Operation *soleUser(Value value) {
  Operation *user = nullptr;
  for (Operation *u : value.getUsers()) {
    if (user && u != user)
      return nullptr;
    user = u;
  }
  return user;
}

/// An all-parallel generic with one result written through an identity
/// map, reading `value` only through identity maps: each element of its
/// result depends on the same element of `value`, so it can run on any tile
/// of `value` as soon as that tile is computed.
bool isElementwiseUserOf(Operation *op, Value value) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumResults() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.hasPureTensorSemantics())
    return false;
  if (!generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity() ||
      generic.getResult(0).getType() != value.getType())
    return false;
  for (OpOperand &operand : generic->getOpOperands())
    if (operand.get() == value &&
        !generic.getMatchingIndexingMap(&operand).isIdentity())
      return false;
  return true;
}

struct FuseMatmulEpiloguePass
    : mlir::anvil::impl::FuseMatmulEpiloguePassBase<FuseMatmulEpiloguePass> {
  using FuseMatmulEpiloguePassBase::FuseMatmulEpiloguePassBase;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (op.hasPureTensorSemantics() &&
          cast<RankedTensorType>(op.getResult(0).getType()).hasStaticShape())
        matmuls.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::MatmulOp op : matmuls)
      fuse(rewriter, op);
  }

  /// Makes the elementwise ops after `op` one marked 2-D generic, if they
  /// can run on its tiles.
  void fuse(IRRewriter &rewriter, linalg::MatmulOp op) {
    Value product = op.getResult(0);
    // A convolution's product reaches its consumers as NCHW: a free
    // reshape, which the epilogue is moved across below.
    auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(soleUser(product));
    Value value = expand ? expand.getResult() : product;
    Operation *user = soleUser(value);
    if (!isElementwiseUserOf(user, value))
      return;
    auto epilogue = cast<linalg::GenericOp>(user);
    // The chain after it: each next generic that alone uses the last
    // result joins its body (upstream elementwise fusion, one link at a
    // time), up to `maxBodyOps` operations.
    while (true) {
      Value result = epilogue.getResult(0);
      Operation *next = soleUser(result);
      if (!isElementwiseUserOf(next, result) ||
          int64_t(epilogue.getBody()->getOperations().size()) > maxBodyOps)
        break;
      OpOperand *link = nullptr;
      for (OpOperand &operand : next->getOpOperands())
        if (operand.get() == result && !link)
          link = &operand;
      if (!linalg::areElementwiseOpsFusable(link))
        break;
      rewriter.setInsertionPoint(next);
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, link);
      if (failed(fused))
        break;
      for (auto [from, to] : fused->replacements)
        rewriter.replaceUsesWithIf(from, to, [&](OpOperand &use) {
          return use.getOwner() != fused->fusedOp;
        });
      rewriter.eraseOp(next);
      rewriter.eraseOp(epilogue);
      epilogue = cast<linalg::GenericOp>(fused->fusedOp);
    }
    if (expand) {
      // Collapse the epilogue's loops the way the reshape expanded the
      // product: it then reads the product itself, tile for tile. (Fails
      // when another operand's map splits a collapsed group.)
      rewriter.setInsertionPoint(epilogue);
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(
              epilogue, expand.getReassociationIndices(), rewriter);
      if (failed(collapsed))
        return;
      rewriter.replaceOp(epilogue, collapsed->results);
      epilogue = cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
      // collapse_shape(expand_shape(product)) is the product.
      for (OpOperand &operand : epilogue->getOpOperands())
        if (auto c = operand.get().getDefiningOp<tensor::CollapseShapeOp>())
          if (c.getSrc() == expand.getResult() &&
              c.getType() == product.getType()) {
            rewriter.modifyOpInPlace(epilogue, [&] { operand.set(product); });
            if (c->use_empty())
              rewriter.eraseOp(c);
          }
      if (expand->use_empty())
        rewriter.eraseOp(expand);
    }
    if (soleUser(product) != epilogue.getOperation())
      return;
    rewriter.modifyOpInPlace(epilogue, [&] {
      epilogue->setAttr(kEpilogue, rewriter.getUnitAttr());
    });
  }
};

} // namespace
