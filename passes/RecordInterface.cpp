//===- RecordInterface.cpp - the model's interface as attributes ----------===//
//
// Records what the runtime will see of a model while its functions are
// still on tensors: every public function's signature (`anvil.signature`)
// and the parameters kept in storage (`anvil.external_params` on the
// module). Both attributes survive the rest of the pipeline, so code
// generation reads them from the final module instead of the driver
// carrying them between phases. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialects/DTypes.h"
#include "passes/Passes.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_RECORDINTERFACEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// Whether the runtime can pass a value of `type`: a static tensor of an
/// element type of the table (runtime/DType.h).
bool passable(Type type) { return specOf(type).has_value(); }

struct RecordInterfacePass
    : mlir::anvil::impl::RecordInterfacePassBase<RecordInterfacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool failed = false;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      FunctionType type = func.getFunctionType();
      for (auto [i, t] : llvm::enumerate(type.getInputs()))
        if (!passable(t)) {
          func.emitError("argument ")
              << i << " has type " << t
              << ", which a compiled entry point cannot take; use a tensor "
                 "with a static shape of f32, f64, i64, i32, i8 or i1";
          failed = true;
        }
      for (auto [i, t] : llvm::enumerate(type.getResults()))
        if (!passable(t)) {
          func.emitError("result ")
              << i << " has type " << t
              << ", which a compiled entry point cannot return";
          failed = true;
        }
      func->setAttr(kSignatureAttr, TypeAttr::get(type));
    }
    if (failed)
      return signalPassFailure();

    // anvil-materialize-params (external) tagged each parameter's storage.
    Builder b(&getContext());
    SmallVector<Attribute> params;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      auto name = global->getAttrOfType<StringAttr>("anvil.param_name");
      if (!name)
        continue;
      MemRefType type = global.getType();
      params.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", name),
           b.getNamedAttr("storage",
                          FlatSymbolRefAttr::get(global.getSymNameAttr())),
           b.getNamedAttr("type",
                          TypeAttr::get(RankedTensorType::get(
                              type.getShape(), type.getElementType())))}));
    }
    if (!params.empty())
      module->setAttr(kExternalParamsAttr, b.getArrayAttr(params));
    else
      module->removeAttr(kExternalParamsAttr);
  }
};

} // namespace
