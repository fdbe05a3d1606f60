//===- FoldPadIntoProducer.cpp - producers write into padded buffers ------===//
//
// Expects linalg on tensors after elementwise fusion. A `tensor.pad` (the
// border a depthwise convolution or a pooling window reads) bufferizes into
// a fill of the whole padded buffer and a copy of its source into the
// interior: two more passes over memory for every padded layer. When the
// source is the only result of an all-parallel `linalg.generic` (the fused
// activation before a depthwise convolution) that writes a fresh tensor and
// has no other user, this pass makes the generic write into the padded
// buffer's interior instead:
//
//   %f = fill(pad value) of the padded border only
//   %g = linalg.generic ... outs(extract_slice %f [interior])
//   %p = insert_slice %g into %f [interior]
//
// which one-shot bufferization turns into the generic storing straight into
// the padded buffer: no copy, and only the border is filled. A pad of
// anything else (function arguments, reshapes, matmul results, rows too
// short for the generic's loops) becomes the same border fill around a
// `linalg.copy` of its source into the interior (option `copy-others`):
// left to bufferization, its fill and copy would come after
// anvil-parallelize-loops and run on one thread, while now that pass splits
// them like any other op. Leaves pads with dynamic sizes or a computed
// padding value alone.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/TailStores.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_FOLDPADINTOPRODUCERPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Why `pad` cannot become a fill of its border around an interior some op
/// writes, or "" if it can.
StringRef cannotSplit(tensor::PadOp pad) {
  if (llvm::any_of(pad.getMixedLowPad(),
                   [](OpFoldResult r) { return !getConstantIntValue(r); }) ||
      llvm::any_of(pad.getMixedHighPad(),
                   [](OpFoldResult r) { return !getConstantIntValue(r); }) ||
      !pad.getResultType().hasStaticShape())
    return "dynamic padding";
  if (pad.getResultType() == pad.getSourceType())
    return "nothing to pad";
  Value padValue = pad.getConstantPaddingValue();
  if (!padValue || !matchPattern(padValue, m_Constant()))
    return "the padding value is not a constant";
  return "";
}

/// Why `pad` (which cannotSplit accepts) cannot take its producer's
/// writes, or "" if it can.
StringRef cannotFold(tensor::PadOp pad, int64_t minRow) {
  if (pad.getSourceType().getShape().back() < minRow)
    return "rows too short";
  auto producer = pad.getSource().getDefiningOp<linalg::GenericOp>();
  if (!producer || producer.getNumResults() != 1 ||
      !producer->getResult(0).hasOneUse())
    return "the source is not the single-use result of a generic";
  if (producer.getNumReductionLoops() != 0 ||
      !producer.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>() ||
      producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)))
    return "the generic reduces, or reads what it writes";
  return "";
}

/// The low and high pad amounts of `pad`, whose pads are constants (the
/// patterns check that first).
void staticPads(tensor::PadOp pad, SmallVectorImpl<int64_t> &low,
                SmallVectorImpl<int64_t> &high) {
  for (OpFoldResult r : pad.getMixedLowPad())
    low.push_back(*getConstantIntValue(r));
  for (OpFoldResult r : pad.getMixedHighPad())
    high.push_back(*getConstantIntValue(r));
}

/// What both ways of writing a pad start from (foldPad, padRows): its
/// shape and static padding, a copy of its padding value (the constant may
/// be defined in the pad's region, or after the op the writes start at)
/// and the empty padded tensor, made at the rewriter's insertion point.
struct PadStart {
  Location loc;
  RankedTensorType type;
  ArrayRef<int64_t> inner;
  SmallVector<int64_t> low, high;
  Value padValue, padded;
};

PadStart startPad(RewriterBase &rewriter, tensor::PadOp pad) {
  PadStart p{pad.getLoc(),
             pad.getResultType(),
             pad.getSourceType().getShape(),
             {},
             {},
             {},
             {}};
  staticPads(pad, p.low, p.high);
  p.padValue = rewriter.clone(*pad.getConstantPaddingValue().getDefiningOp())
                   ->getResult(0);
  p.padded = rewriter.create<tensor::EmptyOp>(p.loc, p.type.getShape(),
                                              p.type.getElementType());
  return p;
}

/// `into` (a tensor of `p`'s padded type) with its slab at `offsets` of
/// `sizes` filled with the padding value.
Value fillSlab(RewriterBase &rewriter, const PadStart &p, Value into,
               ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> ones(offsets.size(), 1);
  Value slab = rewriter.create<tensor::ExtractSliceOp>(
      p.loc, p.type.clone(sizes), into, ValueRange{}, ValueRange{},
      ValueRange{}, offsets, sizes, ones);
  Value filled =
      rewriter.create<linalg::FillOp>(p.loc, p.padValue, slab).getResult(0);
  return rewriter.create<tensor::InsertSliceOp>(
      p.loc, filled, into, ValueRange{}, ValueRange{}, ValueRange{}, offsets,
      sizes, ones);
}

/// The padded tensor `pad` makes, with its border filled with the padding
/// value and `producer` (which writes a fresh tensor of the pad's source
/// type) computing the interior in place.
Value foldPad(RewriterBase &rewriter, tensor::PadOp pad,
              linalg::LinalgOp producer) {
  rewriter.setInsertionPoint(producer);
  PadStart p = startPad(rewriter, pad);
  Location loc = p.loc;
  RankedTensorType type = p.type;
  ArrayRef<int64_t> inner = p.inner, low = p.low, high = p.high;
  Value padded = p.padded;
  int64_t rank = type.getRank();
  SmallVector<int64_t> ones(rank, 1);
  auto insert = [&](Value into, Value value, ArrayRef<int64_t> offsets) {
    auto sizes = cast<RankedTensorType>(value.getType()).getShape();
    return rewriter.create<tensor::InsertSliceOp>(
        loc, value, into, ValueRange{}, ValueRange{}, ValueRange{}, offsets,
        sizes, ones);
  };
  // The border, as at most two slabs per padded dimension: the low and high
  // ones of dimension d span the interior of the dimensions before d and
  // all of those after, so together they cover each border cell once. (A
  // fill of the whole buffer would write every interior cell twice.)
  SmallVector<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>> slabs;
  for (int64_t d = 0; d < rank; ++d)
    for (bool atHigh : {false, true}) {
      int64_t width = atHigh ? high[d] : low[d];
      if (width == 0)
        continue;
      SmallVector<int64_t> offsets(rank, 0), sizes(type.getShape());
      for (int64_t e = 0; e < d; ++e) {
        offsets[e] = low[e];
        sizes[e] = inner[e];
      }
      offsets[d] = atHigh ? low[d] + inner[d] : 0;
      sizes[d] = width;
      slabs.emplace_back(offsets, sizes);
    }
  // One slab is filled before the interior, the others after it. The
  // interior's slice is then not of the tensor.empty (which would fold into
  // a fresh tensor, copied in afterwards), and the padded value is not the
  // interior's insert_slice, which a tap reading exactly the interior (the
  // centre of a 3x3 window) would fold into the generic's result: read
  // after the insert, bufferization would then copy it.
  padded =
      fillSlab(rewriter, p, padded, slabs.front().first, slabs.front().second);
  Value interior = rewriter.create<tensor::ExtractSliceOp>(
      loc, pad.getSourceType(), padded, ValueRange{}, ValueRange{},
      ValueRange{}, low, inner, ones);
  rewriter.modifyOpInPlace(
      producer, [&] { producer.getDpsInitOperand(0)->set(interior); });
  rewriter.setInsertionPointAfter(producer);
  padded = insert(padded, producer->getResult(0), low);
  for (auto &[offsets, sizes] : llvm::drop_begin(slabs))
    padded = fillSlab(rewriter, p, padded, offsets, sizes);
  return padded;
}

/// How the taps of a window generic read one padded dimension `dim`: at
/// stride * (loop `loop`) + a tap's offset into the padded tensor, the
/// offsets between `minOffset` and `maxOffset`; outputs [lo, hi) of the
/// loop read only the pad's source (`low` cells after the padded tensor's
/// start, `size` long).
struct WindowDim {
  int64_t dim;
  unsigned loop;
  int64_t stride, minOffset, maxOffset, low, size, lo, hi;
};

/// The stride s of `e` when it is `d * s` or `d` of a loop d, with the loop.
std::optional<std::pair<unsigned, int64_t>> scaledLoop(AffineExpr e) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return std::make_pair(d.getPosition(), int64_t(1));
  auto mul = dyn_cast<AffineBinaryOpExpr>(e);
  if (!mul || mul.getKind() != AffineExprKind::Mul)
    return std::nullopt;
  auto d = dyn_cast<AffineDimExpr>(mul.getLHS());
  auto s = dyn_cast<AffineConstantExpr>(mul.getRHS());
  if (!d || !s || s.getValue() < 1)
    return std::nullopt;
  return std::make_pair(d.getPosition(), s.getValue());
}

/// Why the one generic that reads `pad` (through static slices: a
/// depthwise convolution's or a pool's taps) cannot read its source
/// instead, split into an interior and border bands, or "" if it can;
/// fills `window` and `dims` (one per padded dimension) if it can.
StringRef cannotSplitWindow(tensor::PadOp pad, int64_t minRow,
                            linalg::GenericOp &window,
                            SmallVector<WindowDim> &dims) {
  window = nullptr;
  for (Operation *user : pad->getUsers()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    if (!slice || !slice.hasUnitStride() ||
        ShapedType::isDynamicShape(slice.getStaticOffsets()) ||
        !slice.getType().hasStaticShape())
      return "a reader is not a static slice";
    for (OpOperand &use : slice->getUses()) {
      auto g = dyn_cast<linalg::GenericOp>(use.getOwner());
      if (!g || (window && g != window) || g.isDpsInit(&use))
        return "the slices are not the inputs of one generic";
      window = g;
    }
  }
  if (!window)
    return "no reader";
  if (!window.hasPureTensorSemantics() || window.hasIndexSemantics() ||
      window.getNumParallelLoops() != window.getNumLoops())
    return "the window generic reduces, reads its indices or is on buffers";
  SmallVector<int64_t> ranges = window.getStaticLoopRanges();
  RankedTensorType type = pad.getResultType();
  ArrayRef<int64_t> inner = pad.getSourceType().getShape();
  SmallVector<int64_t> low, high;
  staticPads(pad, low, high);
  dims.clear();
  for (int64_t k = 0; k < type.getRank(); ++k)
    if (low[k] != 0 || high[k] != 0)
      dims.push_back({k, 0, 0, INT64_MAX, INT64_MIN, low[k], inner[k], 0, 0});
  for (OpOperand *operand : window.getDpsInputOperands()) {
    auto slice = operand->get().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || slice.getSource() != pad.getResult())
      continue;
    AffineMap map = window.getMatchingIndexingMap(operand);
    ArrayRef<int64_t> offsets = slice.getStaticOffsets();
    for (int64_t k = 0; k < type.getRank(); ++k) {
      if (low[k] == 0 && high[k] == 0) {
        // An unpadded dimension is read whole by every tap.
        if (offsets[k] != 0 || slice.getType().getDimSize(k) != inner[k])
          return "a tap is not the whole of an unpadded dimension";
        continue;
      }
      auto read = scaledLoop(map.getResult(k));
      if (!read)
        return "a tap is not read at stride * loop along a padded dimension";
      WindowDim &w =
          *llvm::find_if(dims, [&](const WindowDim &w) { return w.dim == k; });
      if (w.minOffset <= w.maxOffset &&
          (w.loop != read->first || w.stride != read->second))
        return "the taps read a padded dimension along different loops";
      w.loop = read->first;
      w.stride = read->second;
      w.minOffset = std::min(w.minOffset, offsets[k]);
      w.maxOffset = std::max(w.maxOffset, offsets[k]);
    }
  }
  // Every other operand must be sliceable along the window's loops: read
  // by them as bare loop variables, or not at all.
  for (OpOperand &operand : window->getOpOperands()) {
    auto slice = operand.get().getDefiningOp<tensor::ExtractSliceOp>();
    if (slice && slice.getSource() == pad.getResult())
      continue;
    for (AffineExpr e : window.getMatchingIndexingMap(&operand).getResults())
      for (const WindowDim &w : dims)
        if (e.isFunctionOfDim(w.loop) && !isa<AffineDimExpr>(e))
          return "an operand is read at an expression of a window loop";
  }
  for (auto [i, w] : llvm::enumerate(dims)) {
    for (const WindowDim &v : ArrayRef(dims).take_front(i))
      if (v.loop == w.loop)
        return "two padded dimensions are read along one loop";
    // Output o reads only the source when minOffset + s*o - low >= 0 and
    // maxOffset + s*o - low < size.
    int64_t extent = ranges[w.loop];
    w.lo = std::max<int64_t>(
        0, llvm::divideCeilSigned(w.low - w.minOffset, w.stride));
    w.hi = std::min(extent, llvm::divideFloorSigned(
                                w.size - 1 + w.low - w.maxOffset, w.stride) +
                                1);
    if (w.hi <= w.lo)
      return "no output reads only the interior";
  }
  if (ranges[dims.back().loop] < minRow)
    return "rows too short";
  return "";
}

/// Replaces `window` (which cannotSplitWindow accepts for `pad`) by one
/// copy of it per region of its output: the interior, whose taps read
/// `pad`'s source in place, and up to two border bands per padded
/// dimension, whose taps read a small pad of the source cells they need.
/// Each copy computes exactly the values the window did at its outputs.
void splitWindow(RewriterBase &rewriter, tensor::PadOp pad,
                 linalg::GenericOp window, ArrayRef<WindowDim> dims,
                 int64_t bandColumns) {
  Location loc = window.getLoc();
  rewriter.setInsertionPoint(window);
  SmallVector<int64_t> ranges = window.getStaticLoopRanges();
  Value source = pad.getSource();
  RankedTensorType sourceType = pad.getSourceType();
  int64_t rank = sourceType.getRank();
  Value padValue =
      rewriter.clone(*pad.getConstantPaddingValue().getDefiningOp())
          ->getResult(0);
  // Slices `value` read through `map` to the loop region [offsets, +sizes).
  auto sliceLoops = [&](Value value, AffineMap map, ArrayRef<int64_t> offsets,
                        ArrayRef<int64_t> sizes) -> Value {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> at(type.getRank(), 0), size(type.getShape());
    bool whole = true;
    for (auto [k, e] : llvm::enumerate(map.getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(e))
        if (sizes[d.getPosition()] != ranges[d.getPosition()]) {
          at[k] = offsets[d.getPosition()];
          size[k] = sizes[d.getPosition()];
          whole = false;
        }
    if (whole)
      return value;
    return rewriter.create<tensor::ExtractSliceOp>(
        loc, type.clone(size), value, ValueRange{}, ValueRange{}, ValueRange{},
        at, size, SmallVector<int64_t>(type.getRank(), 1));
  };
  SmallVector<Value> results(window.getDpsInits());
  // One copy of the window computing the loop region [offsets, +sizes).
  auto piece = [&](ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
    // The cells of the padded tensor the region's taps read, [from, to) in
    // each padded dimension: the source's, sliced, and a pad around them
    // where they reach into the border.
    SmallVector<int64_t> from(rank, 0), to(sourceType.getShape());
    SmallVector<int64_t> srcAt(rank, 0), srcSize(sourceType.getShape()),
        lowPad(rank, 0), highPad(rank, 0);
    for (const WindowDim &w : dims) {
      from[w.dim] = w.minOffset + w.stride * offsets[w.loop];
      to[w.dim] =
          w.maxOffset + w.stride * (offsets[w.loop] + sizes[w.loop] - 1) + 1;
      srcAt[w.dim] = std::max<int64_t>(0, from[w.dim] - w.low);
      srcSize[w.dim] = std::min(w.size, to[w.dim] - w.low) - srcAt[w.dim];
      lowPad[w.dim] = std::max<int64_t>(0, w.low - from[w.dim]);
      highPad[w.dim] = std::max<int64_t>(0, to[w.dim] - w.low - w.size);
    }
    Value cells = rewriter.create<tensor::ExtractSliceOp>(
        loc, sourceType.clone(srcSize), source, ValueRange{}, ValueRange{},
        ValueRange{}, srcAt, srcSize, SmallVector<int64_t>(rank, 1));
    if (llvm::any_of(lowPad, [](int64_t p) { return p != 0; }) ||
        llvm::any_of(highPad, [](int64_t p) { return p != 0; })) {
      SmallVector<int64_t> shape(srcSize);
      for (int64_t k = 0; k < rank; ++k)
        shape[k] += lowPad[k] + highPad[k];
      cells = rewriter.create<tensor::PadOp>(
          loc, sourceType.clone(shape), cells,
          getAsIndexOpFoldResult(rewriter.getContext(), lowPad),
          getAsIndexOpFoldResult(rewriter.getContext(), highPad), padValue);
    }
    SmallVector<Value> operands;
    for (OpOperand &operand : window->getOpOperands()) {
      AffineMap map = window.getMatchingIndexingMap(&operand);
      auto slice = operand.get().getDefiningOp<tensor::ExtractSliceOp>();
      if (!slice || slice.getSource() != pad.getResult()) {
        Value whole =
            window.isDpsInit(&operand)
                ? results[operand.getOperandNumber() - window.getNumDpsInputs()]
                : operand.get();
        operands.push_back(sliceLoops(whole, map, offsets, sizes));
        continue;
      }
      // A tap: the same cells as before, now counted from `from` (where
      // the first tap's first read is).
      SmallVector<int64_t> at(slice.getStaticOffsets()),
          size(slice.getType().getShape());
      for (const WindowDim &w : dims) {
        at[w.dim] -= w.minOffset;
        size[w.dim] = w.stride * (sizes[w.loop] - 1) + 1;
      }
      operands.push_back(rewriter.create<tensor::ExtractSliceOp>(
          loc, slice.getType().clone(size), cells, ValueRange{}, ValueRange{},
          ValueRange{}, at, size, SmallVector<int64_t>(rank, 1)));
    }
    Operation *copy = rewriter.clone(*window);
    copy->setOperands(operands);
    for (auto [k, result] : llvm::enumerate(copy->getResults())) {
      Value init = operands[window.getNumDpsInputs() + k];
      result.setType(init.getType());
      // Back into the whole result, where the init was sliced from.
      auto slice = init.getDefiningOp<tensor::ExtractSliceOp>();
      results[k] = init == results[k]
                       ? Value(result)
                       : rewriter.create<tensor::InsertSliceOp>(
                             loc, result, results[k], slice.getMixedOffsets(),
                             slice.getMixedSizes(), slice.getMixedStrides());
    }
  };
  // Border bands of each padded dimension in turn, spanning the interior
  // of the dimensions before it and all of those after; then the interior.
  SmallVector<int64_t> offsets(ranges.size(), 0), sizes(ranges);
  for (WindowDim w : dims) {
    // Bands at the rows' ends (their first and last columns) of two
    // columns or more are widened to `bandColumns` where the interior
    // keeps some: a band of 2 columns ran scalar (a 5x5 window's: 25
    // fmas per output), one of 8 is one vector per row
    // (anvil-vectorize-windows). A band of one column stays: its scalar
    // outputs cost less than the wider pad a wider band reads (a 3x3
    // window's: MobileNetV2 0.8% slower widened, EfficientNet-B0's 5x5
    // windows 2.4% faster).
    int64_t extent = ranges[w.loop];
    if (w.loop + 1 == ranges.size() && w.lo < w.hi) {
      int64_t width = std::min(bandColumns, extent);
      int64_t lo = w.lo >= 2 ? std::max(w.lo, width) : w.lo;
      int64_t hi = extent - w.hi >= 2 ? std::min(w.hi, extent - width) : w.hi;
      if (lo < hi) {
        w.lo = lo;
        w.hi = hi;
      }
    }
    for (auto [lo, hi] :
         {std::pair(int64_t(0), w.lo), std::pair(w.hi, extent)}) {
      if (hi <= lo)
        continue;
      offsets[w.loop] = lo;
      sizes[w.loop] = hi - lo;
      piece(offsets, sizes);
    }
    offsets[w.loop] = w.lo;
    sizes[w.loop] = w.hi - w.lo;
  }
  piece(offsets, sizes);
  rewriter.replaceOp(window, results);
}

/// Whether `pad` (static, constant padding: cannotSplit) pads f32 rows of
/// at most `lanes` * 4 elements along its last two dimensions only, less
/// than a vector on the left: padRows writes it.
bool padsRowsOnly(tensor::PadOp pad, int64_t lanes) {
  SmallVector<int64_t> low, high;
  staticPads(pad, low, high);
  int64_t rank = low.size();
  RankedTensorType type = pad.getResultType();
  if (rank < 2 || !type.getElementType().isF32() || lanes < 1 ||
      low.back() >= lanes || type.getShape().back() > 4 * lanes)
    return false;
  for (int64_t d = 0; d + 2 < rank; ++d)
    if (low[d] != 0 || high[d] != 0)
      return false;
  return true;
}

/// The pad as one pass over its rows: the border rows above and below are
/// fills, and each row of the source is written whole into its padded row,
/// border columns included, `lanes` elements at a time: a vector read of
/// the source row (reads past its end give the padding value, the first
/// chunk's is moved right past the left border by a shuffle that fills the
/// border) and a vector write. A fill of each border column and a copy of
/// the interior (copy-others) were three passes over every row, the
/// columns' stores one per row, strided (LLVM made them scatters):
/// MobileNetV2's 14x14 depthwise layers at batch 8 (Xeon, AVX-512, one
/// thread) spent more time padding than convolving.
Value padRows(RewriterBase &rewriter, tensor::PadOp pad, int64_t lanes,
              bool splitTails) {
  rewriter.setInsertionPoint(pad);
  PadStart p = startPad(rewriter, pad);
  Location loc = p.loc;
  RankedTensorType type = p.type;
  ArrayRef<int64_t> inner = p.inner, low = p.low, high = p.high;
  Value padValue = p.padValue, padded = p.padded;
  int64_t rank = type.getRank(), h = rank - 2, w = rank - 1;
  // The border rows above and below the interior: fills.
  auto fillRows = [&](Value into, int64_t first, int64_t count) -> Value {
    SmallVector<int64_t> offsets(rank, 0), sizes(type.getShape());
    offsets[h] = first;
    sizes[h] = count;
    return fillSlab(rewriter, p, into, offsets, sizes);
  };
  if (low[h] > 0)
    padded = fillRows(padded, 0, low[h]);
  if (high[h] > 0)
    padded = fillRows(padded, low[h] + inner[h], high[h]);
  // The source's rows: loops over its dimensions up to h.
  auto vectorType = VectorType::get({lanes}, type.getElementType());
  Value border = rewriter.create<vector::SplatOp>(loc, vectorType, padValue);
  int64_t width = type.getShape().back();
  // Source row `y` (at `lead`, y) into row y + low[h] of `into` (at
  // `intoLead`), chunk by chunk.
  auto writeRow = [&](OpBuilder &b, ArrayRef<Value> lead,
                      ArrayRef<Value> intoLead, Value y, Value into) {
    SmallVector<Value> out(intoLead);
    out.push_back(b.create<arith::AddIOp>(
        loc, y, b.create<arith::ConstantIndexOp>(loc, low[h])));
    for (int64_t k = 0; k * lanes < width; ++k) {
      int64_t start = k * lanes - low[w];
      SmallVector<Value> in(lead);
      in.push_back(y);
      in.push_back(
          b.create<arith::ConstantIndexOp>(loc, std::max<int64_t>(start, 0)));
      Value v = b.create<vector::TransferReadOp>(loc, vectorType,
                                                 pad.getSource(), in, padValue);
      if (start < 0) {
        // Lane i of the chunk is source column i - shift: the first
        // `shift` lanes are the left border.
        int64_t shift = -start;
        SmallVector<int64_t> mask;
        for (int64_t i = 0; i < lanes; ++i)
          mask.push_back(i < shift ? lanes : i - shift);
        v = b.create<vector::ShuffleOp>(loc, v, border, mask);
      }
      SmallVector<Value> at(out);
      at.push_back(b.create<arith::ConstantIndexOp>(loc, k * lanes));
      // A last chunk past the row's end: a masked write, or with
      // `splitTails` whole vectors of 8, 4, 2 and 1 lanes (vmaskmovps is
      // microcoded on AMD's cores).
      int64_t count = std::min(lanes, width - k * lanes);
      into = count < lanes && splitTails
                 ? writeLeadingLanes(b, loc, {v}, into, at, count)
                 : b.create<vector::TransferWriteOp>(
                        loc, v, into, at, ArrayRef<bool>{count == lanes})
                       .getResult();
    }
    return into;
  };
  // The rows of one (image, channel): a loop over y.
  auto rowLoop = [&](OpBuilder &b, ArrayRef<Value> lead,
                     ArrayRef<Value> intoLead, Value into) -> Value {
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value end = b.create<arith::ConstantIndexOp>(loc, inner[h]);
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    return b
        .create<scf::ForOp>(
            loc, zero, end, one, ValueRange{into},
            [&](OpBuilder &nb, Location, Value y, ValueRange args) {
              nb.create<scf::YieldOp>(loc,
                                      writeRow(nb, lead, intoLead, y, args[0]));
            })
        .getResult(0);
  };
  if (h == 0)
    return rowLoop(rewriter, {}, {}, padded);
  // The leading dimensions (images, channels) as one scf.forall, split
  // for threads like the copy it replaces: each iteration writes its
  // padded [1, ..., 1, Hp, Wp] slice.
  SmallVector<OpFoldResult> extents;
  for (int64_t d = 0; d < h; ++d)
    extents.push_back(rewriter.getIndexAttr(inner[d]));
  auto forall = rewriter.create<scf::ForallOp>(loc, extents, ValueRange{padded},
                                               std::nullopt);
  OpBuilder b = OpBuilder::atBlockBegin(forall.getBody());
  SmallVector<Value> lead(forall.getInductionVars());
  SmallVector<OpFoldResult> offsets(lead.begin(), lead.end()),
      sizes(h, b.getIndexAttr(1));
  offsets.append({b.getIndexAttr(0), b.getIndexAttr(0)});
  sizes.append(
      {b.getIndexAttr(type.getShape()[h]), b.getIndexAttr(type.getShape()[w])});
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  SmallVector<int64_t> sliceShape(h, 1);
  sliceShape.append({type.getShape()[h], type.getShape()[w]});
  Value slice = b.create<tensor::ExtractSliceOp>(loc, type.clone(sliceShape),
                                                 forall.getRegionIterArgs()[0],
                                                 offsets, sizes, strides);
  SmallVector<Value> zeros(h, b.create<arith::ConstantIndexOp>(loc, 0));
  Value written = rowLoop(b, lead, zeros, slice);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  b.create<tensor::ParallelInsertSliceOp>(
      loc, written, forall.getRegionIterArgs()[0], offsets, sizes, strides);
  return forall.getResult(0);
}

struct FoldPadIntoProducerPass
    : mlir::anvil::impl::FoldPadIntoProducerPassBase<FoldPadIntoProducerPass> {
  using FoldPadIntoProducerPassBase::FoldPadIntoProducerPassBase;

  void runOnOperation() override {
    SmallVector<tensor::PadOp> pads;
    getOperation().walk([&](tensor::PadOp pad) {
      if (cannotSplit(pad).empty())
        pads.push_back(pad);
    });
    IRRewriter rewriter(&getContext());
    // Folds first: a window generic split below may itself be the producer
    // a later pad folds into, and then writes its pieces into that pad's
    // interior.
    SmallVector<tensor::PadOp> others;
    for (tensor::PadOp pad : pads) {
      if (!cannotFold(pad, minRow).empty()) {
        others.push_back(pad);
        continue;
      }
      auto producer = pad.getSource().getDefiningOp<linalg::GenericOp>();
      rewriter.replaceOp(pad, foldPad(rewriter, pad, producer));
    }
    for (tensor::PadOp pad : others) {
      linalg::GenericOp window;
      SmallVector<WindowDim> dims;
      if (splitWindows &&
          cannotSplitWindow(pad, splitMinRow, window, dims).empty()) {
        splitWindow(rewriter, pad, window, dims, bandColumns);
        // The pad and its taps are dead now.
        for (Operation *user : llvm::make_early_inc_range(pad->getUsers()))
          rewriter.eraseOp(user);
        rewriter.eraseOp(pad);
        continue;
      }
      if (!copyOthers)
        continue;
      if (padRowsLanes > 0 && padsRowsOnly(pad, padRowsLanes)) {
        rewriter.replaceOp(
            pad, padRows(rewriter, pad, padRowsLanes, splitTailStores));
        continue;
      }
      // The copy bufferization would make, as an op of its own.
      rewriter.setInsertionPoint(pad);
      RankedTensorType type = pad.getSourceType();
      Value empty = rewriter.create<tensor::EmptyOp>(
          pad.getLoc(), type.getShape(), type.getElementType());
      auto copy =
          rewriter.create<linalg::CopyOp>(pad.getLoc(), pad.getSource(), empty);
      rewriter.replaceOp(pad, foldPad(rewriter, pad, copy));
    }
  }
};

} // namespace
