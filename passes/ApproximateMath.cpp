//===- ApproximateMath.cpp - polynomial exp, tanh and erf -----------------===//
//
// Rewrites the f32 math ops the `ops` option names (all three by default)
// into upstream MLIR's polynomial approximations, on tensors (inside
// linalg bodies) or on loops alike; see Passes.td. Other math ops and f64
// ones are left alone.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;

namespace {

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
