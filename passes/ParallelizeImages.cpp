//===- ParallelizeImages.cpp - a batch's images on the threads ------------===//
//
// Expects linalg on tensors before anvil-tile-and-vectorize, with a batch's
// convolutions as the per-image scf.for loops of anvil-convert-to-linalg.
// A loop whose matmuls are small (each image's product too small to be
// split into parallel blocks) becomes an scf.forall over the images: each
// image then runs whole on one thread, instead of every image on one thread
// after the other. The scratch tensors the loop reused from image to image
// (the padded image, the im2col matrix) are made in each iteration instead
// (anvil-plan-memory gives them one arena slot per image), so that the
// images do not share them; the matmuls are marked to stay in one block.
// Where a slot per image would take more than `max-scratch-bytes` (LeNet-5
// at batch 64), the forall runs over equal chunks of images instead, each
// chunk the original sequential loop over its images with one set of
// scratch tensors (`chunk-images`). See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_PARALLELIZEIMAGESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Bytes of a static tensor type.
int64_t bytesOf(RankedTensorType type) {
  return type.getNumElements() *
         ((type.getElementType().getIntOrFloatBitWidth() + 7) / 8);
}

/// Whether `offsets` are (`iv`, 0, 0, ...), `sizes` (1, ...) static and
/// `strides` all 1: image `iv` of a batch-major tensor.
bool isImageSlice(OffsetSizeAndStrideOpInterface slice, Value iv) {
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  if (offsets.empty() || getAsOpFoldResult(iv) != offsets[0])
    return false;
  for (OpFoldResult o : ArrayRef(offsets).drop_front())
    if (getConstantIntValue(o) != 0)
      return false;
  if (getConstantIntValue(slice.getMixedSizes()[0]) != 1)
    return false;
  return llvm::all_of(slice.getMixedSizes(),
                      [](OpFoldResult s) {
                        return getConstantIntValue(s).has_value();
                      }) &&
         llvm::all_of(slice.getMixedStrides(), [](OpFoldResult s) {
           return getConstantIntValue(s) == 1;
         });
}

/// What becomes of one value the image loop carries.
struct Carried {
  enum Kind {
    Output,  // image iv's slice is written and yielded: a shared output
    Scratch, // a buffer rewritten in each image (a padded image)
  } kind;
  tensor::InsertSliceOp insert; // the yielded insert_slice
};

/// A tensor.empty made outside the loop that one op in the loop writes
/// (the im2col matrix): each image makes its own.
struct Workspace {
  tensor::EmptyOp empty;
  OpOperand *init; // the use, a DPS init of an op in the loop's body
};

/// The plan for one loop, or nothing if it is not an image loop this pass
/// understands.
struct Plan {
  scf::ForOp loop;
  int64_t images = 0;
  SmallVector<Carried> carried;
  SmallVector<Workspace> workspaces;
  /// The images run in this many chunks of images / chunks, each chunk a
  /// sequential loop on one thread with one set of scratch buffers; equal
  /// to `images` when every image gets its own.
  int64_t chunks = 0;
};

std::optional<Plan> analyze(scf::ForOp loop, double maxFlops,
                            int64_t maxScratchBytes, bool chunkImages) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (lb != 0 || step != 1 || !ub || *ub < 2)
    return std::nullopt;
  Block *body = loop.getBody();
  Value iv = loop.getInductionVar();
  // Small matmuls only, and nothing that loops or forks itself.
  double flops = 0;
  bool hasMatmul = false;
  for (Operation &op : body->without_terminator()) {
    if (op.getNumRegions() > 0 && !isa<linalg::LinalgOp>(op))
      return std::nullopt;
    if (auto mm = dyn_cast<linalg::MatmulOp>(op)) {
      auto a = dyn_cast<RankedTensorType>(mm.getDpsInputs()[0].getType());
      auto b = dyn_cast<RankedTensorType>(mm.getDpsInputs()[1].getType());
      if (!a || !b || !a.hasStaticShape() || !b.hasStaticShape())
        return std::nullopt;
      flops += 2.0 * a.getDimSize(0) * a.getDimSize(1) * b.getDimSize(1);
      hasMatmul = true;
    }
  }
  if (!hasMatmul || flops >= maxFlops)
    return std::nullopt;

  Plan plan{loop, *ub, {}, {}};
  auto yield = cast<scf::YieldOp>(body->getTerminator());
  for (auto [arg, init, yielded, result] :
       llvm::zip_equal(loop.getRegionIterArgs(), loop.getInitArgs(),
                       yield.getOperands(), loop.getResults())) {
    auto insert = yielded.getDefiningOp<tensor::InsertSliceOp>();
    if (!insert || insert.getDest() != arg || insert->getBlock() != body ||
        !insert.hasPureTensorSemantics())
      return std::nullopt;
    if (isImageSlice(insert, iv)) {
      // Besides the insert, the image's slot may only be read (as the
      // destination its product is computed in).
      for (Operation *user : arg.getUsers()) {
        auto extract = dyn_cast<tensor::ExtractSliceOp>(user);
        if (user != insert &&
            (!extract || !isImageSlice(extract, iv) ||
             extract.getMixedSizes() != insert.getMixedSizes()))
          return std::nullopt;
      }
      if (!insert->hasOneUse())
        return std::nullopt;
      plan.carried.push_back({Carried::Output, insert});
      continue;
    }
    // A scratch buffer: zeros of one image's shape made before the loop,
    // part of it overwritten by every image, the rest (a padded image's
    // border) the same for all; nothing after the loop reads it.
    auto fill = init.getDefiningOp<linalg::FillOp>();
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!fill || !type || !type.hasStaticShape() || type.getRank() == 0 ||
        type.getDimSize(0) != 1 || !result.use_empty() || !arg.hasOneUse() ||
        !fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
      return std::nullopt;
    plan.carried.push_back({Carried::Scratch, insert});
  }

  // Every other tensor the body writes into must be the body's own, or an
  // empty tensor from before the loop that only this op writes.
  for (Operation &op : body->without_terminator()) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(op);
    if (!dps)
      continue;
    for (OpOperand &init : dps.getDpsInitsMutable()) {
      Value v = init.get();
      if (isa<BlockArgument>(v) && v.getParentBlock() == body)
        continue; // a carried value: checked above
      if (loop->isAncestor(v.getParentRegion()->getParentOp()))
        continue; // made inside the loop
      auto empty = v.getDefiningOp<tensor::EmptyOp>();
      if (!empty || !empty->hasOneUse() || !empty.getType().hasStaticShape())
        return std::nullopt;
      plan.workspaces.push_back({empty, &init});
    }
  }
  int64_t scratch = 0;
  for (auto [c, arg] : llvm::zip_equal(plan.carried, loop.getRegionIterArgs()))
    if (c.kind == Carried::Scratch)
      scratch += bytesOf(cast<RankedTensorType>(arg.getType()));
  for (Workspace &w : plan.workspaces)
    scratch += bytesOf(w.empty.getType());
  plan.chunks = plan.images;
  if (scratch * plan.images <= maxScratchBytes)
    return plan;
  // Too many images for a slot each: as many equal chunks as have room
  // (LeNet-5 at batch 64: 8 chunks of 8 images), at least two.
  if (!chunkImages)
    return std::nullopt;
  for (plan.chunks = std::min(plan.images / 2, maxScratchBytes / scratch);
       plan.chunks >= 2; --plan.chunks)
    if (plan.images % plan.chunks == 0)
      return plan;
  return std::nullopt;
}

/// An scf.forall over 0..count in front of the loop of `plan`, whose
/// shared outputs are the loop's carried outputs.
scf::ForallOp createForall(Plan &plan, int64_t count, RewriterBase &rewriter) {
  scf::ForOp loop = plan.loop;
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> outputs;
  for (auto [c, init] : llvm::zip_equal(plan.carried, loop.getInitArgs()))
    if (c.kind == Carried::Output)
      outputs.push_back(init);
  return rewriter.create<scf::ForallOp>(
      loop.getLoc(), ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{
          getAsIndexOpFoldResult(rewriter.getContext(), count)},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)}, outputs, std::nullopt);
}

/// Ends both rewrites: erases the workspaces' unused tensor.empty ops,
/// marks the matmuls in `forall`, and replaces the image loop's results by
/// the forall's and erases the loop.
void replaceLoop(Plan &plan, scf::ForallOp forall, RewriterBase &rewriter) {
  for (Workspace &w : plan.workspaces)
    if (w.empty->use_empty())
      rewriter.eraseOp(w.empty);
  // Each image's matmul stays one block on its thread: parallel regions
  // do not nest (anvil-tile-and-vectorize reads the mark).
  forall.walk([&](linalg::MatmulOp op) {
    op->setAttr(kInParallelLoopAttr, rewriter.getUnitAttr());
  });
  // (Only the outputs have results; nothing reads the scratch buffers'.)
  unsigned next = 0;
  for (auto [c, result] : llvm::zip_equal(plan.carried, plan.loop.getResults()))
    if (c.kind == Carried::Output)
      rewriter.replaceAllUsesWith(result, forall.getResult(next++));
  rewriter.eraseOp(plan.loop);
}

/// Rewrites the loop of `plan` into an scf.forall over the images.
void parallelize(Plan &plan, RewriterBase &rewriter) {
  scf::ForOp loop = plan.loop;
  Location loc = loop.getLoc();
  Block *body = loop.getBody();
  scf::ForallOp forall = createForall(plan, plan.images, rewriter);
  Block *newBody = forall.getBody();
  Value iv = forall.getInductionVar(0);
  ValueRange shared = forall.getRegionIterArgs();

  // The old body moves in front of the new terminator; its block
  // arguments become the new induction variable, the shared outputs and,
  // for scratch buffers, a buffer of each iteration's own: zeros made in
  // the body (anvil-plan-memory gives such a buffer one slot per
  // iteration in the arena). The workspaces are made in the body too.
  auto yield = cast<scf::YieldOp>(body->getTerminator());
  rewriter.setInsertionPointToStart(newBody);
  SmallVector<Value> replacements = {iv};
  int64_t nextShared = 0;
  for (auto [c, init] : llvm::zip_equal(plan.carried, loop.getInitArgs())) {
    if (c.kind == Carried::Output) {
      replacements.push_back(shared[nextShared++]);
      continue;
    }
    auto fill = init.getDefiningOp<linalg::FillOp>();
    Operation *empty =
        rewriter.clone(*fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>());
    replacements.push_back(rewriter
                               .create<linalg::FillOp>(loc,
                                                       fill.getDpsInputs()[0],
                                                       empty->getResult(0))
                               .getResult(0));
  }
  for (Workspace &w : plan.workspaces)
    w.init->set(rewriter.clone(*w.empty)->getResult(0));
  rewriter.inlineBlockBefore(
      body, newBody, newBody->getTerminator()->getIterator(), replacements);

  // The terminator: each image's output slice goes back into its slot.
  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  nextShared = 0;
  for (Carried &c : plan.carried) {
    if (c.kind != Carried::Output)
      continue;
    tensor::InsertSliceOp insert = c.insert;
    rewriter.create<tensor::ParallelInsertSliceOp>(
        loc, insert.getSource(), shared[nextShared++], insert.getMixedOffsets(),
        insert.getMixedSizes(), insert.getMixedStrides());
  }
  rewriter.eraseOp(yield);
  for (Carried &c : plan.carried)
    if (c.kind == Carried::Output)
      rewriter.eraseOp(c.insert);
  replaceLoop(plan, forall, rewriter);
}

/// Rewrites the loop of `plan` into an scf.forall over chunks of its
/// images: the loop itself, over the images of one chunk, moves into the
/// forall's body. Each chunk's loop carries its own scratch buffers (made
/// in the body: one arena slot per chunk) and its slice of each output;
/// its body reads image `start + j` and writes slot `j` of the slice.
void parallelizeChunks(Plan &plan, RewriterBase &rewriter) {
  scf::ForOp loop = plan.loop;
  Location loc = loop.getLoc();
  int64_t perChunk = plan.images / plan.chunks;
  OpFoldResult one = rewriter.getIndexAttr(1);
  OpFoldResult zero = rewriter.getIndexAttr(0);
  scf::ForallOp forall = createForall(plan, plan.chunks, rewriter);
  ValueRange shared = forall.getRegionIterArgs();

  // The chunk's first image, its output slices and scratch buffers.
  rewriter.setInsertionPointToStart(forall.getBody());
  Value start = rewriter.create<arith::MulIOp>(
      loc, forall.getInductionVar(0),
      rewriter.create<arith::ConstantIndexOp>(loc, perChunk));
  auto chunkOf = [&](Value whole) {
    auto type = cast<RankedTensorType>(whole.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), zero), sizes,
        strides(type.getRank(), one);
    offsets[0] = start;
    for (int64_t d : type.getShape())
      sizes.push_back(rewriter.getIndexAttr(d));
    sizes[0] = rewriter.getIndexAttr(perChunk);
    return std::make_tuple(offsets, sizes, strides);
  };
  SmallVector<Value> inits;
  int64_t nextShared = 0;
  for (auto [c, init] : llvm::zip_equal(plan.carried, loop.getInitArgs())) {
    if (c.kind == Carried::Output) {
      auto [offsets, sizes, strides] = chunkOf(shared[nextShared]);
      inits.push_back(rewriter.create<tensor::ExtractSliceOp>(
          loc, shared[nextShared++], offsets, sizes, strides));
      continue;
    }
    auto fill = init.getDefiningOp<linalg::FillOp>();
    Operation *empty =
        rewriter.clone(*fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>());
    inits.push_back(rewriter
                        .create<linalg::FillOp>(loc, fill.getDpsInputs()[0],
                                                empty->getResult(0))
                        .getResult(0));
  }
  for (Workspace &w : plan.workspaces)
    w.init->set(rewriter.clone(*w.empty)->getResult(0));

  // The chunk's loop: the old body, its image index shifted by `start`
  // except where it picks the slot in the chunk's output slices.
  auto inner = rewriter.create<scf::ForOp>(
      loc, loop.getLowerBound(),
      rewriter.create<arith::ConstantIndexOp>(loc, perChunk), loop.getStep(),
      inits);
  Block *body = inner.getBody();
  Value j = inner.getInductionVar();
  rewriter.mergeBlocks(loop.getBody(), body, body->getArguments());
  SmallPtrSet<Operation *, 8> slotOps;
  for (auto [c, arg] : llvm::zip_equal(plan.carried, inner.getRegionIterArgs()))
    if (c.kind == Carried::Output)
      for (Operation *user : arg.getUsers())
        slotOps.insert(user);
  rewriter.setInsertionPointToStart(body);
  Value image = rewriter.create<arith::AddIOp>(loc, start, j);
  rewriter.replaceUsesWithIf(j, image, [&](OpOperand &use) {
    return use.getOwner() != image.getDefiningOp() &&
           !slotOps.contains(use.getOwner());
  });
  // The inserts into an output slice now yield the slice's type.
  for (Carried &c : plan.carried) {
    if (c.kind != Carried::Output)
      continue;
    rewriter.setInsertionPoint(c.insert);
    c.insert = rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        c.insert, c.insert.getSource(), c.insert.getDest(),
        c.insert.getMixedOffsets(), c.insert.getMixedSizes(),
        c.insert.getMixedStrides());
  }

  // Each chunk's output slices go back into their place.
  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  nextShared = 0;
  for (auto [c, result] : llvm::zip_equal(plan.carried, inner.getResults())) {
    if (c.kind != Carried::Output)
      continue;
    auto [offsets, sizes, strides] = chunkOf(shared[nextShared]);
    rewriter.create<tensor::ParallelInsertSliceOp>(
        loc, result, shared[nextShared++], offsets, sizes, strides);
  }
  replaceLoop(plan, forall, rewriter);
}

struct ParallelizeImagesPass
    : mlir::anvil::impl::ParallelizeImagesPassBase<ParallelizeImagesPass> {
  using ParallelizeImagesPassBase::ParallelizeImagesPassBase;

  void runOnOperation() override {
    SmallVector<Plan> plans;
    getOperation().walk([&](scf::ForOp loop) {
      if (!isa<func::FuncOp>(loop->getParentOp()))
        return;
      if (std::optional<Plan> plan =
              analyze(loop, maxFlops, maxScratchBytes, chunkImages))
        plans.push_back(std::move(*plan));
    });
    IRRewriter rewriter(&getContext());
    for (Plan &plan : plans) {
      if (plan.chunks == plan.images)
        parallelize(plan, rewriter);
      else
        parallelizeChunks(plan, rewriter);
    }
  }
};

} // namespace
