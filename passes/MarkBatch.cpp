//===- MarkBatch.cpp - find the functions that may run in chunks ----------===//
//
// Marks a public function `anvil.batch = B` when the leading dimension of
// every argument and result is a batch of B samples that the function never
// mixes: sample i of every result depends only on sample i of the
// arguments. The runtime then runs any number of samples through it, B at a
// time (see Passes.td). Proven by following, op by op, which dimension of
// each value holds the batch (none: the value is the same for every sample).
// An op whose semantics the analysis does not know, or that reduces, slices,
// reshapes or broadcasts across that dimension, leaves the function
// unmarked, and the function gets a remark saying which op and why.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_MARKBATCHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

using Batch = BatchPlace;
/// nullopt: the value is the same for every sample (weights, constants,
/// what is computed from them alone).
using BatchDim = std::optional<Batch>;

int64_t rankOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getRank();
}

int64_t dimOf(Value v, int64_t d) {
  return cast<RankedTensorType>(v.getType()).getDimSize(d);
}

/// `axis` in [0, rank) (negative counts from the end).
int64_t normalized(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

class Analysis {
public:
  explicit Analysis(int64_t batch) : batch(batch) {}

  /// The batch dimension of every result of `op`, or failure with `why`.
  FailureOr<BatchDim> visit(Operation *op);

  DenseMap<Value, Batch> dims;
  std::string why;

private:
  BatchDim of(Value v) const {
    auto it = dims.find(v);
    return it == dims.end() ? BatchDim() : BatchDim(it->second);
  }
  FailureOr<BatchDim> fail(const Twine &reason) {
    why = reason.str();
    return failure();
  }
  FailureOr<BatchDim> broadcast(Operation *op);
  FailureOr<BatchDim> firstOperandOnly(Operation *op, ArrayRef<int64_t> axes);
  FailureOr<BatchDim> reshape(Value input, Value result);

  int64_t batch;
};

/// Numpy broadcasting: operands align at their last dimension. The batch
/// stays where it is when every operand that carries it has it at the same
/// aligned position, and every other operand has size 1 (or nothing) there:
/// a per-sample-constant operand of size B would give sample i its row i,
/// which a chunk of B samples out of many does not reproduce.
FailureOr<BatchDim> Analysis::broadcast(Operation *op) {
  int64_t rank = rankOf(op->getResult(0));
  BatchDim at;
  for (Value v : op->getOperands())
    if (BatchDim d = of(v)) {
      Batch aligned{d->dim + rank - rankOf(v), d->inner};
      if (at && *at != aligned)
        return fail("its operands hold the batch in different dimensions");
      at = aligned;
    }
  if (!at)
    return BatchDim();
  for (Value v : op->getOperands()) {
    int64_t local = at->dim - (rank - rankOf(v));
    if (!of(v) && local >= 0 && dimOf(v, local) != 1)
      return fail("a per-sample-constant operand is broadcast along the "
                  "batch dimension");
  }
  return at;
}

/// Ops whose first operand carries the batch and whose other operands
/// (weights, scales) must not; `axes` (normalized) are where the op mixes
/// elements, which must not include the batch. The result keeps it in place.
FailureOr<BatchDim> Analysis::firstOperandOnly(Operation *op,
                                               ArrayRef<int64_t> axes) {
  for (Value v : op->getOperands().drop_front())
    if (of(v))
      return fail("an operand other than the input depends on the batch");
  BatchDim d = of(op->getOperand(0));
  if (d && llvm::is_contained(axes, d->dim))
    return fail("it combines elements across the batch dimension");
  return d;
}

/// A reshape keeps the row-major order of elements. The batch index is one
/// digit of the linear index, with stride S (the elements after it) and
/// size B; it survives when that digit lies within one result dimension,
/// whose stride divides S and whose extent holds all B values of it.
FailureOr<BatchDim> Analysis::reshape(Value input, Value result) {
  Batch in = *of(input);
  auto from = cast<RankedTensorType>(input.getType()).getShape();
  auto to = cast<RankedTensorType>(result.getType()).getShape();
  int64_t stride = in.inner;
  for (int64_t i = in.dim + 1; i < int64_t(from.size()); ++i)
    stride *= from[i];
  int64_t after = 1; // the stride of result dimension d
  for (int64_t d = int64_t(to.size()) - 1; d >= 0; after *= to[d--])
    if (after != 0 && stride % after == 0 &&
        (after * to[d]) % (stride * batch) == 0)
      return BatchDim(Batch{d, stride / after});
  return fail("the reshape splits the batch across dimensions");
}

FailureOr<BatchDim> Analysis::visit(Operation *op) {
  if (llvm::none_of(op->getOperands(), [&](Value v) { return of(v); }))
    return BatchDim(); // ops on per-sample constants stay constant
  return llvm::TypeSwitch<Operation *, FailureOr<BatchDim>>(op)
      // Elementwise, with numpy broadcasting.
      .Case<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, NegOp, AbsOp,
            ExpOp, LogOp, SqrtOp, RsqrtOp, ReluOp, SigmoidOp, TanhOp, ErfOp,
            GeluOp, LeakyReluOp, ClipOp, CastOp, CompareOp, SelectOp>(
          [&](Operation *op) { return broadcast(op); })
      // A trailing class dimension leaves the others in place.
      .Case<OneHotOp>([&](OneHotOp op) { return of(op.getInput()); })
      .Case<DropoutOp>([&](DropoutOp op) -> FailureOr<BatchDim> {
        if (op.getTraining())
          return fail("training dropout draws its mask for the whole batch");
        return of(op.getInput());
      })
      // NCHW ops: the batch must be (the outer factor of) N.
      .Case<Conv2DOp, QConv2DOp, MaxPool2DOp, AvgPool2DOp, GlobalAvgPoolOp,
            BatchNormOp>([&](Operation *op) -> FailureOr<BatchDim> {
        BatchDim in = of(op->getOperand(0));
        if (in && in->dim != 0)
          return fail("the batch is not its input's leading dimension");
        return firstOperandOnly(op, {});
      })
      .Case<SoftmaxOp, LogSoftmaxOp, ArgmaxOp>([&](Operation *op) {
        int64_t rank = rankOf(op->getOperand(0));
        auto axis = cast<IntegerAttr>(op->getAttr("axis")).getInt();
        return firstOperandOnly(op, {normalized(axis, rank)});
      })
      .Case<LayerNormOp>([&](LayerNormOp op) -> FailureOr<BatchDim> {
        int64_t rank = rankOf(op.getInput());
        SmallVector<int64_t> axes;
        for (int64_t a = normalized(op.getAxis(), rank); a < rank; ++a)
          axes.push_back(a);
        return firstOperandOnly(op, axes);
      })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp>(
          [&](Operation *op) -> FailureOr<BatchDim> {
            int64_t rank = rankOf(op->getOperand(0));
            auto axes = cast<DenseI64ArrayAttr>(op->getAttr("axes"));
            SmallVector<int64_t> normal;
            for (int64_t a : axes.asArrayRef())
              normal.push_back(normalized(a, rank));
            FailureOr<BatchDim> d = firstOperandOnly(op, normal);
            if (failed(d) || !*d || op->hasAttr("keepdims"))
              return d;
            // Reduced axes before the batch drop out of the result.
            Batch kept = **d;
            kept.dim -=
                llvm::count_if(normal, [&](int64_t a) { return a < kept.dim; });
            return BatchDim(kept);
          })
      .Case<MatmulOp>([&](MatmulOp op) -> FailureOr<BatchDim> {
        // The batch may be a leading (broadcast) dimension of both, or
        // the lhs's rows; never a contracted dimension or the rhs's columns.
        int64_t rank = rankOf(op.getResult());
        BatchDim lhs = of(op.getLhs()), rhs = of(op.getRhs());
        int64_t lhsRank = rankOf(op.getLhs()), rhsRank = rankOf(op.getRhs());
        int64_t lhsRows = op.getTransposeA() ? lhsRank - 1 : lhsRank - 2;
        if (lhs && lhs->dim >= lhsRank - 2 && lhs->dim != lhsRows)
          return fail("the batch is the lhs's contracted dimension");
        if (rhs && rhs->dim >= rhsRank - 2)
          return fail("the batch is one of the rhs's matrix dimensions");
        if (lhs && lhs->dim == lhsRows) {
          if (rhs)
            return fail("the rhs depends on the batch, the lhs holds it in "
                        "its rows");
          return BatchDim(Batch{rank - 2, lhs->inner});
        }
        // Leading dimensions broadcast like elementwise operands.
        return broadcast(op);
      })
      // Per-channel scales along `axis` must not be per sample.
      .Case<QuantizeOp, DequantizeOp>([&](Operation *op) {
        int64_t rank = rankOf(op->getOperand(0));
        auto axis = cast<IntegerAttr>(op->getAttr("axis")).getInt();
        bool perChannel = rankOf(op->getOperand(1)) == 1;
        return firstOperandOnly(
            op, perChannel ? SmallVector<int64_t>{normalized(axis, rank)}
                           : SmallVector<int64_t>{});
      })
      .Case<QMatmulOp>([&](QMatmulOp op) -> FailureOr<BatchDim> {
        // Shared [K, N] weights: the batch stays where the lhs has it, in
        // its rows or a leading dimension.
        BatchDim lhs = of(op.getLhs());
        if (rankOf(op.getRhs()) != 2)
          return fail("its rhs is batched");
        if (lhs && lhs->dim == rankOf(op.getLhs()) - 1)
          return fail("the batch is the lhs's contracted dimension");
        return firstOperandOnly(op, {});
      })
      .Case<ReshapeOp, FlattenOp>([&](Operation *op) {
        return reshape(op->getOperand(0), op->getResult(0));
      })
      .Case<TransposeOp>([&](TransposeOp op) -> FailureOr<BatchDim> {
        Batch in = *of(op.getInput());
        ArrayRef<int64_t> perm = op.getPerm();
        in.dim = llvm::find(perm, in.dim) - perm.begin();
        return BatchDim(in);
      })
      .Case<ConcatOp>([&](ConcatOp op) -> FailureOr<BatchDim> {
        int64_t rank = rankOf(op.getResult());
        BatchDim d = of(op.getInputs()[0]);
        for (Value v : op.getInputs())
          if (!d || of(v) != d)
            return fail("not every operand holds the batch in the same "
                        "dimension");
        if (normalized(op.getAxis(), rank) == d->dim)
          return fail("it concatenates along the batch dimension");
        return d;
      })
      .Case<SliceOp>([&](SliceOp op) -> FailureOr<BatchDim> {
        Batch in = *of(op.getInput());
        int64_t d = in.dim;
        if (op.getStarts()[d] != 0 || op.getSteps()[d] != 1 ||
            op.getEnds()[d] < dimOf(op.getInput(), d))
          return fail("it slices the batch dimension");
        return BatchDim(in);
      })
      .Case<GatherOp>([&](GatherOp op) -> FailureOr<BatchDim> {
        // result = input[:axis] ++ indices ++ input[axis+1:]
        int64_t axis = normalized(op.getAxis(), rankOf(op.getInput()));
        BatchDim in = of(op.getInput()), idx = of(op.getIndices());
        if (in && idx)
          return fail("both the data and the indices depend on the batch");
        if (idx)
          return BatchDim(Batch{axis + idx->dim, idx->inner});
        if (in->dim == axis)
          return fail("it gathers along the batch dimension");
        Batch out = *in;
        if (out.dim > axis)
          out.dim += rankOf(op.getIndices()) - 1;
        return BatchDim(out);
      })
      .Default([&](Operation *op) {
        return fail("the analysis does not know how '" +
                    op->getName().getStringRef() +
                    "' treats the batch dimension");
      });
}

} // namespace

LogicalResult mlir::anvil::findBatchPlaces(func::FuncOp func,
                                           DenseMap<Value, BatchPlace> &places,
                                           std::string *why,
                                           Operation **where) {
  auto stop = [&](const std::string &reason, Operation *op) {
    if (why)
      *why = reason;
    if (where)
      *where = op;
    return failure();
  };
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() == 0 || type.getNumResults() == 0)
    return stop("it has no arguments or no results", nullptr);
  auto first = dyn_cast<RankedTensorType>(type.getInput(0));
  if (!first || first.getRank() == 0)
    return stop("its first argument has no leading dimension", nullptr);
  int64_t batch = first.getDimSize(0);
  for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults())) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || tensor.getRank() == 0 || tensor.getDimSize(0) != batch)
      return stop("not every argument and result leads with the batch",
                  nullptr);
  }
  Analysis analysis(batch);
  Block &body = func.getBody().front();
  for (BlockArgument arg : body.getArguments())
    analysis.dims[arg] = Batch{0};
  for (Operation &op : body.without_terminator()) {
    FailureOr<BatchDim> d = analysis.visit(&op);
    if (failed(d))
      return stop(analysis.why, &op);
    if (*d)
      for (Value r : op.getResults())
        analysis.dims[r] = **d;
  }
  for (Value r : body.getTerminator()->getOperands())
    if (!analysis.dims.count(r) || !(analysis.dims.lookup(r) == Batch{0}))
      return stop("a result does not hold the batch as its leading dimension",
                  nullptr);
  places = std::move(analysis.dims);
  return success();
}

namespace {

/// B when `func` maps a batch of B samples independently, else failure
/// (with `explain`, a remark naming the op that stops it, or the function).
FailureOr<int64_t> batchOf(func::FuncOp func, bool explain) {
  std::string why;
  Operation *where = nullptr;
  DenseMap<Value, BatchPlace> places;
  if (succeeded(findBatchPlaces(func, places, &why, &where)))
    return cast<RankedTensorType>(func.getArgumentTypes()[0]).getDimSize(0);
  // A function without a batched signature is not a candidate: no remark.
  if (explain && where)
    where->emitRemark("@") << func.getName()
                           << " cannot run in chunks of its batch: " << why;
  else if (explain && StringRef(why).starts_with("a result"))
    func.emitRemark("@") << func.getName()
                         << " cannot run in chunks of its batch: " << why;
  return failure();
}

struct MarkBatchPass : mlir::anvil::impl::MarkBatchPassBase<MarkBatchPass> {
  using MarkBatchPassBase::MarkBatchPassBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      func->removeAttr(kBatchAttr);
      if (func.isPrivate() || func.isExternal())
        continue;
      if (FailureOr<int64_t> batch = batchOf(func, explain); succeeded(batch))
        func->setAttr(
            kBatchAttr,
            IntegerAttr::get(IntegerType::get(&getContext(), 64), *batch));
    }
  }
};

} // namespace
