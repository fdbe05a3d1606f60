//===- SplitBatch.cpp - a batch as independent chunks, one per thread -----===//
//
// Splits each public function that anvil-mark-batch proved keeps its samples
// apart into K chunks of its batch (see Passes.td): a private clone
// `@<name>__chunk`, re-batched to B/K by anvil-set-batch's rebatchFunction,
// does the work, and the public function becomes one scf.forall over the
// chunks that calls the clone (which slices its rows out of the whole
// arguments) and inserts its results.
// Expects anvil IR after anvil-mark-batch; leaves the clone marked
// `anvil.arena_argument` (anvil-plan-memory then gives each chunk its own
// arena) and every public function `anvil.split_batch` with what was done or
// why not, for the fusion report.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdio>

namespace mlir::anvil {
#define GEN_PASS_DEF_SPLITBATCHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// `value`'s type as a ranked tensor leading with `batch`, or null.
RankedTensorType batched(Type type, int64_t batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() == 0 || tensor.getDimSize(0) != batch)
    return {};
  return tensor;
}

/// The rows [offset, offset + rows) of `tensor`'s leading dimension, as the
/// offsets, sizes and strides of a slice.
struct Rows {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  Rows(OpBuilder &b, RankedTensorType tensor, Value offset, int64_t rows) {
    offsets.assign(tensor.getRank(), b.getIndexAttr(0));
    offsets[0] = offset;
    for (int64_t d : tensor.getShape())
      sizes.push_back(b.getIndexAttr(d));
    sizes[0] = b.getIndexAttr(rows);
    strides.assign(tensor.getRank(), b.getIndexAttr(1));
  }
};

/// Makes `chunk` (re-batched to `rows`) take the whole batch's arguments,
/// of `types`, and the first row of its chunk, and slice its rows itself.
/// (Sliced by the caller, an argument would be a view at an offset, which
/// bufferization casts to the callee's contiguous type and the bare-pointer
/// call convention then passes without its offset.)
void sliceInside(func::FuncOp chunk, TypeRange types, int64_t rows) {
  Block &body = chunk.getBody().front();
  unsigned count = body.getNumArguments();
  Location loc = chunk.getLoc();
  SmallVector<BlockArgument> whole;
  for (Type t : types)
    whole.push_back(body.addArgument(t, loc));
  Value offset = body.addArgument(IndexType::get(chunk.getContext()), loc);
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  for (unsigned i = 0; i < count; ++i) {
    BlockArgument arg = body.getArgument(i);
    Rows r(b, cast<RankedTensorType>(whole[i].getType()), offset, rows);
    arg.replaceAllUsesWith(b.create<tensor::ExtractSliceOp>(
        loc, cast<RankedTensorType>(arg.getType()), whole[i], r.offsets,
        r.sizes, r.strides));
  }
  body.eraseArguments(0, count);
  chunk.setType(FunctionType::get(chunk.getContext(), body.getArgumentTypes(),
                                  chunk.getResultTypes()));
}

/// The bytes of `value` when it is a constant weight (a parameter or a
/// constant), else 0.
int64_t weightBytes(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !isa<ParamOp, ConstantOp>(def))
    return 0;
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// The FLOPs of `func`'s matmuls and convolutions, and the bytes of the
/// constant weights they read (each weight counted once).
std::pair<double, double> flopsAndWeightBytes(func::FuncOp func) {
  double flops = 0, bytes = 0;
  llvm::SmallPtrSet<Value, 16> seen;
  auto weight = [&](Value v) {
    if (seen.insert(v).second)
      bytes += double(weightBytes(v));
  };
  func.walk([&](Operation *op) {
    if (auto mm = dyn_cast<MatmulOp>(op)) {
      auto lhs = cast<RankedTensorType>(mm.getLhs().getType());
      int64_t k = lhs.getDimSize(mm.getTransposeA() ? lhs.getRank() - 2
                                                    : lhs.getRank() - 1);
      flops += 2.0 * double(mm.getType().getNumElements()) * double(k);
      weight(mm.getLhs());
      weight(mm.getRhs());
    } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
      auto filter = cast<RankedTensorType>(conv.getWeight().getType());
      flops += 2.0 * double(conv.getType().getNumElements()) *
               double(filter.getNumElements() / filter.getDimSize(0));
      weight(conv.getWeight());
    }
  });
  return {flops, bytes};
}

/// Whether `value` is a constant weight: a parameter's or a constant's.
bool isWeight(Value value) {
  return isa_and_nonnull<ParamOp, ConstantOp>(value.getDefiningOp());
}

/// What the chunks hand over to `tail` (ops of `func`, in order): the values
/// of the other ops, weights aside, that the tail or the return reads.
SmallVector<Value> handedTo(func::FuncOp func, ArrayRef<Operation *> tail) {
  llvm::SmallPtrSet<Operation *, 16> inTail(tail.begin(), tail.end());
  auto fromChunks = [&](Value v) {
    return !isWeight(v) && v.getDefiningOp() &&
           !inTail.contains(v.getDefiningOp());
  };
  llvm::SetVector<Value> across;
  for (Operation *op : tail)
    for (Value v : op->getOperands())
      if (fromChunks(v))
        across.insert(v);
  for (Value v : func.getBody().front().getTerminator()->getOperands())
    if (fromChunks(v))
      across.insert(v);
  return across.takeVector();
}

/// The ops at the end of `func` that run once on the whole batch after the
/// chunks (`whole-tail`), in order, or none: a CNN's classifier, matmuls on
/// [B, C] after its pooling, whose weights every chunk would stream again
/// for a few rows each (MobileNetV3-Small's 1024x1000 classifier read twice
/// per call at batch 8: 1.0 ms against ONNX Runtime's 0.42). Walking back
/// from the return, the ops whose results are [B] or [B, C] tensors used
/// only by the tail and the return, reading only such tensors and weights;
/// weights stay where they are, and the walk stops at the first other op (a
/// pooling, a convolution). Kept only when its matmuls would do fewer than
/// `minFlops` FLOPs per weight byte at `rows` rows, and when the chunks are
/// left something to do; but left in the chunks, with the reason in `kept`,
/// when a chunk does `maxChunkFlops` or more FLOPs (of `wholeFlops`, the
/// whole function's at the whole batch, its share less the tail's) per byte
/// of the tail's weights (measured on a 2-core Zen 3 at batch 8, whole-tail
/// against not, 1 / 2 threads: MobileNetV3-Small 0.97x / 0.96x the time,
/// MobileNetV2 0.96x / 0.98x, ShuffleNetV2 0.98x / 0.97x, EfficientNet-B0
/// 0.99x / 0.98x, all well under 1000 FLOPs per byte; ResNet-18 (7084)
/// 0.99x / 1.016x, ResNet-50 1.006x / 1.008x).
SmallVector<Operation *> wholeTail(func::FuncOp func, int64_t batch,
                                   int64_t rows, double minFlops,
                                   double wholeFlops, double maxChunkFlops,
                                   std::string &kept) {
  Block &body = func.getBody().front();
  Operation *ret = body.getTerminator();
  auto perSample = [&](Value v) {
    RankedTensorType t = batched(v.getType(), batch);
    return t && t.getRank() <= 2;
  };
  llvm::SmallPtrSet<Operation *, 16> tail;
  SmallVector<Operation *> order;
  for (Operation &op : llvm::reverse(body.without_terminator())) {
    if (isa<ParamOp, ConstantOp>(op))
      continue;
    bool joins =
        op.getNumResults() > 0 && op.getNumRegions() == 0 &&
        llvm::all_of(op.getResults(), perSample) &&
        llvm::all_of(op.getOperands(),
                     [&](Value v) { return isWeight(v) || perSample(v); }) &&
        llvm::all_of(op.getUsers(), [&](Operation *user) {
          return user == ret || tail.contains(user);
        });
    if (!joins)
      break;
    tail.insert(&op);
    order.push_back(&op);
  }
  double flops = 0, bytes = 0;
  llvm::SmallPtrSet<Value, 8> seen;
  for (Operation *op : order)
    if (auto mm = dyn_cast<MatmulOp>(op)) {
      auto lhs = cast<RankedTensorType>(mm.getLhs().getType());
      int64_t k = lhs.getDimSize(mm.getTransposeA() ? 0 : 1);
      auto out = cast<RankedTensorType>(mm.getType());
      flops +=
          2.0 * double(rows) * double(out.getNumElements() / batch) * double(k);
      for (Value w : {mm.getLhs(), mm.getRhs()})
        if (seen.insert(w).second)
          bytes += double(weightBytes(w));
    }
  std::reverse(order.begin(), order.end());
  // (Nothing handed over: the tail is the whole function.)
  if (bytes == 0 || flops >= minFlops * bytes || handedTo(func, order).empty())
    return {};
  // What each chunk is left: with no matmul or convolution (an MLP, whose
  // tail is all of it but a flatten) the chunks would only add a fork and
  // a join (the bench's MLP at 2 threads: 0.064 -> 0.076 ms).
  double chunkFlops =
      (wholeFlops - flops * double(batch / rows)) / double(batch / rows);
  if (chunkFlops <= 0)
    return {};
  if (chunkFlops >= maxChunkFlops * bytes) {
    char most[32];
    std::snprintf(most, sizeof most, "%g", maxChunkFlops);
    kept = llvm::formatv("; its last {0} ops (a classifier on [B, C]) stay "
                         "in each chunk: a chunk does {1:F0} FLOPs per byte "
                         "of their weights, at least {2} "
                         "(whole-tail-max-chunk-flops-per-byte), so reading "
                         "them once per chunk costs it little",
                         order.size(), chunkFlops / bytes, most)
               .str();
    return {};
  }
  return order;
}

struct SplitBatchPass : mlir::anvil::impl::SplitBatchPassBase<SplitBatchPass> {
  using SplitBatchPassBase::SplitBatchPassBase;

  void runOnOperation() override {
    if (chunks <= 1)
      return;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isPrivate() || func.isExternal())
        continue;
      std::string note = split(func, symbols);
      func->setAttr("anvil.split_batch", StringAttr::get(&getContext(), note));
    }
  }

  /// Splits `func` and says so, or leaves it alone and says why.
  std::string split(func::FuncOp func, SymbolTable &symbols) {
    auto batchAttr = func->getAttrOfType<IntegerAttr>(kBatchAttr);
    if (!batchAttr)
      return "not split into chunks: its samples are not proven independent "
             "(anvil-mark-batch; --explain says why)";
    int64_t batch = batchAttr.getInt(), k = chunks;
    if (batch % k != 0)
      return llvm::formatv("not split into chunks: batch {0} is not a "
                           "multiple of {1} chunks",
                           batch, k)
          .str();
    // Indices from the caller are range-checked in public functions only
    // (anvil-check-indices): the ops that read by them stay there.
    if (func.walk([](IndexingOpInterface) { return WalkResult::interrupt(); })
            .wasInterrupted())
      return "not split into chunks: it reads by indices, which "
             "anvil-check-indices checks in public functions only";
    std::string name = (func.getName() + "__chunk").str();
    if (symbols.lookup(name))
      return "not split into chunks: @" + name + " exists already";

    // The chunk: a private clone at batch B/K, without the tail kept whole
    // (it returns what the tail reads instead). Its errors (an op that
    // cannot follow the batch) only mean no split: keep the first as the
    // reason.
    int64_t rows = batch / k;
    SmallVector<Operation *> tail;
    std::string tailKept;
    if (wholeTail)
      tail = ::wholeTail(func, batch, rows, minFlopsPerWeightByte,
                         flopsAndWeightBytes(func).first,
                         wholeTailMaxChunkFlops, tailKept);
    llvm::SmallPtrSet<Operation *, 16> inTail(tail.begin(), tail.end());
    Operation *oldReturn = func.getBody().front().getTerminator();
    SmallVector<Value> handed;
    if (!tail.empty())
      handed = handedTo(func, tail);
    IRMapping cloned;
    func::FuncOp chunk = func.clone(cloned);
    chunk.setName(name);
    chunk.setPrivate();
    chunk->removeAttr(kBatchAttr);
    if (!tail.empty()) {
      Operation *chunkReturn = chunk.getBody().front().getTerminator();
      SmallVector<Value> results;
      for (Value v : handed)
        results.push_back(cloned.lookup(v));
      OpBuilder(chunkReturn).create<func::ReturnOp>(chunk.getLoc(), results);
      chunkReturn->erase();
      // (A tail op has results: its clone is theirs' definer.)
      for (Operation *op : llvm::reverse(tail))
        cloned.lookup(op->getResult(0)).getDefiningOp()->erase();
      // (The tail's weights, if only it read them.)
      SmallVector<Operation *> weights;
      chunk.walk([&](Operation *op) {
        if (isa<ParamOp, ConstantOp>(op))
          weights.push_back(op);
      });
      for (Operation *op : weights)
        if (op->use_empty())
          op->erase();
      chunk.setType(FunctionType::get(&getContext(), chunk.getArgumentTypes(),
                                      ValueRange(results).getTypes()));
    }
    std::string reason;
    LogicalResult rebatched = success();
    {
      ScopedDiagnosticHandler capture(&getContext(), [&](Diagnostic &d) {
        if (reason.empty())
          reason = d.str();
        return success();
      });
      rebatched = rebatchFunction(chunk, batch, rows);
    }
    auto allBatched = [&](TypeRange types) {
      return llvm::all_of(types, [&](Type t) { return batched(t, rows); });
    };
    if (failed(rebatched) || !allBatched(chunk.getArgumentTypes()) ||
        !allBatched(chunk.getResultTypes())) {
      chunk.erase();
      return "not split into chunks: " +
             (reason.empty() ? std::string("an argument or result does not "
                                           "lead with the batch")
                             : reason);
    }
    // Every chunk reads all the weights: too little work per weight byte,
    // and the threads only share the stream of the same weights.
    auto [flops, bytes] = flopsAndWeightBytes(chunk);
    if (bytes > 0 && flops < minFlopsPerWeightByte * bytes) {
      chunk.erase();
      char least[32];
      std::snprintf(least, sizeof least, "%g",
                    minFlopsPerWeightByte.getValue());
      return llvm::formatv("not split into chunks: a chunk of {0} would do "
                           "{1:F1} FLOPs per byte of the weights that every "
                           "chunk reads, below {2} "
                           "(anvil-split-batch's min-flops-per-weight-byte): "
                           "threads would stream the same weights",
                           rows, flops / bytes, least)
          .str();
    }
    sliceInside(chunk, func.getArgumentTypes(), rows);
    chunk->setAttr("anvil.arena_argument", UnitAttr::get(&getContext()));
    chunk->setAttr("anvil.split_chunks",
                   IntegerAttr::get(IntegerType::get(&getContext(), 64), k));
    symbols.insert(chunk, std::next(Block::iterator(func)));

    // The public function: one forall over the chunks (then the tail).
    Block &body = func.getBody().front();
    SmallVector<Operation *> old;
    for (Operation &op : body.without_terminator())
      if (!inTail.contains(&op))
        old.push_back(&op);
    Location loc = func.getLoc();
    OpBuilder b(oldReturn);
    if (!tail.empty())
      b.setInsertionPoint(tail.front());
    SmallVector<Value> outputs;
    SmallVector<Type> wholeTypes(func.getResultTypes());
    if (!tail.empty())
      wholeTypes = llvm::to_vector(ValueRange(handed).getTypes());
    for (Type t : wholeTypes) {
      auto tensor = cast<RankedTensorType>(t);
      outputs.push_back(b.create<tensor::EmptyOp>(loc, tensor.getShape(),
                                                  tensor.getElementType()));
    }
    auto forall = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(k)}, outputs, std::nullopt);
    b.setInsertionPointToStart(forall.getBody());
    Value offset =
        b.create<arith::MulIOp>(loc, forall.getInductionVar(0),
                                b.create<arith::ConstantIndexOp>(loc, rows));
    SmallVector<Value> operands(body.getArguments());
    operands.push_back(offset);
    auto call = b.create<func::CallOp>(loc, chunk, operands);
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    for (auto [result, out] :
         llvm::zip(call.getResults(), forall.getRegionIterArgs())) {
      Rows r(b, cast<RankedTensorType>(out.getType()), offset, rows);
      b.create<tensor::ParallelInsertSliceOp>(loc, result, out, r.offsets,
                                              r.sizes, r.strides);
    }
    if (tail.empty()) {
      b.setInsertionPoint(oldReturn);
      b.create<func::ReturnOp>(loc, forall.getResults());
      oldReturn->erase();
    } else {
      for (auto [v, whole] : llvm::zip(handed, forall.getResults()))
        v.replaceUsesWithIf(whole, [&](OpOperand &use) {
          return inTail.contains(use.getOwner()) || use.getOwner() == oldReturn;
        });
    }
    // The old body is the chunk's now: drop it, last use first (but the
    // weights the tail reads).
    for (Operation *op : llvm::reverse(old))
      if (op->use_empty())
        op->erase();
    std::string note =
        llvm::formatv("split batch {0} into {1} chunks of {2}, one per "
                      "thread (anvil-split-batch): the kernels of @{3} "
                      "run once per chunk",
                      batch, k, rows, name)
            .str();
    if (tail.empty())
      return note + tailKept;
    int64_t matmuls =
        llvm::count_if(tail, [](Operation *op) { return isa<MatmulOp>(op); });
    return note + llvm::formatv("; its last {0} ops ({1} matmuls, whose "
                                "weights a chunk of {2} would stream for "
                                "too few rows) run once on the whole batch "
                                "after them (whole-tail)",
                                tail.size(), matmuls, rows)
                      .str();
  }
};

} // namespace
