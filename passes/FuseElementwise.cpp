//===- FuseElementwise.cpp - bounded elementwise fusion -------------------===//
//
// Runs upstream linalg elementwise fusion with a control function that
// refuses producers whose bodies are already large, so fusing a long chain
// costs linear rather than quadratic time, and producers the consumer
// broadcasts, whose every element the fused loop would compute again for
// each consumer element that reads it; see Passes.td. An elementwise op
// after a linalg.transpose (the NCHW copy of a channels-last depthwise
// convolution's result) first moves above it, so that it fuses with the
// op before. An exp, tanh or erf (a SiLU's sigmoid) stays out of a window
// generic's loop (a depthwise convolution's or a pooling's: its inputs are
// views of one padded tensor). Expects linalg on tensors; leaves fused
// linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

/// Whether `producer` computes a window: two or more of its inputs are
/// views (`tensor.extract_slice`s) of one tensor, the taps of a depthwise
/// convolution or a pooling (DepthwiseConv.cpp, Pooling.cpp).
bool isWindow(linalg::GenericOp producer) {
  llvm::DenseSet<Value> sources;
  for (Value input : producer.getDpsInputs())
    if (auto slice = input.getDefiningOp<tensor::ExtractSliceOp>())
      if (!sources.insert(slice.getSource()).second)
        return true;
  return false;
}

/// Whether `op`'s body computes an exp, a tanh or an erf (a sigmoid, a
/// SiLU, a GELU): dozens of vector instructions per element once
/// anvil-approximate-math expands them.
bool hasTranscendental(Operation *op) {
  bool found = false;
  op->walk([&](Operation *inner) {
    if (isa<math::ExpOp, math::TanhOp, math::ErfOp>(inner))
      found = true;
  });
  return found;
}

/// Moves an elementwise op above the linalg.transpose that makes its only
/// input: act(transpose(x)) becomes transpose(act'(x)), act' the same body
/// over x's layout. The transpose back to NCHW after a channels-last
/// depthwise convolution (DepthwiseConv.cpp) is such a linalg.transpose,
/// which elementwise fusion does not fuse; the activation after it was a
/// loop of its own, one more pass over memory. Above it, the activation
/// fuses into the depthwise generic. Only for an all-parallel generic
/// whose inputs are all the transpose, read like its output (the same
/// element), that writes a fresh tensor and does not ask for its indices:
/// then it computes the same values in any layout.
struct HoistElementwiseAboveTranspose : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumDpsInputs() == 0 || op.getNumResults() != 1 ||
        op.getNumReductionLoops() != 0)
      return rewriter.notifyMatchFailure(op, "not a one-result map");
    auto transpose =
        op.getDpsInputOperand(0)->get().getDefiningOp<linalg::TransposeOp>();
    if (!transpose)
      return rewriter.notifyMatchFailure(op, "its input is no transpose");
    Value transposed = transpose.getResult()[0];
    for (OpOperand &operand : op->getOpOperands())
      if (!op.getMatchingIndexingMap(&operand).isIdentity() ||
          (op.isDpsInput(&operand) && operand.get() != transposed))
        return rewriter.notifyMatchFailure(
            op, "an input is not the transpose, or a map is not the identity");
    if (!llvm::all_of(transposed.getUsers(),
                      [&](Operation *user) { return user == op; }))
      return rewriter.notifyMatchFailure(op, "the transpose has other users");
    OpOperand *init = op.getDpsInitOperand(0);
    if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
        op.payloadUsesValueFromOperand(init) ||
        !op.getBody()->getOps<linalg::IndexOp>().empty())
      return rewriter.notifyMatchFailure(op,
                                         "it reads its output or its indices");
    Location loc = op.getLoc();
    Value source = transpose.getInput();
    auto sourceType = cast<RankedTensorType>(source.getType());
    auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
    auto hoistedType = sourceType.clone(resultType.getElementType());
    SmallVector<Value> inputs(op.getNumDpsInputs(), source);
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, hoistedType.getShape(), hoistedType.getElementType());
    auto hoisted = rewriter.create<linalg::GenericOp>(
        loc, hoistedType, inputs, empty, op.getIndexingMapsArray(),
        op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op.getRegion(), hoisted.getRegion(),
                                hoisted.getRegion().begin());
    Value into = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                  resultType.getElementType());
    rewriter.replaceOpWithNewOp<linalg::TransposeOp>(
        op, hoisted.getResult(0), into, transpose.getPermutation());
    return success();
  }
};

/// Whether the consumer reads the producer's result transposed (through a
/// permutation other than the identity) and the producer reads more than
/// one input: fused, the loop would run in the consumer's order, across the
/// layout of every one of them (a depthwise convolution's taps and filter,
/// read in the NHWC order of the transpose before a channels-last one: its
/// loads become gathers). A one-input producer (an activation) only moves
/// the one transposed read from its result to its input.
bool readsTransposed(OpOperand *fused, linalg::GenericOp producer) {
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!consumer || producer.getNumDpsInputs() <= 1)
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(fused);
  return map.isPermutation() && !map.isIdentity();
}

/// Whether the consumer reads a window producer (isWindow: a depthwise
/// convolution's or a pooling's taps) other than element for element. The
/// fused loop would then run in the consumer's order: the im2col copy of a
/// batched 1x1 convolution (Conv.cpp's batchedConv, [C, 1, 1, N, OH, OW]
/// from NCHW), with a 7x7 depthwise convolution fused in, was a scalar
/// loop that anvil-vectorize-windows does not recognize (MobileNetV2's
/// last three blocks: 0.58 ms each at batch 8, against 0.15 ms for ONNX
/// Runtime's whole depthwise layer). Apart, the window keeps its vector
/// rows and the copy is a copy.
bool readsWindowOutOfOrder(OpOperand *fused, linalg::GenericOp producer) {
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  return consumer && isWindow(producer) &&
         !consumer.getMatchingIndexingMap(fused).isIdentity();
}

struct FuseElementwisePass
    : mlir::anvil::impl::FuseElementwisePassBase<FuseElementwisePass> {
  using FuseElementwisePassBase::FuseElementwisePassBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    int64_t limit = maxBodyOps;
    bool broadcasts = fuseBroadcasts;
    bool mathOut = mathOutOfWindows;
    bool windowsInOrder = windowsReadInOrder;
    // Fuse a producer into its only user, unless its body is already big
    // or the user would recompute it for every element it broadcasts to.
    // Nor a window and an exp, tanh or erf into one loop.
    linalg::ControlFusionFn control = [limit, broadcasts, mathOut,
                                       windowsInOrder](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || !producer->hasOneUse())
        return false;
      auto generic = dyn_cast<linalg::GenericOp>(producer);
      if (!generic)
        return true;
      if (!broadcasts && recomputesBroadcast(fused, generic))
        return false;
      if (readsTransposed(fused, generic))
        return false;
      if (windowsInOrder && readsWindowOutOfOrder(fused, generic))
        return false;
      if (auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
          mathOut && consumer &&
          ((isWindow(generic) && hasTranscendental(consumer)) ||
           (isWindow(consumer) && hasTranscendental(generic))))
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
    if (hoistAboveTransposes)
      patterns.add<HoistElementwiseAboveTranspose>(context);
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
