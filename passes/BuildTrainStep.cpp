//===- BuildTrainStep.cpp - one function for a whole SGD step -------------===//
//
// Composes @forward and @loss into @__objective (by cloning their bodies),
// differentiates it with the autodiff pass, then turns @__objective_grad
// into @train_step by appending the optimizer update of each parameter (SGD
// or Adam/AdamW, whose state is more anvil.params starting at zero).
// The helper functions are erased. Beside it, @eval_step composes the same
// two without gradients or updates and adds the predicted classes, for
// evaluating on a test set. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

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

RankedTensorType f32Scalar(OpBuilder &b) {
  return RankedTensorType::get({}, b.getF32Type());
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

struct BuildTrainStepPass
    : mlir::anvil::impl::BuildTrainStepPassBase<BuildTrainStepPass> {
  using BuildTrainStepPassBase::BuildTrainStepPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto loss = module.lookupSymbol<func::FuncOp>("loss");
    if (!forward || !loss || forward.isExternal() || loss.isExternal()) {
      module.emitError("training needs a @forward and a @loss function");
      return signalPassFailure();
    }
    if (forward.getNumResults() != 1 || loss.getNumArguments() != 2 ||
        loss.getArgumentTypes()[0] != forward.getResultTypes()[0]) {
      loss.emitError("@loss must take @forward's result and a target");
      return signalPassFailure();
    }

    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointToEnd(module.getBody());
    buildEvalStep(top, forward, loss);

    // @__objective(x, target) = loss(forward(x), target).
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

    OpPassManager pm("builtin.module");
    AutodiffPassOptions autodiff;
    autodiff.function = "__objective";
    autodiff.freeze = freeze;
    pm.addPass(createAutodiffPass(autodiff));
    if (failed(runPipeline(pm, module)))
      return signalPassFailure();
    objective.erase();

    // @train_step: the gradient function plus `lr` and the updates.
    auto step = module.lookupSymbol<func::FuncOp>("__objective_grad");
    step.setName("train_step");
    Block &block = step.getBody().front();
    auto f32 = RankedTensorType::get({}, top.getF32Type());
    Value lr = block.addArgument(f32, step.getLoc());
    auto ret = cast<func::ReturnOp>(block.getTerminator());
    auto names = step->getAttrOfType<ArrayAttr>("anvil.gradients");
    DenseMap<StringAttr, ParamOp> params;
    step.walk([&](ParamOp p) { params.try_emplace(p.getNameAttr(), p); });
    b.setInsertionPoint(ret);
    Location loc = step.getLoc();
    auto scalar = [&](Type elt, double v) {
      return b.create<ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({}, elt),
                                      b.getFloatAttr(elt, v)));
    };
    if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw") {
      module.emitError("unknown optimizer '")
          << optimizer << "'; expected sgd, adam or adamw";
      return signalPassFailure();
    }
    auto state = [&](StringRef name, RankedTensorType type) -> Value {
      return b.create<ParamOp>(loc, type, name, "zeros", nullptr, nullptr,
                               nullptr, nullptr, nullptr, nullptr);
    };
    // Adam's bias corrections 1 - b^t, from the step count t (shared).
    Value correction1, correction2;
    if (optimizer != "sgd") {
      Type f32 = b.getF32Type();
      Value t = b.create<AddOp>(loc, state("__adam_step", f32Scalar(b)),
                                scalar(f32, 1.0));
      b.create<AssignOp>(loc, "__adam_step", t);
      correction1 = b.create<SubOp>(
          loc, scalar(f32, 1.0), b.create<PowOp>(loc, scalar(f32, beta1), t));
      correction2 = b.create<SubOp>(
          loc, scalar(f32, 1.0), b.create<PowOp>(loc, scalar(f32, beta2), t));
    }
    // Gradient clipping by global norm: one factor for all gradients.
    SmallVector<Value> gradients(ret.getOperands().drop_front());
    if (clipNorm > 0.0 && !gradients.empty()) {
      Type f32 = b.getF32Type();
      Value total = scalar(f32, 0.0);
      for (Value g : gradients) {
        auto t = cast<RankedTensorType>(g.getType());
        SmallVector<int64_t> all;
        for (int64_t d = 0; d < t.getRank(); ++d)
          all.push_back(d);
        Value squares = b.create<MulOp>(loc, g, g);
        Value sum = all.empty()
                        ? squares
                        : b.create<ReduceSumOp>(loc, squares,
                                                b.getDenseI64ArrayAttr(all),
                                                /*keepdims=*/false)
                              .getResult();
        if (!t.getElementType().isF32())
          sum = b.create<CastOp>(loc, sum, f32);
        total = b.create<AddOp>(loc, total, sum);
      }
      Value norm =
          b.create<AddOp>(loc, b.create<SqrtOp>(loc, total), scalar(f32, 1e-6));
      Value factor =
          b.create<MinOp>(loc, scalar(f32, 1.0),
                          b.create<DivOp>(loc, scalar(f32, clipNorm), norm));
      for (Value &g : gradients) {
        Type elt = cast<RankedTensorType>(g.getType()).getElementType();
        g = b.create<MulOp>(
            loc, g,
            elt.isF32() ? factor
                        : b.create<CastOp>(loc, factor, elt).getResult());
      }
    }
    for (auto [name, grad] :
         llvm::zip(names.getValue().drop_front(), gradients)) {
      StringAttr key = cast<StringAttr>(name);
      ParamOp param = params.lookup(key);
      auto type = cast<RankedTensorType>(param.getType());
      Type elt = type.getElementType();
      Value rate =
          elt.isF32() ? lr : b.create<CastOp>(loc, lr, elt).getResult();
      Value g = grad;
      if (optimizer != "sgd") {
        auto cast = [&](Value v) -> Value {
          return elt.isF32() ? v : b.create<CastOp>(loc, v, elt).getResult();
        };
        Value p = param;
        if (optimizer == "adamw" && weightDecay != 0.0)
          p = b.create<MulOp>(
              loc, p,
              b.create<SubOp>(
                  loc, scalar(elt, 1.0),
                  b.create<MulOp>(loc, rate, scalar(elt, weightDecay))));
        if (optimizer == "adam" && weightDecay != 0.0)
          g = b.create<AddOp>(
              loc, g, b.create<MulOp>(loc, param, scalar(elt, weightDecay)));
        std::string mName = key.str() + ".adam_m",
                    vName = key.str() + ".adam_v";
        Value m = b.create<AddOp>(
            loc, b.create<MulOp>(loc, state(mName, type), scalar(elt, beta1)),
            b.create<MulOp>(loc, g, scalar(elt, 1.0 - beta1)));
        Value v = b.create<AddOp>(
            loc, b.create<MulOp>(loc, state(vName, type), scalar(elt, beta2)),
            b.create<MulOp>(loc, b.create<MulOp>(loc, g, g),
                            scalar(elt, 1.0 - beta2)));
        b.create<AssignOp>(loc, mName, m);
        b.create<AssignOp>(loc, vName, v);
        Value mHat = b.create<DivOp>(loc, m, cast(correction1));
        Value vHat = b.create<DivOp>(loc, v, cast(correction2));
        Value denominator = b.create<AddOp>(loc, b.create<SqrtOp>(loc, vHat),
                                            scalar(elt, epsilon));
        Value update =
            b.create<MulOp>(loc, b.create<DivOp>(loc, mHat, denominator), rate);
        b.create<AssignOp>(loc, key, b.create<SubOp>(loc, p, update));
        continue;
      }
      if (weightDecay != 0.0)
        g = b.create<AddOp>(
            loc, g, b.create<MulOp>(loc, param, scalar(elt, weightDecay)));
      Value direction = g;
      if (momentum != 0.0) {
        std::string stateName = key.str() + ".momentum";
        Value v = state(stateName, type);
        Value vNew = b.create<AddOp>(
            loc, b.create<MulOp>(loc, v, scalar(elt, momentum)), g);
        b.create<AssignOp>(loc, stateName, vNew);
        direction =
            nesterov ? b.create<AddOp>(
                            loc, g,
                            b.create<MulOp>(loc, vNew, scalar(elt, momentum)))
                           .getResult()
                     : vNew;
      }
      Value scaled = b.create<MulOp>(loc, direction, rate);
      b.create<AssignOp>(loc, key, b.create<SubOp>(loc, param, scaled));
    }
    Value lossValue = ret.getOperand(0);
    b.create<func::ReturnOp>(loc, lossValue);
    ret.erase();
    step.setType(
        b.getFunctionType(block.getArgumentTypes(), lossValue.getType()));
    step->setAttr("anvil.trained",
                  b.getArrayAttr(names.getValue().drop_front()));
    step->removeAttr("anvil.gradients");
  }
};

} // namespace
