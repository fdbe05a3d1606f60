//===- VectorizeWindows.cpp - strided window kernels as vector code -------===//
//
// Expects linalg on tensors after anvil-parallelize-loops: pooling and
// depthwise convolutions are elementwise generics over the output whose
// inputs are the window's taps, read at (.., y*sh, x*sw + c), possibly
// inside an scf.forall tile. With sw >= 2 LLVM leaves their innermost loop
// scalar (its cost model rejects the interleaved loads), so this pass
// writes it out as vectors: loops over the outer dimensions, the innermost
// one in chunks of `lanes` outputs, each strided tap read as one contiguous
// vector of sw*lanes elements followed by a `vector.shuffle` that keeps
// every sw-th element, the body applied to vectors and each result written
// with a `vector.transfer_write`. Every read stays inside its operand: the
// last chunks of a row are static and, with masked-tails (the default), a
// power of two of lanes wide, their reads and last write masked at the
// operand's end (a 14-wide row is one 16-lane vector, not loads and stores
// of 8, 4 and 2); without, narrower, reading a window that ends at the
// operand's end. Generics whose innermost loop is shorter than a
// vector (7-wide rows) are rewritten the same way, stride 1 or not: LLVM
// leaves those scalar too; so are those longer than a vector but not a
// multiple of it (28-wide rows), which LLVM runs with narrow vectors. Leaves
// generics with neither (LLVM vectorizes them as they are) and those it cannot
// express.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_VECTORIZEWINDOWSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// How an operand is read along the innermost loop x: at stride * x +
/// offset in its last dimension (of `size` elements), or, with stride 0,
/// at an index that does not depend on x (broadcast along the vector).
struct Access {
  int64_t stride = 0, offset = 0, size = 0;
};

/// The access of `map`'s operand of type `type` along loop `x`, or failure
/// when x appears in another dimension or not as stride * x + constant.
FailureOr<Access> accessAlong(AffineMap map, unsigned x,
                              RankedTensorType type) {
  if (map.getNumResults() == 0)
    return Access{};
  for (AffineExpr e : map.getResults().drop_back())
    if (e.isFunctionOfDim(x))
      return failure();
  AffineExpr last = map.getResults().back();
  if (!last.isFunctionOfDim(x))
    return Access{};
  MLIRContext *ctx = map.getContext();
  unsigned dims = map.getNumDims();
  auto at = [&](int64_t v) {
    return simplifyAffineExpr(
        last.replace(getAffineDimExpr(x, ctx), getAffineConstantExpr(v, ctx)),
        dims, 0);
  };
  auto c0 = dyn_cast<AffineConstantExpr>(at(0));
  auto c1 = dyn_cast<AffineConstantExpr>(at(1));
  if (!c0 || !c1 || c1.getValue() <= c0.getValue())
    return failure();
  Access a{c1.getValue() - c0.getValue(), c0.getValue(),
           type.getShape().back()};
  // Linear in x: nothing like x floordiv 2 or x * x hides behind two points.
  AffineExpr linear = getAffineDimExpr(x, ctx) * a.stride + a.offset;
  if (simplifyAffineExpr(last - linear, dims, 0) !=
      getAffineConstantExpr(0, ctx))
    return failure();
  return a;
}

/// The smallest power of two >= v.
int64_t pow2Ceil(int64_t v) { return int64_t(1) << llvm::Log2_64_Ceil(v); }

/// The shortest row `short-rows` vectorizes: narrower vectors save little.
constexpr int64_t kMinShortRow = 4;

struct WindowVectorizer {
  linalg::GenericOp op;
  int64_t lanes;
  bool shortRows;
  bool raggedRows;
  bool maskedTails;
  unsigned x;
  SmallVector<Access> access; // One per operand, inputs then outputs.

  /// Why `op` is left alone, or success with `access` filled.
  LogicalResult match(RewriterBase &rewriter);
  void rewrite(RewriterBase &rewriter);

private:
  /// Reads operand `i` for `n` outputs from x = `x0` (`staticX0` when it is
  /// a constant), the other loops at `ivs`, as a vector of `n` lanes, or
  /// (a masked tail) of `lanesFor(n)` lanes whose first n hold them.
  Value read(OpBuilder &b, Location loc, unsigned i, ValueRange ivs, Value x0,
             std::optional<int64_t> staticX0, int64_t n, ValueRange outs);
  /// Lanes the vectors of a chunk of `n` outputs at a static x0 have.
  int64_t lanesFor(int64_t n) const { return maskedTails ? pow2Ceil(n) : n; }
  /// Applies the body to the `n` outputs from x = `x0` and writes them into
  /// `outs`; returns the new output tensors.
  SmallVector<Value> chunk(OpBuilder &b, Location loc, ValueRange ivs, Value x0,
                           std::optional<int64_t> staticX0, int64_t n,
                           ValueRange outs);
  SmallVector<Value> indices(OpBuilder &b, Location loc, AffineMap map,
                             ValueRange ivs, Value x0);
};

LogicalResult WindowVectorizer::match(RewriterBase &rewriter) {
  if (!op.hasPureTensorSemantics())
    return rewriter.notifyMatchFailure(op, "not on tensors");
  if (op.getNumLoops() == 0 || op.getNumParallelLoops() != op.getNumLoops())
    return rewriter.notifyMatchFailure(op, "not elementwise (all parallel)");
  if (op.hasIndexSemantics())
    return rewriter.notifyMatchFailure(op, "body reads its indices");
  for (int64_t r : op.getStaticLoopRanges())
    if (ShapedType::isDynamic(r))
      return rewriter.notifyMatchFailure(op, "dynamic loop range");
  x = op.getNumLoops() - 1;
  bool strided = false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || !type.hasStaticShape() ||
        !type.getElementType().isIntOrFloat())
      return rewriter.notifyMatchFailure(
          op, "an operand is not a static tensor of numbers");
    // A vector of i1 is stored bit-packed, a tensor of i1 one byte each.
    if (type.getElementType().getIntOrFloatBitWidth() < 8)
      return rewriter.notifyMatchFailure(op, "an operand is narrower than a "
                                             "byte (vectors of i1 are packed)");
    FailureOr<Access> a =
        accessAlong(op.getMatchingIndexingMap(&operand), x, type);
    if (failed(a))
      return rewriter.notifyMatchFailure(
          op, "an operand is not read at stride * x + constant along the "
              "innermost loop x");
    bool isOutput = op.isDpsInit(&operand);
    // Results are written one contiguous vector at a time.
    if (isOutput && (a->stride != 1 || a->offset != 0))
      return rewriter.notifyMatchFailure(op, "a result is not written along x");
    strided |= a->stride >= 2;
    access.push_back(*a);
  }
  // Rows shorter than a vector (7- and 14-wide maps at the end of a
  // MobileNet or EfficientNet) LLVM leaves scalar too, stride 1 or not: its
  // vectorizer wants more iterations than that. One vector per row.
  int64_t width = op.getStaticLoopRanges().back();
  // Rows longer than a vector but not a multiple of it (28, 56) LLVM
  // vectorizes with narrow vectors, or a scalar remainder: whole vectors
  // and one static tail per row instead.
  bool shortRow = shortRows && width >= kMinShortRow && width < lanes;
  bool raggedRow = raggedRows && width > lanes && width % lanes != 0;
  if (!strided && !shortRow && !raggedRow)
    return rewriter.notifyMatchFailure(
        op, "no strided read along the innermost loop and the row is not "
            "short (LLVM vectorizes it)");
  for (Operation &inner : op.getBlock()->without_terminator()) {
    bool scalars = llvm::all_of(inner.getOperandTypes(),
                                [](Type t) { return t.isIntOrFloat(); }) &&
                   llvm::all_of(inner.getResultTypes(),
                                [](Type t) { return t.isIntOrFloat(); });
    bool elementwise = OpTrait::hasElementwiseMappableTraits(&inner) &&
                       inner.getNumRegions() == 0;
    if (!scalars || !(elementwise || isa<arith::ConstantOp>(inner)))
      return rewriter.notifyMatchFailure(
          op, "the body has an op that is not elementwise on numbers");
  }
  for (Value v : op.getBlock()->getTerminator()->getOperands())
    if (!v.getType().isIntOrFloat())
      return rewriter.notifyMatchFailure(op, "yields a non-number");
  // A masked tail computes its lanes past the row's end too, on the reads'
  // zero padding: only bodies whose every op may run speculatively (an
  // integer division by that zero traps) keep masked tails.
  maskedTails &= llvm::all_of(op.getBlock()->without_terminator(),
                              [](Operation &inner) { return isPure(&inner); });
  return success();
}

SmallVector<Value> WindowVectorizer::indices(OpBuilder &b, Location loc,
                                             AffineMap map, ValueRange ivs,
                                             Value x0) {
  SmallVector<OpFoldResult> dims(ivs.begin(), ivs.end());
  dims.push_back(x0);
  SmallVector<Value> result;
  for (unsigned k = 0; k < map.getNumResults(); ++k)
    result.push_back(
        getValueOrCreateConstantIndexOp(b, loc,
                                        affine::makeComposedFoldedAffineApply(
                                            b, loc, map.getSubMap({k}), dims)));
  return result;
}

Value WindowVectorizer::read(OpBuilder &b, Location loc, unsigned i,
                             ValueRange ivs, Value x0,
                             std::optional<int64_t> staticX0, int64_t n,
                             ValueRange outs) {
  OpOperand &operand = op->getOpOperand(i);
  // An output the body reads (an epilogue run in place) is read from the
  // loops' current tensor, which the chunks write: read from the tensor
  // before the loops, it would need a copy of its own once bufferized.
  Value source =
      op.isDpsInit(&operand) ? outs[i - op.getNumDpsInputs()] : operand.get();
  auto type = cast<RankedTensorType>(source.getType());
  Type elt = type.getElementType();
  auto vectorType = VectorType::get({n}, elt);
  SmallVector<Value> at =
      indices(b, loc, op.getMatchingIndexingMap(&operand), ivs, x0);
  const Access &a = access[i];
  // (Padding for out-of-bounds lanes: only masked tails have them.)
  Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(elt));
  if (staticX0)
    vectorType = VectorType::get({lanesFor(n)}, elt);
  if (a.stride == 0) {
    Value scalar = at.empty() ? b.create<tensor::ExtractOp>(loc, source)
                              : b.create<tensor::ExtractOp>(loc, source, at);
    return b.create<vector::BroadcastOp>(loc, vectorType, scalar);
  }
  if (staticX0 && maskedTails) {
    // A power of two of lanes, read from the chunk's first element, the
    // lanes past the operand's end masked off (in_bounds = false: a masked
    // load, which LLVM emits as one vmovups with a constant mask) instead
    // of a window moved back and shuffled, or a 14-lane vector that LLVM
    // splits into loads of 8, 4 and 2. The lanes past n are never stored.
    int64_t m = lanesFor(n), start = *staticX0 * a.stride + a.offset;
    int64_t length = a.stride * m;
    at.back() = b.create<arith::ConstantIndexOp>(loc, start);
    Value wide = b.create<vector::TransferReadOp>(
        loc, VectorType::get({length}, elt), source, at, zero,
        ArrayRef<bool>{start + length <= a.size});
    if (a.stride == 1)
      return wide;
    SmallVector<int64_t> mask;
    for (int64_t k = 0; k < m; ++k)
      mask.push_back(k * a.stride);
    return b.create<vector::ShuffleOp>(loc, wide, wide, mask);
  }
  // The n elements sit at start + k * stride. A chunk of the main loop
  // (dynamic x0) is known to fit whole: read stride * n from its start.
  // A static chunk reads a power of two of elements where the operand has
  // them, moved back from its start as far as needed to end in bounds.
  int64_t length = a.stride * n, shift = 0;
  if (staticX0) {
    int64_t start = *staticX0 * a.stride + a.offset;
    length = std::min(a.stride * pow2Ceil(n), a.size);
    shift = start - std::min(start, a.size - length);
    at.back() = b.create<arith::ConstantIndexOp>(loc, start - shift);
  }
  if (a.stride == 1 && shift == 0 && length == n)
    return b.create<vector::TransferReadOp>(loc, vectorType, source,
                                            at, /*padding=*/
                                            zero, ArrayRef<bool>{true});
  Value wide =
      b.create<vector::TransferReadOp>(loc, VectorType::get({length}, elt),
                                       source, at, zero, ArrayRef<bool>{true});
  SmallVector<int64_t> mask;
  for (int64_t k = 0; k < n; ++k)
    mask.push_back(shift + k * a.stride);
  return b.create<vector::ShuffleOp>(loc, wide, wide, mask);
}

SmallVector<Value> WindowVectorizer::chunk(OpBuilder &b, Location loc,
                                           ValueRange ivs, Value x0,
                                           std::optional<int64_t> staticX0,
                                           int64_t n, ValueRange outs) {
  Block *body = op.getBlock();
  IRMapping map;
  for (auto [i, arg] : llvm::enumerate(body->getArguments()))
    if (!arg.use_empty())
      map.map(arg, read(b, loc, i, ivs, x0, staticX0, n, outs));
  int64_t m = staticX0 ? lanesFor(n) : n;
  auto vectorOf = [&](Type t) { return VectorType::get({m}, t); };
  for (Operation &inner : body->without_terminator()) {
    if (auto constant = dyn_cast<arith::ConstantOp>(inner)) {
      map.map(constant.getResult(),
              b.create<arith::ConstantOp>(
                  loc, SplatElementsAttr::get(vectorOf(constant.getType()),
                                              constant.getValue())));
      continue;
    }
    // Scalars from outside the body are the same in every lane.
    for (Value v : inner.getOperands())
      if (!map.contains(v))
        map.map(v,
                b.create<vector::BroadcastOp>(loc, vectorOf(v.getType()), v));
    OperationState state(loc, inner.getName());
    for (Value v : inner.getOperands())
      state.addOperands(map.lookup(v));
    for (Type t : inner.getResultTypes())
      state.addTypes(vectorOf(t));
    state.addAttributes(inner.getAttrs());
    Operation *vectorized = b.create(state);
    map.map(inner.getResults(), vectorized->getResults());
  }
  SmallVector<Value> results;
  for (auto [k, yielded] :
       llvm::enumerate(body->getTerminator()->getOperands())) {
    // (A value from outside the body is the same in every lane.)
    Value v = map.contains(yielded)
                  ? map.lookup(yielded)
                  : b.create<vector::BroadcastOp>(
                        loc, vectorOf(yielded.getType()), yielded);
    OpOperand *init = op.getDpsInitOperand(k);
    SmallVector<Value> at =
        indices(b, loc, op.getMatchingIndexingMap(init), ivs, x0);
    // (A masked tail's lanes past the row's end are masked off.)
    bool inBounds =
        !staticX0 || *staticX0 + m <= op.getStaticLoopRanges().back();
    results.push_back(b.create<vector::TransferWriteOp>(
                           loc, v, outs[k], at, ArrayRef<bool>{inBounds})
                          .getResult());
  }
  return results;
}

void WindowVectorizer::rewrite(RewriterBase &rewriter) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t width = ranges.back();
  // Chunks of `lanes` outputs whose every read fits whole from its start
  // run in a loop; the rest of the row is static.
  int64_t full = width / lanes;
  for (const Access &a : access)
    if (a.stride != 0)
      full = std::min(full, (a.size - a.offset) / (a.stride * lanes));
  auto index = [&](OpBuilder &b, int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t r : ArrayRef(ranges).drop_back()) {
    lbs.push_back(index(rewriter, 0));
    ubs.push_back(index(rewriter, r));
    steps.push_back(index(rewriter, 1));
  }
  // A last chunk narrower than a power of two still reads a power of two
  // (its window moved back), but only where every strided operand has that
  // many elements; otherwise it is split into smaller chunks. Masked tails
  // are chunks of `lanes` outputs, the last one narrower, all read masked.
  SmallVector<int64_t> tail;
  for (int64_t x0 = full * lanes; x0 < width;) {
    int64_t n = std::min(lanes, width - x0);
    if (maskedTails) {
      tail.push_back(n);
      x0 += n;
      continue;
    }
    auto fits = [&](int64_t n) {
      return llvm::all_of(access, [&](const Access &a) {
        return a.stride < 2 || a.stride * pow2Ceil(n) <= a.size;
      });
    };
    while (n > 1 && !fits(n))
      n = pow2Ceil(n) / 2;
    tail.push_back(n);
    x0 += n;
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, op.getDpsInits(),
      [&](OpBuilder &b, Location l, ValueRange ivs,
          ValueRange outs) -> scf::ValueVector {
        SmallVector<Value> current(outs);
        if (full > 0) {
          auto loop = b.create<scf::ForOp>(
              l, index(b, 0), index(b, full * lanes), index(b, lanes), current,
              [&](OpBuilder &lb, Location ll, Value x0, ValueRange inner) {
                lb.create<scf::YieldOp>(
                    ll, chunk(lb, ll, ivs, x0, std::nullopt, lanes, inner));
              });
          current = loop.getResults();
        }
        int64_t x0 = full * lanes;
        for (int64_t n : tail) {
          current = chunk(b, l, ivs, index(b, x0), x0, n, current);
          x0 += n;
        }
        return current;
      });
  rewriter.replaceOp(op, nest.results);
}

struct VectorizeWindowsPass
    : mlir::anvil::impl::VectorizeWindowsPassBase<VectorizeWindowsPass> {
  using VectorizeWindowsPassBase::VectorizeWindowsPassBase;
  void runOnOperation() override {
    if (lanes < 1) {
      getOperation().emitError("anvil-vectorize-windows: lanes must be >= 1");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp g) { generics.push_back(g); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp g : generics) {
      WindowVectorizer v{g, lanes, shortRows, raggedRows, maskedTails, 0, {}};
      if (succeeded(v.match(rewriter)))
        v.rewrite(rewriter);
    }
  }
};

} // namespace
