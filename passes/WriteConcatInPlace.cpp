//===- WriteConcatInPlace.cpp - a concat's pieces written in its buffer ---===//
//
// Expects linalg on tensors after elementwise fusion, before
// anvil-parallelize-loops. A concat is lowered (AnvilToLinalg/Shape.cpp) to
// a chain of tensor.insert_slice ops into a tensor.empty, each link used
// only by the next; bufferized, every insert copies its piece into the
// result. This pass rewrites each insert of such a chain so that the piece
// is computed into the slice it fills:
//
//   %s = tensor.extract_slice %dest [the insert's box]
//   %p = <the piece's producer> outs(%s)
//   %d = tensor.insert_slice %p into %dest [the same box]
//
// which one-shot bufferization turns into the producer storing straight
// into the concat's buffer. The producer is the piece's own generic when
// that is an all-parallel linalg.generic with one result and no other
// user, writing a fresh tensor it does not read (moved down to the
// insert); otherwise a new linalg.copy of the piece (option copy-others),
// which anvil-parallelize-loops splits for the threads. The chain's root
// becomes a bufferization.alloc_tensor of its own (a slice of a
// tensor.empty folds into a tensor.empty of its own, whose buffer would be
// copied in).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_WRITECONCATINPLACEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The insert_slice ops of the concat chain that starts with `first` (which
/// inserts into a tensor.empty), in order: each link is the only user of
/// the one before and inserts into it with static offsets, sizes and unit
/// strides, in one block.
SmallVector<tensor::InsertSliceOp> chainFrom(tensor::InsertSliceOp first) {
  SmallVector<tensor::InsertSliceOp> chain;
  auto accepts = [&](tensor::InsertSliceOp insert) {
    return insert->getBlock() == first->getBlock() && insert.hasUnitStride() &&
           insert.getSourceType().hasStaticShape() &&
           insert.getSourceType().getRank() == insert.getDestType().getRank() &&
           llvm::none_of(insert.getStaticOffsets(), ShapedType::isDynamic);
  };
  for (tensor::InsertSliceOp link = first; link && accepts(link);) {
    chain.push_back(link);
    Value result = link.getResult();
    link = result.hasOneUse()
               ? dyn_cast<tensor::InsertSliceOp>(*result.getUsers().begin())
               : nullptr;
    if (link && link.getDest() != result)
      link = nullptr;
  }
  return chain;
}

/// The generic that can compute `insert`'s piece into its slice, if any.
linalg::GenericOp inPlaceProducer(tensor::InsertSliceOp insert) {
  auto producer = insert.getSource().getDefiningOp<linalg::GenericOp>();
  if (!producer || producer.getNumResults() != 1 ||
      !producer->getResult(0).hasOneUse() ||
      producer->getBlock() != insert->getBlock() ||
      producer.getNumReductionLoops() != 0)
    return nullptr;
  OpOperand *init = producer.getDpsInitOperand(0);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      producer.payloadUsesValueFromOperand(init))
    return nullptr;
  return producer;
}

/// Rewrites one link of a chain as the file header says.
void writeInPlace(RewriterBase &rewriter, tensor::InsertSliceOp insert,
                  bool copyOthers) {
  linalg::GenericOp producer = inPlaceProducer(insert);
  if (!producer && !copyOthers)
    return;
  Location loc = insert.getLoc();
  rewriter.setInsertionPoint(insert);
  Value slice = rewriter.create<tensor::ExtractSliceOp>(
      loc, insert.getSourceType(), insert.getDest(), insert.getMixedOffsets(),
      insert.getMixedSizes(), insert.getMixedStrides());
  if (producer) {
    // The producer's operands are defined before it, so before the insert
    // too: it may move down to its only user.
    rewriter.moveOpBefore(producer, insert);
    rewriter.modifyOpInPlace(
        producer, [&] { producer.getDpsInitOperand(0)->set(slice); });
    return;
  }
  Value copy = rewriter.create<linalg::CopyOp>(loc, insert.getSource(), slice)
                   .getResult(0);
  rewriter.modifyOpInPlace(insert,
                           [&] { insert.getSourceMutable().assign(copy); });
}

struct WriteConcatInPlacePass
    : mlir::anvil::impl::WriteConcatInPlacePassBase<WriteConcatInPlacePass> {
  using WriteConcatInPlacePassBase::WriteConcatInPlacePassBase;

  void runOnOperation() override {
    // (CSE may have merged the empty tensor a concat starts from with
    // others of its type: each chain gets a root of its own.)
    SmallVector<tensor::InsertSliceOp> firsts;
    getOperation().walk([&](tensor::InsertSliceOp insert) {
      if (insert.getDest().getDefiningOp<tensor::EmptyOp>())
        firsts.push_back(insert);
    });
    IRRewriter rewriter(&getContext());
    for (tensor::InsertSliceOp first : firsts) {
      SmallVector<tensor::InsertSliceOp> chain = chainFrom(first);
      // (One piece is no concat.)
      if (chain.size() < 2)
        continue;
      rewriter.setInsertionPoint(first);
      Value root = rewriter.create<bufferization::AllocTensorOp>(
          first.getLoc(), first.getDestType(), ValueRange{});
      rewriter.modifyOpInPlace(first,
                               [&] { first.getDestMutable().assign(root); });
      for (tensor::InsertSliceOp insert : chain)
        writeInPlace(rewriter, insert, copyOthers);
    }
  }
};

} // namespace
