//===- Pipelines.h - Anvil's named pipelines and phases ---------*- C++ -*-===//
//
// The compilation phases, in order, and one function per phase that adds its
// passes. anvilc runs them one by one (so that it can stop after any of them
// or dump each), anvil-opt exposes the chain as `anvil-inference-pipeline`.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_PIPELINES_H
#define ANVIL_COMPILER_PIPELINES_H

#include "passes/TrainOptions.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <vector>

namespace mlir::anvil {

/// The phases of compilation; `anvilc --compile-to=<name>` stops after one.
/// Their names are a stable contract (README.md lists them).
enum class Phase {
  Import,
  Graph,
  Train,
  Optimize,
  Backend,
  Bufferize,
  LLVM,
  Object
};

/// All phases in order, and their names (anvilc's --compile-to values).
llvm::ArrayRef<Phase> allPhases();
llvm::StringRef phaseName(Phase phase);

struct PipelineOptions {
  /// Seed for parameters that have no `seed` attribute.
  uint64_t seed = 0;
  /// Re-batch the model to this batch size first (0: keep its own).
  int64_t batch = 0;
  /// Also compile each entry point for these batch sizes, as variants the
  /// runtime picks among per call (anvil-batch-variants; inference only).
  std::vector<int64_t> batchVariants;
  /// Keep parameter values out of the code (they load from a weights file).
  bool externalWeights = false;
  /// Build @train_step (the train phase) with these optimizer settings.
  bool train = false;
  TrainOptimizer optimizer = TrainOptimizer::Sgd;
  double momentum = 0.0, weightDecay = 0.0, clipNorm = 0.0;
  bool nesterov = false;
  std::string freeze;
  /// Weight of a batch's statistics in a training batch norm's running ones.
  double batchNormMomentum = 0.1;
  /// Replace @loss by this loss (Model: keep the model's).
  TrainLoss loss = TrainLoss::Model;
  /// Quantization-aware training: fake-quantize the layers that carry a
  /// calibrated range (anvil-fake-quantize) before building @train_step;
  /// `qatPerChannel`: matmul weights per column.
  bool qat = false, qatPerChannel = false;
  /// Fuse chains of elementwise ops into one loop (anvil-fuse-elementwise).
  bool fuseElementwise = true;
  /// Fold inference batch norms into the convolution before them
  /// (anvil-fold-batch-norm).
  bool foldBatchNorm = true;
  /// Move quantizes before the max pools and reshapes that feed them
  /// (anvil-hoist-quantize).
  bool hoistQuantize = true;
  /// f32 exp, tanh and erf as polynomials (anvil-approximate-math), not
  /// libm calls.
  bool approximateMath = true;
  /// bf16 mixed precision (`--precision bf16`): every f32 matmul and
  /// one-group convolution computed on bf16-rounded operands with f32
  /// accumulation (anvil-bf16). With `bf16Matmul`, those (and the ops marked
  /// bf16 in the model) run on vdpbf16ps register tiles
  /// (anvil-bf16-matmul; anvil-convert-to-linalg's bf16-tiles for the
  /// convolutions; needs AVX512_BF16), else on the f32 tiles with their
  /// operands rounded.
  bool bf16 = false;
  bool bf16Matmul = true;
  /// Integer matmuls with constant int8 weights as register tiles on packed
  /// weights (anvil-int8-matmul), not the portable i32 generic; with `vnni`,
  /// through vpdpbusd, else through AVX2's vpmaddwd (same results).
  bool int8Matmul = true;
  bool vnni = true;
  /// Without VNNI, weights all within [-64, 64] through vpmaddubsw
  /// (anvil-int8-matmul's small-weights).
  bool int8SmallWeights = true;
  /// Integer convolutions (anvil.qconv2d) on the same tiles, through an
  /// im2col (anvil-int8-matmul's conv), not the portable generic.
  bool int8Conv = true;
  /// With VNNI, integer convolutions whose channels 4 divides read their
  /// windows straight from an NHWC copy of the input, no im2col
  /// (anvil-int8-matmul's direct-conv).
  bool int8DirectConv = true;
  /// An integer convolution's im2col as vector copies of window rows
  /// (anvil-int8-matmul's vector-rows).
  bool int8VectorRows = true;
  /// f32 convolutions with constant filters as direct register tiles, no
  /// im2col (anvil-direct-conv: 16 lanes with 512-bit vectors, 8 with
  /// 256-bit ones; anvilc sets it only for AVX2 or AVX-512 targets).
  bool directConv = true;
  /// Its tiles across a row's end, by periods of rows, where a row's
  /// segments would be shorter than 8 positions (anvil-direct-conv's
  /// periods).
  bool directConvPeriods = true;
  /// A direct convolution of a small image (at most 256 KB padded) goes
  /// channel block by channel block (anvil-direct-conv's blocks-outer).
  bool directConvBlocksOuter = true;
  /// With VNNI, int8 products at most 16 columns wide on one-block tiles
  /// of 16 rows (anvil-int8-matmul's narrow).
  bool int8Narrow = true;
  /// A direct integer convolution's tiles along its output rows, each
  /// tile's windows one address plus constants (anvil-int8-matmul's
  /// row-aligned).
  bool int8RowTiles = true;
  /// With int8Narrow, integer convolutions of at most 8 output channels put
  /// two output positions in each accumulator (anvil-int8-matmul's pairs).
  bool int8Pairs = true;
  /// One-channel images' convolutions with positions as lanes
  /// (anvil-int8-matmul's lanes; anvilc sets it where the target has
  /// AVX512_VBMI).
  bool int8Lanes = true;
  /// With int8DirectConv, integer convolutions whose channels 4 does not
  /// divide read by runs of each filter row's bytes, not an im2col
  /// (anvil-int8-matmul's direct-runs).
  bool int8DirectRuns = true;
  /// The sigmoid's division as a reciprocal estimate and a Newton step
  /// (anvil-approximate-math's sigmoid-reciprocal; only with
  /// approximateMath).
  bool sigmoidReciprocal = false;
  /// softmax over a short static innermost axis as one vector pass per row
  /// (anvil-convert-anvil-to-linalg's row-softmax).
  bool rowSoftmax = true;
  /// The gradient of max pools whose 2-wide windows tile their input as
  /// vector code (anvil-convert-to-linalg's vector-max-pool-grad).
  bool vectorMaxPoolGrad = true;
  /// A convolution's input gradient as vector row additions
  /// (anvil-convert-to-linalg's vector-col2im).
  bool vectorCol2im = true;
  /// Stride-1 depthwise convolutions with rows 8 to 15 wide along their
  /// NCHW rows, not channels-last (anvil-convert-to-linalg's
  /// depthwise-stride1-nchw).
  bool depthwiseStride1Nchw = true;
  /// Strided ones too (depthwise-strided-nchw).
  bool depthwiseStridedNchw = true;
  /// A product's elementwise users whose chains meet in one (x *
  /// sigmoid(x), a hard swish) join its epilogue (anvil-fuse-matmul-
  /// epilogue's join-users).
  bool joinEpilogueUsers = true;
  /// An elementwise op after a linalg.transpose moves above it, to fuse
  /// with its producer (anvil-fuse-elementwise's hoist-above-transposes).
  bool hoistAboveTransposes = true;
  /// A depthwise convolution's or pooling's loop takes no exp, tanh or erf
  /// (a SiLU): the activation is a loop of its own
  /// (anvil-fuse-elementwise's math-out-of-windows).
  bool mathOutOfWindows = true;
  /// A depthwise convolution's or pooling's loop is not fused into a
  /// consumer that reads it other than element for element (a batched 1x1
  /// convolution's im2col copy) (anvil-fuse-elementwise's
  /// windows-read-in-order).
  bool windowsReadInOrder = true;
  /// Window kernels with a strided innermost read as explicit vector code
  /// (anvil-vectorize-windows).
  bool vectorizeWindows = true;
  /// The rest of a row after its whole vectors as masked vectors of a
  /// power-of-two width (anvil-vectorize-windows' masked-tails), not
  /// narrower vectors whose windows are moved back.
  bool maskedTails = true;
  /// Rows of a window kernel whose windows overlap computed together, the
  /// vectors they share read once (anvil-vectorize-windows' row-blocks).
  bool windowRowBlocks = true;
  /// A chunk that overruns its row, and a direct convolution tile's short
  /// last run, stored as whole vectors of 8, 4, 2 and 1 lanes, not one
  /// masked store (anvil-vectorize-windows' and anvil-direct-conv's
  /// split-tail-stores).
  bool splitTailStores = true;
  /// Small static copies as vector loads and stores
  /// (anvil-vectorize-copies), not scalar loops.
  bool vectorizeCopies = true;
  /// Pack B's slivers into contiguous buffers in the matmul schedule
  /// (anvil-tile-and-vectorize's `pack`).
  bool packMatmul = true;
  /// A convolution's B slivers across output rows read each row with a
  /// plain load and a select, not masked loads (anvil-tile-and-vectorize's
  /// `im2col-blend`).
  bool im2colBlend = true;
  /// A convolution's k blocks are whole filter windows, its taps walked at
  /// constant offsets (anvil-tile-and-vectorize's `window-k-blocks`).
  bool windowKBlocks = true;
  /// Fused epilogues run in the product's slice of the result
  /// (anvil-tile-and-vectorize's `epilogue-in-place`).
  bool epilogueInPlace = true;
  /// A packed product with one k block runs its fused epilogue in each
  /// register tile (anvil-tile-and-vectorize's `epilogue-in-tiles`; only
  /// with epilogueInPlace).
  bool epilogueInTiles = true;
  /// A packed block's row tiles are the registers' full height, its last
  /// rows one or two shorter tiles, where M has no divisor that high
  /// (anvil-tile-and-vectorize's `full-height-tiles`).
  bool fullHeightTiles = true;
  /// A packed product's first k block starts its row tiles in registers
  /// too (anvil-tile-and-vectorize's `peel-first-k-block`).
  bool peelFirstKBlock = true;
  /// A packed product's constant A is read from a copy in row panels
  /// (anvil-tile-and-vectorize's `pack-constant-a`; off by default: it
  /// measured neutral, and code generation of the panel constants took
  /// ResNet-18's compile from 9 to 24 s).
  bool packConstantA = false;
  /// A constant B is read from panels made at compile time, and such a
  /// product packed even with one row tile (anvil-tile-and-vectorize's
  /// `pack-constant-b`).
  bool packConstantB = true;
  /// The target's vector width in bits, which sizes the matmuls' register
  /// tiles (anvil-tile-and-vectorize's `vector-bits`): 512 or 256.
  int64_t matmulVectorBits = 512;
  /// Each loop nest in a function of its own (anvil-outline-kernels), so
  /// that LLVM compiles small functions, in parallel.
  bool outlineKernels = true;
  /// A batch's small convolutions run one image per thread
  /// (anvil-parallelize-images), not one image after the other.
  bool parallelImages = true;
  /// Pads not folded into their producer become a border fill and a copy
  /// split for threads (anvil-fold-pad-into-producer's copy-others), not a
  /// fill and a copy on one thread.
  bool parallelPads = true;
  /// A pad that no producer writes, read only by one window kernel's taps
  /// (a depthwise convolution after a matmul): the kernel split into an
  /// interior reading the pad's source in place and border bands
  /// (anvil-fold-pad-into-producer's split-windows), not a copy.
  bool splitWindows = true;
  /// A copied pad of short rows written in one pass over its rows, border
  /// columns included (anvil-fold-pad-into-producer's pad-rows-lanes).
  bool padRows = true;
  /// A split window's bands at its rows' ends span at least 8 columns, one
  /// vector per row (anvil-fold-pad-into-producer's band-columns; false: 1).
  bool wideWindowBands = true;
  /// Run a batch whose samples never mix as this many independent chunks,
  /// one per thread, for the whole function (anvil-split-batch; 1: off).
  /// Inference only.
  int64_t splitBatch = 2;
  /// With a split batch, a classifier at the end (matmuls on [B, C] doing
  /// too few FLOPs per weight byte for a chunk) runs once on the whole
  /// batch after the chunks (anvil-split-batch's whole-tail; anvilc
  /// --no-split-whole-tail turns it off).
  bool splitWholeTail = true;
};

/// The f32 lanes of the target's vector registers under `options` (16 with
/// 512-bit vectors, 8 with 256-bit ones).
inline int64_t f32Lanes(const PipelineOptions &options) {
  return options.matmulVectorBits >= 512 ? 16 : 8;
}

/// The f32 lanes of anvil-direct-conv's tiles under `options`, or 0 when it
/// does not run.
inline int64_t directConvLanes(const PipelineOptions &options) {
  return options.directConv ? f32Lanes(options) : 0;
}

/// graph: re-batch (with options.batch), canonicalize (fold constants, drop
/// dead ops) and CSE.
void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &options);
/// train: @train_step = forward + loss + backward + SGD update (training
/// only; nothing otherwise).
void buildTrainPipeline(OpPassManager &pm, const PipelineOptions &options);
/// optimize: parameters become constants; constant subgraphs fold.
void buildOptimizePipeline(OpPassManager &pm, const PipelineOptions &options);
/// backend: anvil -> linalg/tensor/arith/math, elementwise fusion.
void buildBackendPipeline(OpPassManager &pm, const PipelineOptions &options);
/// bufferize: one-shot bufferization with results as out-parameters.
void buildBufferizePipeline(OpPassManager &pm);
/// llvm: loops, then the LLVM dialect with bare-pointer entry points.
void buildLLVMPipeline(OpPassManager &pm, const PipelineOptions &options);

/// The passes of one phase (Import and Object add none: they are the parser
/// and the code generator).
void buildPhasePipeline(OpPassManager &pm, Phase phase,
                        const PipelineOptions &options);

/// Registers `anvil-inference-pipeline` (graph through llvm) for anvil-opt.
void registerPipelines();

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_PIPELINES_H
