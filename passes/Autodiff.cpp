//===- Autodiff.cpp - reverse-mode differentiation of anvil functions -----===//
//
// Clones the function, marks the float values that depend on what is being
// differentiated (trainable parameters, and float arguments with `args`),
// then walks the ops backwards from the result, asking each active op's
// GradientOpInterface for its operands' gradients and summing them where a
// value fans out. Ops nothing active flows into are never differentiated,
// which is how frozen parameters prune the backward graph. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Quantize.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Regex.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

bool isFloatTensor(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && isa<FloatType>(t.getElementType());
}

Value zerosLike(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return b.create<ConstantOp>(
      loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

struct AutodiffPass : mlir::anvil::impl::AutodiffPassBase<AutodiffPass> {
  using AutodiffPassBase::AutodiffPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto source = module.lookupSymbol<func::FuncOp>(function);
    if (!source || source.isExternal()) {
      module.emitError("anvil-autodiff: no function @") << function;
      return signalPassFailure();
    }
    if (source.getNumResults() != 1 ||
        !isFloatTensor(
            source.getBody().front().getTerminator()->getOperand(0))) {
      source.emitError("can only differentiate a function with one float "
                       "tensor result");
      return signalPassFailure();
    }
    llvm::Regex frozen(freeze);
    std::string error;
    if (!freeze.empty() && !frozen.isValid(error)) {
      source.emitError("bad --freeze regex '") << freeze << "': " << error;
      return signalPassFailure();
    }

    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointAfter(source);
    auto grad = cast<func::FuncOp>(top.clone(*source));
    grad.setName(function + "_grad");
    Block &block = grad.getBody().front();
    auto ret = cast<func::ReturnOp>(block.getTerminator());

    // Forward: what depends on something being differentiated.
    DenseSet<Value> active;
    if (args)
      for (BlockArgument arg : block.getArguments())
        if (isFloatTensor(arg))
          active.insert(arg);
    llvm::MapVector<StringRef, SmallVector<Value>> params;
    for (Operation &op : block) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        // Frozen, or fixed by its maker (a fake quantization's range).
        if ((!freeze.empty() && frozen.match(param.getName())) ||
            param->hasAttr(kFixedParamAttr))
          continue;
        active.insert(param.getResult());
        params[param.getName()].push_back(param.getResult());
        continue;
      }
      bool reached = llvm::any_of(op.getOperands(),
                                  [&](Value v) { return active.contains(v); });
      // Quantization is piecewise constant too, but a zero gradient there
      // would silently stop training; quantization-aware training reads
      // through anvil.fake_quantize instead (straight-through estimator).
      if (reached && isa<QuantizeOp>(op)) {
        op.emitError("has no gradient, and a trainable parameter flows "
                     "into it; train through anvil.fake_quantize (anvilc "
                     "train --qat) or freeze the parameters before it "
                     "(--freeze)");
        return signalPassFailure();
      }
      // Integer and boolean results (a cast to integers, a mask) are
      // piecewise constant: nothing differentiable flows through them.
      if (reached)
        for (Value r : op.getResults())
          if (isFloatTensor(r))
            active.insert(r);
    }

    // Backward, seeded with ones.
    OpBuilder b(ret);
    DenseMap<Value, Value> adjoint;
    Value loss = ret.getOperand(0);
    auto lossType = cast<RankedTensorType>(loss.getType());
    adjoint[loss] = b.create<ConstantOp>(
        ret.getLoc(),
        DenseElementsAttr::get(lossType,
                               b.getFloatAttr(lossType.getElementType(), 1.0)));
    SmallVector<Operation *> forward;
    for (Operation &op : block.without_terminator())
      forward.push_back(&op);
    for (Operation *op : llvm::reverse(forward)) {
      if (!llvm::any_of(op->getResults(),
                        [&](Value r) { return adjoint.count(r); }))
        continue;
      if (!llvm::any_of(op->getOperands(),
                        [&](Value v) { return active.contains(v); }))
        continue;
      auto differentiable = dyn_cast<GradientOpInterface>(op);
      if (!differentiable) {
        op->emitError("has no gradient yet, and a trainable parameter "
                      "flows into it; freeze the parameters before it "
                      "(--freeze)");
        return signalPassFailure();
      }
      SmallVector<Value> resultGrads;
      for (Value r : op->getResults())
        resultGrads.push_back(adjoint.lookup(r));
      SmallVector<Value> grads = differentiable.buildGradients(b, resultGrads);
      for (auto [operand, g] : llvm::zip(op->getOperands(), grads)) {
        if (!g || !active.contains(operand))
          continue;
        Value &slot = adjoint[operand];
        slot = slot ? b.create<AddOp>(op->getLoc(), slot, g).getResult() : g;
      }
    }

    // Results: the loss, argument gradients, parameter gradients.
    SmallVector<Value> results = {loss};
    SmallVector<Attribute> names = {b.getStringAttr(function)};
    auto gradientOf = [&](Value v) {
      Value g = adjoint.lookup(v);
      return g ? g : zerosLike(b, ret.getLoc(), v);
    };
    if (args)
      for (BlockArgument arg : block.getArguments())
        if (isFloatTensor(arg)) {
          results.push_back(gradientOf(arg));
          names.push_back(
              b.getStringAttr("arg" + std::to_string(arg.getArgNumber())));
        }
    for (auto &[name, uses] : params) {
      Value sum;
      for (Value use : uses) {
        Value g = gradientOf(use);
        sum = sum ? b.create<AddOp>(ret.getLoc(), sum, g).getResult() : g;
      }
      results.push_back(sum);
      names.push_back(b.getStringAttr(name));
    }
    b.create<func::ReturnOp>(ret.getLoc(), results);
    ret.erase();
    grad.setType(b.getFunctionType(grad.getArgumentTypes(),
                                   ValueRange(results).getTypes()));
    grad->setAttr("anvil.gradients", b.getArrayAttr(names));
  }
};

} // namespace
