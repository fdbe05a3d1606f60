//===- ApproximateMath.cpp - polynomial exp, tanh and erf -----------------===//
//
// Rewrites the f32 math ops the `ops` option names (all three by default)
// into upstream MLIR's polynomial approximations, on tensors (inside
// linalg bodies) or on loops alike; see Passes.td. Other math ops and f64
// ones are left alone. With `sigmoid-reciprocal` (off by default), the
// sigmoid's division 1 / (1 + exp(y)) (Elementwise.cpp's lowering, also
// inside SiLU and squeeze-excite kernels) may become a reciprocal estimate
// and one Newton step: its denominator is clamped to 2^126 (finite, so the
// estimate never meets an infinity) and the division marked `arcp ninf`,
// which LLVM's x86 backend compiles, on vectors, to vrcp14ps and a
// refinement (about 1 ulp) instead of vdivps.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

/// Whether `div` is an f32 sigmoid's 1 / (1 + exp(y)), scalar or vector.
bool isSigmoidDivision(arith::DivFOp div) {
  if (!getElementTypeOrSelf(div.getType()).isF32() ||
      !matchPattern(div.getLhs(), m_OneFloat()))
    return false;
  auto add = div.getRhs().getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  auto isExp = [](Value v) {
    return v.getDefiningOp<math::ExpOp>() != nullptr;
  };
  return (matchPattern(add.getLhs(), m_OneFloat()) && isExp(add.getRhs())) ||
         (matchPattern(add.getRhs(), m_OneFloat()) && isExp(add.getLhs()));
}

/// 1 / min(d, 2^126) with `arcp ninf`: LLVM may then use a reciprocal
/// estimate and a Newton step. The denominator is at least 1, so the clamp
/// changes only results below 2^-126 (FLT_MIN), which it rounds up to
/// FLT_MIN where the exact division gives a subnormal or 0; a NaN stays NaN
/// (arith.minimumf propagates it).
void useReciprocal(arith::DivFOp div) {
  OpBuilder b(div);
  Type type = div.getType();
  TypedAttr limit = b.getF32FloatAttr(0x1p126f);
  if (auto vector = dyn_cast<VectorType>(type))
    limit = DenseElementsAttr::get(vector, ArrayRef<Attribute>{limit});
  Value clamped = b.create<arith::MinimumFOp>(
      div.getLoc(), div.getRhs(),
      b.create<arith::ConstantOp>(div.getLoc(), type, limit));
  div.getRhsMutable().assign(clamped);
  div.setFastmathAttr(arith::FastMathFlagsAttr::get(
      div.getContext(), div.getFastmath() | arith::FastMathFlags::arcp |
                            arith::FastMathFlags::ninf));
}

struct ApproximateMathPass
    : mlir::anvil::impl::ApproximateMathPassBase<ApproximateMathPass> {
  using ApproximateMathPassBase::ApproximateMathPassBase;

  void runOnOperation() override {
    llvm::StringSet<> chosen;
    for (const std::string &name : ops)
      chosen.insert(name);
    if (ops.empty())
      chosen = {"exp", "tanh", "erf"};
    for (const auto &name : chosen.keys())
      if (name != "exp" && name != "tanh" && name != "erf") {
        getOperation().emitError("anvil-approximate-math: unknown op '")
            << name << "'; the ops are exp, tanh and erf";
        return signalPassFailure();
      }
    // (Before the exps it recognizes them by are expanded.)
    if (sigmoidReciprocal)
      getOperation().walk([](arith::DivFOp div) {
        if (isSigmoidDivision(div))
          useReciprocal(div);
      });
    // The chosen ops on f32 (scalars or vectors of f32).
    SmallVector<Operation *> targets;
    getOperation().walk([&](Operation *op) {
      if (!isa<math::ExpOp, math::TanhOp, math::ErfOp>(op) ||
          !getElementTypeOrSelf(op->getResult(0).getType()).isF32())
        return;
      if (chosen.contains(op->getName().stripDialect()))
        targets.push_back(op);
    });
    if (targets.empty())
      return;
    // Upstream's set approximates more ops (log, sin, ...); rewriting only
    // the chosen ones leaves the rest, and what the expansions create, be.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingOps;
    (void)applyOpPatternsAndFold(targets, std::move(patterns), config);
  }
};

} // namespace
