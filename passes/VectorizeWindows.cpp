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
// Rows together (row-blocks): a window's taps are slices of one padded
// tensor, so tap (i + 1, j) of output row y reads what tap (i, j) of row
// y + 1 does. Each input is followed through its slices to that tensor (its
// root, `rootOf`), and its index there written as a linear form of the
// loops (`Linear`); reads of a block of rows with the same root and form are
// one read. The rows' ops are emitted in the order of the root elements
// they read, so each vector is used by every row soon after it is read,
// and each row's ops keep the body's order: the results are bit-identical
// to one row at a time. How many rows: WindowSchedule.h.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"
#include "passes/Passes.h"
#include "passes/TailStores.h"
#include "passes/WindowSchedule.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <map>
#include <set>

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

/// An index as a sum of coefficient * value plus a constant. Values are
/// kept as opaque pointers: the loops' variables and dynamic slice offsets
/// when reading, stand-ins for the loops when planning.
struct Linear {
  SmallVector<std::pair<const void *, int64_t>> terms;
  int64_t constant = 0;

  void add(const void *v, int64_t coefficient) {
    if (coefficient == 0)
      return;
    for (auto &t : terms)
      if (t.first == v) {
        t.second += coefficient;
        return;
      }
    terms.push_back({v, coefficient});
  }
  void add(OpFoldResult v, int64_t coefficient) {
    if (std::optional<int64_t> c = getConstantIntValue(v))
      constant += *c * coefficient;
    else
      add(cast<Value>(v).getAsOpaquePointer(), coefficient);
  }
  void add(const Linear &other, int64_t coefficient) {
    constant += other.constant * coefficient;
    for (auto &t : other.terms)
      add(t.first, t.second * coefficient);
  }
  /// The terms sorted, without zero coefficients: equal forms, equal keys.
  void appendKey(std::vector<int64_t> &key) const {
    SmallVector<std::pair<const void *, int64_t>> sorted;
    for (auto &t : terms)
      if (t.second != 0)
        sorted.push_back(t);
    llvm::sort(sorted, [](auto &a, auto &b) { return a.first < b.first; });
    key.push_back(constant);
    key.push_back(static_cast<int64_t>(sorted.size()));
    for (auto &t : sorted) {
      key.push_back(reinterpret_cast<intptr_t>(t.first));
      key.push_back(t.second);
    }
  }
  /// The index as a value, at `b`'s insertion point.
  Value materialize(OpBuilder &b, Location loc) const {
    MLIRContext *ctx = b.getContext();
    AffineExpr e = getAffineConstantExpr(constant, ctx);
    SmallVector<OpFoldResult> operands;
    for (auto &t : terms) {
      if (t.second == 0)
        continue;
      e = e + getAffineDimExpr(operands.size(), ctx) * t.second;
      operands.push_back(Value::getFromOpaquePointer(t.first));
    }
    return getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(
            b, loc, AffineMap::get(operands.size(), 0, e), operands));
  }
};

/// `e` as a linear combination of the `dims` (`dims[d]` stands for dim d),
/// or nothing when it is not linear (floordiv, mod, dim * dim).
std::optional<Linear> linearOf(AffineExpr e, ArrayRef<Linear> dims) {
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    Linear l;
    l.constant = c.getValue();
    return l;
  }
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  auto binary = dyn_cast<AffineBinaryOpExpr>(e);
  if (!binary)
    return std::nullopt;
  std::optional<Linear> lhs = linearOf(binary.getLHS(), dims);
  std::optional<Linear> rhs = linearOf(binary.getRHS(), dims);
  if (!lhs || !rhs)
    return std::nullopt;
  if (e.getKind() == AffineExprKind::Add) {
    lhs->add(*rhs, 1);
    return lhs;
  }
  if (e.getKind() != AffineExprKind::Mul)
    return std::nullopt;
  if (rhs->terms.empty()) {
    Linear l;
    l.add(*lhs, rhs->constant);
    return l;
  }
  if (lhs->terms.empty()) {
    Linear l;
    l.add(*rhs, lhs->constant);
    return l;
  }
  return std::nullopt;
}

/// Where an operand's elements live: `source`, at `offsets` (one per
/// dimension) from the operand's own indices. The operand itself, or, seen
/// through static unit-stride `tensor.extract_slice`s (the window's taps,
/// and their tiles), the tensor they are views of: two taps of a window
/// read the same elements there for neighbouring rows.
struct Root {
  Value source;
  SmallVector<Linear> offsets;
};

Root rootOf(Value operand) {
  auto type = cast<RankedTensorType>(operand.getType());
  Root root{operand, SmallVector<Linear>(type.getRank())};
  // A rank-0 tensor (a quantize's zero point) is its own root.
  if (type.getRank() == 0)
    return root;
  while (auto slice = root.source.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (slice.getSourceType().getRank() != type.getRank() ||
        !slice.getSourceType().hasStaticShape() ||
        !llvm::all_of(slice.getMixedStrides(),
                      [](OpFoldResult s) { return isConstantIntValue(s, 1); }))
      break;
    for (auto [k, offset] : llvm::enumerate(slice.getMixedOffsets()))
      root.offsets[k].add(offset, 1);
    root.source = slice.getSource();
  }
  // The innermost dimension's offset must be static: reads along it are
  // planned at compile time (Access).
  if (!root.offsets.back().terms.empty())
    return Root{operand, SmallVector<Linear>(type.getRank())};
  return root;
}

struct WindowVectorizer {
  linalg::GenericOp op;
  int64_t lanes;
  bool shortRows;
  bool raggedRows;
  bool maskedTails;
  bool rowBlocks;
  bool splitTailStores;
  unsigned x = 0;
  SmallVector<Access> access; // One per operand, inputs then outputs.
  /// Rows (iterations of the loop outside x) computed together; with more
  /// than one, inputs are read from their roots, through `roots`.
  int64_t rows = 1;
  SmallVector<Root> roots; // One per input.

  /// Why `op` is left alone, or success with `access` filled.
  LogicalResult match(RewriterBase &rewriter);
  void rewrite(RewriterBase &rewriter);

private:
  /// Reads operand `i` for `n` outputs from x = `x0` (`staticX0` when it is
  /// a constant), the other loops at `ivs`, as a vector of `n` lanes, or
  /// (a masked tail) of `lanesFor(n)` lanes whose first n hold them.
  Value read(OpBuilder &b, Location loc, unsigned i, ValueRange ivs, Value x0,
             std::optional<int64_t> staticX0, int64_t n, ValueRange outs);
  /// The read of `read`, from `source` at `at`, read along x as `a` says.
  Value readVector(OpBuilder &b, Location loc, Value source, const Access &a,
                   SmallVector<Value> at, std::optional<int64_t> staticX0,
                   int64_t n);
  /// Lanes the vectors of a chunk of `n` outputs at a static x0 have.
  int64_t lanesFor(int64_t n) const {
    return maskedTails ? windowPow2Ceil(n) : n;
  }
  /// Applies the body to the `n` outputs from x = `x0` and writes them into
  /// `outs`; returns the new output tensors.
  SmallVector<Value> chunk(OpBuilder &b, Location loc, ValueRange ivs, Value x0,
                           std::optional<int64_t> staticX0, int64_t n,
                           ValueRange outs);
  /// `chunk` for `count` rows from the row at `ivs` at once, each vector
  /// two rows read in common read once, the rows' ops interleaved in the
  /// order of the elements they read.
  SmallVector<Value> chunkRows(OpBuilder &b, Location loc, ValueRange ivs,
                               Value x0, std::optional<int64_t> staticX0,
                               int64_t n, ValueRange outs, int64_t count);
  /// `inner` applied to vectors of `m` lanes, its operands from `lookup`.
  Operation *vectorized(OpBuilder &b, Location loc, Operation &inner,
                        function_ref<Value(Value)> lookup, int64_t m);
  SmallVector<Value> indices(OpBuilder &b, Location loc, AffineMap map,
                             ValueRange ivs, Value x0);
  /// Writes the first outputs of `value` (a chunk's vector of `m` lanes at
  /// x = `staticX0` when static) into `dest` at `at`, those past the row's
  /// end left out: a masked store when the chunk overruns the row, unless
  /// `splitTailStores`, which stores the lanes in the row as whole vectors
  /// of powers of two, widest first (a masked store, vmaskmovps, is microcoded
  /// on AMD's cores: 40% of a 14-wide depthwise row's time on the Zen 3).
  Value writeChunk(OpBuilder &b, Location loc, Value value, Value dest,
                   SmallVector<Value> at, std::optional<int64_t> staticX0,
                   int64_t m);
  /// How many rows to compute together: see `row-blocks`.
  int64_t planRows();
  /// Input `i`'s indices in its root with the loops at `dims`, or nothing
  /// when its map is not linear.
  std::optional<SmallVector<Linear>> rootIndices(unsigned i,
                                                 ArrayRef<Linear> dims);
  /// What identifies a read of input `i` at `at` in its root.
  std::vector<int64_t> readKey(unsigned i, ArrayRef<Linear> at,
                               std::optional<int64_t> staticX0, int64_t n);
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
  if (!windowRowsVectorized(width, strided, lanes, shortRows, raggedRows))
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
    // ui8 <-> i8 (a quantize's zero point and result: arith has no
    // unsigned types): the same cast of vectors.
    if (auto cast = dyn_cast<UnrealizedConversionCastOp>(inner))
      elementwise = cast->getNumOperands() == 1 && cast->getNumResults() == 1 &&
                    cast->getOperand(0).getType().isInteger() &&
                    cast->getResult(0).getType().isInteger() &&
                    cast->getOperand(0).getType().getIntOrFloatBitWidth() ==
                        cast->getResult(0).getType().getIntOrFloatBitWidth();
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
  rows = planRows();
  return success();
}

std::optional<SmallVector<Linear>>
WindowVectorizer::rootIndices(unsigned i, ArrayRef<Linear> dims) {
  AffineMap map = op.getMatchingIndexingMap(&op->getOpOperand(i));
  SmallVector<Linear> at;
  for (auto [k, e] : llvm::enumerate(map.getResults())) {
    std::optional<Linear> l = linearOf(e, dims);
    if (!l)
      return std::nullopt;
    l->add(roots[i].offsets[k], 1);
    at.push_back(*l);
  }
  return at;
}

std::vector<int64_t> WindowVectorizer::readKey(unsigned i, ArrayRef<Linear> at,
                                               std::optional<int64_t> staticX0,
                                               int64_t n) {
  std::vector<int64_t> key = {
      reinterpret_cast<intptr_t>(roots[i].source.getAsOpaquePointer()),
      access[i].stride, staticX0.value_or(-1), n};
  for (const Linear &l : at)
    l.appendKey(key);
  return key;
}

int64_t WindowVectorizer::planRows() {
  // (Up to 7 loops outside x: one stand-in each below.)
  if (!rowBlocks || x == 0 || x > 7)
    return 1;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t height = ranges[x - 1];
  if (height < 2)
    return 1;
  // An output the body reads (an epilogue in place) is read from the
  // loops' current tensor, row by row: those stay one row at a time.
  for (OpOperand &init : op.getDpsInitsMutable())
    if (op.payloadUsesValueFromOperand(&init))
      return 1;
  roots.clear();
  for (OpOperand *input : op.getDpsInputOperands())
    roots.push_back(rootOf(input->get()));
  // (Stand-ins for the loops: nothing is built.)
  static const char standIns[8] = {};
  SmallVector<Linear> dims(x + 1);
  for (unsigned d = 0; d <= x; ++d)
    dims[d].add(&standIns[d], 1);
  // Rows together read and write at linear indices only.
  for (OpOperand &operand : op->getOpOperands())
    for (AffineExpr e : op.getMatchingIndexingMap(&operand).getResults())
      if (!linearOf(e, dims))
        return 1;
  // Two rows share a read when an input of row 1 reads, in its root, what
  // one of row 0 does.
  std::set<std::vector<int64_t>> firstRow;
  bool shared = false;
  for (int64_t r = 0; r < 2; ++r) {
    dims[x - 1].constant = r;
    for (unsigned i = 0; i < roots.size(); ++i) {
      if (access[i].stride == 0)
        continue;
      std::vector<int64_t> key =
          readKey(i, *rootIndices(i, dims), std::nullopt, lanes);
      if (r == 0)
        firstRow.insert(key);
      else
        shared |= firstRow.count(key) > 0;
    }
  }
  if (!shared)
    return 1;
  int64_t bits = 0;
  for (Type t : op->getResultTypes())
    bits = std::max<int64_t>(
        bits, cast<RankedTensorType>(t).getElementTypeBitWidth());
  int64_t broadcasts = 0;
  for (unsigned i = 0; i < roots.size(); ++i)
    broadcasts +=
        access[i].stride == 0 && !op.getBlock()->getArgument(i).use_empty();
  int64_t block = windowRowBlock(ranges.back(), height, bits, lanes,
                                 maskedTails, broadcasts);
  if (block < 2)
    return 1;
  // Rows together read their inputs in their roots, where their windows'
  // reads coincide: the reads along x are planned there.
  for (unsigned i = 0; i < roots.size(); ++i) {
    // (A broadcast, such as a rank-0 zero point, is read once: no x.)
    if (access[i].stride == 0)
      continue;
    access[i].offset += roots[i].offsets.back().constant;
    access[i].size =
        cast<RankedTensorType>(roots[i].source.getType()).getShape().back();
  }
  return block;
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
  return readVector(
      b, loc, source, access[i],
      indices(b, loc, op.getMatchingIndexingMap(&operand), ivs, x0), staticX0,
      n);
}

Value WindowVectorizer::readVector(OpBuilder &b, Location loc, Value source,
                                   const Access &a, SmallVector<Value> at,
                                   std::optional<int64_t> staticX0, int64_t n) {
  auto type = cast<RankedTensorType>(source.getType());
  Type elt = type.getElementType();
  auto vectorType = VectorType::get({n}, elt);
  // (Padding for out-of-bounds lanes: only masked tails have them. arith
  // has no unsigned constants: a ui8's is an i8 0 cast.)
  Value zero;
  if (elt.isUnsignedInteger()) {
    zero = b.create<arith::ConstantOp>(
        loc,
        b.getIntegerAttr(b.getIntegerType(elt.getIntOrFloatBitWidth()), 0));
    zero = reinterpretBits(b, loc, zero, elt);
  } else {
    zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(elt));
  }
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
    length = std::min(a.stride * windowPow2Ceil(n), a.size);
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

Operation *WindowVectorizer::vectorized(OpBuilder &b, Location loc,
                                        Operation &inner,
                                        function_ref<Value(Value)> lookup,
                                        int64_t m) {
  auto vectorOf = [&](Type t) { return VectorType::get({m}, t); };
  if (auto constant = dyn_cast<arith::ConstantOp>(inner))
    return b.create<arith::ConstantOp>(
        loc, SplatElementsAttr::get(vectorOf(constant.getType()),
                                    constant.getValue()));
  OperationState state(loc, inner.getName());
  for (Value v : inner.getOperands())
    state.addOperands(lookup(v));
  for (Type t : inner.getResultTypes())
    state.addTypes(vectorOf(t));
  state.addAttributes(inner.getAttrs());
  return b.create(state);
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
  // Scalars from outside the body are the same in every lane.
  auto lookup = [&](Value v) -> Value {
    if (!map.contains(v))
      map.map(v, b.create<vector::BroadcastOp>(
                     loc, VectorType::get({m}, v.getType()), v));
    return map.lookup(v);
  };
  for (Operation &inner : body->without_terminator())
    map.map(inner.getResults(),
            vectorized(b, loc, inner, lookup, m)->getResults());
  SmallVector<Value> results;
  for (auto [k, yielded] :
       llvm::enumerate(body->getTerminator()->getOperands())) {
    OpOperand *init = op.getDpsInitOperand(k);
    SmallVector<Value> at =
        indices(b, loc, op.getMatchingIndexingMap(init), ivs, x0);
    // (A masked tail's lanes past the row's end are left out.)
    results.push_back(
        writeChunk(b, loc, lookup(yielded), outs[k], at, staticX0, m));
  }
  return results;
}

Value WindowVectorizer::writeChunk(OpBuilder &b, Location loc, Value value,
                                   Value dest, SmallVector<Value> at,
                                   std::optional<int64_t> staticX0, int64_t m) {
  int64_t width = op.getStaticLoopRanges().back();
  bool inBounds = !staticX0 || *staticX0 + m <= width;
  if (inBounds || !splitTailStores)
    return b
        .create<vector::TransferWriteOp>(loc, value, dest, at,
                                         ArrayRef<bool>{inBounds})
        .getResult();
  // The lanes in the row, [0, width - x0).
  return writeLeadingLanes(b, loc, value, dest, at, width - *staticX0);
}

SmallVector<Value> WindowVectorizer::chunkRows(OpBuilder &b, Location loc,
                                               ValueRange ivs, Value x0,
                                               std::optional<int64_t> staticX0,
                                               int64_t n, ValueRange outs,
                                               int64_t count) {
  Block *body = op.getBlock();
  int64_t m = staticX0 ? lanesFor(n) : n;
  // The loops' indices for row r of the block.
  auto dimsOf = [&](int64_t r) {
    SmallVector<Linear> dims(x + 1);
    for (unsigned d = 0; d < x; ++d)
      dims[d].add(OpFoldResult(ivs[d]), 1);
    dims[x - 1].constant += r;
    if (staticX0)
      dims[x].constant += *staticX0;
    else
      dims[x].add(OpFoldResult(x0), 1);
    return dims;
  };
  // Each row's reads: the read's indices in its input's root, its key, and
  // its place in the order of the roots' elements (their constant offsets;
  // none for reads of what the roots do not share: the filter, the bias).
  struct Use {
    unsigned input;
    SmallVector<Linear> at;
    std::vector<int64_t> key, place;
  };
  // The rows' ops in the order of the elements they read: each op after
  // the reads it depends on, so a vector read for one row is used by the
  // other rows soon after, not kept for a whole row's chain. Each row's
  // ops keep their order (their places only grow along their operands).
  struct Step {
    int64_t row;
    Operation *inner;
    std::vector<int64_t> place;
  };
  SmallVector<DenseMap<Value, Use>> uses(count);
  SmallVector<Step> steps;
  for (int64_t r = 0; r < count; ++r) {
    SmallVector<Linear> dims = dimsOf(r);
    DenseMap<Value, std::vector<int64_t>> places;
    for (unsigned i = 0; i < roots.size(); ++i) {
      Value arg = body->getArgument(i);
      if (arg.use_empty())
        continue;
      // (planRows took only linear maps.)
      Use use{i, *rootIndices(i, dims), {}, {}};
      use.key = readKey(i, use.at, staticX0, n);
      if (access[i].stride != 0 && roots[i].source != op.getDpsInputs()[i])
        for (const Linear &l : use.at)
          use.place.push_back(l.constant);
      places[arg] = use.place;
      uses[r].try_emplace(arg, std::move(use));
    }
    for (Operation &inner : body->without_terminator()) {
      std::vector<int64_t> place;
      for (Value v : inner.getOperands())
        if (auto it = places.find(v); it != places.end())
          place = std::max(place, it->second);
      for (Value v : inner.getResults())
        places[v] = place;
      steps.push_back({r, &inner, place});
    }
  }
  llvm::stable_sort(steps, [](const Step &a, const Step &b) {
    return std::tie(a.place, a.row) < std::tie(b.place, b.row);
  });
  std::map<std::vector<int64_t>, Value> reads;
  SmallVector<IRMapping> maps(count);
  auto valueOf = [&](int64_t r, Value v) -> Value {
    if (maps[r].contains(v))
      return maps[r].lookup(v);
    Value result;
    if (auto it = uses[r].find(v); it != uses[r].end()) {
      // A read, once for all the rows it serves.
      Use &use = it->second;
      Value &cached = reads[use.key];
      if (!cached) {
        SmallVector<Value> at;
        for (const Linear &l : use.at)
          at.push_back(l.materialize(b, loc));
        cached = readVector(b, loc, roots[use.input].source, access[use.input],
                            at, staticX0, n);
      }
      result = cached;
    } else {
      // A scalar from outside the body, the same in every lane.
      result = b.create<vector::BroadcastOp>(
          loc, VectorType::get({m}, v.getType()), v);
    }
    maps[r].map(v, result);
    return result;
  };
  for (Step &step : steps)
    maps[step.row].map(step.inner->getResults(),
                       vectorized(
                           b, loc, *step.inner,
                           [&](Value v) { return valueOf(step.row, v); }, m)
                           ->getResults());
  SmallVector<Value> current(outs);
  for (int64_t r = 0; r < count; ++r) {
    SmallVector<Linear> dims = dimsOf(r);
    for (auto [k, yielded] :
         llvm::enumerate(body->getTerminator()->getOperands())) {
      SmallVector<Value> at;
      for (AffineExpr e :
           op.getMatchingIndexingMap(op.getDpsInitOperand(k)).getResults())
        at.push_back(linearOf(e, dims)->materialize(b, loc));
      current[k] =
          writeChunk(b, loc, valueOf(r, yielded), current[k], at, staticX0, m);
    }
  }
  return current;
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
        return a.stride < 2 || a.stride * windowPow2Ceil(n) <= a.size;
      });
    };
    while (n > 1 && !fits(n))
      n = windowPow2Ceil(n) / 2;
    tail.push_back(n);
    x0 += n;
  }
  // One row (or block of `count` rows from the row at `ivs`): the chunks
  // that fit whole in a loop, then the static tail.
  auto row = [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange outs,
                 int64_t count) -> SmallVector<Value> {
    auto chunkOf = [&](OpBuilder &cb, Location cl, Value x0,
                       std::optional<int64_t> staticX0, int64_t n,
                       ValueRange current) {
      // (With rows > 1, `access` is planned in the inputs' roots, which
      // only chunkRows reads, even for a last block of one row.)
      return rows == 1
                 ? chunk(cb, cl, ivs, x0, staticX0, n, current)
                 : chunkRows(cb, cl, ivs, x0, staticX0, n, current, count);
    };
    SmallVector<Value> current(outs);
    if (full > 0) {
      auto loop = b.create<scf::ForOp>(
          l, index(b, 0), index(b, full * lanes), index(b, lanes), current,
          [&](OpBuilder &lb, Location ll, Value x0, ValueRange inner) {
            lb.create<scf::YieldOp>(
                ll, chunkOf(lb, ll, x0, std::nullopt, lanes, inner));
          });
      current = loop.getResults();
    }
    int64_t x0 = full * lanes;
    for (int64_t n : tail) {
      current = chunkOf(b, l, index(b, x0), x0, n, current);
      x0 += n;
    }
    return current;
  };
  if (rows == 1) {
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, op.getDpsInits(),
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange outs) {
          return scf::ValueVector(row(b, l, ivs, outs, 1));
        });
    rewriter.replaceOp(op, nest.results);
    return;
  }
  // Blocks of `rows` rows in a loop over the loop outside x, the rows left
  // over as one last, smaller block.
  int64_t height = ranges[x - 1], whole = height / rows * rows;
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, ArrayRef(lbs).drop_back(), ArrayRef(ubs).drop_back(),
      ArrayRef(steps).drop_back(), op.getDpsInits(),
      [&](OpBuilder &b, Location l, ValueRange outer, ValueRange outs) {
        SmallVector<Value> current(outs);
        auto at = [&](Value y) {
          SmallVector<Value> ivs(outer);
          ivs.push_back(y);
          return ivs;
        };
        if (whole > 0) {
          auto loop = b.create<scf::ForOp>(
              l, index(b, 0), index(b, whole), index(b, rows), current,
              [&](OpBuilder &lb, Location ll, Value y, ValueRange inner) {
                lb.create<scf::YieldOp>(ll, row(lb, ll, at(y), inner, rows));
              });
          current = loop.getResults();
        }
        if (whole < height)
          current = row(b, l, at(index(b, whole)), current, height - whole);
        return scf::ValueVector(current);
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
      WindowVectorizer v{
          g,         lanes,           shortRows, raggedRows, maskedTails,
          rowBlocks, splitTailStores, 0,         {},         1,
          {}};
      if (succeeded(v.match(rewriter)))
        v.rewrite(rewriter);
    }
  }
};

} // namespace
