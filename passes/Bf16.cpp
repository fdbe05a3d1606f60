//===- Bf16.cpp - bf16 mixed precision: mark the matmuls -----------------===//
//
// Sets `bf16` on every f32 anvil.matmul and one-group convolution (forward
// and both gradients) of the module (see Passes.td): their products are
// then computed on bf16-rounded operands with f32 accumulation, on the
// vdpbf16ps tiles (anvil-bf16-matmul's, and anvil-convert-to-linalg's for
// the convolutions' im2col products) or, where those do not apply, by the
// f32 kernels on rounded operands. Everything else stays f32.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/AnvilOps.h"

#include "llvm/ADT/TypeSwitch.h"

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
    auto isF32 = [](Value v) {
      return cast<ShapedType>(v.getType()).getElementType().isF32();
    };
    getOperation().walk([&](Operation *op) {
      llvm::TypeSwitch<Operation *>(op)
          .Case([&](MatmulOp m) {
            if (isF32(m.getLhs()) && isF32(m.getRhs()))
              m.setBf16(true);
          })
          // (A convolution's operands are f32 together.)
          .Case<Conv2DOp, Conv2DGradInputOp, Conv2DGradFilterOp>([&](auto c) {
            if (c.getGroups() == 1 && isF32(c->getOperand(0)))
              c.setBf16(true);
          });
    });
  }
};

} // namespace
