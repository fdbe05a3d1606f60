//===- BuildTrainStep.cpp - one function for a whole SGD step -------------===//
//
// With the `loss` option, first replaces @loss by that loss of @forward's
// result against a target. Composes @forward and @loss into @__objective
// (by cloning their bodies), in which every inference batch norm over
// parameter statistics becomes its training form (the batch's statistics),
// differentiates it with the autodiff pass, then turns @__objective_grad
// into @train_step by appending the optimizer update of each parameter (SGD
// or Adam/AdamW, whose state is more anvil.params starting at zero) and the
// running-average update of those batch norms' statistics.
// The helper functions are erased. Beside it, @eval_step composes the same
// two without gradients or updates and adds the predicted classes, for
// evaluating on a test set. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "runtime/CheckpointKeys.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_BUILDTRAINSTEPPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The type of a rank-0 f32 tensor.
RankedTensorType f32Scalar(OpBuilder &b) {
  return RankedTensorType::get({}, b.getF32Type());
}

/// A rank-0 constant `v` of element type `elt`.
Value scalar(OpBuilder &b, Location loc, Type elt, double v) {
  return b.create<ConstantOp>(
      loc, DenseElementsAttr::get(RankedTensorType::get({}, elt),
                                  b.getFloatAttr(elt, v)));
}

/// `v` (an f32 tensor) as element type `elt`: a cast unless `elt` is f32.
Value castFromF32(OpBuilder &b, Location loc, Value v, Type elt) {
  return elt.isF32() ? v : b.create<CastOp>(loc, v, elt).getResult();
}

/// Optimizer state `name`: one more parameter, starting at zero.
Value zeroState(OpBuilder &b, Location loc, StringRef name,
                RankedTensorType type) {
  return b.create<ParamOp>(loc, type, name, Initializer::Zeros, nullptr,
                           nullptr, nullptr, nullptr, nullptr, nullptr);
}

/// Clones the body of `callee` (minus its return) at `b`, its arguments
/// mapped to `args`; returns what it returned.
SmallVector<Value> inlineBody(OpBuilder &b, func::FuncOp callee,
                              ValueRange args) {
  IRMapping mapping;
  Block &body = callee.getBody().front();
  mapping.map(body.getArguments(), args);
  for (Operation &op : body.without_terminator())
    b.clone(op, mapping);
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(mapping.lookup(v));
  return results;
}

/// @eval_step(x, target) -> (loss, argmax(prediction, -1)): forward and loss
/// as written, dropout in its inference form, no update. A prediction of
/// rank < 2 has no class axis, so only the loss is returned then.
void buildEvalStep(OpBuilder &top, func::FuncOp forward, func::FuncOp loss) {
  SmallVector<Type> inputs(forward.getArgumentTypes());
  inputs.push_back(loss.getArgumentTypes()[1]);
  Location loc = loss.getLoc();
  auto eval = top.create<func::FuncOp>(loc, "eval_step",
                                       top.getFunctionType(inputs, {}));
  Block *entry = eval.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  Value prediction =
      inlineBody(b, forward, entry->getArguments().drop_back())[0];
  SmallVector<Value> results =
      inlineBody(b, loss, {prediction, entry->getArguments().back()});
  if (cast<RankedTensorType>(prediction.getType()).getRank() >= 2)
    results.push_back(b.create<ArgmaxOp>(loc, prediction, -1));
  b.create<func::ReturnOp>(loc, results);
  eval.setType(b.getFunctionType(inputs, ValueRange(results).getTypes()));
  eval.walk([](DropoutOp d) { d.removeTrainingAttr(); });
}

/// Replaces @loss by the loss `kind` (not Model) of @forward's result
/// against a target: class indices, or for mse a tensor like the prediction.
LogicalResult synthesizeLoss(ModuleOp module, TrainLoss kind) {
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  if (!forward || forward.getNumResults() != 1)
    return module.emitError("training needs a @forward with one result");
  auto prediction = cast<RankedTensorType>(forward.getResultTypes()[0]);
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  if (auto old = module.lookupSymbol<func::FuncOp>("loss"))
    old.erase();
  Type target = kind == TrainLoss::Mse
                    ? Type(prediction)
                    : Type(RankedTensorType::get({prediction.getDimSize(0)},
                                                 b.getI64Type()));
  auto scalar = RankedTensorType::get({}, prediction.getElementType());
  auto loss =
      b.create<func::FuncOp>(forward.getLoc(), "loss",
                             b.getFunctionType({prediction, target}, {scalar}));
  Block *block = loss.addEntryBlock();
  b.setInsertionPointToEnd(block);
  Value y = block->getArgument(0), t = block->getArgument(1);
  Value l;
  if (kind == TrainLoss::CrossEntropy)
    l = b.create<SoftmaxCrossEntropyOp>(loss.getLoc(), y, t);
  else if (kind == TrainLoss::Nll)
    l = b.create<NllLossOp>(loss.getLoc(), y, t);
  else
    l = b.create<MseLossOp>(loss.getLoc(), y, t);
  b.create<func::ReturnOp>(loss.getLoc(), l);
  return success();
}

/// Checks that @forward and @loss exist and compose, or emits why not.
LogicalResult checkForwardAndLoss(ModuleOp module, func::FuncOp forward,
                                  func::FuncOp loss) {
  if (!forward || !loss || forward.isExternal() || loss.isExternal())
    return module.emitError("training needs a @forward and a @loss function");
  if (forward.getNumResults() != 1 || loss.getNumArguments() != 2 ||
      loss.getArgumentTypes()[0] != forward.getResultTypes()[0])
    return loss.emitError("@loss must take @forward's result and a target");
  return success();
}

/// @__objective(x, target) = loss(forward(x), target): what autodiff
/// differentiates.
func::FuncOp buildObjective(OpBuilder &top, func::FuncOp forward,
                            func::FuncOp loss) {
  SmallVector<Type> inputs(forward.getArgumentTypes());
  inputs.push_back(loss.getArgumentTypes()[1]);
  auto objective = top.create<func::FuncOp>(
      loss.getLoc(), "__objective",
      top.getFunctionType(inputs, loss.getResultTypes()));
  Block *entry = objective.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockEnd(entry);
  Value prediction =
      inlineBody(b, forward, entry->getArguments().drop_back())[0];
  Value value =
      inlineBody(b, loss, {prediction, entry->getArguments().back()})[0];
  b.create<func::ReturnOp>(loss.getLoc(), value);
  return objective;
}

/// On a batch_norm_train of @__objective (and, cloned, of its gradient
/// function): the names of the running mean and variance it updates.
constexpr llvm::StringLiteral kRunningStats = "anvil.running_stats";

/// Turns each `anvil.batch_norm` of `objective` whose mean and variance are
/// parameters into `anvil.batch_norm_train` (normalizing with the batch's
/// statistics, as a network trains), marked with the statistics' names
/// (kRunningStats) for updateRunningStats. Their parameters leave the
/// objective: they are state, not weights, and get no gradient. A batch
/// norm over constant statistics stays (autodiff then says it has no
/// gradient); statistics that also feed another op are an error.
LogicalResult trainBatchNorms(func::FuncOp objective) {
  SmallVector<BatchNormOp> norms;
  objective.walk([&](BatchNormOp bn) { norms.push_back(bn); });
  for (BatchNormOp bn : norms) {
    auto mean = bn.getMean().getDefiningOp<ParamOp>();
    auto var = bn.getVar().getDefiningOp<ParamOp>();
    if (!mean || !var)
      continue;
    if (mean == var || !mean->hasOneUse() || !var->hasOneUse())
      return bn.emitError("the running statistics '")
             << mean.getName() << "' and '" << var.getName()
             << "' must be two parameters that feed only this batch norm "
                "(training updates them from its batch)";
    OpBuilder b(bn);
    auto train =
        b.create<BatchNormTrainOp>(bn.getLoc(), bn.getInput(), bn.getScale(),
                                   bn.getBias(), bn.getEpsilonAttr());
    train->setAttr(kRunningStats,
                   b.getStrArrayAttr({mean.getName(), var.getName()}));
    bn.replaceAllUsesWith(train.getResult());
    bn.erase();
    mean.erase();
    var.erase();
  }
  return success();
}

/// Increments Adam's shared step count t and returns its bias corrections
/// {1 - beta1^t, 1 - beta2^t} (f32).
std::pair<Value, Value> adamCorrections(OpBuilder &b, Location loc,
                                        double beta1, double beta2) {
  Type f32 = b.getF32Type();
  Value t = b.create<AddOp>(
      loc, zeroState(b, loc, ::anvil::keys::kAdamStep, f32Scalar(b)),
      scalar(b, loc, f32, 1.0));
  b.create<AssignOp>(loc, ::anvil::keys::kAdamStep, t);
  Value correction1 =
      b.create<SubOp>(loc, scalar(b, loc, f32, 1.0),
                      b.create<PowOp>(loc, scalar(b, loc, f32, beta1), t));
  Value correction2 =
      b.create<SubOp>(loc, scalar(b, loc, f32, 1.0),
                      b.create<PowOp>(loc, scalar(b, loc, f32, beta2), t));
  return {correction1, correction2};
}

/// Scales every gradient by one factor, min(1, maxNorm / (L2 norm of all
/// gradients + 1e-6)): gradient clipping by global norm.
void clipByGlobalNorm(OpBuilder &b, Location loc,
                      MutableArrayRef<Value> gradients, double maxNorm) {
  Type f32 = b.getF32Type();
  Value total = scalar(b, loc, f32, 0.0);
  for (Value g : gradients) {
    auto t = cast<RankedTensorType>(g.getType());
    SmallVector<int64_t> all;
    for (int64_t d = 0; d < t.getRank(); ++d)
      all.push_back(d);
    Value squares = b.create<MulOp>(loc, g, g);
    Value sum = all.empty() ? squares
                            : b.create<ReduceSumOp>(loc, squares,
                                                    b.getDenseI64ArrayAttr(all),
                                                    /*keepdims=*/false)
                                  .getResult();
    if (!t.getElementType().isF32())
      sum = b.create<CastOp>(loc, sum, f32);
    total = b.create<AddOp>(loc, total, sum);
  }
  Value norm = b.create<AddOp>(loc, b.create<SqrtOp>(loc, total),
                               scalar(b, loc, f32, 1e-6));
  Value factor =
      b.create<MinOp>(loc, scalar(b, loc, f32, 1.0),
                      b.create<DivOp>(loc, scalar(b, loc, f32, maxNorm), norm));
  for (Value &g : gradients) {
    Type elt = cast<RankedTensorType>(g.getType()).getElementType();
    g = b.create<MulOp>(loc, g, castFromF32(b, loc, factor, elt));
  }
}

/// @train_step returns the loss alone, records the trained parameters in
/// `anvil.trained` and drops autodiff's `anvil.gradients`.
void finishTrainStep(OpBuilder &b, func::FuncOp step, func::ReturnOp ret,
                     ArrayAttr names) {
  Value lossValue = ret.getOperand(0);
  b.create<func::ReturnOp>(step.getLoc(), lossValue);
  ret.erase();
  Block &block = step.getBody().front();
  step.setType(
      b.getFunctionType(block.getArgumentTypes(), lossValue.getType()));
  step->setAttr("anvil.trained", b.getArrayAttr(names.getValue().drop_front()));
  step->removeAttr("anvil.gradients");
}

struct BuildTrainStepPass
    : mlir::anvil::impl::BuildTrainStepPassBase<BuildTrainStepPass> {
  using BuildTrainStepPassBase::BuildTrainStepPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (lossKind != TrainLoss::Model &&
        failed(synthesizeLoss(module, lossKind)))
      return signalPassFailure();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto loss = module.lookupSymbol<func::FuncOp>("loss");
    if (failed(checkForwardAndLoss(module, forward, loss)))
      return signalPassFailure();

    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointToEnd(module.getBody());
    buildEvalStep(top, forward, loss);
    func::FuncOp objective = buildObjective(top, forward, loss);
    if (failed(trainBatchNorms(objective)) || failed(differentiate(module)))
      return signalPassFailure();
    objective.erase();

    // @train_step: the gradient function plus `lr` and the updates.
    auto step = module.lookupSymbol<func::FuncOp>("__objective_grad");
    step.setName("train_step");
    if (failed(appendUpdates(step, forward)))
      return signalPassFailure();
  }

  /// Runs the autodiff pass on @__objective, giving @__objective_grad.
  LogicalResult differentiate(ModuleOp module) {
    OpPassManager pm("builtin.module");
    AutodiffPassOptions autodiff;
    autodiff.function = "__objective";
    autodiff.freeze = freeze;
    pm.addPass(createAutodiffPass(autodiff));
    return runPipeline(pm, module);
  }

  /// Adds the `lr` argument to `step` and, before its return, the optimizer
  /// update of every parameter it has a gradient for and the update of the
  /// running statistics of its training batch norms (read through copies
  /// of @forward's parameters).
  LogicalResult appendUpdates(func::FuncOp step, func::FuncOp forward) {
    Block &block = step.getBody().front();
    OpBuilder b(step);
    Value lr = block.addArgument(f32Scalar(b), step.getLoc());
    auto ret = cast<func::ReturnOp>(block.getTerminator());
    auto names = step->getAttrOfType<ArrayAttr>("anvil.gradients");
    DenseMap<StringAttr, ParamOp> params;
    step.walk([&](ParamOp p) { params.try_emplace(p.getNameAttr(), p); });
    b.setInsertionPoint(ret);
    Location loc = step.getLoc();
    std::pair<Value, Value> corrections;
    if (optimizer != TrainOptimizer::Sgd)
      corrections = adamCorrections(b, loc, beta1, beta2);
    SmallVector<Value> gradients(ret.getOperands().drop_front());
    if (clipNorm > 0.0 && !gradients.empty())
      clipByGlobalNorm(b, loc, gradients, clipNorm);
    for (auto [name, grad] :
         llvm::zip(names.getValue().drop_front(), gradients)) {
      StringAttr key = cast<StringAttr>(name);
      ParamOp param = params.lookup(key);
      Type elt = param.getType().getElementType();
      // Each update carries its parameter's location (an ONNX initializer's
      // name), so that dumps and reports can say which one it updates.
      Location at = param.getLoc();
      Value rate = castFromF32(b, at, lr, elt);
      if (optimizer != TrainOptimizer::Sgd)
        adamUpdate(b, at, param, grad, rate, corrections);
      else
        sgdUpdate(b, at, param, grad, rate);
    }
    DenseMap<StringAttr, ParamOp> stats;
    forward.walk([&](ParamOp p) { stats.try_emplace(p.getNameAttr(), p); });
    SmallVector<BatchNormTrainOp> norms;
    step.walk([&](BatchNormTrainOp bn) {
      if (bn->hasAttr(kRunningStats))
        norms.push_back(bn);
    });
    for (BatchNormTrainOp bn : norms)
      if (failed(updateRunningStats(b, bn, stats)))
        return failure();
    finishTrainStep(b, step, ret, names);
    return success();
  }

  /// running = (1 - m) * running + m * batch, for the mean and the
  /// variance (the batch's unbiased one, n / (n - 1) times the biased one
  /// the op returns, n the values per channel), m = batch-norm-momentum:
  /// PyTorch's rule. The statistics are read through clones of @forward's
  /// parameters, `stats`, by name.
  LogicalResult updateRunningStats(OpBuilder &b, BatchNormTrainOp bn,
                                   const DenseMap<StringAttr, ParamOp> &stats) {
    auto names = bn->getAttrOfType<ArrayAttr>(kRunningStats);
    bn->removeAttr(kRunningStats);
    auto type = cast<RankedTensorType>(bn.getInput().getType());
    int64_t n = type.getNumElements() / type.getDimSize(1);
    if (n < 2)
      return bn.emitError("training batch norm needs more than one value "
                          "per channel (batch x height x width), has ")
             << n;
    Location loc = bn.getLoc();
    Type elt = type.getElementType();
    auto c = [&](double v) { return scalar(b, loc, elt, v); };
    Value unbiased =
        b.create<MulOp>(loc, bn.getBatchVar(), c(double(n) / double(n - 1)));
    for (auto [name, batch] :
         llvm::zip(names.getAsRange<StringAttr>(),
                   SmallVector<Value>{bn.getBatchMean(), unbiased})) {
      Value running = b.clone(*stats.lookup(name))->getResult(0);
      Value kept = b.create<MulOp>(loc, running, c(1.0 - batchNormMomentum));
      Value taken = b.create<MulOp>(loc, batch, c(batchNormMomentum));
      b.create<AssignOp>(loc, name, b.create<AddOp>(loc, kept, taken));
    }
    return success();
  }

  /// `param` -= lr * mHat / (sqrt(vHat) + epsilon), with its moments
  /// updated; weight decay on the gradient (adam) or decoupled (adamw).
  void adamUpdate(OpBuilder &b, Location loc, ParamOp param, Value g,
                  Value rate, std::pair<Value, Value> corrections) {
    auto type = cast<RankedTensorType>(param.getType());
    Type elt = type.getElementType();
    auto c = [&](double v) { return scalar(b, loc, elt, v); };
    Value p = param;
    if (optimizer == TrainOptimizer::AdamW && weightDecay != 0.0)
      p = b.create<MulOp>(
          loc, p,
          b.create<SubOp>(loc, c(1.0),
                          b.create<MulOp>(loc, rate, c(weightDecay))));
    if (optimizer == TrainOptimizer::Adam && weightDecay != 0.0)
      g = b.create<AddOp>(loc, g, b.create<MulOp>(loc, param, c(weightDecay)));
    std::string name = param.getName().str();
    std::string mName = name + ::anvil::keys::kAdamMSuffix,
                vName = name + ::anvil::keys::kAdamVSuffix;
    Value m = b.create<AddOp>(
        loc, b.create<MulOp>(loc, zeroState(b, loc, mName, type), c(beta1)),
        b.create<MulOp>(loc, g, c(1.0 - beta1)));
    Value v = b.create<AddOp>(
        loc, b.create<MulOp>(loc, zeroState(b, loc, vName, type), c(beta2)),
        b.create<MulOp>(loc, b.create<MulOp>(loc, g, g), c(1.0 - beta2)));
    b.create<AssignOp>(loc, mName, m);
    b.create<AssignOp>(loc, vName, v);
    Value mHat =
        b.create<DivOp>(loc, m, castFromF32(b, loc, corrections.first, elt));
    Value vHat =
        b.create<DivOp>(loc, v, castFromF32(b, loc, corrections.second, elt));
    Value denominator =
        b.create<AddOp>(loc, b.create<SqrtOp>(loc, vHat), c(epsilon));
    Value update =
        b.create<MulOp>(loc, b.create<DivOp>(loc, mHat, denominator), rate);
    b.create<AssignOp>(loc, param.getName(), b.create<SubOp>(loc, p, update));
  }

  /// `param` -= lr * direction: the gradient (plus weight decay), or with
  /// momentum its velocity (Nesterov: the gradient plus momentum x velocity).
  void sgdUpdate(OpBuilder &b, Location loc, ParamOp param, Value g,
                 Value rate) {
    auto type = cast<RankedTensorType>(param.getType());
    Type elt = type.getElementType();
    if (weightDecay != 0.0)
      g = b.create<AddOp>(
          loc, g,
          b.create<MulOp>(loc, param, scalar(b, loc, elt, weightDecay)));
    Value direction = g;
    if (momentum != 0.0) {
      std::string stateName =
          param.getName().str() + ::anvil::keys::kMomentumSuffix;
      Value v = zeroState(b, loc, stateName, type);
      Value vNew = b.create<AddOp>(
          loc, b.create<MulOp>(loc, v, scalar(b, loc, elt, momentum)), g);
      b.create<AssignOp>(loc, stateName, vNew);
      direction =
          nesterov
              ? b.create<AddOp>(
                     loc, g,
                     b.create<MulOp>(loc, vNew, scalar(b, loc, elt, momentum)))
                    .getResult()
              : vNew;
    }
    Value scaled = b.create<MulOp>(loc, direction, rate);
    b.create<AssignOp>(loc, param.getName(),
                       b.create<SubOp>(loc, param, scaled));
  }
};

} // namespace
