//===- SetBatch.cpp - re-batch a model ------------------------------------===//
//
// Rewrites the batch dimension of every function of a model (see Passes.td):
// arguments first, then each op's result types by its own shape inference,
// in order, so that a model written for batch 64 compiles for any batch.
// Reshapes and slices state sizes themselves: in a function that keeps its
// samples apart they follow the batch wherever anvil-mark-batch's analysis
// finds it (attention moves it behind the sequence and merges it with the
// heads); elsewhere it must lead.
// Fails with one error naming the first op that cannot follow.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_SETBATCHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// `type` with leading dimension `batch` if it had `old`, else unchanged.
Type rebatched(Type type, int64_t old, int64_t batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() == 0 || tensor.getDimSize(0) != old)
    return type;
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = batch;
  return tensor.clone(shape);
}

} // namespace

LogicalResult mlir::anvil::rebatchFunction(func::FuncOp func, int64_t old,
                                           int64_t batch) {
  // Where the function keeps its samples apart, the analysis knows which
  // dimension of each value holds the batch (before any type changes).
  DenseMap<Value, BatchPlace> places;
  bool known = false;
  if (auto first = func.getNumArguments() > 0
                       ? dyn_cast<RankedTensorType>(func.getArgumentTypes()[0])
                       : RankedTensorType();
      first && first.getRank() > 0 && first.getDimSize(0) == old)
    known = succeeded(findBatchPlaces(func, places));
  // A dimension holding the batch holds `outer * old * inner` indices.
  auto resized = [&](int64_t size) { return size / old * batch; };
  Block &body = func.getBody().front();
  for (BlockArgument arg : body.getArguments())
    arg.setType(rebatched(arg.getType(), old, batch));
  for (Operation &op : body.without_terminator()) {
    if (known) {
      // The batch follows reshapes and slices wherever it is (a slice takes
      // the whole of it).
      if (auto reshape = dyn_cast<ReshapeOp>(op)) {
        if (auto it = places.find(reshape.getResult()); it != places.end()) {
          SmallVector<int64_t> shape(reshape.getShape());
          shape[it->second.dim] = resized(shape[it->second.dim]);
          reshape.setShape(shape);
        }
      } else if (auto slice = dyn_cast<SliceOp>(op)) {
        if (auto it = places.find(slice.getInput()); it != places.end()) {
          SmallVector<int64_t> ends(slice.getEnds());
          ends[it->second.dim] = resized(ends[it->second.dim]);
          slice.setEnds(ends);
        }
      }
    } else if (auto reshape = dyn_cast<ReshapeOp>(op)) {
      // A reshape whose input changed size takes the new batch in front.
      auto input = cast<RankedTensorType>(reshape.getInput().getType());
      SmallVector<int64_t> shape(reshape.getShape());
      int64_t count = 1;
      for (int64_t d : shape)
        count *= d;
      if (count != input.getNumElements()) {
        if (shape.empty() || shape[0] != old)
          return reshape.emitError("cannot re-batch the model from ")
                 << old << " to " << batch
                 << ": this reshape does not keep the batch as its leading "
                    "dimension";
        shape[0] = batch;
        reshape.setShape(shape);
      }
    }
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (!infer)
      continue; // params (no operands) and assigns (no results)
    // The inference's own reason goes into the one error below.
    std::string reason;
    SmallVector<Type> types;
    LogicalResult inferred = success();
    {
      ScopedDiagnosticHandler capture(op.getContext(), [&](Diagnostic &d) {
        reason = d.str();
        return success();
      });
      inferred = infer.inferReturnTypes(
          op.getContext(), op.getLoc(), op.getOperands(),
          op.getRawDictionaryAttrs(), op.getPropertiesStorage(),
          op.getRegions(), types);
    }
    if (failed(inferred))
      return op.emitError("cannot re-batch the model from ")
             << old << " to " << batch << ": " << reason;
    for (auto [result, type] : llvm::zip(op.getResults(), types))
      result.setType(type);
  }
  func.setType(FunctionType::get(func.getContext(), body.getArgumentTypes(),
                                 body.getTerminator()->getOperandTypes()));
  return success();
}

namespace {

struct SetBatchPass : mlir::anvil::impl::SetBatchPassBase<SetBatchPass> {
  using SetBatchPassBase::SetBatchPassBase;

  void runOnOperation() override {
    if (batch == 0)
      return;
    ModuleOp module = getOperation();
    if (batch < 0) {
      module.emitError("the batch must be positive, not ")
          << static_cast<int64_t>(batch);
      return signalPassFailure();
    }
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto input = forward && forward.getNumArguments() > 0
                     ? dyn_cast<RankedTensorType>(forward.getArgumentTypes()[0])
                     : RankedTensorType();
    if (!input || input.getRank() == 0) {
      module.emitError("re-batching needs a @forward whose first argument "
                       "has the batch as its leading dimension");
      return signalPassFailure();
    }
    int64_t old = input.getDimSize(0);
    if (old == batch)
      return;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && failed(rebatchFunction(func, old, batch)))
        return signalPassFailure();
  }
};

} // namespace
