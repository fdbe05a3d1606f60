//===- BuildTrainStep.cpp - one function for a whole SGD step -------------===//
//
// Composes @forward and @loss into @__objective (by cloning their bodies),
// differentiates it with the autodiff pass, then turns @__objective_grad
// into @train_step by appending the optimizer update of each parameter.
// The helper functions are erased. See Passes.td.
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

    // @__objective(x, target) = loss(forward(x), target).
    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointToEnd(module.getBody());
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
    for (auto [name, grad] : llvm::zip(names.getValue().drop_front(),
                                       ret.getOperands().drop_front())) {
      StringAttr key = cast<StringAttr>(name);
      ParamOp param = params.lookup(key);
      auto type = cast<RankedTensorType>(param.getType());
      Type elt = type.getElementType();
      Value g = grad;
      if (weightDecay != 0.0)
        g = b.create<AddOp>(
            loc, g, b.create<MulOp>(loc, param, scalar(elt, weightDecay)));
      Value direction = g;
      if (momentum != 0.0) {
        std::string stateName = key.str() + ".momentum";
        Value v =
            b.create<ParamOp>(loc, type, stateName, "zeros", nullptr, nullptr,
                              nullptr, nullptr, nullptr, nullptr);
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
      Value scaled = b.create<MulOp>(
          loc, direction,
          elt.isF32() ? lr : b.create<CastOp>(loc, lr, elt).getResult());
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
