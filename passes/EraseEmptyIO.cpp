//===- EraseEmptyIO.cpp - entry-point tensors without elements ------------===//
//
// Gives every empty argument and result of a public function the type
// tensor<0xT>, so that the bare-pointer convention takes it as one pointer
// (see Passes.td). Expects tensors (before bufferization); the signature
// the runtime sees was recorded before, with the original shapes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_ERASEEMPTYIOPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

/// tensor<0xT> for an empty static tensor type other than it, else null.
RankedTensorType flatEmpty(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || tensor.getNumElements() != 0 ||
      tensor.getRank() == 1)
    return {};
  return RankedTensorType::get({0}, tensor.getElementType());
}

struct EraseEmptyIOPass
    : mlir::anvil::impl::EraseEmptyIOPassBase<EraseEmptyIOPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      Block &entry = func.getBody().front();
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      for (BlockArgument arg : entry.getArguments()) {
        RankedTensorType flat = flatEmpty(arg.getType());
        if (!flat)
          continue;
        // An empty tensor has no values: any tensor of its type will do.
        auto type = cast<RankedTensorType>(arg.getType());
        Value stand = b.create<tensor::EmptyOp>(func.getLoc(), type.getShape(),
                                                type.getElementType());
        arg.replaceAllUsesWith(stand);
        arg.setType(flat);
      }
      func.walk([&](func::ReturnOp ret) {
        OpBuilder rb(ret);
        for (OpOperand &result : ret->getOpOperands())
          if (RankedTensorType flat = flatEmpty(result.get().getType()))
            result.set(rb.create<tensor::EmptyOp>(ret.getLoc(), flat.getShape(),
                                                  flat.getElementType()));
      });
      SmallVector<Type> results;
      for (Type t : func.getResultTypes())
        results.push_back(flatEmpty(t) ? Type(flatEmpty(t)) : t);
      func.setType(
          FunctionType::get(&getContext(), entry.getArgumentTypes(), results));
    }
  }
};

} // namespace
