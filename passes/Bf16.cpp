//===- Bf16.cpp - bf16 mixed precision: mark the matmuls -----------------===//
//
// Sets `bf16` on every f32 anvil.matmul of the module (see Passes.td): the
// product is then computed on bf16-rounded operands with f32 accumulation,
// by anvil-bf16-matmul's vdpbf16ps tiles or, where those do not apply, by
// anvil-convert-to-linalg on rounded operands. Everything else stays f32.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AnvilOps.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_BF16PASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct Bf16Pass : mlir::anvil::impl::Bf16PassBase<Bf16Pass> {
  using Bf16PassBase::Bf16PassBase;
  void runOnOperation() override {
    getOperation().walk([](MatmulOp op) {
      auto isF32 = [](Value v) {
        return cast<ShapedType>(v.getType()).getElementType().isF32();
      };
      if (isF32(op.getLhs()) && isF32(op.getRhs()))
        op.setBf16(true);
    });
  }
};

} // namespace
