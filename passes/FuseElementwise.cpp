//===- FuseElementwise.cpp - bounded elementwise fusion -------------------===//
//
// Runs upstream linalg elementwise fusion with a control function that
// refuses producers whose bodies are already large, so fusing a long chain
// costs linear rather than quadratic time; see Passes.td. Expects linalg on
// tensors; leaves fused linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

struct FuseElementwisePass
    : mlir::anvil::impl::FuseElementwisePassBase<FuseElementwisePass> {
  using FuseElementwisePassBase::FuseElementwisePassBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    int64_t limit = maxBodyOps;
    bool broadcasts = fuseBroadcasts;
    // Fuse a producer into its only user, unless its body is already big.
    linalg::ControlFusionFn control = [limit, broadcasts](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || !producer->hasOneUse())
        return false;
      auto generic = dyn_cast<linalg::GenericOp>(producer);
      if (!generic)
        return true;
      // A producer the user reads broadcast (its map leaves out some of
      // the user's loops) would run once per element of the user, not once
      // per element of its own: a squeeze-and-excitation block's sigmoid of
      // [N, C, 1, 1] recomputed H*W times, a scalar divide and polynomial
      // per pixel that also keeps the scaling multiply from vectorizing.
      // Its loop is small; it stays on its own.
      if (!broadcasts)
        if (auto user = dyn_cast<linalg::LinalgOp>(fused->getOwner())) {
          AffineMap map = user.getMatchingIndexingMap(fused);
          for (unsigned d = 0; d < map.getNumDims(); ++d)
            if (!map.isFunctionOfDim(d))
              return false;
        }
      // Count no further than the limit: a block's size is not stored.
      int64_t ops = 0;
      for (Operation &op : *generic.getBody()) {
        (void)op;
        if (++ops > limit)
          return false;
      }
      return true;
    };
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    // Top-down visits each chain in order: one fusion per link.
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    // (Not converging within the driver's iteration limit leaves correct,
    // less fused IR, as in upstream's pass.)
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                       config);
  }
};

} // namespace
