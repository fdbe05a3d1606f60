//===- Pipelines.cpp - Anvil's named pipelines and phases -----------------===//
//
// Each build...Pipeline function lists its passes with a one-line reason.
// The order follows what MLIR 19 needs: tensors are fused before
// bufferization, buffers become loops before everything goes to LLVM.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {
const std::pair<Phase, llvm::StringLiteral> kPhases[] = {
    {Phase::Import, "import"},   {Phase::Graph, "graph"},
    {Phase::Train, "train"},     {Phase::Optimize, "optimize"},
    {Phase::Backend, "backend"}, {Phase::Bufferize, "bufferize"},
    {Phase::LLVM, "llvm"},       {Phase::Object, "object"}};
} // namespace

ArrayRef<Phase> mlir::anvil::allPhases() {
  static const Phase phases[] = {
      Phase::Import,  Phase::Graph,     Phase::Train, Phase::Optimize,
      Phase::Backend, Phase::Bufferize, Phase::LLVM,  Phase::Object};
  return phases;
}

StringRef mlir::anvil::phaseName(Phase phase) {
  for (auto [p, name] : kPhases)
    if (p == phase)
      return name;
  return "";
}

void mlir::anvil::buildGraphPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  // The batch is a compile-time choice: every shape follows it.
  if (options.batch != 0) {
    SetBatchPassOptions batch;
    batch.batch = options.batch;
    pm.addPass(createSetBatchPass(batch));
  }
  // Fold constants and drop dead or duplicate ops before anything else.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Executables may run any number of samples through a function that
  // keeps them apart, in chunks of the compiled batch.
  pm.addPass(createMarkBatchPass());
  // anvilc --batch 1,64: each such function also for the other sizes, so
  // that the runtime covers any number of samples with the cheapest mix.
  if (!options.train && !options.batchVariants.empty()) {
    BatchVariantsPassOptions variants;
    variants.batches = options.batchVariants;
    pm.addPass(createBatchVariantsPass(variants));
  }
  // Such a function runs as chunks of its batch, one per thread, the whole
  // network each: no fork and join per layer, every layer's work whole.
  // (Not a trainer: its step mixes the samples.)
  if (!options.train && options.splitBatch > 1) {
    SplitBatchPassOptions split;
    split.chunks = options.splitBatch;
    split.wholeTail = options.splitWholeTail;
    pm.addPass(createSplitBatchPass(split));
  }
}

void mlir::anvil::buildTrainPipeline(OpPassManager &pm,
                                     const PipelineOptions &options) {
  if (!options.train)
    return;
  // Quantization-aware training: the int8 layers' values, in f32.
  if (options.qat) {
    FakeQuantizePassOptions fake;
    fake.perChannel = options.qatPerChannel;
    pm.addPass(createFakeQuantizePass(fake));
  }
  // One function for a whole step: forward, loss, gradients, updates.
  BuildTrainStepPassOptions step;
  step.optimizer = options.optimizer;
  step.momentum = options.momentum;
  step.nesterov = options.nesterov;
  step.weightDecay = options.weightDecay;
  step.clipNorm = options.clipNorm;
  step.freeze = options.freeze;
  step.batchNormMomentum = options.batchNormMomentum;
  step.lossKind = options.loss;
  pm.addPass(createBuildTrainStepPass(step));
  // The backward graph is full of foldable shape ops and dead gradients.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::anvil::buildOptimizePipeline(OpPassManager &pm,
                                        const PipelineOptions &options) {
  // An inference binary carries its weights: parameters become constants
  // (or globals loaded from a weights file).
  MaterializeParamsPassOptions params;
  params.seed = options.seed;
  params.external = options.externalWeights || options.train;
  pm.addPass(createMaterializeParamsPass(params));
  // Batch norms fold into the convolution before them: one pass over the
  // output less (their parameters are constants only from here on).
  if (options.foldBatchNorm)
    pm.addPass(createFoldBatchNormPass());
  // A concat's elementwise user (DenseNet's batch_norm -> relu) runs on each
  // input instead, so that the concat joins fresh results, which the
  // backend computes in place (anvil-write-concat-in-place): no copies.
  if (options.fuseElementwise)
    pm.addPass(createSinkConcatPass());
  // Subgraphs of constants now fold away.
  pm.addPass(createCanonicalizerPass());
  // Quantizes move before the max pools (and reshapes) they read, to the end
  // of a quantized convolution's chain, which its tiles then quantize (its
  // scales are constants by now).
  if (options.hoistQuantize)
    pm.addPass(createHoistQuantizePass());
  // bf16 mixed precision: last, so that @train_step's gradient products are
  // marked too and no rewrite after it drops the mark.
  if (options.bf16)
    pm.addPass(createBf16Pass());
}

void mlir::anvil::buildBackendPipeline(OpPassManager &pm,
                                       const PipelineOptions &options) {
  // Indices from the caller are checked before anything reads by them.
  pm.addPass(createCheckIndicesPass());
  // int8 matmuls by constant weights become VNNI or AVX2 register tiles on
  // weights packed now (the others: the portable generic below).
  if (options.int8Matmul) {
    Int8MatmulPassOptions int8;
    int8.vnni = options.vnni;
    int8.smallWeights = options.int8SmallWeights;
    int8.conv = options.int8Conv;
    int8.directConv = options.int8DirectConv;
    int8.narrow = options.int8Narrow;
    int8.vectorRows = options.int8VectorRows;
    int8.rowAligned = options.int8RowTiles;
    int8.pairs = options.int8Pairs;
    int8.lanes = options.int8Lanes;
    int8.directRuns = options.int8DirectRuns;
    int8.epilogue = options.fuseElementwise;
    pm.addPass(createInt8MatmulPass(int8));
  }
  // f32 convolutions with constant filters become direct register tiles
  // (their add and relu in the tiles' stores), before anything makes them
  // im2col products.
  if (int64_t lanes = directConvLanes(options)) {
    DirectConvPassOptions direct;
    direct.epilogue = options.fuseElementwise;
    direct.lanes = lanes;
    direct.periods = options.directConvPeriods;
    direct.blocksOuter = options.directConvBlocksOuter;
    direct.splitTailStores = options.splitTailStores;
    pm.addPass(createDirectConvPass(direct));
  }
  // bf16 matmuls (anvil-bf16's, or marked in the model) become vdpbf16ps
  // register tiles (the others, batched: anvil-convert-to-linalg rounds
  // their operands).
  if (options.bf16Matmul)
    pm.addPass(createBf16MatmulPass());
  // Every anvil op becomes linalg/tensor/arith/math (short softmax rows:
  // one vector loop).
  ConvertAnvilToLinalgPassOptions toLinalg;
  toLinalg.rowSoftmax = options.rowSoftmax;
  toLinalg.depthwiseStride1Nchw = options.depthwiseStride1Nchw;
  toLinalg.depthwiseStridedNchw = options.depthwiseStridedNchw;
  toLinalg.vectorMaxPoolGrad = options.vectorMaxPoolGrad;
  toLinalg.vectorCol2im = options.vectorCol2im;
  // One-group convolutions marked bf16: their im2col products on the same
  // vdpbf16ps tiles.
  toLinalg.bf16Tiles = options.bf16Matmul;
  pm.addPass(createConvertAnvilToLinalgPass(toLinalg));
  pm.addPass(createCanonicalizerPass());
  // Elementwise ops after a matmul become its epilogue, run on each of its
  // cache blocks while the block is hot (not one more pass over memory).
  if (options.fuseElementwise) {
    FuseMatmulEpiloguePassOptions epilogue;
    epilogue.joinUsers = options.joinEpilogueUsers;
    pm.addPass(createFuseMatmulEpiloguePass(epilogue));
  }
  // A batch's convolutions too small to split each image's matmul run one
  // image per thread (before tiling: their matmuls then stay one block).
  if (options.parallelImages)
    pm.addPass(createParallelizeImagesPass());
  // Matmuls get cache and register tiles and become vector FMAs (before
  // fusion, which would fold reshapes into them and hide them as generics).
  TileAndVectorizePassOptions tiling;
  tiling.pack = options.packMatmul;
  tiling.epilogueInPlace = options.epilogueInPlace;
  tiling.peelFirstKBlock = options.peelFirstKBlock;
  tiling.packConstantA = options.packConstantA;
  tiling.packConstantB = options.packConstantB;
  tiling.im2colBlend = options.im2colBlend;
  tiling.windowKBlocks = options.windowKBlocks;
  tiling.epilogueInTiles = options.epilogueInTiles;
  tiling.fullHeightTiles = options.fullHeightTiles;
  tiling.vectorBits = options.matmulVectorBits;
  pm.addPass(createTileAndVectorizePass(tiling));
  pm.addPass(createCSEPass());
  // Chains of elementwise generics become one loop nest each.
  if (options.fuseElementwise) {
    FuseElementwisePassOptions fuse;
    fuse.hoistAboveTransposes = options.hoistAboveTransposes;
    fuse.mathOutOfWindows = options.mathOutOfWindows;
    fuse.windowsReadInOrder = options.windowsReadInOrder;
    pm.addPass(createFuseElementwisePass(fuse));
  }
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Fused activations write straight into the padded buffers the
  // depthwise convolutions and pools after them read: no pad copies (the
  // other pads' copies become ops the next pass splits for threads).
  // A concat's pieces are computed straight into its buffer, or copied
  // there by ops the next pass splits for threads.
  if (options.fuseElementwise)
    pm.addPass(createWriteConcatInPlacePass());
  if (options.fuseElementwise) {
    FoldPadIntoProducerPassOptions pads;
    pads.copyOthers = options.parallelPads;
    pads.splitWindows = options.splitWindows;
    if (!options.wideWindowBands)
      pads.bandColumns = 1;
    // Padded rows written in one pass, a vector register at a time.
    pads.padRowsLanes = options.padRows ? f32Lanes(options) : 0;
    pads.splitTailStores = options.splitTailStores;
    pm.addPass(createFoldPadIntoProducerPass(pads));
  }
  // Every other large op (after fusion: one parallel loop per fused chain)
  // is split into tiles for the threads, like the matmuls' blocks.
  pm.addPass(createParallelizeLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // Windows read with a stride along the row (stride-2 pooling, depthwise
  // convolutions), which LLVM leaves scalar, become vectors (in the tiles).
  if (options.vectorizeWindows) {
    VectorizeWindowsPassOptions windows;
    windows.maskedTails = options.maskedTails;
    windows.rowBlocks = options.windowRowBlocks;
    windows.splitTailStores = options.splitTailStores;
    pm.addPass(createVectorizeWindowsPass(windows));
    pm.addPass(createCanonicalizerPass());
  }
}

void mlir::anvil::buildBufferizePipeline(OpPassManager &pm) {
  // The signatures the runtime sees, and the parameters it fills, recorded
  // while still on tensors: code generation reads them at the end.
  pm.addPass(createRecordInterfacePass());
  // Empty entry-point tensors become tensor<0xT>, which the bare-pointer
  // convention takes like any other.
  pm.addPass(createEraseEmptyIOPass());
  // Callers keep their inputs: bufferization must not write into them.
  pm.addPass(createProtectInputsPass());
  // One empty tensor per use: CSE merged them, which makes the analysis
  // below quadratic in the op count.
  pm.addPass(createUntieEmptyTensorsPass());
  // (No empty-tensor elimination: it would compute a parameter's update
  // straight into the parameter's storage, while the old value is still
  // being read; the update is copied in at the end instead.)
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  // Copies are linalg.copy, which become loops like everything else (a
  // memref.copy of a strided view would call a runtime library).
  options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
    b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  pm.addPass(bufferization::createOneShotBufferizePass(options));
  // Entry points take their results as out-parameters: the caller owns
  // every input and output buffer. (Results equal to an argument are copied,
  // not dropped: the signature is the runtime's contract.)
  pm.addPass(bufferization::createBufferResultsToOutParamsPass());
  pm.addPass(createCanonicalizerPass());
  // Temporaries a plan cannot place are freed as soon as they die...
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createCanonicalizerPass());
  // ...the others live at fixed offsets of one static arena: no malloc.
  pm.addPass(createPlanMemoryPass());
}

void mlir::anvil::buildLLVMPipeline(OpPassManager &pm,
                                    const PipelineOptions &options) {
  // Each loop nest in a function of its own: LLVM's optimizations are
  // superlinear in a function's size, and codegen splits by function.
  if (options.outlineKernels)
    pm.addPass(createOutlineKernelsPass());
  // Small copies (packed slivers, slices bufferization could not write in
  // place) as vector moves: as loops, LLVM copies them a float at a time.
  if (options.vectorizeCopies)
    pm.addPass(createVectorizeCopiesPass());
  // Structured ops become plain loops.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // Multi-dimensional vector transfers unroll into 1-D ones LLVM can load.
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll();
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(createCanonicalizerPass());
  // Parallel tiles (scf.forall) run on OpenMP threads.
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // (Inlines the alloca scopes it wraps loop bodies in: nothing allocates.)
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  // exp, tanh and erf become arithmetic LLVM vectorizes, not libm calls
  // (this late, so that the passes before need not walk their expansions).
  if (options.approximateMath) {
    ApproximateMathPassOptions approximate;
    approximate.sigmoidReciprocal = options.sigmoidReciprocal;
    pm.addPass(createApproximateMathPass(approximate));
  }
  // Math ops become LLVM intrinsics (floor and fma: instructions); those
  // LLVM has no intrinsic for (f64 erf and tanh) then call libm.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  // Static shapes let entry points take bare pointers: a plain C ABI.
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  // After the functions: this pass would also convert their signatures,
  // without the bare-pointer convention.
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::anvil::buildPhasePipeline(OpPassManager &pm, Phase phase,
                                     const PipelineOptions &options) {
  switch (phase) {
  case Phase::Import:
  case Phase::Object:
    return;
  case Phase::Graph:
    return buildGraphPipeline(pm, options);
  case Phase::Train:
    return buildTrainPipeline(pm, options);
  case Phase::Optimize:
    return buildOptimizePipeline(pm, options);
  case Phase::Backend:
    return buildBackendPipeline(pm, options);
  case Phase::Bufferize:
    return buildBufferizePipeline(pm);
  case Phase::LLVM:
    return buildLLVMPipeline(pm, options);
  }
}

void mlir::anvil::registerPipelines() {
  PassPipelineRegistration<>(
      "anvil-inference-pipeline",
      "The whole inference pipeline, from the graph phase to the LLVM dialect",
      [](OpPassManager &pm) {
        for (Phase phase : allPhases())
          buildPhasePipeline(pm, phase, PipelineOptions());
      });
}
