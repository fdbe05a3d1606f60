//===- FuseElementwise.cpp - bounded elementwise fusion -------------------===//
//
// Runs upstream linalg elementwise fusion with a control function that
// refuses producers whose bodies are already large, so fusing a long chain
// costs linear rather than quadratic time, and producers the consumer
// broadcasts, whose every element the fused loop would compute again for
// each consumer element that reads it; see Passes.td. Expects linalg on
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

/// Iterations of `op`'s loop nest, or 0 when a loop's size is not static.
int64_t iterationCount(linalg::LinalgOp op) {
  int64_t count = 1;
  for (int64_t size : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(size))
      return 0;
    count *= size;
  }
  return count;
}

/// Whether fusing `fused`'s producer into its consumer would repeat the
/// producer's arithmetic: the consumer reads the producer's result through
/// a map that drops some of its loops (a broadcast: a layer norm's
/// per-row 1/sqrt(var + eps) divided into every element of the row), so
/// the fused body runs the producer's ops once per consumer element, not
/// once per producer element. A producer that only copies (its body is the
/// yield) costs nothing to repeat.
bool recomputesBroadcast(OpOperand *fused, linalg::GenericOp producer) {
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!consumer || consumer.getMatchingIndexingMap(fused).isPermutation())
    return false;
  if (producer.getBody()->getOperations().size() <= 1)
    return false;
  int64_t produced = iterationCount(producer);
  int64_t consumed = iterationCount(consumer);
  return produced == 0 || consumed == 0 || produced < consumed;
}

struct FuseElementwisePass
    : mlir::anvil::impl::FuseElementwisePassBase<FuseElementwisePass> {
  using FuseElementwisePassBase::FuseElementwisePassBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    int64_t limit = maxBodyOps;
    bool broadcasts = fuseBroadcasts;
    // Fuse a producer into its only user, unless its body is already big
    // or the user would recompute it for every element it broadcasts to.
    linalg::ControlFusionFn control = [limit, broadcasts](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || !producer->hasOneUse())
        return false;
      auto generic = dyn_cast<linalg::GenericOp>(producer);
      if (!generic)
        return true;
      if (!broadcasts && recomputesBroadcast(fused, generic))
        return false;
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
