//===- ParallelizeLoops.cpp - large linalg ops run on all the cores -------===//
//
// Expects linalg on tensors, with matmuls already tiled into their own
// scf.forall blocks (anvil-tile-and-vectorize) and elementwise chains fused.
// First merges the loops of each generic that all its operands walk
// contiguously (one long loop vectorizes well). Then every linalg op at the
// top level of a function whose work (iteration space times body ops)
// reaches `min-work` is tiled with the TilingInterface into an scf.forall
// over its outer parallel loops; the LLVM phase lowers the forall to OpenMP
// like the matmuls' blocks. Ops inside sequential scf.for loops count too;
// leaves small ops, ops under an scf.forall and ops with dynamic shapes
// sequential. See Passes.td for the measurements.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_PARALLELIZELOOPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// An op's work: iterations times the ops of its body (at least one: a
/// copy or a transpose still moves each element).
int64_t work(linalg::LinalgOp op, ArrayRef<int64_t> ranges) {
  int64_t iterations = 1;
  for (int64_t r : ranges)
    iterations *= r;
  int64_t bodyOps = 0;
  op.getBlock()->walk([&](Operation *inner) {
    if (!isa<linalg::YieldOp>(inner))
      ++bodyOps;
  });
  return iterations * std::max<int64_t>(bodyOps, 1);
}

/// Whether every operand index grows with the loops (dims, sums, products
/// by constants >= 0): tiling bounds each operand's slice by the map's
/// values at a tile's first and last iteration, which is wrong for a
/// reversed read (`n - 1 - d0`, a negative-step slice's gradient).
bool increasing(linalg::LinalgOp op) {
  return llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
    return llvm::all_of(map.getResults(), [](AffineExpr e) {
      WalkResult r = e.walk([](AffineExpr sub) {
        auto bin = dyn_cast<AffineBinaryOpExpr>(sub);
        if (!bin || sub.getKind() == AffineExprKind::Add)
          return WalkResult::advance();
        auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
        bool ok =
            sub.getKind() == AffineExprKind::Mul && c && c.getValue() >= 0;
        return ok ? WalkResult::advance() : WalkResult::interrupt();
      });
      return !r.wasInterrupted();
    });
  });
}

/// How many iterations of a loop of `extent` each tile gets, given that
/// about `want` would make enough tiles: a nearby divisor of the extent if
/// there is one (all tiles full, static shapes), a multiple of `align`.
int64_t chunk(int64_t extent, int64_t want, int64_t align) {
  want = llvm::alignTo(want, align);
  for (int64_t t = want; t <= 2 * want && t < extent; t += align)
    if (extent % t == 0)
      return t;
  for (int64_t t = want - align; t >= want / 2 && t >= align; t -= align)
    if (extent % t == 0)
      return t;
  return want;
}

/// Tile sizes (0 = not split) giving about `tiles` tiles: outer parallel
/// loops first, whole loops while they do not give enough tiles, then one
/// loop split in chunks. The innermost loop comes last and is split in
/// multiples of 16 elements, so that each tile's inner loop stays a long
/// contiguous run for the vectorizer. Empty if nothing can be split.
SmallVector<int64_t> tileSizes(linalg::LinalgOp op, ArrayRef<int64_t> ranges,
                               int64_t tiles) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> sizes(ranges.size(), 0);
  int64_t have = 1;
  for (size_t d = 0; d < ranges.size() && have < tiles; ++d) {
    if (iterators[d] != utils::IteratorType::parallel || ranges[d] == 1)
      continue;
    int64_t need = llvm::divideCeil(tiles, have);
    bool innermost = d + 1 == ranges.size();
    int64_t size =
        chunk(ranges[d], llvm::divideCeil(ranges[d], need), innermost ? 16 : 1);
    if (size >= ranges[d])
      continue;
    sizes[d] = size;
    have *= llvm::divideCeil(ranges[d], size);
  }
  if (have < 2)
    return {};
  return sizes;
}

/// Runs of loops of a generic that every operand walks contiguously (the
/// four loops of an elementwise op on NCHW tensors, or a bias's H and W):
/// merged, they make one long loop that LLVM vectorizes with plain vector
/// loads, where a short innermost loop (28 wide) gets fully unrolled and its
/// parent vectorized with gathers. Empty if no two loops merge, or if the
/// body reads its indices (they would have to be recomputed by division).
SmallVector<ReassociationIndices> contiguousRuns(linalg::GenericOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // (The contiguity check is defined for plain permuted subsets of the
  // loops only: not for the sums of an im2col window, nor for the constant
  // index of a stretched size-1 dimension.)
  if (!op.getBody()->getOps<linalg::IndexOp>().empty() ||
      !llvm::all_of(maps,
                    [](AffineMap m) { return m.isProjectedPermutation(); }))
    return {};
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  // Loop d may not merge into loop d - 1 where an operand is a slice whose
  // dimension at loop d is not whole (the interior of a padded buffer, 112
  // of 114 columns): its rows are not one run in memory, so the collapsed
  // slice would bufferize into a copy. Nor may any loops merge when the op
  // writes into a slice (anvil-fold-pad-into-producer): bufferization
  // would not see through the reshapes around it that the result goes back
  // where the slice was taken from, and would copy it there and back.
  SmallVector<bool> split(op.getNumLoops() + 1, false);
  for (OpOperand &operand : op->getOpOperands()) {
    auto slice = operand.get().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice)
      continue;
    if (op.isDpsInit(&operand))
      return {};
    AffineMap map = op.getMatchingIndexingMap(&operand);
    ArrayRef<int64_t> whole = slice.getSourceType().getShape();
    for (unsigned k = 0; k < map.getNumResults(); ++k) {
      unsigned loop = cast<AffineDimExpr>(map.getResult(k)).getPosition();
      std::optional<int64_t> size =
          getConstantIntValue(slice.getMixedSizes()[k]);
      std::optional<int64_t> stride =
          getConstantIntValue(slice.getMixedStrides()[k]);
      // (A strided dimension is not one run with the next one either.)
      if (!size || *size != whole[k] || stride != 1)
        split[loop] = true;
      if (stride != 1)
        split[loop + 1] = true;
    }
  }
  SmallVector<ReassociationIndices> runs;
  ReassociationIndices run = {0};
  for (int64_t d = 1, e = op.getNumLoops(); d <= e; ++d) {
    ReassociationIndices longer = run;
    longer.push_back(d);
    if (d < e && !split[d] && iterators[d] == iterators[run.front()] &&
        linalg::areDimSequencesPreserved(maps, longer)) {
      run = std::move(longer);
      continue;
    }
    if (run.size() > 1)
      runs.push_back(run);
    run = {d};
  }
  return runs;
}

/// Whether `op` is in a function directly or through `scf.for` loops only.
bool inSequentialCode(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (isa<func::FuncOp>(parent))
      return true;
    if (!isa<scf::ForOp>(parent))
      return false;
  }
  return false;
}

struct ParallelizeLoopsPass
    : mlir::anvil::impl::ParallelizeLoopsPassBase<ParallelizeLoopsPass> {
  using ParallelizeLoopsPassBase::ParallelizeLoopsPassBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isa<func::FuncOp>(op->getParentOp()) && op.hasPureTensorSemantics())
        generics.push_back(op);
    });
    for (linalg::GenericOp op : generics) {
      SmallVector<ReassociationIndices> runs = contiguousRuns(op);
      if (runs.empty())
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(op, runs, rewriter);
      if (succeeded(collapsed))
        rewriter.replaceOp(op, collapsed->results);
    }

    // Ops directly in a function, or inside sequential scf.for loops only
    // (a batch's convolutions run one image at a time: each image's im2col
    // copy is big enough to split, at one fork per image). Not ops under an
    // scf.forall (the matmuls' parallel blocks): parallel regions do not
    // nest.
    SmallVector<std::pair<TilingInterface, SmallVector<int64_t>>> todo;
    getOperation().walk([&](linalg::LinalgOp op) {
      auto tileable = dyn_cast<TilingInterface>(op.getOperation());
      if (!tileable || !inSequentialCode(op) || !op.hasPureTensorSemantics())
        return;
      std::optional<SmallVector<int64_t>> ranges = op.getStaticLoopRanges();
      if (!ranges || llvm::any_of(*ranges, ShapedType::isDynamic) ||
          !increasing(op) || work(op, *ranges) < minWork)
        return;
      SmallVector<int64_t> sizes = tileSizes(op, *ranges, tiles);
      if (!sizes.empty())
        todo.emplace_back(tileable, std::move(sizes));
    });

    for (auto &[op, sizes] : todo) {
      rewriter.setInsertionPoint(op);
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, op, options);
      if (failed(tiled)) {
        op->emitError("internal error: cannot tile this op for threads");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, tiled->replacements);
    }
  }
};

} // namespace
