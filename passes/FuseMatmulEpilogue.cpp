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
// pass over memory. A batch's convolutions get theirs too: the chain after
// a loop over the images moves into the loop, onto each image's product,
// and the chain after a batched product's transpose to NCHW moves before
// the transpose. Expects linalg on tensors before tiling; leaves the same
// ops, some of them fused, moved and marked. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
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

/// `op` reading each (value, map) input once: a repeated input's block
/// argument is replaced by the first one's and the input dropped (a joined
/// x * sigmoid(x) reads x twice; the product must have one use).
linalg::GenericOp readInputsOnce(IRRewriter &rewriter, linalg::GenericOp op) {
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  SmallVector<unsigned> kept, dropped;
  Block &body = op.getRegion().front();
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(in);
    unsigned index = in->getOperandNumber();
    auto same =
        llvm::find_if(llvm::seq<size_t>(0, inputs.size()), [&](size_t i) {
          return inputs[i] == in->get() && maps[i] == map;
        });
    if (same != llvm::seq<size_t>(0, inputs.size()).end()) {
      body.getArgument(index).replaceAllUsesWith(body.getArgument(kept[*same]));
      dropped.push_back(index);
      continue;
    }
    inputs.push_back(in->get());
    maps.push_back(map);
    kept.push_back(index);
  }
  if (dropped.empty())
    return op;
  for (OpOperand &out : op.getDpsInitsMutable())
    maps.push_back(op.getMatchingIndexingMap(&out));
  rewriter.setInsertionPoint(op);
  auto once = rewriter.create<linalg::GenericOp>(
      op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits(), maps,
      op.getIteratorTypesArray());
  once.getRegion().takeBody(op.getRegion());
  for (unsigned index : llvm::reverse(dropped))
    once.getRegion().front().eraseArgument(index);
  rewriter.replaceOp(op, once->getResults());
  return once;
}

/// Whether `slice` is image `iv` of a batch-major tensor: offsets (iv, 0,
/// ...), sizes (1, the rest whole), unit strides.
bool isImageSlot(OffsetSizeAndStrideOpInterface slice, Value iv) {
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  auto whole = cast<RankedTensorType>(slice->getOperand(0).getType());
  if (isa<tensor::InsertSliceOp>(slice))
    whole = cast<RankedTensorType>(slice->getOperand(1).getType());
  if (offsets.empty() || offsets[0] != getAsOpFoldResult(iv))
    return false;
  for (auto [i, o, size, stride] :
       llvm::enumerate(offsets, slice.getMixedSizes(), slice.getMixedStrides()))
    if ((i > 0 && getConstantIntValue(o) != 0) ||
        getConstantIntValue(size) != (i == 0 ? 1 : whole.getDimSize(i)) ||
        getConstantIntValue(stride) != 1)
      return false;
  return true;
}

/// Whether an operand read through `map` stays a plain reshape of itself
/// when the loops are collapsed by `groups`: a projected permutation that
/// reads a group's loops all, in order, next to each other, or none of
/// them. (Upstream's check lets a map read part of a group, or constants,
/// and its collapse then builds invalid reshapes: a batch norm's [C, 1, 1]
/// operand read at (d1, 0, 0) crashed the batch-1 pipeline.)
bool collapsible(AffineMap map, ArrayRef<ReassociationIndices> groups) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return false;
  for (const ReassociationIndices &group : groups) {
    std::optional<unsigned> first = map.getResultPosition(
        getAffineDimExpr(group.front(), map.getContext()));
    for (auto [i, dim] : llvm::enumerate(group)) {
      std::optional<unsigned> at =
          map.getResultPosition(getAffineDimExpr(dim, map.getContext()));
      if (first ? at != *first + i : at.has_value())
        return false;
    }
  }
  return true;
}

/// Whether `readable` accepts the map of every input of `op` but `value`.
bool othersReadable(linalg::GenericOp op, Value value,
                    llvm::function_ref<bool(AffineMap)> readable) {
  return llvm::all_of(op.getDpsInputOperands(), [&](OpOperand *operand) {
    return operand->get() == value ||
           readable(op.getMatchingIndexingMap(operand));
  });
}

struct FuseMatmulEpiloguePass
    : mlir::anvil::impl::FuseMatmulEpiloguePassBase<FuseMatmulEpiloguePass> {
  using FuseMatmulEpiloguePassBase::FuseMatmulEpiloguePassBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Image loops first: their matmuls then have the epilogue in reach.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      sinkIntoImageLoop(rewriter, loop);
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (op.hasPureTensorSemantics() &&
          cast<RankedTensorType>(op.getResult(0).getType()).hasStaticShape())
        matmuls.push_back(op);
    });
    for (linalg::MatmulOp op : matmuls)
      fuse(rewriter, op);
  }

  /// The elementwise generic `producer` fused into `user`, the one op that
  /// uses its result (upstream elementwise fusion), both erased; the fused
  /// generic reads each of its inputs once (readInputsOnce). Null, and
  /// nothing changed, when upstream refuses.
  linalg::GenericOp fuseIntoUser(IRRewriter &rewriter, Operation *producer,
                                 Operation *user) {
    Value r = producer->getResult(0);
    OpOperand *link = nullptr;
    for (OpOperand &operand : user->getOpOperands())
      if (operand.get() == r && !link)
        link = &operand;
    if (!link || !linalg::areElementwiseOpsFusable(link))
      return nullptr;
    rewriter.setInsertionPoint(user);
    FailureOr<linalg::ElementwiseOpFusionResult> fused =
        linalg::fuseElementwiseOps(rewriter, link);
    if (failed(fused))
      return nullptr;
    for (auto [from, to] : fused->replacements)
      rewriter.replaceUsesWithIf(from, to, [&](OpOperand &use) {
        return use.getOwner() != fused->fusedOp;
      });
    rewriter.eraseOp(user);
    rewriter.eraseOp(producer);
    return readInputsOnce(rewriter, cast<linalg::GenericOp>(fused->fusedOp));
  }

  /// The one op that uses `value` once its elementwise users are joined:
  /// when several elementwise generics read `value` and the chains of
  /// elementwise generics after them (each the only user of the one
  /// before) all meet in one of them (x * sigmoid(x); a hard swish,
  /// x * relu6(x + 3) / 6; a GELU), they are fused into it, which then
  /// reads `value` once (even where the caller then ends the epilogue
  /// before it: anvil-fuse-elementwise would fuse them so all the same). Null
  /// when the users do not meet so (another branch: a residual, a second
  /// consumer). With `joinUsers` off, only a sole user.
  Operation *joinedUser(IRRewriter &rewriter, Value value) {
    if (Operation *user = soleUser(value); user || !joinUsers)
      return user;
    SmallVector<Operation *> users;
    for (Operation *u : value.getUsers())
      if (!llvm::is_contained(users, u))
        users.push_back(u);
    if (users.size() > 4 || llvm::any_of(users, [&](Operation *u) {
          return !isElementwiseUserOf(u, value) ||
                 u->getBlock() != users.front()->getBlock();
        }))
      return nullptr;
    // Each user's chain up to the next user it reaches; the one user that
    // reaches none is where they meet (the use graph has no cycles, so
    // every other chain leads there).
    Operation *meet = nullptr;
    SmallVector<Operation *> ops;
    for (Operation *u : users) {
      SmallVector<Operation *> chain;
      Operation *at = u;
      bool reached = false;
      for (int steps = 0; steps < 8 && !reached; ++steps) {
        Value r = at->getResult(0);
        Operation *next = soleUser(r);
        if (!isElementwiseUserOf(next, r) ||
            llvm::count(next->getOperands(), r) != 1 ||
            next->getBlock() != at->getBlock())
          break;
        chain.push_back(at);
        reached = llvm::is_contained(users, next);
        at = next;
      }
      if (reached) {
        ops.append(chain);
        continue;
      }
      if (meet)
        return nullptr;
      meet = u;
    }
    if (!meet || llvm::is_contained(ops, meet))
      return nullptr;
    // Fuse each op into its one user, first ops first.
    llvm::sort(
        ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
    for (size_t i = 0; i < ops.size(); ++i) {
      Value r = ops[i]->getResult(0);
      Operation *next = soleUser(r);
      if (int64_t(ops[i]->getRegion(0).front().getOperations().size()) >
          maxBodyOps)
        return nullptr;
      Operation *joined = fuseIntoUser(rewriter, ops[i], next);
      if (!joined)
        return nullptr;
      for (Operation *&later : ops)
        if (later == next)
          later = joined;
      if (meet == next)
        meet = joined;
    }
    return soleUser(value) == meet ? meet : nullptr;
  }

  /// `epilogue` with the chain of elementwise generics after it, each the
  /// only user of the one before, fused into its body (upstream
  /// elementwise fusion, one link at a time), up to `maxBodyOps`
  /// operations; the chain ends before an op that reads another operand
  /// through a map `readable` refuses (one the collapse to the matmul's
  /// 2-D space would break).
  linalg::GenericOp fuseChain(IRRewriter &rewriter, linalg::GenericOp epilogue,
                              llvm::function_ref<bool(AffineMap)> readable) {
    while (true) {
      Value result = epilogue.getResult(0);
      Operation *next = joinedUser(rewriter, result);
      if (!isElementwiseUserOf(next, result) ||
          int64_t(epilogue.getBody()->getOperations().size()) > maxBodyOps ||
          !othersReadable(cast<linalg::GenericOp>(next), result, readable))
        return epilogue;
      linalg::GenericOp fused = fuseIntoUser(rewriter, epilogue, next);
      if (!fused)
        return epilogue;
      epilogue = fused;
    }
  }

  /// A batch's convolution of images of 64 pixels or more is an scf.for
  /// over the images (anvil-convert-to-linalg, im2colConv): each image's
  /// product [O, OH*OW] is expanded to [1, O, OH, OW] and inserted into the
  /// image's slot of the loop's result, from which its accumulator (bias or
  /// zeros) started. Moves the elementwise chain that alone uses the
  /// loop's result into the body, on the image's slice of every operand,
  /// writing the image's slot: the product then reaches it through the
  /// expand_shape that `fuse` handles, per image. The accumulator starts in
  /// a buffer of one image's product made before the loop instead (reused
  /// by every image, like the im2col matrix; anvil-parallelize-images
  /// gives each image its own), so the epilogue's result is the loop's, in
  /// place: no copy. Loops of another form are left alone.
  void sinkIntoImageLoop(IRRewriter &rewriter, scf::ForOp loop) {
    if (loop.getNumResults() == 0)
      return;
    Value result = loop.getResult(0);
    Operation *user = joinedUser(rewriter, result);
    if (!isElementwiseUserOf(user, result) ||
        user->getBlock() != loop->getBlock())
      return;
    // The loop's shape: the image's slot read as the accumulator's
    // destination, the expanded product inserted into the same slot.
    Value iv = loop.getInductionVar();
    BlockArgument arg = loop.getRegionIterArg(0);
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    auto insert = yield.getOperand(0).getDefiningOp<tensor::InsertSliceOp>();
    if (!insert || insert.getDest() != arg || !insert->hasOneUse() ||
        !isImageSlot(insert, iv))
      return;
    auto expand = insert.getSource().getDefiningOp<tensor::ExpandShapeOp>();
    auto matmul =
        expand ? expand.getSrc().getDefiningOp<linalg::MatmulOp>() : nullptr;
    if (!matmul || !expand->hasOneUse() || !matmul->hasOneUse())
      return;
    auto start =
        matmul.getDpsInits()[0].getDefiningOp<DestinationStyleOpInterface>();
    if (!start || start->getNumResults() != 1 || !start->hasOneUse() ||
        start.getNumDpsInits() != 1)
      return;
    auto collapse =
        start.getDpsInits()[0].getDefiningOp<tensor::CollapseShapeOp>();
    auto slot = collapse
                    ? collapse.getSrc().getDefiningOp<tensor::ExtractSliceOp>()
                    : nullptr;
    if (!slot || slot.getSource() != arg || !collapse->hasOneUse() ||
        !slot->hasOneUse() || slot.getType() != insert.getSourceType() ||
        !isImageSlot(slot, iv) ||
        slot.getMixedOffsets() != insert.getMixedOffsets())
      return;
    // Every other operand is read at the image's index where it reads the
    // batch loop d0 (whole where it does not), through a map that survives
    // the collapse to the image's [O, OH*OW] product.
    // A copy: getReassociationIndices() returns a temporary vector.
    SmallVector<ReassociationIndices> groups = expand.getReassociationIndices();
    auto readable = [&](AffineMap map) { return collapsible(map, groups); };
    if (!othersReadable(cast<linalg::GenericOp>(user), result, readable))
      return;
    linalg::GenericOp generic =
        fuseChain(rewriter, cast<linalg::GenericOp>(user), readable);

    // Nothing between the loop and the chain uses the loop's result, and
    // the loop's operands come before it: it moves down to the chain, after
    // every other operand of the chain.
    rewriter.moveOpBefore(loop, generic);
    rewriter.setInsertionPoint(loop);
    Value scratch = rewriter.create<tensor::EmptyOp>(
        loop.getLoc(), collapse.getResultType().getShape(),
        collapse.getResultType().getElementType());
    rewriter.modifyOpInPlace(
        start, [&] { start.getDpsInitsMutable()[0].set(scratch); });
    rewriter.eraseOp(collapse);

    rewriter.setInsertionPoint(insert);
    Location loc = generic.getLoc();
    IRMapping map;
    for (OpOperand *operand : generic.getDpsInputOperands()) {
      Value v = operand->get();
      if (v == result) {
        map.map(v, expand.getResult());
        continue;
      }
      auto type = dyn_cast<RankedTensorType>(v.getType());
      AffineMap m = generic.getMatchingIndexingMap(operand);
      if (!type || !m.isFunctionOfDim(0))
        continue;
      SmallVector<OpFoldResult> offsets, sizes, strides;
      SmallVector<int64_t> shape(type.getShape());
      for (auto [i, e] : llvm::enumerate(m.getResults())) {
        bool batch = e.isFunctionOfDim(0);
        offsets.push_back(batch ? OpFoldResult(iv) : rewriter.getIndexAttr(0));
        sizes.push_back(rewriter.getIndexAttr(batch ? 1 : type.getDimSize(i)));
        strides.push_back(rewriter.getIndexAttr(1));
        if (batch)
          shape[i] = 1;
      }
      map.map(v, rewriter.create<tensor::ExtractSliceOp>(
                     loc, type.clone(shape), v, offsets, sizes, strides));
    }
    map.map(generic.getDpsInits()[0], slot.getResult());
    Operation *image = rewriter.clone(*generic, map);
    image->getResult(0).setType(slot.getType());
    rewriter.modifyOpInPlace(
        insert, [&] { insert.getSourceMutable().set(image->getResult(0)); });
    rewriter.replaceOp(generic, result);
  }

  /// The elementwise `epilogue` of the transposed product `transpose`
  /// reads (as its only user) rewritten to run before the transpose: on
  /// the loops of the product's layout, its other operands read through
  /// their maps composed with the permutation, its result transposed into
  /// the old destination. Returns the new generic.
  linalg::GenericOp commuteWithTranspose(IRRewriter &rewriter,
                                         linalg::TransposeOp transpose,
                                         linalg::GenericOp epilogue) {
    Value nchw = transpose.getResult()[0];
    // Loop i of the new space is loop perm[i] of the epilogue's.
    AffineMap perm = AffineMap::getPermutationMap(transpose.getPermutation(),
                                                  rewriter.getContext());
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    for (OpOperand *operand : epilogue.getDpsInputOperands()) {
      bool product = operand->get() == nchw;
      inputs.push_back(product ? transpose.getInput() : operand->get());
      maps.push_back(
          product ? rewriter.getMultiDimIdentityMap(perm.getNumDims())
                  : epilogue.getMatchingIndexingMap(operand).compose(perm));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(perm.getNumDims()));
    rewriter.setInsertionPoint(epilogue);
    Location loc = epilogue.getLoc();
    auto type = cast<RankedTensorType>(transpose.getInput().getType());
    Value init = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                  type.getElementType());
    auto commuted = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, inputs, ValueRange{init}, maps,
        epilogue.getIteratorTypesArray());
    rewriter.cloneRegionBefore(epilogue.getRegion(), commuted.getRegion(),
                               commuted.getRegion().end());
    Value back = rewriter
                     .create<linalg::TransposeOp>(loc, commuted.getResult(0),
                                                  transpose.getInit(),
                                                  transpose.getPermutation())
                     .getResult()[0];
    rewriter.replaceOp(epilogue, back);
    rewriter.eraseOp(transpose);
    return commuted;
  }

  /// Makes the elementwise ops after `op` one marked 2-D generic, if they
  /// can run on its tiles.
  void fuse(IRRewriter &rewriter, linalg::MatmulOp op) {
    Value product = op.getResult(0);
    // A convolution's product reaches its consumers as NCHW: a free
    // reshape, which the epilogue is moved across below.
    auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(soleUser(product));
    Value value = expand ? expand.getResult() : product;
    Operation *user = joinedUser(rewriter, value);
    // Other operands must survive the collapse to the matmul's 2-D space.
    auto readable = [&](AffineMap map) {
      return !expand || collapsible(map, expand.getReassociationIndices());
    };
    // A batch of small images is one matmul whose [O, N, OH, OW] product
    // is transposed to NCHW: the epilogue moves before the transpose, its
    // operands read through the permutation.
    if (auto transpose = dyn_cast_or_null<linalg::TransposeOp>(user)) {
      Value nchw = transpose.getResult()[0];
      Operation *next = joinedUser(rewriter, nchw);
      if (!expand || !isElementwiseUserOf(next, nchw))
        return;
      AffineMap perm = AffineMap::getPermutationMap(transpose.getPermutation(),
                                                    rewriter.getContext());
      auto permuted = [&](AffineMap map) {
        return readable(map.compose(perm));
      };
      if (!othersReadable(cast<linalg::GenericOp>(next), nchw, permuted))
        return;
      user = commuteWithTranspose(
          rewriter, transpose,
          fuseChain(rewriter, cast<linalg::GenericOp>(next), permuted));
    }
    if (!isElementwiseUserOf(user, value) ||
        !othersReadable(cast<linalg::GenericOp>(user), value, readable))
      return;
    linalg::GenericOp epilogue =
        fuseChain(rewriter, cast<linalg::GenericOp>(user), readable);
    if (expand) {
      // Collapse the epilogue's loops the way the reshape expanded the
      // product: it then reads the product itself, tile for tile.
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
