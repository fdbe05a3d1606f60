//===- MaterializeParams.cpp - params become constants --------------------===//
//
// Replaces every anvil.param by an anvil.constant holding the values the
// reference interpreter would give it (ref::initialValue), so compiled code
// and the reference start from the same weights.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "compiler/Reference/Interpreter.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_MATERIALIZEPARAMSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct MaterializeParamsPass
    : mlir::anvil::impl::MaterializeParamsPassBase<MaterializeParamsPass> {
  using MaterializeParamsPassBase::MaterializeParamsPassBase;

  void runOnOperation() override {
    getOperation().walk([&](ParamOp param) {
      auto type = cast<RankedTensorType>(param.getType());
      ::anvil::ref::Tensor value = ::anvil::ref::initialValue(param, seed);
      DenseElementsAttr attr;
      if (type.getElementType().isF32()) {
        std::vector<float> data(value.data.begin(), value.data.end());
        attr = DenseElementsAttr::get(type, ArrayRef<float>(data));
      } else {
        attr = DenseElementsAttr::get(type, ArrayRef<double>(value.data));
      }
      OpBuilder builder(param);
      param.replaceAllUsesWith(
          builder.create<ConstantOp>(param.getLoc(), attr).getResult());
      param.erase();
    });
  }
};

} // namespace
