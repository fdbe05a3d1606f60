//===- TileAndVectorize.cpp - fast matmuls through the transform dialect --===//
//
// Builds one transform-dialect sequence for the module: a tiling and
// vectorization schedule per static linalg.matmul (tagged with an attribute
// so that the schedule matches exactly that op; a static linalg.batch_matmul
// first becomes a loop of them), followed by the vector
// clean-ups and contraction lowering shared by all of them, and runs it with
// the transform interpreter. See Passes.td for the strategy.
//
//===----------------------------------------------------------------------===//

#include "passes/MatmulSchedule.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

constexpr llvm::StringLiteral kTag = "anvil.schedule";
/// anvil-fuse-matmul-epilogue's mark on a matmul's epilogue generic.
constexpr llvm::StringLiteral kEpilogue = "anvil.epilogue";

/// The register tile's width: whole vectors (two registers or one) or a
/// half register when they divide `n`, else the largest divisor up to two
/// registers.
int64_t vectorWidth(int64_t n, const MatmulRegisters &regs) {
  for (int64_t w : {regs.tile(), regs.lanes, regs.lanes / 2})
    if (n % w == 0)
      return w;
  return matmulTileSize(n, regs.tile());
}

/// Whether `epilogue`'s result is a piece of a concat (inserted into its
/// chain), which anvil-write-concat-in-place computes straight into the
/// concat's buffer while it stays a loop of its own: fused into a serial
/// product, the piece would be copied there instead, one pass over it as
/// well (FusionReport.cpp says the same).
bool fillsConcatPiece(Operation *epilogue) {
  return epilogue && epilogue->getNumResults() == 1 &&
         epilogue->getResult(0).hasOneUse() &&
         isa<tensor::InsertSliceOp>(*epilogue->getResult(0).user_begin());
}

/// One matmul's schedule: its cache blocks (mc x nc, parallel when the
/// product is large enough), k blocks (kc) and register tile (mr x nr).
struct Plan {
  int64_t mc, nc, kc, mr, nr;
  bool peel, pack, parallel, epilogue, fuseInit;
  /// Not parallel, but with the epilogue in its register tiles
  /// (matmulEpilogueInTiles): one block, into which the epilogue fuses.
  bool serialEpilogue = false;
  /// A packed block's row tiles (packBlock): `tileRows` rows each
  /// (matmulRowTileHeight), the block's last rows one or two shorter tiles
  /// (matmulRowTiles); mr (a divisor of M) sizes the cache blocks.
  int64_t tileRows = 0;
};

/// Cache blocks over (i, j) run in parallel (scf.forall, later OpenMP);
/// inside each, k blocks, then an (up to) 8x32 register tile with one k step.
///
/// A width that 16 does not divide (a convolution's 196 or 49 output pixels,
/// a filter gradient's 25 columns) gets column blocks that divide it and
/// whole 32- or 16-lane register tiles, the last one of each block peeled
/// off into its own narrower tile. Divisors of such widths are odd-sized
/// vectors (7 or 28 lanes) that waste lanes or spill, and masking every tile
/// of a block keeps the masked accumulators in memory across the k loop;
/// peeled, all but the last tile run at full speed.
///
/// `kStep` > 1 (a convolution's filter window, kh * kw, with
/// `window-k-blocks`): a packed product's k blocks are whole windows, so
/// that packFromImages walks each block's taps channel by channel with
/// constant offsets instead of dividing every row's index.
///
/// `serialEpilogue` (epilogue-in-tiles and epilogue-in-place on): a product
/// too small for parallel blocks whose epilogue can run in its register
/// tiles (B packed, one k block) fuses it all the same, as one block.
Plan planMatmul(int64_t m, int64_t n, int64_t k, bool allowPeel, bool allowPack,
                bool epilogue, bool fuseInit, bool nested, bool serialEpilogue,
                bool fullHeightTiles, const MatmulRegisters &regs,
                int64_t kStep = 1, bool constantB = false) {
  int64_t mr = matmulTileSize(m, regs.rows), full = regs.tile();
  // B's panels are packed when a block has at least one whole 32-lane panel
  // and two row tiles that reuse it, or B is a constant whose panels are
  // made at compile time (packBlock).
  bool pack = allowPack && matmulPacksB(m, n, regs, constantB);
  bool peel = !pack && allowPeel && n > regs.lanes && n % regs.lanes != 0;
  // Blocks of any width: a packed block's last, narrower panel, like a
  // peeled tile, is static.
  bool anyWidth = peel || pack;
  // Register tile width for a block `nc` wide: with peeling, 32 lanes unless
  // the peeled tile would then need more than one register.
  auto widthFor = [&](int64_t nc) {
    if (pack)
      return full;
    if (!peel)
      return vectorWidth(nc, regs);
    return nc % full <= regs.lanes ? full : regs.lanes;
  };
  int64_t nr = vectorWidth(n, regs);
  // A k without a divisor of at least 32 up to 256 (a prime) would pack a
  // few rows per copy: one k block instead (matmulKBlock).
  int64_t mc = matmulTileSize(m, 128, mr), kc = matmulKBlock(k, pack, kStep),
          nc;
  if (anyWidth) {
    // Any divisor: the blocks stay full and static, so that the peeled tile
    // has a static width. A width without one of at least 64 (a prime) is
    // one block.
    nc = matmulTileSize(n, 256);
    if (nc < 64)
      nc = n;
    nr = widthFor(nc);
  } else {
    nc = matmulTileSize(n, 256, nr);
  }
  // Not inside a parallel loop either (anvil-parallelize-images).
  bool parallel = matmulRunsInParallelBlocks(m, n, k) && !nested;
  if (!parallel) {
    mc = m;
    nc = n;
    nr = widthFor(nc);
  }
  // Two threads need at least two blocks: split columns, else rows.
  if (parallel && (m / mc) * (n / nc) < 2) {
    int64_t step = anyWidth ? 1 : nr, least = anyWidth ? full : nr;
    if (int64_t half = matmulTileSize(n, nc / 2, step);
        half < nc && half >= least && nc % half == 0) {
      nc = half;
      nr = widthFor(nc);
    } else if (int64_t half = matmulTileSize(m, mc / 2, mr); half < mc) {
      mc = half;
    }
  }
  peel = peel && nc % nr != 0;
  Plan plan{mc, nc, kc, mr, nr, peel, pack, parallel, epilogue, fuseInit};
  plan.serialEpilogue =
      serialEpilogue && epilogue && !parallel && pack && kc == k;
  plan.tileRows = matmulRowTileHeight(m, k, mc, mr, regs, fullHeightTiles);
  return plan;
}

/// The first half of a schedule: the cache blocks and the k-block loop
/// inside them, leaving one tagged block product (A mc x kc, B kc x nc).
/// With an epilogue (anvil-fuse-matmul-epilogue), the epilogue is tiled
/// into the parallel blocks and the matmul, then its accumulator's start,
/// fused into each: bias, product and epilogue run block by block, while
/// the block is in cache.
std::string blockSchedule(int64_t id, const Plan &p, int64_t k) {
  std::string fusedBlocks =
      llvm::formatv(
          R"mlir(
    {4}
    %ep{0} = transform.structured.match ops{{["linalg.generic"]} attributes {{{1} = {0} : i64} in %module : (!transform.any_op) -> !transform.any_op
    %ept{0}, %forall{0} = transform.structured.tile_using_forall %ep{0} tile_sizes [{2}, {3}] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %par{0}, %fa{0} = transform.structured.fuse_into_containing_op %mm{0} into %forall{0} : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op))mlir",
          id, kTag, p.mc, p.nc,
          p.fuseInit
              ? llvm::formatv(
                    "%init{0} = transform.get_producer_of_operand "
                    "%mm{0}[2] : (!transform.any_op) -> !transform.any_op",
                    id)
                    .str()
              : "")
          .str();
  if (p.fuseInit)
    fusedBlocks += llvm::formatv(
                       R"mlir(
    %inb{0}, %fb{0} = transform.structured.fuse_into_containing_op %init{0} into %fa{0} : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op))mlir",
                       id)
                       .str();
  // Without an epilogue the accumulator's start still runs per block: the
  // block's zeros are written just before the product reads them, in cache
  // (a separate fill is one more pass over all of C, as long as the product
  // itself when K is small).
  std::string initBlocks = llvm::formatv(
                               R"mlir(
    %init{0} = transform.get_producer_of_operand %mm{0}[2] : (!transform.any_op) -> !transform.any_op
    %par{0}, %forall{0} = transform.structured.tile_using_forall %mm{0} tile_sizes [{1}, {2}, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %inb{0}, %fb{0} = transform.structured.fuse_into_containing_op %init{0} into %forall{0} : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op))mlir",
                               id, p.mc, p.nc)
                               .str();
  // A serial product whose epilogue runs in its register tiles is one
  // block of the same kind (a forall of one iteration, which
  // canonicalization unwraps), so that the epilogue reaches the tiles.
  std::string blocks =
      (p.parallel || p.serialEpilogue) && p.epilogue ? fusedBlocks
      : p.parallel && p.fuseInit                     ? initBlocks
      : p.parallel
          ? llvm::formatv("%par{0}, %forall{0} = "
                          "transform.structured.tile_using_forall %mm{0} "
                          "tile_sizes [{1}, {2}, 0] : (!transform.any_op) -> "
                          "(!transform.any_op, !transform.any_op)",
                          id, p.mc, p.nc)
                .str()
          : llvm::formatv("%par{0}, %bl{0}:2 = "
                          "transform.structured.tile_using_for %mm{0} "
                          "tile_sizes [{1}, {2}, 0] : (!transform.any_op) -> "
                          "(!transform.any_op, !transform.any_op, "
                          "!transform.any_op)",
                          id, p.mc, p.nc)
                .str();
  // One k block is no loop: the block product's accumulator is then the
  // op that starts it, which packBlock may move into the row tiles.
  std::string kBlocks =
      p.kc == k ? std::string()
                : llvm::formatv("%blocks{0}, %kl{0} = "
                                "transform.structured.tile_using_for %par{0} "
                                "tile_sizes [0, 0, {1}] : (!transform.any_op) "
                                "-> (!transform.any_op, !transform.any_op)",
                                id, p.kc)
                      .str();
  return llvm::formatv(
             R"mlir(
    %mm{0} = transform.structured.match ops{{["linalg.matmul"]} attributes {{{1} = {0} : i64} in %module : (!transform.any_op) -> !transform.any_op
    {2}
    {3}
)mlir",
             id, kTag, blocks, kBlocks)
      .str();
}

/// The second half: the register tiles of the tagged products (i, j, k
/// with one k step), the last one of a row peeled off when `peel`. A packed
/// panel's products are single row tiles already (packBlock): mr = 0 tiles
/// only j and k.
std::string registerSchedule(int64_t id, int64_t mr, int64_t nr, bool peel) {
  // One handle per tiled loop: the column loop is the first without rows.
  int64_t loops = mr ? 3 : 2, columns = mr ? 1 : 0;
  // The peeled loop's tile gets its static width from the canonicalization
  // that runs before vectorization (vectorizeSchedules).
  std::string peeling = peel ? llvm::formatv(
                                   R"mlir(
    %jl{0} = transform.cast %rl{0}#{1} : !transform.any_op to !transform.op<"scf.for">
    %main{0}, %rest{0} = transform.loop.peel %jl{0} : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op))mlir",
                                   id, columns)
                                   .str()
                             : std::string();
  std::string handles = "!transform.any_op";
  for (int64_t i = 0; i < loops; ++i)
    handles += ", !transform.any_op";
  return llvm::formatv(
             R"mlir(
    %tb{0} = transform.structured.match ops{{["linalg.matmul", "linalg.matmul_transpose_a"]} attributes {{{1} = {0} : i64} in %module : (!transform.any_op) -> !transform.any_op
    %regs{0}, %rl{0}:{5} = transform.structured.tile_using_for %tb{0} tile_sizes [{2}, {3}, 1] : (!transform.any_op) -> ({6}){4}
)mlir",
             id, kTag, mr, nr, peeling, loops, handles)
      .str();
}

/// The copies that pack B's panels: rows of whole vectors.
std::string packSchedule(int64_t id) {
  return llvm::formatv(
             R"mlir(
    %pk{0} = transform.structured.match ops{{["linalg.copy"]} attributes {{{1} = {0} : i64} in %module : (!transform.any_op) -> !transform.any_op
    %pkt{0}, %pkl{0} = transform.structured.tile_using_for %pk{0} tile_sizes [1, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
)mlir",
             id, kTag)
      .str();
}

/// After every schedule's tiling (and a canonicalization that gives the
/// peeled tiles static shapes), vectorize each register tile: all the ops
/// of `ops` that still carry the schedule's tag.
std::string vectorizeSchedule(int64_t id, StringRef ops) {
  return llvm::formatv(
             R"mlir(
    %tiles{0} = transform.structured.match ops{{[{2}]} attributes {{{1} = {0} : i64} in %module : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %tiles{0} : !transform.any_op
)mlir",
             id, kTag, ops)
      .str();
}

/// Shared by all schedules: fold the vectorized products into contractions,
/// keep accumulators in registers across k, lower to broadcast-FMAs.
/// (Not tensor.fold_tensor_subset_ops_into_vector_transfers: in MLIR 19 it
/// folds insert_slice(transfer_write(v, t)) into a write of v alone even when
/// v covers only part of t, dropping the rest of t; a peeled tile's write
/// followed by a batch entry's or block's insert is that shape. The slices it
/// would fold become views after bufferization; the accumulators are hoisted
/// without it.)
constexpr llvm::StringLiteral kCleanup = R"mlir(
    transform.apply_patterns to %module {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
    } : !transform.any_op
    transform.apply_patterns to %module {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %loops = transform.structured.match ops{["scf.for"]} in %module : (!transform.any_op) -> !transform.any_op
    transform.apply_licm to %loops : !transform.any_op
    transform.loop.hoist_loop_invariant_subsets %loops : !transform.any_op
    transform.apply_patterns to %module {
      transform.apply_patterns.vector.lower_masked_transfers
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.canonicalization
    } : !transform.any_op
)mlir";

/// A static `linalg.batch_matmul` as a loop over its batch of 2-D
/// `linalg.matmul`s on rank-reducing slices, which then get the matmul
/// schedule: the batch dimension tiled by 1.
void unbatch(linalg::BatchMatmulOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1],
        init = op.getDpsInits()[0];
  auto type = cast<RankedTensorType>(init.getType());
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0),
        one = b.create<arith::ConstantIndexOp>(loc, 1),
        batch = b.create<arith::ConstantIndexOp>(loc, type.getDimSize(0));
  auto loop = b.create<scf::ForOp>(
      loc, zero, batch, one, ValueRange{init},
      [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
        // Entry `iv` of a [B, R, C] tensor: its offsets, sizes and strides.
        auto at = [&](RankedTensorType t) {
          SmallVector<OpFoldResult> offsets = {iv, nb.getIndexAttr(0),
                                               nb.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1),
                                             nb.getIndexAttr(t.getDimSize(1)),
                                             nb.getIndexAttr(t.getDimSize(2))};
          SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
          return std::make_tuple(offsets, sizes, strides);
        };
        auto slice = [&](Value v) {
          auto t = cast<RankedTensorType>(v.getType());
          auto [offsets, sizes, strides] = at(t);
          return nb.create<tensor::ExtractSliceOp>(
              l, t.clone(t.getShape().drop_front()), v, offsets, sizes,
              strides);
        };
        Value acc = slice(args[0]);
        Value product =
            nb.create<linalg::MatmulOp>(l, acc.getType(),
                                        ValueRange{slice(lhs), slice(rhs)}, acc)
                .getResult(0);
        auto [offsets, sizes, strides] = at(type);
        nb.create<scf::YieldOp>(
            l, nb.create<tensor::InsertSliceOp>(l, product, args[0], offsets,
                                                sizes, strides)
                   .getResult());
      });
  op->getResult(0).replaceAllUsesWith(loop.getResult(0));
  op->erase();
}

/// While alive, ops printed with default flags skip their verification
/// (MLIR's --mlir-print-assume-verified, where the option is registered).
/// transform.structured.fuse_into_containing_op builds a remark naming the
/// producer and the containing op on every call, fused or not, and
/// printing them ran MLIR's verifier over the enclosing function (the
/// forward function of the entire network) once per fusion: DenseNet-121
/// (245 fusions) spent 11 of this pass's 15 s in mlir::verify under
/// AsmState (perf). The IR is verified by the pass manager after the pass
/// anyway. (What remains, 2 s, is numbering that function for the
/// printer; --mlir-print-local-scope did not help.)
class PrintingAssumesVerified {
public:
  PrintingAssumesVerified() {
    auto &options = llvm::cl::getRegisteredOptions();
    auto it = options.find("mlir-print-assume-verified");
    if (it == options.end())
      return;
    option = static_cast<llvm::cl::opt<bool> *>(it->second);
    old = *option;
    option->setValue(true);
  }
  ~PrintingAssumesVerified() {
    if (option)
      option->setValue(old);
  }

private:
  llvm::cl::opt<bool> *option = nullptr;
  bool old = false;
};

/// Applies one transform sequence (the body of @__transform_main) to the
/// module.
LogicalResult applySchedule(ModuleOp module, StringRef body) {
  std::string text = "module attributes {transform.with_named_sequence} {\n"
                     "  transform.named_sequence @__transform_main(%module: "
                     "!transform.any_op {transform.readonly}) {\n" +
                     body.str() + "    transform.yield\n  }\n}\n";
  OwningOpRef<ModuleOp> schedule =
      parseSourceString<ModuleOp>(text, module.getContext(), "anvil-schedule");
  if (!schedule)
    return module.emitError(
        "internal error: the tiling schedule does not parse");
  Operation *entry = schedule->lookupSymbol("__transform_main");
  PrintingAssumesVerified cheapRemarks;
  // (The interpreter's handle-invalidation checks cost DenseNet-121 0.8 s
  // in this pass; the schedules are generated and their shapes tested, so
  // only debug builds check them.)
  transform::TransformOptions options;
#ifdef NDEBUG
  options.enableExpensiveChecks(false);
#endif
  return transform::applyTransformNamedSequence(module, entry, *schedule,
                                                options);
}

/// The tags packBlock gives the ops it makes.
struct PackTags {
  IntegerAttr copies, panels, tail;
};

/// The fused epilogue of a block product with one k block, when it can run
/// in the product's register tiles: the in-place all-parallel generic
/// (epiloguesInPlace) whose destination is the product, its only user,
/// whose other operands exist before the product (they are read per tile,
/// where the product is), over the product's two dimensions.
linalg::GenericOp tileableEpilogue(linalg::MatmulOp op) {
  if (!op->hasOneUse())
    return nullptr;
  auto epilogue = dyn_cast<linalg::GenericOp>(*op->user_begin());
  if (!epilogue || !epilogue->hasAttr(kTag) || epilogue.getNumDpsInits() != 1 ||
      epilogue->getNumResults() != 1 || epilogue.getNumLoops() != 2 ||
      epilogue.getNumLoops() != epilogue.getNumParallelLoops() ||
      epilogue.getDpsInits()[0] != op->getResult(0) ||
      !epilogue.getMatchingIndexingMap(epilogue.getDpsInitOperand(0))
           .isIdentity() ||
      epilogue->getBlock() != op->getBlock())
    return nullptr;
  DominanceInfo dominance(op->getParentOp());
  for (OpOperand *in : epilogue.getDpsInputOperands())
    if (in->get() == op->getResult(0) ||
        !dominance.properlyDominates(in->get(), op))
      return nullptr;
  return epilogue;
}

/// The op that starts a block product's accumulator (a fill of zeros, a
/// convolution's bias broadcast, an all-parallel generic) when only the
/// product reads it. It is then the product's own init, so the product has
/// one k block: with several, the accumulator reaches the product through
/// the k-block loop.
linalg::LinalgOp startOfAccumulator(linalg::MatmulOp op) {
  auto init = op.getDpsInits()[0].getDefiningOp<linalg::LinalgOp>();
  if (!init || !init->hasOneUse() || init->getNumResults() != 1 ||
      !isa<linalg::FillOp, linalg::BroadcastOp, linalg::GenericOp>(init) ||
      init.getNumLoops() != init.getNumParallelLoops())
    return {};
  return init;
}

/// A block product's B when it is a slice of a convolution's im2col matrix
/// (Conv.cpp: a copy generic whose [C, kh, kw, N, OH, OW] result, entry
/// image[n, c, y*sh + i*dh, x*sw + j*dw], is collapsed to [K, P] = [(c, i,
/// j), (n, y, x)]): the images it reads, as one flat vector, B's offsets in
/// the matrix and the convolution's geometry.
struct Im2colSource {
  Value flat;
  Value row, col;
  int64_t c, hp, wp, kh, kw, oh, ow, sh, sw, dh, dw;
};

/// Follows `v` up through 2-D unit-stride tensor.extract_slice ops to the
/// matrix they cut from: `v` becomes that matrix, and the result is the
/// offsets of the original slice in it (index values built at `loc`);
/// nullopt for any other slice.
std::optional<SmallVector<Value>> sliceOrigin(OpBuilder &builder, Location loc,
                                              Value &v) {
  SmallVector<Value> offsets = {builder.create<arith::ConstantIndexOp>(loc, 0),
                                builder.create<arith::ConstantIndexOp>(loc, 0)};
  while (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (slice.getSourceType().getRank() != 2 ||
        slice.getType().getRank() != 2 || !slice.hasUnitStride())
      return std::nullopt;
    for (auto [d, o] : llvm::enumerate(slice.getMixedOffsets()))
      offsets[d] = builder.create<arith::AddIOp>(
          loc, offsets[d], getValueOrCreateConstantIndexOp(builder, loc, o));
    v = slice.getSource();
  }
  return offsets;
}

/// Whether `b` (a block product's B: slices of slices, unit strides) is a
/// block of an im2col matrix, and where; the offsets are built at `builder`.
/// The generic is recognized by its shape and its one read, whatever made
/// it: 6 parallel loops (c, i, j, n, y, x) that copy image[d3, d0, sh*d4 +
/// dh*d1, sw*d5 + dw*d2] into an identity-mapped result.
std::optional<Im2colSource> im2colSource(OpBuilder &builder, Location loc,
                                         Value b) {
  std::optional<SmallVector<Value>> offsets = sliceOrigin(builder, loc, b);
  if (!offsets)
    return std::nullopt;
  // [[0, 1, 2], [3, 4, 5]], or with unit dimensions moved across the
  // split (a 1x1 kernel's [[0], [1, 2, 3, 4, 5]], as canonicalized).
  auto collapse = b.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 6 ||
      collapse.getReassociationIndices().size() != 2)
    return std::nullopt;
  int64_t split = collapse.getReassociationIndices()[1].front();
  for (int64_t d = std::min<int64_t>(split, 3), e = std::max<int64_t>(split, 3);
       d < e; ++d)
    if (collapse.getSrcType().getDimSize(d) != 1)
      return std::nullopt;
  auto copy = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!copy || copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
      copy.getNumLoops() != 6 ||
      copy.getNumParallelLoops() != copy.getNumLoops() ||
      !copy.getMatchingIndexingMap(copy.getDpsInitOperand(0)).isIdentity())
    return std::nullopt;
  Block &body = copy.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 ||
      yield.getValues()[0] != body.getArgument(0))
    return std::nullopt;
  Value image = copy.getDpsInputs()[0];
  auto imageType = dyn_cast<RankedTensorType>(image.getType());
  auto colsType = cast<RankedTensorType>(copy.getResult(0).getType());
  AffineMap read = copy.getMatchingIndexingMap(copy.getDpsInputOperand(0));
  if (!imageType || !imageType.hasStaticShape() || imageType.getRank() != 4 ||
      !colsType.hasStaticShape() || read.getNumResults() != 4 ||
      read.getNumSymbols() != 0 ||
      !llvm::all_of(read.getResults(),
                    [](AffineExpr e) { return e.isPureAffine(); }))
    return std::nullopt;
  // The read's coefficients: the map at each unit vector (it is linear:
  // pure affine, zero at zero).
  SmallVector<SmallVector<int64_t, 4>> coef;
  for (int64_t d = 0; d < 6; ++d) {
    SmallVector<int64_t> unit(6, 0);
    unit[d] = 1;
    coef.push_back(read.compose(unit));
  }
  auto at = [&](int64_t result, ArrayRef<std::pair<int64_t, int64_t>> terms) {
    for (int64_t d = 0; d < 6; ++d) {
      int64_t want = 0;
      for (auto [dim, value] : terms)
        if (dim == d)
          want = value;
      if (coef[d][result] != want)
        return false;
    }
    return true;
  };
  int64_t sh = coef[4][2], dh = coef[1][2], sw = coef[5][3], dw = coef[2][3];
  if (llvm::any_of(read.compose(SmallVector<int64_t>(6, 0)),
                   [](int64_t v) { return v != 0; }) ||
      !at(0, {{3, 1}}) || !at(1, {{0, 1}}) || !at(2, {{4, sh}, {1, dh}}) ||
      !at(3, {{5, sw}, {2, dw}}) || sh < 1 || sw < 1 || dh < 1 || dw < 1 ||
      imageType.getDimSize(0) != colsType.getDimSize(3) ||
      imageType.getDimSize(1) != colsType.getDimSize(0))
    return std::nullopt;
  auto flatType = RankedTensorType::get({imageType.getNumElements()},
                                        imageType.getElementType());
  Value flat = builder.create<tensor::CollapseShapeOp>(
      loc, flatType, image, SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
  return Im2colSource{flat,
                      (*offsets)[0],
                      (*offsets)[1],
                      imageType.getDimSize(1),
                      imageType.getDimSize(2),
                      imageType.getDimSize(3),
                      colsType.getDimSize(1),
                      colsType.getDimSize(2),
                      colsType.getDimSize(4),
                      colsType.getDimSize(5),
                      sh,
                      sw,
                      dh,
                      dw};
}

/// The filter window (kh * kw) of a product whose B is a convolution's
/// whole im2col matrix, the shape im2colSource later recognizes in its
/// blocks; 1 for any other B. Only a hint for the k blocks (planMatmul).
int64_t im2colWindow(Value b) {
  auto collapse = b.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse || collapse.getSrcType().getRank() != 6 ||
      !collapse.getSrcType().hasStaticShape())
    return 1;
  auto copy = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
  if (!copy || copy.getNumLoops() != 6)
    return 1;
  return collapse.getSrcType().getDimSize(1) *
         collapse.getSrcType().getDimSize(2);
}

/// The packed kc x `width` sliver of B's columns [col, col + width) (block
/// offsets included), gathered straight from the images instead of copied
/// from a materialized im2col matrix: row k of the sliver is filter tap (c,
/// i, j) at `width` consecutive output pixels. Those pixels lie on a few
/// output rows (segments); each segment's lanes are one masked read (a
/// contiguous load with stride 1, a gather otherwise) at an address that is
/// the segment's (computed once per sliver) plus the tap's (once per row).
/// With `deinterleave`, a stride of 2 reads contiguously too: a masked
/// load twice as wide whose even lanes are the segment's (one shuffle, two
/// vpermt2ps per 32 lanes); a gather loads one lane at a time (the stem's
/// 7x7 stride-2 convolution packed at half the speed of its product).
/// A sliver on one output row reads each tap with one plain load; with
/// `blend`, a sliver across rows reads each segment with a plain load and
/// selects its lanes, where those loads stay inside the images (the masked
/// reads rebuilt their masks on every tap on AVX2). With `windowTaps` and
/// k blocks of whole filter windows, the taps' offsets are constants added
/// to the channel's, not divisions per row.
Value packFromImages(OpBuilder &b, Location loc, const Im2colSource &src,
                     Value col, int64_t kc, int64_t width, bool deinterleave,
                     bool blend, bool windowTaps) {
  Type f = cast<RankedTensorType>(src.flat.getType()).getElementType();
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  auto mul = [&](Value a, int64_t v) {
    return b.create<arith::MulIOp>(loc, a, index(v)).getResult();
  };
  auto add = [&](Value x, Value y) {
    return b.create<arith::AddIOp>(loc, x, y).getResult();
  };
  Value p0 = add(src.col, col);
  Value r0 = b.create<arith::DivUIOp>(loc, p0, index(src.ow));
  Value x0 = b.create<arith::RemUIOp>(loc, p0, index(src.ow));
  // Pixels [p0, p0 + width) span at most this many output rows.
  int64_t segments = (src.ow - 1 + width + src.ow - 1) / src.ow;
  auto i32 = b.getI32Type();
  auto laneType = VectorType::get({width}, i32);
  SmallVector<int32_t> laneValues;
  for (int64_t q = 0; q < width; ++q)
    laneValues.push_back(int32_t(q));
  Value lanes = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(laneType, ArrayRef(laneValues)));
  auto splat = [&](Value v) {
    return b.create<vector::SplatOp>(loc, laneType,
                                     b.create<arith::IndexCastOp>(loc, i32, v));
  };
  // Per segment s (output row r0 + s): its lanes [s*OW - x0, (s+1)*OW - x0)
  // and the address of lane 0's pixel, less the tap's part:
  // n*C*Hp*Wp + y*sh*Wp + (x0 - s*OW)*sw (lane q adds q*sw).
  bool wide = deinterleave && src.sw == 2;
  auto wideLaneType = VectorType::get({2 * width}, i32);
  SmallVector<int32_t> wideLaneValues;
  for (int64_t t = 0; t < 2 * width; ++t)
    wideLaneValues.push_back(int32_t(t));
  Value wideLanes =
      wide ? b.create<arith::ConstantOp>(
                  loc, DenseElementsAttr::get(wideLaneType,
                                              ArrayRef(wideLaneValues)))
                 .getResult()
           : Value();
  auto wideSplat = [&](Value v) {
    return b.create<vector::SplatOp>(loc, wideLaneType,
                                     b.create<arith::IndexCastOp>(loc, i32, v));
  };
  SmallVector<Value> masks, wideMasks, bases;
  int64_t image = src.c * src.hp * src.wp;
  for (int64_t s = 0; s < segments; ++s) {
    Value r = add(r0, index(s));
    Value n = b.create<arith::DivUIOp>(loc, r, index(src.oh));
    Value y = b.create<arith::RemUIOp>(loc, r, index(src.oh));
    Value lo = b.create<arith::SubIOp>(loc, index(s * src.ow), x0);
    Value hi = add(lo, index(src.ow));
    masks.push_back(b.create<arith::AndIOp>(
        loc,
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, lanes,
                                splat(lo)),
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, lanes,
                                splat(hi))));
    bases.push_back(b.create<arith::SubIOp>(
        loc, add(mul(n, image), mul(y, src.sh * src.wp)), mul(lo, src.sw)));
    // The wide read's lane t is at address base + t: lane q's pixel is at
    // t = 2q. Its mask ends just after the last lane's pixel, which may be
    // the buffer's last element.
    if (wide)
      wideMasks.push_back(b.create<arith::AndIOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, wideLanes,
                                  wideSplat(mul(lo, 2))),
          b.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::slt, wideLanes,
              wideSplat(b.create<arith::SubIOp>(loc, mul(hi, 2), index(1))))));
  }
  auto wideType = VectorType::get({2 * width}, f);
  SmallVector<int64_t> evens;
  for (int64_t q = 0; q < width; ++q)
    evens.push_back(2 * q);
  Value strideLanes =
      src.sw == 1 ? Value()
                  : b.create<arith::MulIOp>(
                        loc, lanes,
                        b.create<arith::ConstantOp>(
                            loc, DenseElementsAttr::get(
                                     laneType, b.getI32IntegerAttr(src.sw))));
  Value zero = b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, 0.0));
  auto vType = VectorType::get({width}, f);
  Value zeros = b.create<vector::SplatOp>(loc, vType, zero);
  Value buffer =
      b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{kc, width}, f);
  Value c0 = index(0);
  int64_t window = src.kh * src.kw;
  // The offset of tap (c, i, j), the sliver's row for block row k:
  // c*Hp*Wp + i*dh*Wp + j*dw, by division (the tap's index is src.row + k).
  auto tapOffset = [&](Location l, Value k) {
    Value tap = add(src.row, k);
    Value c = b.create<arith::DivUIOp>(l, tap, index(window));
    Value rest = b.create<arith::RemUIOp>(l, tap, index(window));
    Value i = b.create<arith::DivUIOp>(l, rest, index(src.kw));
    Value j = b.create<arith::RemUIOp>(l, rest, index(src.kw));
    return add(add(mul(c, src.hp * src.wp), mul(i, src.dh * src.wp)),
               mul(j, src.dw));
  };
  // One row of the sliver, the tap at `offset` from each segment's base,
  // written at row `k` of `into`:
  // - Plain: all lanes on the first segment, one plain read;
  // - Blend: each segment one plain read (the caller checked they stay in
  //   the images), its lanes kept by a select on the segment's mask;
  // - Masked: each segment one masked read (or gather).
  enum class Reads { Plain, Blend, Masked };
  auto emitRow = [&](Location rl, Value offset, Value k, Value into,
                     Reads mode) -> Value {
    // The segment's `width` lanes from `base` (plain, in bounds): the
    // contiguous read, or the wide one's even lanes.
    auto plainRead = [&](Value base) -> Value {
      if (!wide)
        return b.create<vector::TransferReadOp>(
            rl, vType, src.flat, ValueRange{base}, b.getMultiDimIdentityMap(1),
            zero, Value(), b.getBoolArrayAttr({true}));
      Value read = b.create<vector::TransferReadOp>(
          rl, wideType, src.flat, ValueRange{base}, b.getMultiDimIdentityMap(1),
          zero, Value(), b.getBoolArrayAttr({true}));
      return b.create<vector::ShuffleOp>(rl, read, read, evens);
    };
    Value row = zeros;
    if (mode == Reads::Plain)
      row = plainRead(add(bases[0], offset));
    for (int64_t s = 0; s < segments && mode == Reads::Blend; ++s) {
      Value read = plainRead(add(bases[s], offset));
      row =
          s == 0
              ? read
              : b.create<arith::SelectOp>(rl, masks[s], read, row).getResult();
    }
    for (int64_t s = 0; s < segments && mode == Reads::Masked; ++s) {
      Value base = add(bases[s], offset);
      if (src.sw == 1) {
        // Masked-off lanes are never read: the clamp only keeps a
        // segment without lanes (its start before the buffer) in range.
        Value start = b.create<arith::MaxSIOp>(rl, base, c0);
        Value read = b.create<vector::TransferReadOp>(
            rl, vType, src.flat, ValueRange{start}, b.getMultiDimIdentityMap(1),
            zero, masks[s], b.getBoolArrayAttr({false}));
        row = b.create<arith::SelectOp>(rl, masks[s], read, row);
      } else if (wide) {
        // As above, the clamp only matters for a segment without lanes.
        Value start = b.create<arith::MaxSIOp>(rl, base, c0);
        Value read = b.create<vector::TransferReadOp>(
            rl, wideType, src.flat, ValueRange{start},
            b.getMultiDimIdentityMap(1), zero, wideMasks[s],
            b.getBoolArrayAttr({false}));
        Value even = b.create<vector::ShuffleOp>(rl, read, read, evens);
        row = b.create<arith::SelectOp>(rl, masks[s], even, row);
      } else {
        Value at = b.create<arith::AddIOp>(rl, strideLanes, splat(base));
        row = b.create<vector::GatherOp>(rl, vType, src.flat, ValueRange{c0},
                                         at, masks[s], row);
      }
    }
    return b
        .create<vector::TransferWriteOp>(rl, row, into, ValueRange{k, c0},
                                         ArrayRef<bool>{true})
        .getResult();
  };
  // The rows of the sliver. With `windowTaps` and k blocks of whole
  // windows (planMatmul's kStep), a loop over the block's channels and
  // their kernel rows, each row's kw taps unrolled at constant offsets;
  // else one loop over the rows, each tap's offset by division.
  bool byWindow = windowTaps && kc % window == 0;
  auto rowsLoop = [&](Reads mode) -> Value {
    // The block's first channel (its first row is a whole window's).
    Value firstChannel =
        byWindow
            ? b.create<arith::DivUIOp>(loc, src.row, index(window)).getResult()
            : Value();
    auto loopBody = [&](OpBuilder &rb, Location rl, Value v,
                        ValueRange args) -> Value {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(rb.getInsertionBlock(), rb.getInsertionPoint());
      if (!byWindow)
        return emitRow(rl, tapOffset(rl, v), v, args[0], mode);
      // v: the block's channel; its first row is v * window.
      Value channel = add(firstChannel, v);
      Value channelOffset = mul(channel, src.hp * src.wp);
      Value firstRow = mul(v, window);
      return b
          .create<scf::ForOp>(
              rl, c0, index(src.kh), index(1), ValueRange{args[0]},
              [&](OpBuilder &ib, Location il, Value i, ValueRange iargs) {
                OpBuilder::InsertionGuard inner(b);
                b.setInsertionPoint(ib.getInsertionBlock(),
                                    ib.getInsertionPoint());
                Value rowOffset = add(channelOffset, mul(i, src.dh * src.wp));
                Value rowK = add(firstRow, mul(i, src.kw));
                Value into = iargs[0];
                for (int64_t j = 0; j < src.kw; ++j)
                  into = emitRow(il, add(rowOffset, index(j * src.dw)),
                                 add(rowK, index(j)), into, mode);
                ib.create<scf::YieldOp>(il, into);
              })
          .getResult(0);
    };
    return b
        .create<scf::ForOp>(
            loc, c0, index(byWindow ? kc / window : kc), index(1),
            ValueRange{buffer},
            [&](OpBuilder &rb, Location rl, Value v, ValueRange args) {
              Value written = loopBody(rb, rl, v, args);
              rb.create<scf::YieldOp>(rl, written);
            })
        .getResult(0);
  };
  // Most slivers of a wide output row lie on one row (all of them but the
  // one in ceil(OW / 16) that crosses a row end): their taps are plain
  // contiguous reads, no masks (on AVX2 each masked read rebuilt its
  // 16-lane mask from bytes: 17% of a 3x3 convolution's time at 56x56).
  // A stride-2 row read twice as wide (deinterleaved) does the same when
  // its wide read, one element past its last pixel at the row's last tap,
  // stays inside the padded row. (Gathers keep the general path; so do
  // slivers wider than a row.)
  bool plainWide = wide && 2 * (width - 1) + src.dw * (src.kw - 1) + 1 < src.wp;
  bool plainOk = (src.sw == 1 || plainWide) && width <= src.ow;
  // With `blend`, a sliver across row ends reads each of its segments with
  // a plain read too and keeps the segment's lanes by a select on its mask
  // (made once per sliver), when every read of the block stays inside the
  // images: from each segment's base, at most the block's last tap's
  // offset plus the read's length.
  bool blendOk = blend && (src.sw == 1 || wide);
  if (!plainOk && !blendOk)
    return rowsLoop(Reads::Masked);
  // Builds `if (cond) then() else otherwise()` yielding a sliver.
  auto choose = [&](Value cond, auto then, auto otherwise) -> Value {
    auto branch = b.create<scf::IfOp>(loc, TypeRange{buffer.getType()}, cond,
                                      /*addThenBlock=*/true,
                                      /*addElseBlock=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    b.create<scf::YieldOp>(loc, then());
    b.setInsertionPointToStart(branch.elseBlock());
    b.create<scf::YieldOp>(loc, otherwise());
    return branch.getResult(0);
  };
  auto masked = [&] { return rowsLoop(Reads::Masked); };
  auto blended = [&]() -> Value {
    if (!blendOk)
      return masked();
    int64_t length = wide ? 2 * width : (width - 1) * src.sw + 1;
    int64_t size = cast<RankedTensorType>(src.flat.getType()).getNumElements();
    Value last = tapOffset(loc, index(kc - 1));
    Value inside;
    for (int64_t s = 0; s < segments; ++s) {
      Value ok = b.create<arith::AndIOp>(
          loc,
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, bases[s], c0),
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle,
                                  add(add(bases[s], last), index(length)),
                                  index(size)));
      inside = inside ? b.create<arith::AndIOp>(loc, inside, ok) : ok;
    }
    return choose(
        inside, [&] { return rowsLoop(Reads::Blend); }, masked);
  };
  if (!plainOk)
    return blended();
  Value fits = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                       add(x0, index(width)), index(src.ow));
  if (wide)
    fits = b.create<arith::AndIOp>(
        loc, fits,
        b.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::ult,
            add(mul(x0, 2), index(2 * (width - 1) + src.dw * (src.kw - 1) + 1)),
            index(src.wp)));
  return choose(
      fits, [&] { return rowsLoop(Reads::Plain); }, blended);
}

/// A block product's A when it is a block of a constant (a convolution's
/// or a linear layer's weights) packed into row panels: the constant's
/// panel-ordered copy and the block's offsets in the original.
struct ConstantPanels {
  Value packed;
  Value row, col;
};

/// The panel-ordered copies of constants made so far: one per constant and
/// panel height (the blocks of one product share it).
using PanelCache = llvm::DenseMap<std::pair<Attribute, int64_t>, Attribute>;

/// An f32 constant's attribute and its values, row-major (owned by the
/// attribute); `transposed`: the values are of the 2-D constant's
/// transpose, which the value is (at(i, j) reads either).
struct F32Constant {
  Attribute attr;
  ArrayRef<float> values;
  bool transposed = false;
  int64_t rows = 0, columns = 0;
  float at(int64_t i, int64_t j) const {
    return transposed ? values[j * rows + i] : values[i * columns + j];
  }
};

/// `v`'s values when it is a 2-D f32 constant of `shape` with one value
/// per element: dense elements (not a splat), or a resource blob (what the
/// ONNX importer makes of initializers); or the linalg.transpose of one (a
/// linear layer's weights before canonicalization folds the transpose).
std::optional<F32Constant> f32Constant(Value v, ArrayRef<int64_t> shape) {
  if (shape.size() != 2)
    return std::nullopt;
  bool transposed = false;
  if (auto t = v.getDefiningOp<linalg::TransposeOp>()) {
    if (t.getPermutation() != ArrayRef<int64_t>{1, 0})
      return std::nullopt;
    v = t.getInput();
    transposed = true;
  }
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  SmallVector<int64_t> stored(shape);
  if (transposed)
    std::swap(stored[0], stored[1]);
  if (!type || !type.getElementType().isF32() ||
      type.getShape() != ArrayRef<int64_t>(stored))
    return std::nullopt;
  Attribute attr = constant.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::nullopt;
    ArrayRef<char> raw = dense.getRawData();
    return F32Constant{
        attr,
        ArrayRef<float>(reinterpret_cast<const float *>(raw.data()),
                        type.getNumElements()),
        transposed, shape[0], shape[1]};
  }
  if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr))
    if (std::optional<ArrayRef<float>> values = blob.tryGetAsArrayRef();
        values && int64_t(values->size()) == type.getNumElements())
      return F32Constant{attr, *values, transposed, shape[0], shape[1]};
  return std::nullopt;
}

/// Whether `a` (a block product's A: slices of slices, unit strides) is a
/// block of an f32 constant of `m` x `k` (the whole product's A), and if
/// so its copy in row panels of `mr` rows, k-major: panel p, entry (k, r)
/// is row p * mr + r, column k of the original ([m / mr, k, mr]). A row
/// tile's A is then one panel's kc x mr slice, read as one contiguous
/// stream (mr floats per k step) instead of mr rows k floats apart. Made at
/// compile time, once per constant; the offsets are built at `builder`.
std::optional<ConstantPanels> constantPanels(OpBuilder &builder, Location loc,
                                             Value a, int64_t m, int64_t k,
                                             int64_t mr, PanelCache &cache) {
  std::optional<SmallVector<Value>> offsets = sliceOrigin(builder, loc, a);
  if (!offsets)
    return std::nullopt;
  // The whole product's A, so that every block's rows start at a multiple
  // of mr (its cache blocks' offsets are multiples of mc).
  std::optional<F32Constant> values = f32Constant(a, {m, k});
  if (!values || m % mr != 0)
    return std::nullopt;
  Attribute &packed = cache[{values->attr, mr}];
  if (!packed) {
    SmallVector<float> to(m * k);
    for (int64_t p = 0; p < m / mr; ++p)
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t r = 0; r < mr; ++r)
          to[(p * k + kk) * mr + r] = values->at(p * mr + r, kk);
    packed = DenseElementsAttr::get(
        RankedTensorType::get({m / mr, k, mr},
                              Float32Type::get(a.getContext())),
        ArrayRef<float>(to));
  }
  Value panels =
      builder.create<arith::ConstantOp>(loc, cast<TypedAttr>(packed));
  return ConstantPanels{panels, (*offsets)[0], (*offsets)[1]};
}

/// A block product's B when it is a block of a constant (a linear layer's
/// weights, transposed at compile time) packed into column panels: the
/// constant's panel-ordered copy, the block's first row (its k block) and
/// its column block.
struct ConstantSlivers {
  Value packed;
  Value row, block;
};

/// The panel-ordered copies of constant Bs made so far: one per constant,
/// column block width and panel width.
using SliverCache =
    llvm::DenseMap<std::tuple<Attribute, int64_t, int64_t>, Attribute>;

/// Whether `b` (a block product's B, kc x nc: slices of slices, unit
/// strides) is a block of an f32 constant of `k` x `n` (the whole
/// product's B), and if so its copy in column panels `nr` wide, as
/// packBlock walks them: each nc-wide column block's ceil(nc / nr) panels
/// (the last one's columns past nc zero), k-major ([n / nc * ceil(nc / nr),
/// k, nr]): panel s = block * perBlock + p holds columns block * nc + p * nr
/// + r. A block's sliver is then one panel's kc x nr slice, one contiguous
/// stream, with no copy at run time. Made at compile time, once per
/// constant and panel shape; the offsets are built at `builder`.
std::optional<ConstantSlivers> constantSlivers(OpBuilder &builder, Location loc,
                                               Value b, int64_t k, int64_t n,
                                               int64_t nc, int64_t nr,
                                               SliverCache &cache) {
  std::optional<SmallVector<Value>> offsets = sliceOrigin(builder, loc, b);
  if (!offsets)
    return std::nullopt;
  std::optional<F32Constant> values = f32Constant(b, {k, n});
  if (!values || n % nc != 0)
    return std::nullopt;
  int64_t perBlock = (nc + nr - 1) / nr, count = n / nc * perBlock;
  Attribute &packed = cache[{values->attr, nc, nr}];
  if (!packed) {
    SmallVector<float> to(count * k * nr);
    for (int64_t s = 0; s < count; ++s) {
      int64_t p = s % perBlock, first = s / perBlock * nc + p * nr,
              width = std::min(nr, nc - p * nr);
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t r = 0; r < width; ++r)
          to[(s * k + kk) * nr + r] = values->at(kk, first + r);
    }
    packed = DenseElementsAttr::get(
        RankedTensorType::get({count, k, nr}, Float32Type::get(b.getContext())),
        ArrayRef<float>(to));
  }
  Value panels =
      builder.create<arith::ConstantOp>(loc, cast<TypedAttr>(packed));
  Value block = builder.create<arith::DivUIOp>(
      loc, (*offsets)[1], builder.create<arith::ConstantIndexOp>(loc, nc));
  return ConstantSlivers{panels, (*offsets)[0], block};
}

/// Packs B in one block product (A mc x kc, B kc x nc, C mc x nc; all
/// static) panel by panel: for each 32 columns of B, a copy of its kc x 32
/// sliver into a contiguous buffer, then the mc x 32 product on it, row tile
/// by row tile (mr rows each); the last nc % 32 columns likewise into a
/// narrower buffer. The register tiles then load B's rows one after another
/// from a buffer that stays in L1 while every row tile of the block reuses
/// it, instead of rows N floats apart in B (for a convolution's im2col
/// buffer, 4K-aliasing rows on separate pages). Each sliver is packed once
/// per (k block, column block). With `fromImages`, a convolution's slivers
/// come straight from its images (packFromImages), not from its im2col
/// matrix. With `slivers` (the whole product's k x n), a constant B's
/// slivers are slices of its panel-ordered copy (constantSlivers), not
/// copies.
///
/// With `startInTiles`, the op that starts the block's accumulator
/// (startOfAccumulator) runs per row tile, just before the tile's product:
/// once both are vectorized, the product's accumulators start as the
/// start's vector (zeros, the broadcast bias) instead of a read of C that a
/// separate pass over the block wrote (for K = 64, a third of the block's
/// traffic to C).
void packBlock(linalg::MatmulOp op, int64_t mr, int64_t tileRows, int64_t nr,
               const PackTags &tags, bool startInTiles, bool epilogueInTiles,
               bool fromImages, bool deinterleave, bool blend, bool windowTaps,
               std::optional<std::pair<int64_t, int64_t>> panelsOf,
               PanelCache &cache,
               std::optional<std::pair<int64_t, int64_t>> slivers,
               SliverCache &sliverCache) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  linalg::LinalgOp start =
      startInTiles ? startOfAccumulator(op) : linalg::LinalgOp();
  // With `epilogueInTiles` and one k block (the start in the tiles), the
  // fused epilogue runs on each row tile's product before it is stored.
  linalg::GenericOp epilogue =
      start && epilogueInTiles ? tileableEpilogue(op) : nullptr;
  Value a = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1],
        c = start ? start.getDpsInits()[0] : op.getDpsInits()[0];
  auto bType = cast<RankedTensorType>(bMat.getType());
  auto cType = cast<RankedTensorType>(c.getType());
  int64_t kc = bType.getDimSize(0), nc = bType.getDimSize(1),
          mc = cType.getDimSize(0);
  int64_t full = nc / nr * nr, tail = nc - full;
  Type f = bType.getElementType();
  auto idx = [&](int64_t v) { return b.getIndexAttr(v); };
  SmallVector<OpFoldResult> ones = {idx(1), idx(1)};
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  // With `panelsOf` (the whole product's m x k), a constant A's row tiles
  // read its panel-ordered copy (constantPanels).
  std::optional<ConstantPanels> panels =
      panelsOf ? constantPanels(b, loc, a, panelsOf->first, panelsOf->second,
                                mr, cache)
               : std::nullopt;
  std::optional<ConstantSlivers> bPanels =
      slivers ? constantSlivers(b, loc, bMat, slivers->first, slivers->second,
                                nc, nr, sliverCache)
              : std::nullopt;
  // Row tiles of `tileRows` rows and a shorter last one (Plan::tileRows);
  // a constant A's panels are mr rows high.
  if (panels)
    tileRows = mr;
  // The product of rows [i, i + rows) and columns [j, j + width) on the
  // packed sliver, inserted into `acc`.
  auto rowTile = [&](OpBuilder &nb, Location l, Value i, int64_t rows,
                     OpFoldResult j, int64_t width, Value sliver, Value acc,
                     IntegerAttr tag) -> Value {
    SmallVector<OpFoldResult> at = {i, j}, sizes = {idx(rows), idx(width)};
    Value accTile = nb.create<tensor::ExtractSliceOp>(
        l, RankedTensorType::get({rows, width}, f), acc, at, sizes, ones);
    // `op` (all-parallel, block-sized) tiled to this row tile, writing
    // `dest` instead of the slice of its own destination that tiling made
    // (for the start, a value the loops' iteration arguments have
    // replaced; for the epilogue, the block product itself).
    auto tileOnto = [&](linalg::LinalgOp op, Value dest) -> Value {
      FailureOr<TilingResult> tiled =
          cast<TilingInterface>(op.getOperation())
              .getTiledImplementation(nb, at, sizes);
      assert(succeeded(tiled) && "a parallel linalg op tiles");
      auto opTile = cast<linalg::LinalgOp>(tiled->tiledOps.front());
      Value dropped = opTile.getDpsInits()[0];
      opTile.getDpsInitsMutable()[0].assign(dest);
      if (Operation *slice = dropped.getDefiningOp();
          slice && slice->use_empty())
        slice->erase();
      opTile->setAttr(kTag, tag);
      return opTile->getResult(0);
    };
    // The start's tile, written onto the accumulator's tile.
    if (start)
      accTile = tileOnto(start, accTile);
    Operation *product;
    if (panels) {
      // The row tile's panel, kc x mr: A's tile transposed.
      Value p = nb.create<arith::DivUIOp>(
          l, nb.create<arith::AddIOp>(l, panels->row, i),
          nb.create<arith::ConstantIndexOp>(l, mr));
      Value aPanel = nb.create<tensor::ExtractSliceOp>(
          l, RankedTensorType::get({kc, mr}, f), panels->packed,
          SmallVector<OpFoldResult>{p, panels->col, idx(0)},
          SmallVector<OpFoldResult>{idx(1), idx(kc), idx(mr)},
          SmallVector<OpFoldResult>{idx(1), idx(1), idx(1)});
      product = nb.create<linalg::MatmulTransposeAOp>(
          l, accTile.getType(), ValueRange{aPanel, sliver}, accTile);
    } else {
      Value aTile = nb.create<tensor::ExtractSliceOp>(
          l, RankedTensorType::get({rows, kc}, f), a,
          SmallVector<OpFoldResult>{i, idx(0)},
          SmallVector<OpFoldResult>{idx(rows), idx(kc)}, ones);
      product = nb.create<linalg::MatmulOp>(l, accTile.getType(),
                                            ValueRange{aTile, sliver}, accTile);
    }
    product->setAttr(kTag, tag);
    Value tile = product->getResult(0);
    // The epilogue's tile, on the product's tile as its destination.
    if (epilogue)
      tile = tileOnto(epilogue, tile);
    return nb.create<tensor::InsertSliceOp>(l, tile, acc, at, sizes, ones);
  };
  // With `fromImages`, a convolution's slivers are packed straight from its
  // images (packFromImages): its im2col matrix, no longer read, is never
  // written.
  std::optional<Im2colSource> images =
      fromImages ? im2colSource(b, loc, bMat) : std::nullopt;
  // Output rows shorter than 16 pixels put a sliver on 4 or more rows, one
  // masked read each per tap: that costs more than the im2col copy saves
  // (measured at batch 8, 1 thread: a 3x3 256->256 convolution at 14x14
  // about 1.4x slower; at 28x28 (3 rows) about 1.25x and at 56x56 about
  // 1.35x faster).
  if (images && (images->ow - 1 + nr + images->ow - 1) / images->ow > 3)
    images.reset();
  // `body(iv, acc)` for iv = 0, step, ... below `end`, carrying `init`.
  auto loop =
      [&](OpBuilder &nb, Location l, int64_t end, int64_t step, Value init,
          function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
        Value upper = nb.create<arith::ConstantIndexOp>(l, end);
        Value stride = nb.create<arith::ConstantIndexOp>(l, step);
        return nb
            .create<scf::ForOp>(
                l, zero, upper, stride, ValueRange{init},
                [&](OpBuilder &lb, Location ll, Value iv, ValueRange args) {
                  lb.create<scf::YieldOp>(ll, body(lb, ll, iv, args[0]));
                })
            .getResult(0);
      };
  // The products of columns [j, j + width) on a packed copy of B's sliver.
  auto panel = [&](OpBuilder &nb, Location l, OpFoldResult j, int64_t width,
                   Value acc, IntegerAttr tag) -> Value {
    Value packed;
    if (images) {
      packed = packFromImages(nb, l, *images,
                              getValueOrCreateConstantIndexOp(nb, l, j), kc,
                              width, deinterleave, blend, windowTaps);
    } else if (bPanels) {
      // Panel block * ceil(nc / nr) + j / nr of the constant's copy.
      Value perBlock = nb.create<arith::ConstantIndexOp>(l, (nc + nr - 1) / nr);
      Value s = nb.create<arith::AddIOp>(
          l, nb.create<arith::MulIOp>(l, bPanels->block, perBlock),
          nb.create<arith::DivUIOp>(l,
                                    getValueOrCreateConstantIndexOp(nb, l, j),
                                    nb.create<arith::ConstantIndexOp>(l, nr)));
      packed = nb.create<tensor::ExtractSliceOp>(
          l, RankedTensorType::get({kc, width}, f), bPanels->packed,
          SmallVector<OpFoldResult>{s, bPanels->row, idx(0)},
          SmallVector<OpFoldResult>{idx(1), idx(kc), idx(width)},
          SmallVector<OpFoldResult>{idx(1), idx(1), idx(1)});
    } else {
      Value sliver = nb.create<tensor::ExtractSliceOp>(
          l, RankedTensorType::get({kc, width}, f), bMat,
          SmallVector<OpFoldResult>{idx(0), j},
          SmallVector<OpFoldResult>{idx(kc), idx(width)}, ones);
      Value buffer =
          nb.create<tensor::EmptyOp>(l, ArrayRef<int64_t>{kc, width}, f);
      auto copy = nb.create<linalg::CopyOp>(l, sliver, buffer);
      copy->setAttr(kTag, tags.copies);
      packed = copy.getResult(0);
    }
    SmallVector<int64_t> last;
    int64_t whole = matmulRowTiles(mc, tileRows, last);
    if (whole > 0)
      acc =
          loop(nb, l, whole, tileRows, acc,
               [&](OpBuilder &rb, Location rl, Value i, Value a) {
                 return rowTile(rb, rl, i, tileRows, j, width, packed, a, tag);
               });
    for (int64_t rows : last) {
      acc = rowTile(nb, l, nb.create<arith::ConstantIndexOp>(l, whole), rows, j,
                    width, packed, acc, tag);
      whole += rows;
    }
    return acc;
  };
  Value result = c;
  if (full > 0)
    result = loop(b, loc, full, nr, c,
                  [&](OpBuilder &nb, Location l, Value j, Value a) {
                    return panel(nb, l, j, nr, a, tags.panels);
                  });
  if (tail > 0)
    result = panel(b, loc, idx(full), tail, result, tags.tail);
  if (epilogue) {
    epilogue->getResult(0).replaceAllUsesWith(result);
    epilogue->erase();
  }
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
  if (start)
    start->erase();
}

/// Makes each parallel block's epilogue run in place, in the block's part
/// of the product's destination. Fused into the blocks, the epilogue reads
/// the product as an input and writes a destination it does not read (which
/// anvil-fuse-elementwise's patterns then make an empty tensor); the block
/// inserts its result into the destination:
/// bufferized, the block's product and epilogue each get a scratch buffer
/// and the result is copied out, one more pass over every block of C (for
/// the 7x7 stem, K = 147, about 14% of its time). Instead, the op that
/// starts the block's accumulator (zeros, the bias) writes the
/// destination's slice, the product accumulates there, and the epilogue
/// reads the product as its own destination and overwrites it.
void epiloguesInPlace(ModuleOp module) {
  SmallVector<tensor::ParallelInsertSliceOp> inserts;
  module.walk([&](tensor::ParallelInsertSliceOp op) { inserts.push_back(op); });
  for (tensor::ParallelInsertSliceOp insert : inserts) {
    auto epilogue = insert.getSource().getDefiningOp<linalg::GenericOp>();
    if (!epilogue || !epilogue->hasAttr(kTag) || !epilogue->hasOneUse() ||
        epilogue.getNumDpsInits() != 1 ||
        epilogue.getNumLoops() != epilogue.getNumParallelLoops())
      continue;
    OpOperand *out = epilogue.getDpsInitOperand(0);
    if (epilogue.payloadUsesValueFromOperand(out) ||
        !epilogue.getMatchingIndexingMap(out).isIdentity())
      continue;
    // The product: read whole, made by the tagged matmul or the loops
    // (k blocks, serial blocks) around it, used by the epilogue only.
    OpOperand *product = nullptr;
    for (OpOperand *in : epilogue.getDpsInputOperands()) {
      Value v = in->get();
      if (v.getType() == out->get().getType() && v.hasOneUse() &&
          epilogue.getMatchingIndexingMap(in).isIdentity() &&
          (v.getDefiningOp<linalg::MatmulOp>() ||
           v.getDefiningOp<scf::ForOp>())) {
        product = in;
        break;
      }
    }
    if (!product)
      continue;
    // Back through the loops' iteration arguments to the accumulator's
    // start: an all-parallel op that overwrites its destination.
    Value acc = product->get();
    while (true) {
      if (auto mm = acc.getDefiningOp<linalg::MatmulOp>()) {
        acc = mm.getDpsInits()[0];
      } else if (auto loop = acc.getDefiningOp<scf::ForOp>()) {
        acc = loop.getInitArgs()[cast<OpResult>(acc).getResultNumber()];
      } else {
        break;
      }
    }
    auto start = acc.getDefiningOp<linalg::LinalgOp>();
    if (!start || !start->hasOneUse() || start->getNumResults() != 1 ||
        start.getNumDpsInits() != 1 ||
        start.getNumLoops() != start.getNumParallelLoops() ||
        start.payloadUsesValueFromOperand(start.getDpsInitOperand(0)) ||
        start->getParentOfType<scf::ForallOp>() !=
            insert->getParentOfType<scf::ForallOp>() ||
        acc.getType() != out->get().getType())
      continue;
    // The destination's slice, taken where the start is. The tiling
    // computes the insert's offsets (affine.apply of the block's index)
    // just before the insert: such an offset is computed again there.
    DominanceInfo dominance(start->getParentOp());
    auto available = [&](Value v) {
      return dominance.properlyDominates(v, start);
    };
    SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
    if (llvm::any_of(offsets, [&](OpFoldResult o) {
          auto v = dyn_cast<Value>(o);
          auto apply = v ? v.getDefiningOp<affine::AffineApplyOp>() : nullptr;
          return v && !available(v) &&
                 !(apply && llvm::all_of(apply->getOperands(), available));
        }))
      continue;
    OpBuilder b(start);
    Location loc = start.getLoc();
    for (OpFoldResult &o : offsets)
      if (auto v = dyn_cast<Value>(o); v && !available(v))
        o = b.clone(*v.getDefiningOp())->getResult(0);
    Value slice = b.create<tensor::ExtractSliceOp>(
        loc, cast<RankedTensorType>(acc.getType()), insert.getDest(), offsets,
        insert.getMixedSizes(), insert.getMixedStrides());
    start.getDpsInitsMutable()[0].assign(slice);
    // The epilogue with the product as its destination.
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *in : epilogue.getDpsInputOperands()) {
      if (in == product)
        continue;
      inputs.push_back(in->get());
      maps.push_back(epilogue.getMatchingIndexingMap(in));
    }
    maps.push_back(epilogue.getMatchingIndexingMap(out));
    b.setInsertionPoint(epilogue);
    auto inPlace = b.create<linalg::GenericOp>(
        epilogue.getLoc(), epilogue->getResultTypes(), inputs,
        ValueRange{product->get()}, maps, epilogue.getIteratorTypesArray());
    inPlace->setAttr(kTag, epilogue->getAttr(kTag));
    int64_t index = product->getOperandNumber();
    Value unread = out->get();
    inPlace.getRegion().takeBody(epilogue.getRegion());
    Block &body = inPlace.getRegion().front();
    body.getArgument(index).replaceAllUsesWith(body.getArguments().back());
    body.eraseArgument(index);
    epilogue->replaceAllUsesWith(inPlace);
    epilogue->erase();
    if (Operation *def = unread.getDefiningOp();
        def && unread.use_empty() &&
        isa<tensor::EmptyOp, tensor::ExtractSliceOp>(def))
      def->erase();
  }
}

/// Erases the products that fuse_into_containing_op left behind: fused into
/// the parallel blocks of their epilogue, the whole product keeps its tag
/// but no longer has a use. Left there, it would be the first product of
/// its plan that packBlock's caller sees (the tail panel's width taken from
/// the whole N instead of the block's: a 111-wide block of N = 12321 got a
/// 1-wide tail tile, scalar FMAs) and would be vectorized whole.
void eraseFusedOriginals(ModuleOp module) {
  SmallVector<linalg::MatmulOp> dead;
  module.walk([&](linalg::MatmulOp op) {
    if (op->hasAttr(kTag) && op->use_empty())
      dead.push_back(op);
  });
  for (linalg::MatmulOp op : dead) {
    Operation *init = op.getDpsInits()[0].getDefiningOp();
    op->erase();
    if (init && init->use_empty() && isa<linalg::LinalgOp>(init))
      init->erase();
  }
}

/// Runs the first k block of every packed product with several k blocks
/// before its k-block loop, on the op that starts the accumulator (zeros,
/// the bias) itself rather than on the loop's iteration argument. packBlock
/// then starts that block's row tiles in registers (startOfAccumulator), as
/// for a product with one k block, and the loop carries the rest: the start
/// no longer writes the whole block before the product reads it back (with
/// the epilogue in place, a memset of the result's cold, strided rows).
void peelFirstKBlocks(ModuleOp module, ArrayRef<Plan> plans) {
  SmallVector<scf::ForOp> loops;
  module.walk([&](linalg::MatmulOp op) {
    auto tag = op->getAttrOfType<IntegerAttr>(kTag);
    auto loop = op->getParentOfType<scf::ForOp>();
    if (!tag || !plans[tag.getInt()].pack || !loop ||
        op->getParentOp() != loop || loop.getNumRegionIterArgs() != 1)
      return;
    // The k-block loop's accumulator: a slice of its iteration argument.
    auto slice = op.getDpsInits()[0].getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || slice.getSource() != loop.getRegionIterArgs()[0])
      return;
    auto start = loop.getInitArgs()[0].getDefiningOp<linalg::LinalgOp>();
    if (!start || !start->hasOneUse() || start->getNumResults() != 1 ||
        !isa<linalg::FillOp, linalg::BroadcastOp, linalg::GenericOp>(start) ||
        start.getNumLoops() != start.getNumParallelLoops())
      return;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()),
                           ub = getConstantIntValue(loop.getUpperBound()),
                           step = getConstantIntValue(loop.getStep());
    if (lb && ub && step && *lb + *step < *ub)
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops) {
    OpBuilder b(loop);
    IRMapping map;
    map.map(loop.getInductionVar(), loop.getLowerBound());
    map.map(loop.getRegionIterArgs()[0], loop.getInitArgs()[0]);
    SmallVector<Operation *> first;
    for (Operation &op : loop.getBody()->without_terminator())
      first.push_back(b.clone(op, map));
    Value firstResult =
        map.lookup(loop.getBody()->getTerminator()->getOperand(0));
    int64_t next = *getConstantIntValue(loop.getLowerBound()) +
                   *getConstantIntValue(loop.getStep());
    loop.getLowerBoundMutable().assign(
        b.create<arith::ConstantIndexOp>(loop.getLoc(), next));
    loop.getInitArgsMutable().assign(firstResult);
    // The block's whole-accumulator slice and insert fold away, so that the
    // first product's init is the start itself.
    (void)applyOpPatternsAndFold(first, FrozenRewritePatternSet());
  }
}

struct TileAndVectorizePass
    : mlir::anvil::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using TileAndVectorizePassBase::TileAndVectorizePassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::BatchMatmulOp> batched;
    module.walk([&](linalg::BatchMatmulOp op) {
      if (llvm::all_of(op->getOperandTypes(), [](Type t) {
            auto ranked = dyn_cast<RankedTensorType>(t);
            return ranked && ranked.hasStaticShape();
          }))
        batched.push_back(op);
    });
    for (linalg::BatchMatmulOp op : batched)
      unbatch(op);
    SmallVector<linalg::MatmulOp> empty;
    SmallVector<Plan> plans;
    MatmulRegisters regs = matmulRegistersFor(vectorBits);
    // Each plan's product's A: m x k; and its B, k x n, when a constant.
    SmallVector<std::pair<int64_t, int64_t>> shapes;
    SmallVector<std::optional<std::pair<int64_t, int64_t>>> bShapes;
    std::string blocks;
    auto tagOf = [&](int64_t id) {
      return IntegerAttr::get(IntegerType::get(ctx, 64), id);
    };
    module.walk([&](linalg::MatmulOp op) {
      auto a = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      auto b = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      if (!a || !b || !a.hasStaticShape() || !b.hasStaticShape())
        return;
      // A product with a zero-size dimension adds nothing to its
      // accumulator (K = 0) or is empty (M or N = 0); no tile fits it.
      if (a.getNumElements() == 0 || b.getNumElements() == 0) {
        empty.push_back(op);
        return;
      }
      int64_t id = plans.size();
      op->setAttr(kTag, tagOf(id));
      // The epilogue anvil-fuse-matmul-epilogue marked, and the op that
      // starts the accumulator (a fill of zeros, a convolution's bias
      // linalg.broadcast, a generic), if only the matmul reads it: both run
      // in the matmul's parallel blocks.
      // An epilogue that reads two products (p + q) is the first one's: a
      // second schedule matching it by its tag would find nothing.
      Operation *epilogue = nullptr;
      if (op->hasOneUse() && (*op->user_begin())->hasAttr(kEpilogue) &&
          !(*op->user_begin())->hasAttr(kTag))
        epilogue = *op->user_begin();
      Operation *init = op.getDpsInits()[0].getDefiningOp();
      bool fuseInit =
          init && init->hasOneUse() &&
          isa<linalg::FillOp, linalg::BroadcastOp, linalg::GenericOp>(init);
      if (epilogue)
        epilogue->setAttr(kTag, tagOf(id));
      shapes.push_back({a.getDimSize(0), a.getDimSize(1)});
      // A constant B (weights) is read from panels made at compile time.
      bool constantB =
          packConstantB && f32Constant(op.getDpsInputs()[1], b.getShape());
      bShapes.push_back(
          constantB ? std::optional(std::pair(b.getDimSize(0), b.getDimSize(1)))
                    : std::nullopt);
      int64_t window =
          packIm2col && windowKBlocks ? im2colWindow(op.getDpsInputs()[1]) : 1;
      plans.push_back(planMatmul(
          a.getDimSize(0), b.getDimSize(1), a.getDimSize(1), peel, pack,
          epilogue, fuseInit, op->hasAttr(kInParallelLoopAttr),
          epilogueInTiles && epilogueInPlace && !fillsConcatPiece(epilogue),
          fullHeightTiles, regs, window, constantB));
      blocks += blockSchedule(id, plans.back(), a.getDimSize(1));
    });
    module.walk([](linalg::GenericOp op) { op->removeAttr(kEpilogue); });
    for (linalg::MatmulOp op : empty) {
      op->getResult(0).replaceAllUsesWith(op.getDpsInits()[0]);
      op->erase();
    }
    if (plans.empty())
      return;
    // First the cache and k blocks of every product.
    if (failed(applySchedule(module, blocks)))
      return signalPassFailure();
    eraseFusedOriginals(module);
    if (epilogueInPlace)
      epiloguesInPlace(module);
    if (peelFirstKBlock && startInRegisters)
      peelFirstKBlocks(module, plans);
    // Then B's panels packed in the blocks that pack, and the register
    // tiles of every product.
    int64_t next = plans.size();
    std::string tiles;
    SmallVector<std::pair<linalg::MatmulOp, int64_t>> toPack;
    PanelCache panelCache;
    SliverCache sliverCache;
    module.walk([&](linalg::MatmulOp op) {
      if (auto tag = op->getAttrOfType<IntegerAttr>(kTag);
          tag && plans[tag.getInt()].pack)
        toPack.push_back({op, tag.getInt()});
    });
    for (int64_t id = 0, e = plans.size(); id < e; ++id) {
      const Plan &p = plans[id];
      if (!p.pack) {
        tiles += registerSchedule(id, p.mr, p.nr, p.peel);
        continue;
      }
      // All of this product's blocks have one shape: one set of tags.
      auto it = llvm::find_if(toPack, [&](auto &e) { return e.second == id; });
      if (it == toPack.end())
        continue;
      auto bType =
          cast<RankedTensorType>(it->first.getDpsInputs()[1].getType());
      int64_t nc = bType.getDimSize(1), tail = nc % p.nr;
      PackTags tags{tagOf(next), tagOf(next + 1), tagOf(next + 2)};
      tiles += packSchedule(next);
      if (nc >= p.nr)
        tiles += registerSchedule(next + 1, 0, p.nr, false);
      // A tail wider than one vector: a 16-lane tile and the rest peeled.
      if (tail > 0)
        tiles +=
            registerSchedule(next + 2, 0, std::min<int64_t>(tail, regs.lanes),
                             tail > regs.lanes);
      next += 3;
      for (auto &[op, tag] : toPack)
        if (tag == id)
          packBlock(op, p.mr, p.tileRows, p.nr, tags, startInRegisters,
                    epilogueInTiles && epilogueInPlace, packIm2col,
                    deinterleaveStride2, im2colBlend, windowKBlocks,
                    packConstantA ? std::optional(shapes[id]) : std::nullopt,
                    panelCache, bShapes[id], sliverCache);
    }
    tiles += R"mlir(
    transform.apply_patterns to %module {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
)mlir";
    // A plan's own tag is also on its epilogue, which is not a register
    // tile; packBlock's tags are on its copies, products and their starts.
    for (int64_t i = 0; i < next; ++i)
      tiles += vectorizeSchedule(
          i, i < int64_t(plans.size())
                 ? R"("linalg.matmul", "linalg.copy")"
                 : R"("linalg.matmul", "linalg.matmul_transpose_a", )"
                   R"("linalg.copy", "linalg.fill", "linalg.broadcast", )"
                   R"("linalg.generic")");
    if (failed(applySchedule(module, tiles + kCleanup.str())))
      return signalPassFailure();
    module.walk([](Operation *op) { op->removeAttr(kTag); });
  }
};

} // namespace
