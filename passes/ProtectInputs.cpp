//===- ProtectInputs.cpp - entry-point arguments are read-only ------------===//
//
// Sets `bufferization.writable = false` on every argument of every public
// function; see Passes.td.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_PROTECTINPUTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

struct ProtectInputsPass
    : mlir::anvil::impl::ProtectInputsPassBase<ProtectInputsPass> {
  void runOnOperation() override {
    auto readOnly = BoolAttr::get(&getContext(), false);
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        for (unsigned i = 0; i < func.getNumArguments(); ++i)
          func.setArgAttr(
              i, bufferization::BufferizationDialect::kWritableAttrName,
              readOnly);
  }
};

} // namespace
