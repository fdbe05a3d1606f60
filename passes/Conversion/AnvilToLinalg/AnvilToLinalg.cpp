//===- AnvilToLinalg.cpp - the anvil -> linalg conversion pass ------------===//
//
// Sets legality (no anvil op may remain) and runs the patterns of every op
// family. A leftover op (a param that was not materialized, say) fails the
// conversion with a diagnostic on that op.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_CONVERTANVILTOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

struct ConvertAnvilToLinalgPass
    : mlir::anvil::impl::ConvertAnvilToLinalgPassBase<
          ConvertAnvilToLinalgPass> {
  using ConvertAnvilToLinalgPassBase::ConvertAnvilToLinalgPassBase;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addIllegalDialect<AnvilDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect, vector::VectorDialect,
                           func::FuncDialect>();
    // The quantization lowering reads ui8 bits as i8 (Quant.cpp).
    target.addLegalOp<UnrealizedConversionCastOp>();
    // The bf16 tiles' vdpbf16ps steps (DotTiles.h).
    target.addLegalOp<LLVM::InlineAsmOp>();
    RewritePatternSet patterns(context);
    populateElementwiseToLinalgPatterns(patterns);
    populateMatMulToLinalgPatterns(patterns);
    populateConvToLinalgPatterns(patterns, vectorCol2im, bf16Tiles);
    populateDepthwiseConvToLinalgPatterns(patterns, depthwiseStride1Nchw,
                                          depthwiseStridedNchw);
    populatePoolingToLinalgPatterns(patterns, vectorMaxPoolGrad);
    populateReductionToLinalgPatterns(patterns, rowSoftmax);
    populateNormalizationToLinalgPatterns(patterns);
    populateShapeToLinalgPatterns(patterns);
    populateLossToLinalgPatterns(patterns);
    populateQuantToLinalgPatterns(patterns);
    populateFakeQuantToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
