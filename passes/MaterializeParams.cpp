//===- MaterializeParams.cpp - params become constants --------------------===//
//
// Replaces every anvil.param by an anvil.constant holding its initial values
// (dialects/ParamInit.h, which the reference interpreter uses too), so
// compiled code and the reference start from the same weights; or, with
// `external`, by a read of a mutable global that the runtime fills from a
// weights file. Params of the same name share one global.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/ParamInit.h"

#include "llvm/ADT/StringMap.h"

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
    if (external)
      return externalize();
    WalkResult assigned = getOperation().walk([&](AssignOp assign) {
      assign.emitError("assigns a parameter, which needs parameters kept in "
                       "storage (the `external` option)");
      return WalkResult::interrupt();
    });
    if (assigned.wasInterrupted())
      return signalPassFailure();
    getOperation().walk([&](ParamOp param) {
      DenseElementsAttr attr = initialValueAttr(param, seed);
      OpBuilder builder(param);
      param.replaceAllUsesWith(
          builder.create<ConstantOp>(param.getLoc(), attr).getResult());
      param.erase();
    });
  }

  void externalize() {
    ModuleOp module = getOperation();
    llvm::StringMap<memref::GlobalOp> globals;
    OpBuilder top(module.getBodyRegion());
    top.setInsertionPointToStart(module.getBody());
    module.walk([&](ParamOp param) {
      auto type = cast<RankedTensorType>(param.getType());
      auto memType = MemRefType::get(type.getShape(), type.getElementType());
      memref::GlobalOp &global = globals[param.getName()];
      if (!global) {
        global = top.create<memref::GlobalOp>(
            param.getLoc(),
            "__anvil_param_" + std::to_string(globals.size() - 1),
            top.getStringAttr("private"), memType, Attribute(),
            /*constant=*/false, top.getI64IntegerAttr(64));
        global->setAttr("anvil.param_name", param.getNameAttr());
      }
      OpBuilder builder(param);
      Value buffer = builder.create<memref::GetGlobalOp>(
          param.getLoc(), memType, global.getSymName());
      auto tensor = builder.create<bufferization::ToTensorOp>(
          param.getLoc(), type, buffer, /*restrict=*/true, /*writable=*/false);
      param.replaceAllUsesWith(tensor.getResult());
      param.erase();
    });
    // Assignments write the same globals (declared by a read, which every
    // train step has for what it assigns).
    module.walk([&](AssignOp assign) {
      memref::GlobalOp global = globals.lookup(assign.getName());
      if (!global) {
        assign.emitError("assigns parameter '")
            << assign.getName() << "', which nothing reads";
        return signalPassFailure();
      }
      OpBuilder builder(assign);
      Value buffer = builder.create<memref::GetGlobalOp>(
          assign.getLoc(), global.getType(), global.getSymName());
      auto write = builder.create<bufferization::MaterializeInDestinationOp>(
          assign.getLoc(), assign.getValue(), buffer);
      write.setRestrict(true);
      write.setWritable(true);
      assign.erase();
    });
  }
};

} // namespace
