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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

/// The padded tensor `pad` makes, with its border filled with the padding
/// value and `producer` (which writes a fresh tensor of the pad's source
/// type) computing the interior in place.
Value foldPad(RewriterBase &rewriter, tensor::PadOp pad,
              linalg::LinalgOp producer) {
  Location loc = pad.getLoc();
  RankedTensorType type = pad.getResultType();
  ArrayRef<int64_t> inner = pad.getSourceType().getShape();
  SmallVector<int64_t> low, high;
  for (OpFoldResult r : pad.getMixedLowPad())
    low.push_back(*getConstantIntValue(r));
  for (OpFoldResult r : pad.getMixedHighPad())
    high.push_back(*getConstantIntValue(r));
  int64_t rank = type.getRank();
  rewriter.setInsertionPoint(producer);
  // (The constant may be defined in the pad's region, or after the
  // producer: a copy of it is.)
  Value padValue =
      rewriter.clone(*pad.getConstantPaddingValue().getDefiningOp())
          ->getResult(0);
  Value padded = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                  type.getElementType());
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
  auto fillSlab = [&](Value into, ArrayRef<int64_t> offsets,
                      ArrayRef<int64_t> sizes) -> Value {
    Value slab = rewriter.create<tensor::ExtractSliceOp>(
        loc, type.clone(sizes), into, ValueRange{}, ValueRange{}, ValueRange{},
        offsets, sizes, ones);
    return insert(
        into, rewriter.create<linalg::FillOp>(loc, padValue, slab).getResult(0),
        offsets);
  };
  // One slab is filled before the interior, the others after it. The
  // interior's slice is then not of the tensor.empty (which would fold into
  // a fresh tensor, copied in afterwards), and the padded value is not the
  // interior's insert_slice, which a tap reading exactly the interior (the
  // centre of a 3x3 window) would fold into the generic's result: read
  // after the insert, bufferization would then copy it.
  padded = fillSlab(padded, slabs.front().first, slabs.front().second);
  Value interior = rewriter.create<tensor::ExtractSliceOp>(
      loc, pad.getSourceType(), padded, ValueRange{}, ValueRange{},
      ValueRange{}, low, inner, ones);
  rewriter.modifyOpInPlace(
      producer, [&] { producer.getDpsInitOperand(0)->set(interior); });
  rewriter.setInsertionPointAfter(producer);
  padded = insert(padded, producer->getResult(0), low);
  for (auto &[offsets, sizes] : llvm::drop_begin(slabs))
    padded = fillSlab(padded, offsets, sizes);
  return padded;
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
    for (tensor::PadOp pad : pads) {
      linalg::LinalgOp producer;
      if (cannotFold(pad, minRow).empty()) {
        producer = pad.getSource().getDefiningOp<linalg::GenericOp>();
      } else if (copyOthers) {
        // The copy bufferization would make, as an op of its own.
        rewriter.setInsertionPoint(pad);
        RankedTensorType type = pad.getSourceType();
        Value empty = rewriter.create<tensor::EmptyOp>(
            pad.getLoc(), type.getShape(), type.getElementType());
        producer = rewriter.create<linalg::CopyOp>(pad.getLoc(),
                                                   pad.getSource(), empty);
      } else {
        continue;
      }
      rewriter.replaceOp(pad, foldPad(rewriter, pad, producer));
    }
  }
};

} // namespace
