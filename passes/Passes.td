//===- Passes.td - every pass of Anvil ---------------------*- tablegen -*-===//
//
// Anvil's passes, declared in one place. Each pass has one .cpp named after
// it (conversions in Conversion/<Source>To<Target>/); pipelines that chain
// them live in compiler/Pipelines.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_TD
#define ANVIL_PASSES_TD

include "mlir/Pass/PassBase.td"

def SetBatchPass : Pass<"anvil-set-batch", "ModuleOp"> {
  let summary = "Re-batch a model: give its batch dimension another size";
  let description = [{
    The model's batch is the leading dimension of @forward's first
    argument. Every function argument whose leading dimension has that size
    gets `batch` instead, and every op's result type is inferred again in
    order. Reshapes and slices state sizes: in a function that keeps its
    samples apart (anvil-mark-batch's analysis), they follow the batch
    wherever it is, also behind the sequence and merged with attention's
    heads; elsewhere a `reshape` whose element count changes must keep the
    batch as its leading dimension and gets the new one. An op whose type
    cannot follow (a constant or parameter shaped by the batch, a reshape
    that moves it) gives one error naming the op. Before (batch 64 -> 32):

    ```mlir
    func.func @forward(%x: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> {
      %f = anvil.reshape %x {shape = array<i64: 64, 784>} : tensor<64x1x28x28xf32>
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<32x1x28x28xf32>) -> tensor<32x10xf32> {
      %f = anvil.reshape %x {shape = array<i64: 32, 784>} : tensor<32x1x28x28xf32>
    ```
  }];
  let options = [
    Option<"batch", "batch", "int64_t", "0",
           "The new batch size (0: leave the model as it is)">,
  ];
}

def MarkBatchPass : Pass<"anvil-mark-batch", "ModuleOp"> {
  let summary = "Mark the functions that treat their batch's samples independently";
  let description = [{
    A public function whose arguments and results all lead with the same
    dimension B gets `anvil.batch = B` when sample i of every result
    depends only on sample i of the arguments. The pass follows which
    dimension of each value holds the batch through the ops whose semantics
    it knows (elementwise with broadcasting, matmul, convolution, pooling,
    normalization, softmax, reductions and shape ops that keep the batch
    apart); anything else (training-mode dropout, a reduction or reshape
    across the batch, a weight broadcast along it, an op it does not know)
    leaves the function unmarked, with a remark saying why when `explain`
    is set. Executables run any number of samples through a marked
    function, B at a time (runtime/ModelMain.cpp). Before:

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32> {
      %y = anvil.matmul %x, %w : tensor<8x784xf32>, tensor<784x10xf32>
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ```
  }];
  let options = [
    Option<"explain", "explain", "bool", "false",
           "Emit a remark naming the op that keeps a function unmarked">,
  ];
}

def BatchVariantsPass : Pass<"anvil-batch-variants", "ModuleOp"> {
  let summary = "Compile each entry point for more than one batch";
  let description = [{
    Every public function marked `anvil.batch = B` by anvil-mark-batch (its
    samples never mix) is cloned once per other size b in `batches`: a
    public `@<name>__b<b>` re-batched to b by anvil-set-batch's rebatching,
    marked `anvil.batch = b` and `anvil.variant_of = "<name>"`. Parameters
    stay shared: the clones read the same `anvil.param`s, which
    anvil-materialize-params gives one global each (one weights-file entry).
    The runtime lists a function's variants together and covers any number
    of samples with a mix of them (runtime/Chunks.h). A public function
    that is not marked (a model's @loss) keeps its one batch, with the
    reason in `anvil.batch_variants` (the fusion report prints it); when no
    function can have variants, or a clone cannot be re-batched, that is an
    error naming the function. Before (batches = 1):

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ...
    func.func @forward__b1(%x: tensor<1x784xf32>) -> tensor<1x10xf32>
        attributes {anvil.batch = 1 : i64, anvil.variant_of = "forward"} {
    ```
  }];
  let options = [
    ListOption<"batches", "batches", "int64_t",
               "The other batch sizes to compile each entry point for">,
  ];
}

def SplitBatchPass : Pass<"anvil-split-batch", "ModuleOp"> {
  let summary = "Run a batch as independent chunks, one per thread, for the whole function";
  let description = [{
    A public function marked `anvil.batch = B` by anvil-mark-batch (its
    samples never mix) with B divisible by `chunks` = K > 1 is cloned into a
    private `@<name>__chunk` re-batched to B/K (anvil-set-batch's rebatching),
    and its body becomes one `scf.forall` over the K chunks: each calls the
    chunk function with the whole arguments and its first sample (the chunk
    slices its B/K samples itself: a slice passed as an argument would lose
    its offset in the bare-pointer call) and inserts its results into the
    outputs. With as many threads as chunks each thread
    runs the whole network on its own samples: no fork and join per layer,
    and every layer's work whole; the chunk's own parallel loops run on its
    thread (OpenMP runs nested parallel regions serially). The chunk
    function gets `anvil.arena_argument`: anvil-plan-memory passes it its
    arena as an argument, one slot per chunk, since two chunks run it at
    once. With `whole-tail`, the ops at the end that work on [B, C]
    tensors (a classifier after its pooling: matmuls whose weights every
    chunk would stream again for B/K rows) stay in the public function,
    after the forall, on the whole batch; the chunk returns what they read
    (unless a chunk does `whole-tail-max-chunk-flops-per-byte` FLOPs or
    more per byte of their weights: ResNet-18's classifier is 0.03% of its
    work, and running it after the join was 1.6% slower at 2 threads).
    A function is left alone, with the reason in
    `anvil.split_batch` (the fusion report prints it, as it prints the split),
    when it is unmarked, B is not a multiple of K, an argument carries
    indices (anvil-check-indices checks them only in public functions), the
    clone cannot be re-batched, or a chunk would do fewer than
    `min-flops-per-weight-byte` FLOPs per byte of constant weights. Every
    chunk reads all the weights: an MLP at batch 8 split in two does 2 FLOPs
    per weight byte, and both threads then stream the same 1 MB of weights
    for half the products each, slower than one thread alone (the bench's
    MLP on a 2-core Zen 3 at 2 threads, split vs whole: batch 8 (2 FLOPs
    per byte) 0.075 vs 0.065 ms, batch 16 (4) 0.117 vs 0.102 ms, batch 32
    (8) 0.146 vs 0.20 ms). Before (K = 2):

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32> ... {
      %0 = tensor.empty() : tensor<8x10xf32>
      %1 = scf.forall (%i) in (2) shared_outs(%o = %0) -> (tensor<8x10xf32>) {
        %y = func.call @forward__chunk(%x, %off) : (tensor<8x784xf32>, index) -> tensor<4x10xf32>
        scf.forall.in_parallel {
          tensor.parallel_insert_slice %y into %o[%off, 0] [4, 10] [1, 1]
        }
      }
      return %1 : tensor<8x10xf32>
    }
    func.func private @forward__chunk(%x: tensor<8x784xf32>, %off: index)
        -> tensor<4x10xf32>
        attributes {anvil.arena_argument, anvil.split_chunks = 2 : i64} {
      %s = tensor.extract_slice %x[%off, 0] [4, 784] [1, 1]
    ```
  }];
  let options = [
    Option<"chunks", "chunks", "int64_t", "2",
           "How many chunks to split each batch into (1: none)">,
    Option<"minFlopsPerWeightByte", "min-flops-per-weight-byte", "double",
           "8",
           "Split only when a chunk does at least this many FLOPs (of its "
           "matmuls and convolutions) per byte of the constant weights they "
           "read (0: always)">,
    Option<"wholeTail", "whole-tail", "bool", "true",
           "Run the ops at the end on [B, C] tensors (a classifier after its "
           "pooling) once on the whole batch after the chunks, when their "
           "matmuls would do fewer than min-flops-per-weight-byte FLOPs per "
           "weight byte for a chunk">,
    Option<"wholeTailMaxChunkFlops", "whole-tail-max-chunk-flops-per-byte",
           "double", "1000",
           "Keep such a tail in the chunks all the same when a chunk's own "
           "matmuls and convolutions do at least this many FLOPs per byte of "
           "the tail's weights: reading them once per chunk then costs a "
           "chunk about 1% of its time, and the tail's own work on the "
           "whole batch after the join runs on one thread (0: always keep)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def MaterializeParamsPass : Pass<"anvil-materialize-params", "ModuleOp"> {
  let summary = "Replace every anvil.param by a constant with its values";
  let description = [{
    Computes each parameter's initial values (its initializer, seeded from
    its `seed` attribute or from its name and the `seed` option, exactly as
    the reference interpreter does, or its dense `value`) and replaces the
    param by an `anvil.constant`, so that an inference binary carries its
    weights. Before:

    ```mlir
    %w = anvil.param "w" init = "ones" : tensor<2xf32>
    ```

    After:

    ```mlir
    %w = anvil.constant dense<1.000000e+00> : tensor<2xf32>
    ```
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", "0",
           "Seed for parameters without a `seed` attribute">,
    Option<"external", "external", "bool", "false",
           "Keep the values out of the code: each param becomes a mutable "
           "memref.global @__anvil_param_<N> (tagged `anvil.param_name`) "
           "read through bufferization.to_tensor, filled at run time from "
           "a weights file">,
  ];
  let dependentDialects = ["::mlir::anvil::AnvilDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def AutodiffPass : Pass<"anvil-autodiff", "ModuleOp"> {
  let summary = "Build the gradient function of a scalar function";
  let description = [{
    Reverse-mode differentiation of `function`, whose single result is the
    quantity to differentiate (its gradient is seeded with ones). Adds
    `@<function>_grad` with the same arguments, returning the original
    result, then the gradient of each float argument (with `args`), then the
    gradient of each trainable parameter, in order of first appearance; the
    `anvil.gradients` attribute names them. Each op's gradient comes from
    its GradientOpInterface; fan-out accumulates with `anvil.add`. Only
    float values that depend on a trainable parameter (or argument) are
    differentiated (integers, such as a cast to indices, carry no
    gradient), so parameters matching `freeze` get no gradient and
    everything only they needed is left out of the backward graph. Before:

    ```mlir
    func.func @loss(%x: tensor<4x3xf32>) -> tensor<f32> {
      %w = anvil.param "w" init = "zeros" : tensor<3x2xf32>
      %y = anvil.matmul %x, %w : tensor<4x3xf32>, tensor<3x2xf32>
      %l = anvil.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<4x2xf32>
      return %l : tensor<f32>
    }
    ```

    After (added beside it):

    ```mlir
    func.func @loss_grad(%x: tensor<4x3xf32>) -> (tensor<f32>, tensor<3x2xf32>)
        attributes {anvil.gradients = ["loss", "w"]} {
      ...
      %dw = anvil.matmul %x, %dy {transpose_a} : tensor<4x3xf32>, tensor<4x2xf32>
      return %l, %dw : tensor<f32>, tensor<3x2xf32>
    }
    ```
  }];
  let options = [
    Option<"function", "function", "std::string", "\"loss\"",
           "The function to differentiate (one result)">,
    Option<"freeze", "freeze", "std::string", "\"\"",
           "Parameters whose name matches this regex get no gradient">,
    Option<"args", "args", "bool", "false",
           "Also return the gradients of the float arguments">,
  ];
}

def BuildTrainStepPass : Pass<"anvil-build-train-step", "ModuleOp"> {
  let summary = "Build @train_step: forward, loss, backward and the update";
  let description = [{
    From `@forward(x) -> prediction` and `@loss(prediction, target) ->
    scalar`, builds `@train_step(x, target, lr: tensor<f32>) -> loss`: the
    two composed, differentiated (the anvil-autodiff rules, `freeze`
    honoured), and every trainable parameter updated in place with SGD:

        v = momentum * v + (grad + weight_decay * p)
        p = p - lr * (nesterov ? grad' + momentum * v : v)

    where `v` is the optimizer state `<name>.momentum` (an `anvil.param`
    starting at zeros; none without momentum); or Adam/AdamW, with the
    moments `<name>.adam_m`, `<name>.adam_v` and the shared step count
    `__adam_step`:

        m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t = t + 1
        p = p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    (AdamW first scales p by 1 - lr weight_decay; Adam adds
    weight_decay * p to g). With `clip-norm`, every gradient is first scaled
    by min(1, clip_norm / (||g||_2 + 1e-6)) over all parameters. Updates are `anvil.assign`s at the end of the
    step, after every read of the old values.

    Every `anvil.batch_norm` whose mean and variance are parameters (the
    running statistics) trains in its training form, with the statistics of
    the batch, and the step updates the running ones as PyTorch does:
    `running = (1 - m) running + m batch` (`m` the `batch-norm-momentum`;
    the variance the batch's unbiased one). @eval_step and @forward keep the
    inference form over the running statistics.

    With `loss=cross-entropy|nll|mse`, @loss is first replaced by that loss
    of @forward's result against a target (class indices; for mse, a tensor
    like the prediction).

    Beside it, `@eval_step(x, target) -> (loss, classes)` evaluates without
    gradients or updates: forward (dropout in its inference form), loss, and
    `anvil.argmax` of the prediction over its last axis (the loss alone when
    the prediction has rank < 2). Before:

    ```mlir
    func.func @forward(%x: tensor<64x784xf32>) -> tensor<64x10xf32>
    func.func @loss(%y: tensor<64x10xf32>, %l: tensor<64xi64>) -> tensor<f32>
    ```

    After (added):

    ```mlir
    func.func @train_step(%x: tensor<64x784xf32>, %l: tensor<64xi64>,
                          %lr: tensor<f32>) -> tensor<f32> {
      ... forward, loss, gradients ...
      anvil.assign "fc1.weight", %w_new : tensor<784x256xf32>
      anvil.assign "fc1.weight.momentum", %v_new : tensor<784x256xf32>
      return %loss : tensor<f32>
    }
    func.func @eval_step(%x: tensor<64x784xf32>, %l: tensor<64xi64>)
        -> (tensor<f32>, tensor<64xi64>) {
      ... forward, loss ...
      %classes = anvil.argmax %y : tensor<64x10xf32>
      return %loss, %classes : tensor<f32>, tensor<64xi64>
    }
    ```
  }];
  let options = [
    Option<"optimizer", "optimizer", "::mlir::anvil::TrainOptimizer",
           "::mlir::anvil::TrainOptimizer::Sgd", "The optimizer",
           // The cases are listed once, in passes/TrainOptions.h.
           "::mlir::anvil::trainOptimizerCases()">,
    Option<"beta1", "beta1", "double", "0.9", "Adam's first-moment decay">,
    Option<"beta2", "beta2", "double", "0.999",
           "Adam's second-moment decay">,
    Option<"epsilon", "epsilon", "double", "1e-8", "Adam's epsilon">,
    Option<"momentum", "momentum", "double", "0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", "false", "Nesterov momentum">,
    Option<"weightDecay", "weight-decay", "double", "0.0",
           "L2 weight decay added to each gradient">,
    Option<"clipNorm", "clip-norm", "double", "0.0",
           "Scale all gradients down so that their global L2 norm is at most "
           "this (0: no clipping)">,
    Option<"freeze", "freeze", "std::string", "\"\"",
           "Parameters whose name matches this regex are not trained">,
    Option<"batchNormMomentum", "batch-norm-momentum", "double", "0.1",
           "Weight of the batch's statistics in the running ones of a "
           "training batch norm">,
    Option<"lossKind", "loss", "::mlir::anvil::TrainLoss",
           "::mlir::anvil::TrainLoss::Model",
           "Replace @loss by this loss of @forward's result against a "
           "target",
           "::mlir::anvil::trainLossCases()">,
  ];
}

def CheckIndicesPass : Pass<"anvil-check-indices", "ModuleOp"> {
  let summary = "Check index arguments against their range when the code runs";
  let description = [{
    An index or label that a public function receives as an argument
    (directly, or through reshapes, which keep the element order) and that
    an `IndexingOpInterface` op reads by is checked at the top of the
    function: one compare per element, and outside its range a call of the
    runtime's `anvil_index_error` (runtime/Checks.h), which prints the
    function, the argument, the position, the value and the range, and
    exits with status 1. Constant indices are checked by the verifier
    instead; computed ones (argmax) are in range by construction. Before:

    ```mlir
    func.func @loss(%x: tensor<2x10xf32>, %t: tensor<2xi64>) -> tensor<f32> {
      %l = anvil.softmax_cross_entropy %x, %t : tensor<2x10xf32>, tensor<2xi64>
    ```

    After:

    ```mlir
    func.func @loss(%x: tensor<2x10xf32>, %t: tensor<2xi64>) -> tensor<f32> {
      scf.for %i = %c0 to %c2 step %c1 {
        %v = tensor.extract %t[%i] : tensor<2xi64>
        %out = arith.cmpi uge, %v, %c10 : i64
        scf.if %out {
          func.call @anvil_index_error(%fn, %what, %pos, %v, %c0_i64, %c10) : ...
        }
      }
      %l = anvil.softmax_cross_entropy %x, %t : tensor<2x10xf32>, tensor<2xi64>
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "func::FuncDialect",
                           "LLVM::LLVMDialect", "scf::SCFDialect",
                           "tensor::TensorDialect"];
}

def DirectConvPass : Pass<"anvil-direct-conv", "ModuleOp"> {
  let summary = "f32 convolutions with constant filters as direct register tiles";
  let description = [{
    Rewrites each f32 one-group `anvil.conv2d` whose filter is a constant
    (inference) and whose output channels `lanes` divides into a register-tiled
    loop nest on tensors (scf, vector), before anvil-convert-to-linalg,
    which would make it an im2col product on the matmul's tiles. The filter
    is packed at compile time, per group of a tile's output channels, as
    `[O / lanes, C * kh * kw * lanes]` in (c, i, j, channel) order. A tile
    is one block of `lanes` output channels (16 on AVX-512, 8 on AVX2) by
    up to 16 consecutive output positions (AVX-512; AVX2's 16 registers
    take 15 - kw: 12 for a 3x3 filter; DirectConvSchedule.h): a segment of
    an output row (rows split into equal segments: with 16 lanes 14 of 56,
    28 or 14), or, where a row's segments would be shorter than 8 positions
    (fewer independent sums than FMA latency times its two pipes), a run
    across a row's end: the rows go by periods of a few rows, each cut into
    up to 4 unrolled tiles, the one that wastes the fewest FMA slots (with
    8 lanes 14-wide rows by 2 in 10, 10 and 8 positions; 7 x 7 maps by 4
    rows in 10, 10, 8, then 11, 10). Its `vector<lanes x f32>` accumulators
    start at the bias and take one `vector.fma` per k step, the position's
    input value broadcast from the padded NCHW image at one base address per
    (input channel, filter row) plus constants, the filter row's taps
    unrolled. No im2col matrix is made or packed at run time. Each
    tile is transposed in registers (lanes x lanes at a time: 16 x 16 in
    64 shuffles, 8 x 8 in 24) into
    one run of positions per channel and stored NCHW, masked past the
    tile's positions. With `epilogue`, an `anvil.add` of the result and
    another tensor of its type, then an `anvil.relu` or `anvil.clip`
    (MobileNet's relu6), that are the convolution's only users are
    absorbed: the residual is read at the run's positions and added, and
    relu or clip applied, before the store.

    Not rewritten (the im2col matmul keeps them): 1x1 convolutions (a plain
    matmul already), grouped and depthwise ones, bf16 ones, output channels
    that `lanes` does not divide, and filters whose panel (C * kh * kw *
    lanes * 4 bytes per block) exceeds 512 KiB: the tiles stream it once per tile
    with no k blocks. Each image goes period by period of output rows,
    every group of channels in each period (the input rows a period reads
    stay in cache through the groups). When the whole convolution (all its
    images) reaches the matmul's parallel threshold
    (`matmulRunsInParallelBlocks`, about 8 MFLOP: below it a fork/join costs
    more than it saves), the images are an `scf.forall` if their count is
    even (two threads share them evenly), else the groups of channels, if
    there are two at least. The pipeline runs
    the pass with 16 lanes for AVX-512 targets, with 8 for AVX2 ones (the
    FMAs and 8-lane vectors the tiles need), and not for older ones.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"epilogue", "epilogue", "bool", "true",
           "Absorb the convolution's only user when it is an anvil.add of a "
           "same-typed tensor, and then an anvil.relu or anvil.clip, into "
           "the tiles' "
           "stores; off: they stay ops of their own">,
    Option<"parallel", "parallel", "bool", "true",
           "Run the output channel groups of large convolutions as an "
           "scf.forall (threads); off: one serial loop">,
    Option<"lanes", "lanes", "int64_t", "16",
           "f32 lanes of the tiles' vectors (a block's output channels): "
           "16 (AVX-512's 32 registers) or 8 (AVX2's 16)">,
    Option<"periods", "periods", "bool", "true",
           "Where a row's segments would be shorter than 8 positions, cut "
           "periods of a few rows into tiles that run across a row's end; "
           "off: every tile is a segment of one row">,
    Option<"splitTailStores", "split-tail-stores", "bool", "true",
           "Store a tile's last run of fewer positions than lanes as whole "
           "vectors of 4, 2 and 1 lanes (12 = 8 + 4) instead of one masked "
           "store (vmaskmovps, microcoded on AMD's cores)">,
    Option<"blocksOuter", "blocks-outer", "bool", "true",
           "Where the padded input image is at most 256 KB, go over an "
           "image channel block by channel block, every period of rows in "
           "each, so that each block's filter panel streams once per image "
           "(off: period by period, every block in each)">,
  ];
}

def Int8MatmulPass : Pass<"anvil-int8-matmul", "ModuleOp"> {
  let summary = "Integer matmuls with constant int8 weights as VNNI or AVX2 register tiles";
  let description = [{
    Rewrites each `anvil.qmatmul` whose lhs is `ui8` and whose rhs is a
    constant 2-D `i8` matrix with zero point 0 (int8 symmetric weights) into
    a register-tiled loop nest on tensors (scf, vector). The weights are
    packed at compile time into `vpdpbusd`'s layout: blocks of 16 columns,
    each k group of 4 bytes per column contiguous (`[ceil(N/16), ceil(K/4),
    16, 4]`, zero padded), so that one 64-byte load feeds 16 columns by 4
    products. A tile of 8 rows by 32 columns keeps 16 `vector<16xi32>`
    accumulators in registers; each k group broadcasts 4 bytes of each row
    and issues `vpdpbusd` (u8 x s8, 4 products summed into i32, exact: no
    i16 saturation) as LLVM inline asm without side effects (an
    `llvm.call_intrinsic` has unknown memory effects, which the buffer
    deallocation pipeline refuses; MLIR 19's x86vector has no vpdpbusd). The lhs zero point is one
    correction at the end: `acc - zp * colsum`, the column sums of the
    weights precomputed with the packing. The rows that fill no whole tile
    are one last, shorter tile; columns past N are masked on the write; a K
    that 4 does not divide reads its last group masked (zeros, whose
    packed weights are 0 too).

    With `vnni=false` the tiles are AVX2's, for CPUs without VNNI: 6 rows
    by 2 blocks of 8 columns, 12 `vector<8xi32>` accumulators, and the
    step is `vpmaddwd` (i16 pairs multiplied, each pair's products summed
    into i32: exact for u8 x s8, unlike the saturating `vpmaddubsw`), one
    per accumulator and k pair, plus a `vpaddd`. The weights are packed
    sign-extended to i16, the tile's two blocks side by side
    (`[ceil(N/16), ceil(K/2), 2 x 8, 2]`: one 64-byte line per k pair),
    and the activations zero-extended to i16 by one `linalg.generic`
    before the loops; the same results as `vpdpbusd`, bit for bit. Other
    qmatmuls (i8 activations, weights computed at run time or with a
    nonzero zero point) keep the portable generic of
    anvil-convert-to-linalg.

    Without VNNI, weights that the pass finds all within [-64, 64] (at
    compile time: `small-weights`) take a third tile, 5 rows by 2 blocks
    of 8 columns on VNNI's byte layout: `vpmaddubsw` sums u8 x s8 pairs in
    i16, exact for them (2 x 255 x 64 = 32640 < 2^15; it saturates
    beyond), and `vpmaddwd` by i16 ones sums the pairs into i32: 4
    products per lane for 3 instructions instead of 4.

    The outer loop, over column groups (a tile's width: 32 or 16
    columns), is an `scf.forall` (each group writes its own `[M, <= width]`
    slice; the LLVM phase runs it on OpenMP threads) where
    anvil-tile-and-vectorize would split an f32 matmul of the same size
    into parallel blocks (`matmulRunsInParallelBlocks`, about 8 MFLOP) and
    there are two groups at least; otherwise an `scf.for`. Each accumulator is one iteration's,
    summed in the same order at any thread count. `parallel=false` keeps
    the serial loop.

    An `anvil.qconv2d` of `ui8` activations by constant `i8` weights (zero
    point 0) and a constant input zero point takes the same tiles: its
    input (zero-extended to i16 first for the AVX2 tiles) padded with the
    zero point (a quantized 0, which the tiles' correction cancels), an
    im2col `[N*OH*OW, C*kh*kw]` with the output positions as rows, the
    OIHW weights packed as the `[C*kh*kw, O]` matrix, and the `[N*OH*OW, O]`
    product transposed to NCHW. `conv=false` leaves it to
    anvil-convert-to-linalg's portable generic. With VNNI, a convolution
    whose channels 4 divides is direct (`direct-conv`): no im2col; its
    padded input is transposed once to NHWC, the filter packed with k in
    (i, j, c) order, and each tile row (an output position) reads its k
    group, 4 contiguous channels, at its window corner plus the tap's
    offset (the NHWC copy by blocks of 16 channels by 16 positions, read
    as 16 vectors of 16 bytes and transposed in registers, where 16 divides
    the channels, written straight into the padded image). Channels that 4
    does not divide are direct too where the filter has no dilation along
    its rows (`direct-runs`): each filter row's kw * C bytes of the NHWC
    input (one channel: the padded input itself) are read as groups of 4,
    the run rounded up to 4 with zero weights. Otherwise the im2col's rows are vector copies of window rows
    (`vector-rows`, filters up to 8 wide): one masked read of 8 elements
    (every dw-th of 8 * dw) per (position, channel, filter row), written 8
    wide at its k, the lanes past kw overwritten by the next row's copy or
    masked at the end. With VNNI, a product at most 16 columns wide (O <=
    16) takes a tile of 16 rows by one block (`narrow`): the two-block
    tile's second block would sum the packing's zeros. A convolution of at
    most 8 output channels (`pairs`) puts two output positions in each
    accumulator (lanes 0-7 and 8-15, the weights packed twice), 32
    positions to a tile. When 16 (a block)
    divides a convolution's output channels, or they are one block, its
    tiles (direct or on the im2col) stay within one image and write the
    NCHW result themselves: each block of up to 16 positions by 16
    channels transposed in registers (64 `vpermt2d`) and stored as one run
    of positions per channel, no transpose after the product. A direct
    convolution's tiles follow its output rows (`row-aligned`): equal
    segments of one row, or whole rows where two fit in a tile, so that
    each tile row's window corner is the first's plus a constant.

    Those tiles also compute the ops after the convolution (`epilogue`;
    the rule, shared with `--fusion-report`, is passes/Int8Epilogue.h): a
    `dequantize` that is its only user, then each only user of the one
    before, in this order and each optional, an `add` of a `[1, O, 1, 1]`
    constant (a folded batch norm's shift), an `add` of a tensor of the
    result's type made before the convolution (a residual), a `relu`, and a
    per-tensor `quantize` to `ui8`. On each channel's run of positions,
    between the transpose and the store, op for op as the separate loops
    compute them (the same values, bit for bit); the tiles then store f32
    or the next layer's ui8 input, and the i32 product is never written.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::linalg::LinalgDialect"
  ];
  let options = [
    Option<"vnni", "vnni", "bool", "true",
           "Use vpdpbusd (AVX-512 VNNI); off: AVX2 vpmaddwd tiles on "
           "weights packed as i16, the same results, for CPUs without VNNI">,
    Option<"smallWeights", "small-weights", "bool", "true",
           "Without VNNI, where every weight is within [-64, 64]: tiles of "
           "vpmaddubsw (exact for such weights) and vpmaddwd by ones; off: "
           "the vpmaddwd tiles for all weights">,
    Option<"parallel", "parallel", "bool", "true",
           "Run the column blocks of large products as an scf.forall "
           "(threads); off: one serial loop">,
    Option<"conv", "conv", "bool", "true",
           "Also rewrite qconv2d (im2col + the same tiles); off: its "
           "portable generic">,
    Option<"directConv", "direct-conv", "bool", "true",
           "With VNNI, a qconv2d whose channels 4 divides reads its tiles' "
           "rows straight from its input transposed to NHWC, no im2col; "
           "off: the im2col">,
    Option<"directRuns", "direct-runs", "bool", "true",
           "With direct-conv, a qconv2d whose channels 4 does not divide "
           "(and no dilation along the rows) is direct too: each filter "
           "row's kw * C bytes of the NHWC input read as groups of 4, padded "
           "with zero weights; off: its im2col">,
    Option<"vectorRows", "vector-rows", "bool", "true",
           "Build a qconv2d's im2col (filters up to 8 wide) as vector copies "
           "of each window row, and a direct one's NHWC input (16 dividing "
           "C) by 16 x 16 blocks transposed in registers; off: the generic "
           "copy and linalg.transpose, one element at a time">,
    Option<"narrow", "narrow", "bool", "true",
           "With VNNI, products at most 16 columns wide (O <= 16) on tiles "
           "of 16 rows by one block of 16 columns; off: the 8 x 2 blocks "
           "tile, whose second block then sums zeros">,
    Option<"pairs", "pairs", "bool", "true",
           "With narrow, a qconv2d of at most 8 output channels puts two "
           "output positions in each accumulator (lanes 0-7 and 8-15, the "
           "weights packed twice), so each vpdpbusd does two positions' "
           "work; off: one position per accumulator, 8 lanes of zeros">,
    Option<"lanes", "lanes", "bool", "true",
           "A direct qconv2d of a one-channel image at stride 1 (output "
           "rows of 16 or more, at most 16 channels) holds 16 consecutive "
           "output positions of one channel per accumulator, each "
           "vpdpbusd's bytes a sliding window shuffled out of one read of "
           "the input row (Int8LaneConv.h; fast with AVX512_VBMI's vpermb): "
           "no transpose, contiguous stores; off: the NCHW tiles">,
    Option<"rowAligned", "row-aligned", "bool", "true",
           "A direct qconv2d's NCHW tiles follow its output rows (equal "
           "segments of a row, or whole rows where two fit), so that each "
           "tile row's window is the first's plus a constant; off: tiles of "
           "consecutive positions across rows, a window address per row">,
    Option<"epilogue", "epilogue", "bool", "true",
           "Compute a qconv2d's dequantize, shift, residual add, relu and "
           "quantize in its NCHW tiles, before their stores; off: the i32 "
           "product is stored and separate loops follow">,
  ];
}

def Bf16Pass : Pass<"anvil-bf16", "ModuleOp"> {
  let summary = "bf16 mixed precision: matmuls and convolutions computed in bf16, accumulated in f32";
  let description = [{
    Sets `bf16` on every `anvil.matmul` of f32 operands and every f32
    one-group convolution (`anvil.conv2d`, `conv2d_grad_input`,
    `conv2d_grad_filter`), in every function: the inference entry points
    and, after anvil-build-train-step, `@train_step`'s forward and gradient
    products alike (the weights, the optimizer and every other op stay f32:
    f32 master weights). bf16 has f32's exponent range, so a gradient too
    small for bf16 is too small for f32 as well: no loss scaling. Grouped
    and depthwise convolutions stay f32: there is no bf16 kernel for them,
    and rounding their operands would cost accuracy for no speed. The
    backend runs each marked product on `vdpbf16ps` tiles (the matmuls
    anvil-bf16-matmul's, the convolutions' im2col products
    anvil-convert-to-linalg's `bf16-tiles`), or on the f32 tiles with its
    operands rounded (the same function; no speed).

    ```mlir
    %y = anvil.matmul %x, %w : tensor<64x784xf32>, tensor<784x256xf32>
    ```

    becomes

    ```mlir
    %y = anvil.matmul %x, %w {bf16} : tensor<64x784xf32>, tensor<784x256xf32>
    ```
  }];
}

def Bf16MatmulPass : Pass<"anvil-bf16-matmul", "ModuleOp"> {
  let summary = "bf16 matmuls as AVX512_BF16 register tiles (vdpbf16ps)";
  let description = [{
    Rewrites each 2-D `anvil.matmul {bf16}` (a batched lhs by a 2-D rhs
    too, its batch folded into M) into a register-tiled loop nest on
    tensors: anvil-int8-matmul's tiles (8 rows by 2 blocks of 16 columns,
    16 `vector<16xf32>` accumulators) whose step is `vdpbf16ps`, which
    multiplies the bf16 pairs of a broadcast row dword by the pairs of 16
    columns and adds both products into each f32 lane. The rhs is packed
    into `[ceil(N/32)*2, ceil(K/2), 16, 2]` bf16 (stored as i16): at
    compile time when it is a constant, else by a vector loop before the
    tiles (two rows of 16 columns read, rounded with `vcvtneps2bf16`,
    interleaved into one 64-byte line; a `transpose_b` rhs 16 columns by
    32 k at a time, rounded and transposed in registers as 16 x 16 dwords).
    The lhs is rounded to a bf16 `[M, K]` copy, or with
    `transpose_a` to `[ceil(K/2), M, 2]`, pairs of its rows interleaved, so
    that a tile's rows read consecutive dwords. The other matmuls
    marked bf16 keep anvil-convert-to-linalg's lowering, which rounds their
    operands to bf16 before the f32 product: the same function.
    `vdpbf16ps` treats bf16 denormals as zero and rounds its sums to
    nearest: results differ from the rounded f32 product by float
    rounding only.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
  let options = [
    Option<"parallel", "parallel", "bool", "true",
           "Run the column blocks of large products as an scf.forall "
           "(threads); off: one serial loop">,
  ];
}

def QuantizePass : Pass<"anvil-quantize", "ModuleOp"> {
  let summary = "Post-training int8 quantization of calibrated matmuls and convolutions";
  let description = [{
    Rewrites each `anvil.matmul` that carries its calibrated input range
    (`anvil.calibration = array<f64: min, max>`, which `anvilc quantize`
    sets from the reference interpreter's run on calibration data) and
    whose rhs is known at compile time (an `anvil.constant`, or an
    `anvil.param` with its value or initializer, seeded by `seed`) into
    integer arithmetic: the activations quantized to `ui8` with a scale
    `(max - min) / 255` and a zero point (the range widened to hold 0, so
    that 0 is exact), the weights quantized now to `i8` symmetric (zero
    point 0, -127..127, scale `max |w| / 127`) per tensor, or per output
    column with `per-channel`, an `anvil.qmatmul` accumulating in
    `i32`, and a dequantize by `scale_x * scale_w[n]`. The bias and
    activation after the matmul stay f32 on the dequantized result. These
    are the ops anvil-int8-matmul packs into VNNI tiles. Matmuls without a
    range, with transposed activations, or with weights computed at run
    time stay f32; every matmul loses the attribute.

    A one-group `anvil.conv2d` with a range and known weights becomes the
    same with `anvil.qconv2d` (its padding the activations' zero point,
    which is the quantized 0), the weights always per output channel, the
    dequantize along axis 1, and its bias an f32 `anvil.add` of the bias
    reshaped to `[O, 1, 1]`. Grouped (depthwise) convolutions stay f32.
    Before:

    ```mlir
    %y = anvil.matmul %x, %w {anvil.calibration = array<f64: 0.0, 4.0>} : tensor<8x16xf32>, tensor<16x4xf32>
    ```

    After:

    ```mlir
    %q = anvil.quantize %x, %sx, %zx : tensor<8x16xf32>, tensor<f32>, tensor<ui8>
    %a = anvil.qmatmul %q, %wq, %zx, %zw : tensor<8x16xui8>, tensor<16x4xi8>, tensor<ui8>, tensor<i8>
    %y = anvil.dequantize %a, %s, %z {axis = 1 : i64} : tensor<8x4xi32>, tensor<4xf32>, tensor<4xi32>
    ```
  }];
  let options = [
    Option<"perChannel", "per-channel", "bool", "false",
           "One weight scale per output column (default: one per tensor)">,
    Option<"seed", "seed", "uint64_t", "0",
           "The seed of parameters that take their initializer">,
  ];
}

def FakeQuantizePass : Pass<"anvil-fake-quantize", "ModuleOp"> {
  let summary = "Quantization-aware training: fake-quantize calibrated layers";
  let description = [{
    Rewrites each `anvil.matmul` and one-group `anvil.conv2d` that carries
    its calibrated input range (`anvil.calibration`, as for anvil-quantize)
    and whose weights are an `anvil.param` to read its activations through
    `anvil.fake_quantize` (u8, the range's scale and zero point) and its
    weights through `anvil.fake_quantize_weights` (i8 symmetric, a
    convolution's per output channel, a matmul's per column with
    `per-channel`, else per tensor): in f32, the values anvil-quantize's
    int8 layer will compute with. The range becomes a parameter, `<weight
    name>.qat_range` (`[lo, hi]`, `anvil.fixed`: autodiff gives it no
    gradient and the optimizer leaves it), so that a trainer's checkpoint
    carries it and `anvilc quantize --weights CKPT` quantizes with exactly
    the ranges the model was trained with. Runs before anvil-build-train-step,
    which differentiates the fake quantization with its straight-through
    estimator. Other layers are left as they are and lose the attribute.

    ```mlir
    %y = anvil.matmul %x, %w {anvil.calibration = array<f64: 0.0, 4.0>} : tensor<8x16xf32>, tensor<16x4xf32>
    ```

    becomes

    ```mlir
    %r = anvil.param "fc.weight.qat_range" init = "dense" {anvil.fixed, value = dense<[0.0, 4.0]> : tensor<2xf32>} : tensor<2xf32>
    %xq = anvil.fake_quantize %x, %r : tensor<8x16xf32>, tensor<2xf32>
    %wq = anvil.fake_quantize_weights %w : tensor<16x4xf32>
    %y = anvil.matmul %xq, %wq : tensor<8x16xf32>, tensor<16x4xf32>
    ```
  }];
  let options = [
    Option<"perChannel", "per-channel", "bool", "false",
           "One weight scale per matmul column (default: one per tensor)">,
  ];
}

def ConvertAnvilToLinalgPass : Pass<"anvil-convert-to-linalg", "ModuleOp"> {
  let summary = "Lower anvil ops to linalg, tensor, arith, math and scf";
  let description = [{
    Rewrites every anvil op on tensors into upstream ops: named linalg ops
    where they exist (matmul, batch_matmul, conv_2d_nchw_fchw,
    conv_2d_ngchw_gfchw, pooling_nchw_max/sum for windows over 49 cells,
    transpose), `linalg.generic` for elementwise ops (with numpy
    broadcasting through indexing maps), reductions, and depthwise
    convolutions and pooling (elementwise over the window's taps), `tensor` ops for reshapes, slices and padding, and an
    `scf.for` for the scatter-add of gather's gradient. Parameters must
    have been materialized first. Before:

    ```mlir
    %y = anvil.relu %x : tensor<4xf32>
    ```

    After:

    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %zero = arith.constant 0.0 : f32
        %r = arith.maximumf %in, %zero : f32
        linalg.yield %r : f32
    } -> tensor<4xf32>
    ```

    softmax and log_softmax over a static innermost axis of at most 256
    elements (attention's scores) become one `scf.for` over the rows whose
    body reads a row into a vector, reduces it (`vector.reduction`),
    exponentiates and normalizes it and writes it once, instead of four
    generics (four passes over the data, which LLVM left scalar);
    `row-softmax=false` keeps the generics.

    Depthwise convolutions whose output rows are 8 to 15 wide and strided
    loop along the channels over an NHWC copy of their input (a strided
    row that short gathers); stride-1 ones stay NCHW, one masked vector
    per tap and row, without the two transposes
    (`depthwise-stride1-nchw=false`: channels-last too).

    The gradient of a max pool whose windows are 2 wide (up to 4 high) and
    tile its f32 input exactly (stride = kernel, no padding or dilation:
    LeNet's and VGG's 2x2 pools) is an `scf.for` over the window rows whose
    body handles 8 windows per step: the kh input rows read as vectors of
    16 and split into even and odd columns, the first maximum of each
    window found with vector compares and selects, the gradient placed in
    its cell, the rows interleaved back and written (masked at a row's
    end). The general lowering, a generic over the input's cells that
    gathers each cell's window with scalar extracts, stays for the others
    (`vector-max-pool-grad=false`: for all).

    A one-group convolution's input gradient (stride 1 along the rows)
    scatters its `dcols` product back with vector code: per image (an
    `scf.forall`), channel, tap (i, j) and output row, the row's OW values
    added 16 at a time to the padded gradient's row y * sh + i * dh from
    column j * dw, each cell's terms in the generic's order (the same sums,
    bit for bit); `vector-col2im=false` keeps the generic over the padded
    input's cells that gathers each cell's taps.

    A one-group convolution marked `bf16` (anvil-bf16) rounds its two
    operands to bf16 before the f32 lowering; with `bf16-tiles` its im2col
    products run on anvil-bf16-matmul's `vdpbf16ps` tiles instead, the
    whole batch at once: the forward `W [O, C*kh*kw] @ cols [C*kh*kw,
    N*OH*OW]` (then the bias, and the transpose to NCHW), the filter
    gradient `dY [O, N*OH*OW] @ cols^T`, the input gradient `W^T @ dY`
    before col2im.
  }];
  let options = [
    Option<"rowSoftmax", "row-softmax", "bool", "true",
           "softmax over a short static innermost axis as one vector pass "
           "per row (off: four linalg generics)">,
    Option<"depthwiseStride1Nchw", "depthwise-stride1-nchw", "bool", "true",
           "stride-1 depthwise convolutions with output rows 8 to 15 wide "
           "loop along the rows in NCHW (off: channels-last, with "
           "transposes in and out)">,
    Option<"depthwiseStridedNchw", "depthwise-strided-nchw", "bool", "true",
           "strided depthwise convolutions with output rows 8 to 15 wide "
           "loop along the rows in NCHW, each tap's row read as one vector "
           "and deinterleaved (off: channels-last, with transposes in and "
           "out)">,
    Option<"vectorMaxPoolGrad", "vector-max-pool-grad", "bool", "true",
           "the gradient of a max pool whose 2-wide windows tile its input "
           "(stride = kernel, no padding) as vector code over 8 windows at "
           "a time (off: one linalg.generic gathering each cell's window)">,
    Option<"vectorCol2im", "vector-col2im", "bool", "true",
           "a one-group convolution's input gradient (stride 1 along the "
           "rows) as vector row additions per image, tap and output row "
           "(off: one linalg.generic gathering each cell's taps)">,
    Option<"bf16Tiles", "bf16-tiles", "bool", "false",
           "the im2col products of one-group convolutions marked bf16 on "
           "vdpbf16ps register tiles (needs AVX512_BF16; off: the f32 "
           "products of their bf16-rounded operands)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

def TileAndVectorizePass : Pass<"anvil-tile-and-vectorize", "ModuleOp"> {
  let summary = "Tile matmuls for the caches and registers, then vectorize";
  let description = [{
    Gives every `linalg.matmul` with static shapes a two-level tiling: cache
    blocks (up to 128x256x256, loops ordered i, k, j) and a register tile of
    up to 8 rows by 32 columns (two AVX-512 vectors) with one step of k.
    Each register tile is vectorized into broadcast-FMA outer products whose
    8x32 accumulator stays in registers across the k loop (hoisted out of
    it). Those sizes are AVX-512's (`vector-bits` 512: 32 registers of 16
    lanes, 16 accumulators); with `vector-bits` 256 (AVX2: 16 registers of
    8 lanes) the tile is up to 6 rows by 16 lanes (12 accumulators) and
    every 32 below is 16 (an 8x32 tile there, 32 accumulators in 16
    registers, spills on every k step: 8 GF/s on an AVX2 EPYC). Tile sizes are the largest divisors of each dimension up to those
    targets, so every tile is full and no masking is needed. A width that 16
    does not divide (a convolution's 196 or 49 output pixels) keeps whole
    32- or 16-lane register tiles instead of narrow divisors: the last tile
    of each column block is peeled off (`transform.loop.peel`) into its own
    narrower, still full and static, tile. With `pack` (the default), a
    product with at least two row tiles and a 32-column panel reads B from
    contiguous copies instead: in each cache block and k block, each 32-column
    sliver of B (kc rows, N floats apart in B) is copied into a kc x 32
    buffer that every row tile of the block then reads (the last nc % 32
    columns into a narrower one, whose tile is peeled as above); the
    accumulator's start (zeros, a broadcast bias) runs per parallel block.
    With one k block (K up to 256), it runs per packed row tile instead
    (`start-in-registers`): vectorized with the tile, the accumulators start
    as its vector (zeros, 8 bias values broadcast), not as a read of C.
    With several k blocks, the first runs before the k-block loop on the
    start itself (`peel-first-k-block`) and starts in registers likewise;
    the loop carries the rest.
    With `pack-im2col` (the default), when B is a convolution's im2col
    matrix (its copy generic collapsed to [K, P]) and the output rows are at
    least 16 pixels long, each sliver is read straight from the (padded)
    images instead: per filter tap, one masked load per output row the
    sliver's pixels lie on (with stride 2, a contiguous load twice as wide
    whose even lanes are kept; a gather with a larger stride), so the
    im2col matrix is never written. A sliver whose pixels all lie on one
    output row (most of them, when rows are several slivers wide) takes a
    copy of the loop with one plain load per tap and no masks (at stride 2,
    the wide load, when it stays inside the padded row): on AVX2, each
    masked load rebuilt its mask from bytes. A sliver across row ends
    reads each row's part with a plain load too and selects its lanes by a
    mask made once per sliver, when all its loads stay inside the images
    (`im2col-blend`). With `window-k-blocks`, such a product's k blocks are
    whole filter windows where K allows (K = 576 for a 3x3 window: blocks
    of 144 rather than 192), so that a sliver's taps are walked channel by
    channel, kernel row by kernel row, at constant offsets.
    A fused epilogue (bias, activation, residual add) of a packed product
    whose K is one k block runs in each row tile, on the tile's product
    before it is stored (`epilogue-in-tiles`): no second pass over the
    block (with several k blocks, a tile's product is final only in the
    last block, and the epilogue stays on the finished block). A product
    too small for parallel blocks (below 8 MFLOP, or inside
    anvil-parallelize-images' loop) with such an epilogue is one block of
    the same kind, so that its epilogue too runs in the tiles rather than
    as a loop over all of C after it (SqueezeNet's 1x1 convolutions).
    With `pack-constant-a` (the default), a packed product whose A is a
    constant (a convolution's or linear layer's weights, M x K) reads it
    from a copy in row panels made at compile time: [M/mr, K, mr], panel p
    holding rows [p*mr, p*mr + mr) k-major. A row tile's mr x kc block of A
    is then one contiguous kc x mr stream (a `linalg.matmul_transpose_a` on
    the panel's slice) instead of mr rows K floats apart (for K = 512, 2 KB
    apart: 8 streams per tile, 4K-aliasing every other row). The sums are
    the same, in the same order.
    With `pack-constant-b` (the default), a product whose B is a constant
    (a linear layer's weights, transposed at compile time) reads each of
    its blocks' slivers as a slice of a copy in column panels made at
    compile time: each column block's panels of 32 columns (16 on AVX2),
    k-major, the last one zero-padded. Such a product is packed even when
    its block has a single row tile (M = 8): the register tiles then read
    one contiguous stream per panel instead of kc rows N floats apart, a
    4 KB page per k step for a classifier's 1000 columns, and no copy is
    made at run time. The sums are the same, in the same order.
    A static `linalg.batch_matmul`
    first becomes an `scf.for` over its batch of such matmuls (the batch
    dimension tiled by 1). The schedule is a transform-dialect sequence
    built per matmul and applied by the transform interpreter.
    Before:

    ```mlir
    %c = linalg.matmul ins(%a, %b : tensor<64x784xf32>, tensor<784x256xf32>)
                       outs(%acc : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```

    After (inside the tile loops):

    ```mlir
    %acc = vector.transfer_read %tile ... : tensor<8x32xf32>, vector<8x32xf32>
    %r = scf.for %k = ... iter_args(%v = %acc) -> (vector<8x32xf32>) {
      ... vector.fma %a_broadcast, %b_row, %v_row : vector<32xf32> ...
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::transform::TransformDialect"
  ];
  let options = [
    Option<"pack", "pack", "bool", "true",
           "Pack B's 32-column slivers into contiguous buffers in each block "
           "(off: the register tiles read B's rows in place)">,
    Option<"peel", "peel", "bool", "true",
           "Peel the last register tile of widths 16 does not divide (off: "
           "tiles are divisors of the width, such as 7 or 28 lanes)">,
    Option<"startInRegisters", "start-in-registers", "bool", "true",
           "In a packed product with one k block, start each row tile's "
           "accumulators in registers from the op that starts C (zeros, "
           "a bias broadcast) (off: that op writes the whole block first "
           "and the tiles read it back)">,
    Option<"peelFirstKBlock", "peel-first-k-block", "bool", "true",
           "With start-in-registers, run a packed product's first k block "
           "before its k-block loop, on the op that starts C, so that its row "
           "tiles start in registers too (off: with several k blocks that op "
           "writes the whole block first and the tiles read it back)">,
    Option<"packIm2col", "pack-im2col", "bool", "true",
           "Pack a convolution's B slivers straight from its (padded) "
           "images, so that its im2col matrix is never written (off: the "
           "im2col copy writes the matrix and the packing copies it again)">,
    Option<"deinterleaveStride2", "deinterleave-stride2", "bool", "true",
           "With pack-im2col, read a stride-2 convolution's rows as "
           "contiguous loads twice as wide and keep their even lanes (off: "
           "one gather per output row, as for strides of 3 and more)">,
    Option<"im2colBlend", "im2col-blend", "bool", "true",
           "With pack-im2col, a sliver whose pixels cross output rows reads "
           "each row's part with a plain load and keeps its lanes by a "
           "select, where the loads stay inside the images (off: one masked "
           "load per row and tap)">,
    Option<"windowKBlocks", "window-k-blocks", "bool", "true",
           "With pack-im2col, a convolution's k blocks are whole filter "
           "windows (a multiple of kh*kw rows) and each sliver's taps are "
           "walked channel by channel at constant offsets (off: k blocks of "
           "any divisor of K, each row's tap found by division)">,
    Option<"epilogueInTiles", "epilogue-in-tiles", "bool", "true",
           "With epilogue-in-place, a packed product with one k block runs "
           "its fused epilogue on each register tile before storing it, "
           "parallel blocks or not (off: over the finished cache block, one "
           "more pass over it; a product too small for parallel blocks then "
           "keeps its epilogue as a loop after it)">,
    Option<"epilogueInPlace", "epilogue-in-place", "bool", "true",
           "Run a fused epilogue in place: the accumulator starts in the "
           "block's slice of the result and the epilogue overwrites the "
           "product there (off: the product and the epilogue each get a "
           "scratch block, copied out to the result)">,
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "The target's vector registers, which size the register tile: "
           "512 (AVX-512: up to 8 rows x 32 lanes), 256 (AVX2, 16 "
           "registers: up to 6 rows x 16 lanes)">,
    Option<"fullHeightTiles", "full-height-tiles", "bool", "true",
           "A packed block's row tiles are the registers' full height (6 "
           "rows on AVX2) and its last rows one or two shorter tiles, where M "
           "has no divisor that high (off: the largest divisor of M up to it, "
           "4 rows for M = 512 on AVX2)">,
    Option<"packConstantA", "pack-constant-a", "bool", "true",
           "In a packed product whose A is a constant (weights), read A "
           "from a copy of it in row panels made at compile time ([M/mr, K, "
           "mr], k-major), so that a row tile reads one contiguous stream "
           "(off: the tile's rows are read in place, K floats apart)">,
    Option<"packConstantB", "pack-constant-b", "bool", "true",
           "In a product whose B is a constant (a linear layer's weights), "
           "read B's slivers from a copy of it in column panels made at "
           "compile time (one contiguous stream each, no copy at run time), "
           "and pack such a product even with one row tile (off: B's "
           "slivers are copied in blocks with two row tiles or more, else "
           "read in place, rows N floats apart)">,
  ];
}

def FuseElementwisePass : Pass<"anvil-fuse-elementwise", "ModuleOp"> {
  let summary = "Fuse chains of elementwise linalg ops into one loop nest";
  let description = [{
    Upstream linalg elementwise fusion (a producer generic with one use is
    folded into its consumer's body; reshapes are folded by expansion;
    fills and scalar constants are folded in), with a bound on the size of
    a fused body. Each fusion copies the producer's whole body into the
    consumer, so a chain of n ops fused into one costs n^2/2 op copies:
    20,000 chained ONNX ops took minutes. A producer whose body already
    holds `max-body-ops` operations is not fused; its chain starts a new
    loop nest. Real models' chains are a few ops long, far below the bound,
    and a chain split every 64 ops costs one extra pass over memory per 64
    ops of arithmetic. Nor is a producer fused whose result the consumer
    broadcasts (reads through a map that drops loops, as a layer norm's
    per-row `sqrt(var + eps)` divided into each element of its row): the
    fused body would compute each of the producer's elements once per
    consumer element that reads it (128 sqrts and divisions per row of a
    transformer's layer norm instead of one; 8-15% of its time), where
    unfused it costs one small loop and buffer; or a squeeze-and-excitation
    block's sigmoid of [N, C, 1, 1] recomputed for every pixel of the
    multiply over [N, C, H, W], which also kept that loop scalar). Before:

    ```mlir
    %a = linalg.generic {...} ins(%x : tensor<8xf32>) ... { math.exp }
    %b = linalg.generic {...} ins(%a : tensor<8xf32>) ... { arith.negf }
    ```

    After:

    ```mlir
    %b = linalg.generic {...} ins(%x : tensor<8xf32>) ... { math.exp; arith.negf }
    ```

    An elementwise generic whose inputs are all one `linalg.transpose`
    (read as it writes, the same element) moves above it (option
    `hoist-above-transposes`): `act(transpose(x))` becomes
    `transpose(act(x))`. Upstream fusion fuses no `linalg.transpose`; the
    transpose back to NCHW after a channels-last depthwise convolution is
    one, and the activation after it was a loop of its own (MobileNetV2:
    7 relu6 loops). Above it, the activation fuses into the depthwise
    generic. (A quantize after an int8 convolution's transpose, which also
    reads its zero point, stays: moved above, it fused, but the transpose
    of u8 lowers to byte inserts and ResNet-18 int8 measured 0.5-2 ms
    slower.)

    A window generic (two or more of its inputs are views of one tensor:
    a depthwise convolution's or a pooling's taps) is not fused into a
    consumer whose body computes an exp, a tanh or an erf (a SiLU's
    sigmoid, a GELU), option `math-out-of-windows`. Fused, the window's
    chain of kh*kw fmas and the activation's few dozen instructions per
    vector (once anvil-approximate-math expands them) share one loop body
    whose dependence chain the core cannot overlap across iterations, and
    with several rows at a time (anvil-vectorize-windows' row-blocks) its
    accumulators spill. Measured on the Zen 3 (AVX2, one core, batch 8),
    EfficientNet-B0's 5x5 depthwise convolution of 240 channels on 28x28
    with its SiLU: 1.7 ms alone, 1.2 ms for the SiLU as a loop of its
    own, 4.9 ms fused; the whole network 1.09x faster with the SiLUs out.

    Nor is a window generic fused into a consumer that reads it other than
    element for element (option `windows-read-in-order`): the im2col copy
    of a batched 1x1 convolution (images under 64 pixels, one matmul over
    the batch: [C, 1, 1, N, OH, OW] read from NCHW), with a 7x7 depthwise
    convolution fused in, was one scalar loop in the copy's order, which
    anvil-vectorize-windows does not recognize: MobileNetV2's last three
    depthwise layers took 0.58 ms each at batch 8 on a Xeon (AVX-512), one
    thread. Apart, the window keeps its vector rows and the copy is a copy.
  }];
  let options = [
    Option<"maxBodyOps", "max-body-ops", "int64_t", "64",
           "Most operations a producer's body may hold and still be fused">,
    Option<"fuseBroadcasts", "fuse-broadcasts", "bool", "false",
           "Also fuse producers the consumer broadcasts, recomputing them "
           "for each element they are broadcast to (for comparison)">,
    Option<"hoistAboveTransposes", "hoist-above-transposes", "bool", "true",
           "Move an elementwise op whose only input is a linalg.transpose "
           "above it, so that it fuses with the transpose's producer">,
    Option<"mathOutOfWindows", "math-out-of-windows", "bool", "true",
           "Leave a window generic (a depthwise convolution's or a "
           "pooling's) out of a consumer that computes an exp, a tanh or an "
           "erf (a SiLU): the activation runs as a loop of its own">,
    Option<"windowsReadInOrder", "windows-read-in-order", "bool", "true",
           "Leave a window generic out of a consumer that reads it other "
           "than element for element (a batched 1x1 convolution's im2col "
           "copy): the window keeps its vectorized rows">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::tensor::TensorDialect"
  ];
}

def ApproximateMathPass : Pass<"anvil-approximate-math", "ModuleOp"> {
  let summary = "Replace f32 exp, tanh and erf by vectorizable polynomials";
  let description = [{
    LLVM has no vector exp: a `math.exp` in a loop becomes one call to
    libm's `expf` per element (tanh and erf too, through
    `convert-math-to-libm`). Calls are slow, block vectorization, and in a
    large function make register allocation quadratic (each call clobbers
    every vector register): a chain of 5,000 sigmoids spent 40% of its
    compile time there. This pass rewrites the f32 math ops named in `ops`
    into upstream MLIR's polynomial approximations (Cephes' exp with range
    reduction, Eigen's tanh, a piecewise erf), which are plain arithmetic
    that LLVM vectorizes. tests/e2e/test_math_accuracy.py holds them to
    libm: exp within 8 ulp (5 seen), tanh 4, erf 3; infinities and NaN
    as libm gives them; an exp that would be subnormal (x < -87.3) may
    flush to zero, and erf(-0) is +0. f64 ops keep calling libm.

    With `sigmoid-reciprocal` (off by default: EfficientNet-B0 ran 4-7%
    slower with it than with the exact division in three alternating
    measurements at load 1, 2026-12-02) a sigmoid's division
    1 / (1 + exp(y)) (also inside SiLU and squeeze-excite kernels) gets its
    denominator clamped to 2^126 and the flags `arcp ninf`, so that LLVM
    computes it, on vectors, as a reciprocal estimate (vrcp14ps; vrcpps on
    AVX2, which flushes an estimate below FLT_MIN to 0) and one Newton
    step instead of vdivps (which was ~40% of a fused depthwise+SiLU kernel's samples).
    test_math_accuracy.py holds the sigmoid within 4 ulp of the exact
    value (or |result| <= FLT_MIN, where the exact result is below it).
    Before:

    ```mlir
    %e = math.exp %x : f32
    ```

    After:

    ```mlir
    %k = math.floor ... ; %p = math.fma ... ; ... %e = arith.mulf %p, %pow2 : f32
    ```
  }];
  let options = [
    ListOption<"ops", "ops", "std::string",
               "The math ops to approximate (exp, tanh, erf)">,
    Option<"sigmoidReciprocal", "sigmoid-reciprocal", "bool", "false",
           "the sigmoid's f32 division 1 / (1 + exp(y)) as a reciprocal "
           "estimate and one Newton step (denominator clamped to 2^126, "
           "division marked arcp ninf)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def FoldPadIntoProducerPass : Pass<"anvil-fold-pad-into-producer", "ModuleOp"> {
  let summary = "Make the generic before a tensor.pad write into the padded buffer";
  let description = [{
    A `tensor.pad` (the border depthwise convolutions and pooling windows
    read) bufferizes into a fill of the whole padded buffer and a copy of
    the source into its interior. When the source is the only result of an
    all-parallel `linalg.generic` that writes a fresh tensor and has no
    other user (the fused activation before a depthwise convolution), the
    generic writes into the interior of the padded buffer instead, and only
    the border is filled. Measured (one core, MobileNetV2's 96-channel
    112x112 stride-2 depthwise layer): the pad's memset and copy were 46% of
    the layer. Runs after elementwise fusion (the generic is then the whole
    fused chain) and before `anvil-parallelize-loops`, which then keeps the
    generic's loops apart (its rows are not contiguous in the padded
    buffer). Rows narrower than `min-row` stay padded by a copy: LLVM
    unrolls such short innermost loops and vectorizes the loop around them
    with gathers and scatters, slower than the copy.

    Every other pad with static sizes and a constant padding value (of a
    function argument, a reshape, a matmul's result, rows under `min-row`)
    gets the same border fill around a `linalg.copy` of its source into the
    interior (`copy-others`). Left to bufferization, its fill and copy came
    after `anvil-parallelize-loops` and ran on one thread (MobileNetV2 at
    batch 8 has 13 such pads, of 28-, 14- and 7-wide rows: at 2 threads the
    memsets of their whole buffers alone were 2.4% of the CPU samples, on
    the main thread only; 1.1% after). As ops of their own they are split
    for the threads like any other, and only the border is filled. Before:

    ```mlir
    %a = linalg.generic ... outs(%e : tensor<1x32x112x112xf32>) {...}
    %p = tensor.pad %a low[0, 0, 1, 1] high[0, 0, 1, 1] {...}
    ```

    After:

    ```mlir
    %e = tensor.empty() : tensor<1x32x114x114xf32>
    ... linalg.fill of the four border slabs, inserted into %e: %b ...
    %s = tensor.extract_slice %b[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1]
    %a = linalg.generic ... outs(%s : tensor<1x32x112x112xf32>) {...}
    %p = tensor.insert_slice %a into %b[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1]
    ```

    A pad no producer writes whose only reader is one window generic (a
    depthwise convolution's or a pool's taps), with output rows of at least
    `split-min-row`, is not copied (`split-windows`): the generic becomes
    one copy per region of its output, an interior whose taps read the
    pad's source in place and border bands whose taps read small pads of
    the cells they need. The bands at the rows' ends are the columns whose
    windows reach into the pad; those two or more columns wide (a 5x5
    window's) are widened to `band-columns` (8) where the interior keeps
    some: two columns ran as scalar loops (25 fmas per output), eight are
    one vector per row. A 5x5 depthwise convolution of 240 channels on
    28x28 (Zen 3, one core, batch 8): 3.1 ms with 2-column bands, 2.3 ms
    with 8-column ones (EfficientNet-B0 ~0.5% faster). One-column bands (a
    3x3 window's) stay: MobileNetV2 was 0.8% slower with them widened.

    Such a copied pad of f32 rows (at most 4 vectors wide, padded along
    its last two dimensions only: a depthwise convolution's or a pool's
    input on 14x14 or 7x7 maps) is written in one pass over its rows
    (`pad-rows-lanes`): the rows above and below are fills, and each
    source row is read as vectors (reads past its end give the padding
    value; the first one shuffled right past the left border) and written
    whole into its padded row, border columns included. A fill per border
    column (one strided store per row, which LLVM made scatters) and a
    copy of the interior were three passes: MobileNetV2 at batch 8 on a
    Xeon (AVX-512), one thread, spent more in them than in its 14x14
    depthwise convolutions.
  }];
  let options = [
    Option<"minRow", "min-row", "int64_t", "32",
           "Narrowest innermost dimension whose pad is folded">,
    Option<"copyOthers", "copy-others", "bool", "true",
           "Pads that cannot be folded become a border fill and a copy into "
           "the interior, split for threads like other ops (false: left to "
           "bufferization, which fills and copies on one thread)">,
    Option<"splitWindows", "split-windows", "bool", "true",
           "A pad that cannot be folded and is read only by the taps of one "
           "window generic: the generic split into an interior that reads "
           "the pad's source in place and border bands that read small "
           "pads of it (false: the pad is copied)">,
    Option<"splitMinRow", "split-min-row", "int64_t", "16",
           "Narrowest output row (innermost window loop) whose window is "
           "split">,
    Option<"bandColumns", "band-columns", "int64_t", "8",
           "Columns the bands at a split window's row ends span at least, "
           "where the interior keeps some (1: only the columns whose "
           "windows reach into the pad)">,
    Option<"padRowsLanes", "pad-rows-lanes", "int64_t", "16",
           "With copy-others, a pad of f32 rows of at most 4 vectors along "
           "its last two dimensions only is written row by row in one pass, "
           "this many lanes at a time: fills above and below, each source "
           "row read and written whole with its border columns (0: a fill "
           "per border column and a copy of the interior)">,
    Option<"splitTailStores", "split-tail-stores", "bool", "true",
           "With pad-rows-lanes, write a row's last chunk past its end as "
           "whole vectors of 8, 4, 2 and 1 lanes instead of one masked store "
           "(vmaskmovps, microcoded on AMD's cores)">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
}

def ParallelizeImagesPass : Pass<"anvil-parallelize-images", "ModuleOp"> {
  let summary = "Run a batch's small convolutions one image per thread";
  let description = [{
    anvil-convert-to-linalg convolves a batch one image at a time, in an
    `scf.for` over the images; each image's matmul is then split into
    parallel blocks by `anvil-tile-and-vectorize`, but only if it is big
    enough (about 8 MFLOP): smaller ones ran on one thread, one image after
    the other, while the other threads waited. This pass turns such a loop,
    when its matmuls are below `max-flops`, into an `scf.forall` over the
    images: the threads share the images, each image's work stays whole on
    its thread (one fork per convolution, not one per image, and no split
    of a small matmul). Its matmuls get `anvil.in_parallel_loop`, which
    keeps them in one block.

    The loop's scratch tensors are made in each iteration instead, so that
    images do not share them: the zero-bordered padded image the loop
    carried (each image wrote its interior) is filled per image, the empty
    im2col matrix made before the loop is made per image; anvil-plan-memory
    gives such temporaries one arena slot per image (N times the memory of
    one, only while the convolution runs). A loop whose slots together
    would exceed `max-scratch-bytes` does not get one per image: where the
    sequential loop reused one buffer that stayed in cache, N slots may not
    (LeNet-5 at batch 64, 5 MB of slots, took 1.45x the CPU time on one
    thread). It runs in chunks instead (`chunk-images`): an `scf.forall`
    over as many equal chunks of images as have room for their slots (at
    least 2; LeNet-5 at batch 64: 8 chunks of 8 images), each chunk the
    original sequential loop over its images, which carries one set of
    scratch buffers and its slice of the output. Loops it does not recognize
    (carried values that are neither image slices written back nor such
    scratch buffers, an outside tensor written in place, nested loops) stay
    sequential. Before:

    ```mlir
    %r:2 = scf.for %n = %c0 to %c8 step %c1 iter_args(%o = %out, %p = %zeros) {
      %img = tensor.extract_slice %x[%n, 0, 0, 0] [1, 8, 16, 16] [1, 1, 1, 1]
      %pi = tensor.insert_slice %img into %p[0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1]
      %cols = linalg.generic ... ins(%pi) outs(%colsBuf) ...
      ...
      %y = linalg.matmul ins(%w, %cols2) outs(%acc)
      %o2 = tensor.insert_slice %ye into %o[%n, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1]
      scf.yield %o2, %pi
    }
    ```

    After:

    ```mlir
    %r = scf.forall (%n) in (8) shared_outs(%o = %out) {
      %p = linalg.fill ins(%zero) outs(tensor.empty() : tensor<1x8x18x18xf32>)
      %colsBuf = tensor.empty() : tensor<8x3x3x1x16x16xf32>
      ... (the same body)
      %y = linalg.matmul {anvil.in_parallel_loop} ins(%w, %cols2) outs(%acc)
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %ye into %o[%n, 0, 0, 0] ...
      }
    }
    ```
  }];
  let options = [
    Option<"maxFlops", "max-flops", "double", "8e6",
           "Image loops whose matmuls (per image, together) reach this many "
           "FLOPs stay sequential (their matmuls get parallel blocks)">,
    Option<"maxScratchBytes", "max-scratch-bytes", "int64_t", "1 << 20",
           "Image loops whose per-image scratch buffers (padded images, "
           "im2col matrices) would take more bytes than this, all images "
           "together, run in chunks of images (or stay sequential)">,
    Option<"chunkImages", "chunk-images", "bool", "true",
           "Image loops whose scratch slots exceed max-scratch-bytes run in "
           "chunks of images, one slot per chunk (false: they stay "
           "sequential)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::arith::ArithDialect"
  ];
}

def ParallelizeLoopsPass : Pass<"anvil-parallelize-loops", "ModuleOp"> {
  let summary = "Split every large linalg op into parallel tiles (scf.forall)";
  let description = [{
    Matmuls get their parallel cache blocks from `anvil-tile-and-vectorize`;
    this pass does the same for every other linalg op at the top level of a
    function (elementwise generics, transposes, im2col copies, pooling,
    reductions, fills), which the LLVM phase then runs on OpenMP threads.

    First, loops that every operand walks contiguously merge into one
    (`linalg::collapseOpIterationDims`): a 4-D elementwise op on NCHW tensors
    becomes one long loop, which LLVM vectorizes with plain vector loads
    (left 4-D, its 28-wide innermost loop is fully unrolled and the loop
    around it vectorized with gathers: 20x slower). Generics that read their
    indices or whose maps are not permutations (im2col) keep their loops.

    Then an op whose work (iterations times the ops of its body) reaches
    `min-work` is tiled into an `scf.forall` of about `tiles` tiles (enough
    for 16 threads, an even load for 2), splitting the outermost parallel
    loops first; the innermost loop is split last and in multiples of 16, so
    that each tile keeps a long contiguous inner loop. A fork/join costs
    about 1.5 us on the 2-core machine; a fused add+relu breaks even at about
    64k elements (work 128k), hence the default of 256k. Reduction loops are
    never split, so results do not depend on the number of threads. Ops
    inside sequential `scf.for` loops are split too (a batch's convolutions
    run one image at a time; each image's im2col copy is split, at one
    fork per image); ops under an `scf.forall` (the matmuls' parallel
    blocks) are left alone: parallel regions do not nest; so are ops that read backwards (`n - 1 - i`), whose
    tiles' operand slices upstream tiling would get wrong. Before:

    ```mlir
    %r = linalg.generic {... iterator_types = ["parallel", "parallel"]}
        ins(%x : tensor<256x4704xf32>) outs(%e : tensor<256x4704xf32>) {...}
    ```

    After:

    ```mlir
    %r = scf.forall (%i) = (0) to (1204224) step (75264) shared_outs(%o = %e1) {
      %t = linalg.generic ... ins(%xs : tensor<75264xf32>) ...
      scf.forall.in_parallel { tensor.parallel_insert_slice %t into %o ... }
    }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "262144",
           "Least work (iterations times body ops) worth a parallel loop">,
    Option<"tiles", "tiles", "int64_t", "16",
           "How many tiles a parallel op is split into (about)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::affine::AffineDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def RecordInterfacePass : Pass<"anvil-record-interface", "ModuleOp"> {
  let summary = "Record entry signatures and external params as attributes";
  let description = [{
    Records what the runtime sees of the model, while functions are still on
    tensors (bufferization then turns results into out-parameters, and the
    LLVM lowering signatures into bare pointers):

    - `anvil.signature` on every public function: its `FunctionType`, with
      the shapes and element types the runtime checks inputs against (an
      argument or result that is not a static tensor of f32, f64, i64, i32,
      i8 or i1 is an error naming it);
    - `anvil.external_params` on the module: one dictionary per parameter
      kept in storage (anvil-materialize-params `external`), with its
      `name`, its `storage` global and its `type`.

    Both survive to the LLVM dialect; compiler/Codegen.cpp reads them from
    the final module for the runtime's tables and a library's C header.
    Before:

    ```mlir
    memref.global @__anvil_param_0 : memref<3x2xf32> {anvil.param_name = "w"}
    func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x2xf32>
    ```

    After:

    ```mlir
    module attributes {anvil.external_params = [
        {name = "w", storage = @__anvil_param_0, type = tensor<3x2xf32>}
      ]} {
      func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x2xf32>
          attributes {anvil.signature = (tensor<2x3xf32>) -> tensor<2x2xf32>}
    ```
  }];
}

def ProtectInputsPass : Pass<"anvil-protect-inputs", "ModuleOp"> {
  let summary = "Mark entry-point arguments read-only for bufferization";
  let description = [{
    One-shot bufferization assumes a function may overwrite its argument
    buffers. Entry points belong to callers who keep using their inputs (the
    C API takes them as `const`), so this marks every argument of every
    public function `bufferization.writable = false`: bufferization then
    copies instead of writing in place. Before:

    ```mlir
    func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32>
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<4xf32> {bufferization.writable = false}) -> tensor<4xf32>
    ```
  }];
}

def UntieEmptyTensorsPass : Pass<"anvil-untie-empty-tensors", "ModuleOp"> {
  let summary = "Give every 16 uses of a tensor.empty their own, before bufferization";
  let description = [{
    CSE merges identical `tensor.empty` ops, so after it every elementwise
    op of a function writes into the same empty tensor. One-shot
    bufferization's analysis then puts all of them in one alias set and
    checks each write against every other use: quadratic in the op count (a
    chain of 1,000 unfused ops spent over 20 s there; 500 ops 3.1 s, against
    0.13 s untied). An empty tensor has no contents, so its uses can be
    split among copies of it. Every 16 uses (in program order) get their
    own copy: each alias set stays small, so the analysis is linear, while
    neighbours still share one and the analysis still finds the in-place
    writes between them (an epilogue over its matmul's product shares the
    product's empty tensor and writes over it; untying every use would give
    it a buffer of its own). The copies are made right after the original,
    in the same block, so none of them is allocated inside a loop. Before,
    with 17 uses:

    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %0 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>)   // use 1
    ...
    %16 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>)  // use 17
    ```

    After:

    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %e1 = tensor.empty() : tensor<4xf32>
    %0 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>)
    ...
    %16 = linalg.fill ins(%c : f32) outs(%e1 : tensor<4xf32>)
    ```
  }];
}

def EraseEmptyIOPass : Pass<"anvil-erase-empty-io", "ModuleOp"> {
  let summary = "Entry-point tensors without elements become tensor<0xT>";
  let description = [{
    A tensor with no elements holds no data, but one with a size 0 after
    its leading dimension (`tensor<3x0xf32>`) has a layout whose strides
    collapse, which the bare-pointer calling convention refuses: the
    function would take memref descriptors where the runtime passes
    pointers. So every empty argument and result of a public function
    becomes `tensor<0xT>` (one pointer, like any other), and the body uses a
    `tensor.empty` of the old type instead. Before:

    ```mlir
    func.func @forward(%a: tensor<3x0xf32>, %b: tensor<0x4xf32>) -> tensor<3x4xf32> {
      %y = linalg.matmul ins(%a, %b : tensor<3x0xf32>, tensor<0x4xf32>) ...
    ```

    After:

    ```mlir
    func.func @forward(%a: tensor<0xf32>, %b: tensor<0xf32>) -> tensor<3x4xf32> {
      %a0 = tensor.empty() : tensor<3x0xf32>
      %b0 = tensor.empty() : tensor<0x4xf32>
      %y = linalg.matmul ins(%a0, %b0 : tensor<3x0xf32>, tensor<0x4xf32>) ...
    ```
  }];
  let dependentDialects = ["tensor::TensorDialect"];
}

def PlanMemoryPass : Pass<"anvil-plan-memory", "ModuleOp"> {
  let summary = "Place every temporary buffer in one static arena per function";
  let description = [{
    After bufferization, each `memref.alloc` with a static shape in a
    function's top-level block (the temporaries between ops) gets a fixed
    offset in an arena: a private `memref.global` of bytes, so a call
    allocates nothing. Offsets come from buffer lifetimes (first definition
    to last use, following views of the buffer): buffers are placed largest
    first at the lowest 64-byte-aligned offset that overlaps no placed buffer
    alive at the same time. The allocation becomes a `memref.view` of the
    arena and its deallocation disappears. The function records the plan in
    an `anvil.memory_plan` attribute (arena bytes; offset, bytes and
    lifetime of each buffer), which `anvilc --print-memory-plan` prints.
    An alloc in the body of a top-level `scf.forall` from 0 in steps of 1,
    freed in the same body (each image's temporaries under
    `anvil-parallelize-images`), gets one slot per iteration, the slot
    picked by the induction variable: threads never share one, and the plan
    records `slots`. Buffers it cannot plan (dynamic shapes, inside other
    loops, escaping through an unknown op) keep their allocation. A function with an arena is not
    reentrant: calls of the same function must not overlap. Before:

    ```mlir
    %a = memref.alloc() {alignment = 64 : i64} : memref<64x256xf32>
    ...
    memref.dealloc %a : memref<64x256xf32>
    ```

    After:

    ```mlir
    memref.global "private" @__anvil_arena_forward : memref<131072xi8>
    ...
    %arena = memref.get_global @__anvil_arena_forward : memref<131072xi8>
    %a = memref.view %arena[%c0][] : memref<131072xi8> to memref<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def FoldBatchNormPass : Pass<"anvil-fold-batch-norm", "ModuleOp"> {
  let summary = "Fold inference batch normalization into the convolution before it";
  let description = [{
    An `anvil.batch_norm` (inference form) whose input is an `anvil.conv2d`
    used by nothing else, with constant scale, bias, mean and variance and a
    constant filter (and bias, if any), becomes one convolution: with
    `s = scale / sqrt(var + epsilon)` per output channel, the filter is
    `w * s` and the bias `(b - mean) * s + bias`, computed in double and
    rounded once to the element type. One pass over the output less, and
    the normalization's four parameters disappear. Runs after parameters
    became constants, so only inference with built-in weights folds. The
    new convolution's location fuses both ops' locations and it records
    `anvil.fused = ["batch_norm"]`; a batch norm that is not folded gets
    `anvil.not_fused` with the reason, for `anvilc --fusion-report`.

    A batch norm after an `anvil.dequantize` (a quantized convolution's
    i32 result: `anvilc quantize` quantizes the filter unfolded) with a
    constant scale and zero point, per tensor or per channel along axis 1,
    and no other user, folds into it: with `a = scale / sqrt(var +
    epsilon)`, the dequantize's scale becomes `scale_q * a` per channel
    (its zero point per channel too) and `bias - mean * a` is added as a
    `[1, C, 1, 1]` constant; the dequantize records `anvil.fused =
    ["batch_norm"]`. (The shift cannot become a zero point: `(q - zp) *
    s` moves by whole multiples of s.) The fused loop after the
    convolution then does a multiply-add instead of the norm's four
    operations per element.
    Before:

    ```mlir
    %y = anvil.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
    %z = anvil.batch_norm %y, %g, %b, %m, %v : ...
    ```

    After:

    ```mlir
    %z = anvil.conv2d %x, %w2, %b2 {anvil.fused = ["batch_norm"]} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
    ```
  }];
}

def HoistQuantizePass : Pass<"anvil-hoist-quantize", "ModuleOp"> {
  let summary = "Quantize before the max pools and reshapes that feed a quantize";
  let description = [{
    An `anvil.quantize` whose input is an `anvil.max_pool2d`, `anvil.reshape`
    or `anvil.flatten` with no other user moves before it: the op then runs
    on the quantized (8-bit) values. Repeated, so a quantize climbs past a
    flatten and then the pool before it. Exact (bit for bit): a quantize
    with positive scales keeps order, so the maximum of the quantized cells
    is the quantized maximum, and a per-tensor quantize maps each element
    alone. Conditions, each a reason in `anvil.not_hoisted` when it fails
    (the fusion report prints it): the op's result has no other user; a
    per-channel quantize moves only before a max pool (axis 1, the
    channels, stays); before a max pool, the scale is a positive finite
    constant and the pool's input has no other user (quantizing it whole
    beside the f32 the others read would cost a division per input cell on
    top). The moved op gets `anvil.after_quantize`.

    Why: the quantize then ends a quantized convolution's chain
    (dequantize, add, relu), which anvil-int8-matmul computes in its tiles'
    stores, so the convolution stores 1 byte per element instead of 4, and
    the pool moves bytes too.
    Before:

    ```mlir
    %r = anvil.relu %a : tensor<1x6x28x28xf32>
    %p = anvil.max_pool2d %r {kernel = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
    %q = anvil.quantize %p, %s, %zp : tensor<1x6x14x14xf32>, tensor<f32>, tensor<ui8>
    ```

    After:

    ```mlir
    %r = anvil.relu %a : tensor<1x6x28x28xf32>
    %q = anvil.quantize %r, %s, %zp : tensor<1x6x28x28xf32>, tensor<f32>, tensor<ui8>
    %p = anvil.max_pool2d %q {anvil.after_quantize, kernel = array<i64: 2, 2>} : tensor<1x6x28x28xui8>
    ```
  }];
}

def SinkConcatPass : Pass<"anvil-sink-concat", "ModuleOp"> {
  let summary = "Move a concat's elementwise user before it, onto each input";
  let description = [{
    A concat whose only user is a unary elementwise op (one operand, a
    result of its type, no side effects) or an inference `anvil.batch_norm`
    over the concat's axis (axis 1, channels) trades places with it: the op
    is applied to each input (a batch norm with its slice of the per-channel
    scale, bias, mean and variance, which fold into constants), and a new
    concat joins the results; repeated while the new concat has such a
    user. The same elements are computed, by one chain per input, and the
    concat now joins fresh results, which anvil-write-concat-in-place has
    write straight into its buffer: DenseNet's pre-activation layers
    (concat -> batch_norm -> relu -> conv2d) no longer copy every earlier
    layer's output into a new concat and read the copy again. A concat with
    several users stays (its result would be computed once per user).
    Before:

    ```mlir
    %c = anvil.concat %a, %b {axis = 1 : i64} : tensor<8x64x56x56xf32>, tensor<8x32x56x56xf32>
    %n = anvil.batch_norm %c, %g, %s, %m, %v : tensor<8x96x56x56xf32>, ...
    %r = anvil.relu %n : tensor<8x96x56x56xf32>
    ```

    After:

    ```mlir
    %na = anvil.batch_norm %a, %g0, %s0, %m0, %v0 : tensor<8x64x56x56xf32>, ...
    %ra = anvil.relu %na : tensor<8x64x56x56xf32>
    %nb = anvil.batch_norm %b, %g1, %s1, %m1, %v1 : tensor<8x32x56x56xf32>, ...
    %rb = anvil.relu %nb : tensor<8x32x56x56xf32>
    %r = anvil.concat %ra, %rb {axis = 1 : i64} : tensor<8x64x56x56xf32>, tensor<8x32x56x56xf32>
    ```
  }];
}

def WriteConcatInPlacePass : Pass<"anvil-write-concat-in-place", "ModuleOp"> {
  let summary = "Have the producers of a concat's pieces write into its buffer";
  let description = [{
    Expects linalg on tensors after elementwise fusion, before
    anvil-parallelize-loops. A concat lowers to a chain of
    `tensor.insert_slice`s into a `tensor.empty`; bufferized, each insert is
    a copy of its piece into the result's buffer. For each piece that is the
    only result of an all-parallel `linalg.generic` writing a fresh tensor
    (which it does not read) with no other user, the generic moves to its
    insert and writes into the `tensor.extract_slice` of the result that the
    insert fills, which one-shot bufferization makes the result's buffer
    itself: no copy. Every other piece is copied by an explicit
    `linalg.copy` into that slice (`copy-others`), which
    anvil-parallelize-loops splits for the threads (left to bufferization,
    the copy ran on one thread). The chain's root becomes a
    `bufferization.alloc_tensor`: a slice of a `tensor.empty` would fold
    into a fresh tensor of its own. Before:

    ```mlir
    %g = linalg.generic ... ins(%a : tensor<8x64x56x56xf32>) outs(%e : tensor<8x64x56x56xf32>) {...}
    %r = tensor.empty() : tensor<8x96x56x56xf32>
    %r0 = tensor.insert_slice %g into %r[0, 0, 0, 0] [8, 64, 56, 56] [1, 1, 1, 1]
    %r1 = tensor.insert_slice %b into %r0[0, 64, 0, 0] [8, 32, 56, 56] [1, 1, 1, 1]
    ```

    After:

    ```mlir
    %r = bufferization.alloc_tensor() : tensor<8x96x56x56xf32>
    %s0 = tensor.extract_slice %r[0, 0, 0, 0] [8, 64, 56, 56] [1, 1, 1, 1]
    %g = linalg.generic ... ins(%a : tensor<8x64x56x56xf32>) outs(%s0 : tensor<8x64x56x56xf32>) {...}
    %r0 = tensor.insert_slice %g into %r[0, 0, 0, 0] [8, 64, 56, 56] [1, 1, 1, 1]
    %s1 = tensor.extract_slice %r0[0, 64, 0, 0] [8, 32, 56, 56] [1, 1, 1, 1]
    %c = linalg.copy ins(%b : tensor<8x32x56x56xf32>) outs(%s1 : tensor<8x32x56x56xf32>)
    %r1 = tensor.insert_slice %c into %r0[0, 64, 0, 0] [8, 32, 56, 56] [1, 1, 1, 1]
    ```
  }];
  let options = [
    Option<"copyOthers", "copy-others", "bool", "true",
           "Pieces no generic can write in place are copied by a linalg.copy "
           "that anvil-parallelize-loops splits for threads (false: left to "
           "bufferization, which copies on one thread)">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def FuseMatmulEpiloguePass : Pass<"anvil-fuse-matmul-epilogue", "ModuleOp"> {
  let summary = "Run a matmul's elementwise consumers on its cache blocks";
  let description = [{
    A static `linalg.matmul` whose result is used only by an elementwise
    `linalg.generic` (identity maps on the product and the result; other
    operands may be anything: a residual of the same shape, a broadcast
    bias), directly or through the `tensor.expand_shape` that makes a
    convolution's [O, OH*OW] product NCHW, gets that generic as its
    epilogue: the chain of elementwise generics after it, each the only
    user of the one before, is fused into one body (as
    anvil-fuse-elementwise would, up to `max-body-ops` operations), its
    loops are collapsed to the matmul's 2-D space (the reshape moves after
    it) and it is marked `anvil.epilogue`. anvil-tile-and-vectorize then
    tiles the epilogue with the matmul's parallel cache blocks and fuses
    the matmul and its accumulator's start (zeros, or the conv's bias
    broadcast) into each block: the bias is written, the product
    accumulated and the epilogue applied to one block after another while
    the block is in L1/L2, instead of three passes over the whole output.
    (Not in the register tile: k is blocked outside the register tiles, so
    the epilogue runs on the cache block after its last k block.) Matmuls
    too small for parallel blocks keep a separate epilogue loop.

    A batch's convolutions reach their consumers in two more forms (see
    anvil-convert-to-linalg's Conv.cpp). Images of 64 pixels or more are
    an `scf.for` over the images: the chain that alone uses the loop's
    result moves into the loop, on the image's slice of each other operand
    (a residual), writing the image's slot of the loop's result (no copy
    after the loop; the accumulator starts in one image's buffer made
    before the loop, which anvil-parallelize-images gives each image), and
    becomes that image's epilogue as above. Smaller images are one matmul
    over the batch whose [O, N, OH, OW] product is transposed to NCHW: the
    chain commutes with the transpose (its operands read through the
    permutation) and becomes the epilogue of the [O, N*OH*OW] product, the
    transpose after it. Not fused: a product (or image loop) with another
    user, a consumer that reads it through a non-identity map (a
    transpose, a reduction), another operand whose map does not survive
    the collapse to the matmul's 2-D space (a residual of the batched
    product, whose columns run image by image; an operand read at
    constants, such as a batch norm's [C, 1, 1] at (d1, 0, 0)): the chain
    ends before such an op. (A `linalg.broadcast` bias that starts the
    accumulator stays one: anvil-tile-and-vectorize writes it block by
    block.)

    An activation that reads its input twice, x * sigmoid(x) (a SiLU), x *
    clip(x / 6 + 1/2, 0, 1) (a hard swish, as ONNX exports it), gives the
    product (or a link of the chain, such as a Gemm's bias add) several
    elementwise users. When the chains after them, each op the only user
    of the one before, all meet in one of those users (option
    `join-users`), they are first fused into it, which then reads the
    product once, and the chain goes on from there. Measured on the Zen 3
    (AVX2, one core, batch 8): EfficientNet-B0 1.03x and MobileNetV3-Small
    1.02x faster, each SiLU or hard swish computed on the product's
    register tiles instead of one more pass over its output (a 1x1
    convolution of 16 to 96 channels on 112x112 and its SiLU: 13% less
    time). Users whose chains do not meet (a second consumer, a residual
    branch) are left as they are. Before:

    ```mlir
    %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %e = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
    %s = linalg.generic ... ins(%e, %res : ...) { arith.addf }
    %r = linalg.generic ... ins(%s : ...) { arith.maximumf }
    ```

    After:

    ```mlir
    %p = linalg.matmul ins(%w, %cols : ...) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %r2 = linalg.generic {anvil.epilogue, ...} ins(%p, %res2 : tensor<64x196xf32>, tensor<64x196xf32>) ... { arith.addf; arith.maximumf }
    %r = tensor.expand_shape %r2 [[0, 1], [2, 3]] ...
    ```
  }];
  let options = [
    Option<"maxBodyOps", "max-body-ops", "int64_t", "64",
           "Most operations the epilogue's body may hold and still take "
           "the next op of the chain">,
    Option<"joinUsers", "join-users", "bool", "true",
           "A product (or link of the chain) read by several elementwise "
           "ops whose chains meet in one of them (x * sigmoid(x), a hard "
           "swish, a GELU) takes them all, joined into that one">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def VectorizeWindowsPass : Pass<"anvil-vectorize-windows", "ModuleOp"> {
  let summary = "Vectorize window kernels that read their taps with a stride";
  let description = [{
    Pooling and depthwise convolutions lower to elementwise generics over
    the output whose inputs are the window's taps, read at
    (n, c, y*sh, x*sw). With sw >= 2 LLVM's cost model leaves the x loop
    scalar (interleaved loads): LeNet's 2x2/2 max pool of 64x6x28x28 took
    0.13 ms scalar, 0.058 ms vectorized.
    This pass rewrites every all-parallel generic on static tensors that
    reads an operand at `stride * x + c` (stride >= 2) along its innermost
    loop x into loops over the outer dimensions and chunks of `lanes`
    outputs along x: each strided tap is read as one contiguous vector of
    stride * lanes elements and deinterleaved by a `vector.shuffle`, the
    other operands are read as vectors (or broadcast when they do not
    depend on x), the body runs on vectors and the results are written
    with `vector.transfer_write`. Reads never leave their operand: chunks
    that fit whole run in an `scf.for`; the rest of the row is static,
    narrower chunks whose window is moved back to end in bounds, or with
    `masked-tails` (the default) chunks a power of two wide whose reads
    past the operand's end and whose lanes past the row's end are masked
    (in_bounds = false): 14-wide rows were loads of 8, 4 and 2. With
    `short-rows`, generics whose innermost loop has at least 4 and fewer
    than `lanes` iterations are rewritten too, stride 1 or not (one vector
    per row): LLVM leaves those scalar, and 7-wide rows are where
    EfficientNet's and MobileNet's last stages spend their time. With
    `ragged-rows`, so are those whose innermost loop is longer than `lanes`
    but not a multiple of it (28- and 56-wide maps): LLVM picked 4-lane
    vectors for EfficientNet's 28-wide 5x5 depthwise convolutions with SiLU
    (5 GFLOP/s); here they are one 16-lane chunk and a 12-lane tail. Runs
    after anvil-parallelize-loops, inside its scf.forall tiles. Generics
    with neither a strided innermost read nor a short row, reading their
    indices or with
    non-elementwise bodies are left alone. With `row-blocks` (the default),
    when the inputs are slices of one tensor (a window's taps, views of its
    padded input) and two neighbouring rows read a vector in common (tap
    (i+1, j) of row y is tap (i, j) of row y + 1), rows are computed
    together: as many as eight 256-bit registers of accumulators hold
    (WindowSchedule.h), each shared vector read once from the taps' common
    source, and the rows' ops interleaved in the order of the elements they
    read, each row's own ops in the body's order (bit-identical results).
    MobileNetV3-Small's 5x5 depthwise convolutions on 7x7 and 14x14 maps
    read each input vector up to 5 times instead of 25 (one core: 0.95 ->
    0.63 ms for 240 channels of 14x14, batch 8). A chunk that overruns its
    row (a 14-wide row's 16 lanes, a 7-wide row's 8) is stored as whole
    vectors of 8, 4, 2 and 1 lanes (`split-tail-stores`), not one masked
    store: vmaskmovps to memory is microcoded on AMD's cores, and took 40%
    of a 3x3 depthwise convolution's time on 14-wide rows on the Zen 3;
    split, EfficientNet-B0 ran 1.03x, MobileNetV3-Small 1.05x and
    MobileNetV2 1.01x faster (one core, batch 8). Before:

    ```mlir
    %r = linalg.generic {indexing_maps = [(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2), ...]}
        ins(%tap0, %tap1 : tensor<4x6x27x27xf32>, ...) outs(%o : tensor<4x6x14x14xf32>) {...}
    ```

    After (inside scf.for loops over d0, d1, d2):

    ```mlir
    %w = vector.transfer_read %tap0[%n, %c, %y2, %x2], %zero {in_bounds = [true]}
        : tensor<4x6x27x27xf32>, vector<16xf32>
    %t = vector.shuffle %w, %w [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xf32>, vector<16xf32>
    ... arith.cmpf ogt, %t, %u : vector<8xf32> ...
    %o2 = vector.transfer_write %m, %o[%n, %c, %y, %x] {in_bounds = [true]}
        : vector<8xf32>, tensor<4x6x14x14xf32>
    ```
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "Outputs per vector along the innermost loop">,
    Option<"shortRows", "short-rows", "bool", "true",
           "Also vectorize generics whose innermost loop is shorter than "
           "`lanes` (and at least 4), stride 1 or not">,
    Option<"raggedRows", "ragged-rows", "bool", "true",
           "Also vectorize generics whose innermost loop is longer than "
           "`lanes` but not a multiple of it, stride 1 or not">,
    Option<"maskedTails", "masked-tails", "bool", "true",
           "Compute the rest of a row after the chunks that fit whole in "
           "chunks of `lanes` outputs (the last one a power of two wide), "
           "reading past an operand's end masked (off: narrower chunks whose "
           "windows are moved back to end in bounds)">,
    Option<"rowBlocks", "row-blocks", "bool", "true",
           "Compute several rows (iterations of the loop outside the "
           "innermost) together when their windows overlap, reading each "
           "vector they share once, through the slices the taps are of">,
    Option<"splitTailStores", "split-tail-stores", "bool", "true",
           "Store a chunk that overruns its row as whole vectors of 8, 4, 2 "
           "and 1 lanes (14 = 8 + 4 + 2) instead of one masked store "
           "(vmaskmovps, microcoded on AMD's cores)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def OutlineKernelsPass : Pass<"anvil-outline-kernels", "ModuleOp"> {
  let summary = "Move each loop nest of a function into a function of its own";
  let description = [{
    LLVM's optimizations are superlinear in the size of a function (scalar
    evolution walks the dominators back to the entry for every loop it
    asks about): DenseNet-121 at batch 8, one function of some 1,500 loop
    nests, spent most of a 176 s compile there. Every op at the top level
    of a bufferized function that holds a loop nest (regions, no results:
    a linalg op, scf.for, scf.forall) becomes a call of a new private
    function `@<function>_kernel<N>` holding it, so each function LLVM
    sees is small and anvilc's parallel code generation can spread them
    over its threads. Values the nest reads that are computed from
    constants and globals alone (arena views, index constants) are
    recomputed inside, so LLVM still knows which buffers are apart; the
    rest (the function's arguments) are passed. The new functions are
    `no_inline` (LLVM would inline a function of one call back) and have
    internal linkage. A nest that reads a memref the bare-pointer
    convention cannot pass stays, and a function with fewer than
    `min-kernels` nests stays whole. Before:

    ```mlir
    func.func @forward(%x: memref<64xf32>, %y: memref<64xf32>) {
      linalg.map { math.exp } ins(%x : memref<64xf32>) outs(%y : memref<64xf32>)
      return
    }
    ```

    After:

    ```mlir
    func.func private @forward_kernel0(%x: memref<64xf32>, %y: memref<64xf32>)
        attributes {llvm.linkage = #llvm.linkage<internal>, no_inline} {
      linalg.map { math.exp } ins(%x : memref<64xf32>) outs(%y : memref<64xf32>)
      return
    }
    func.func @forward(%x: memref<64xf32>, %y: memref<64xf32>) {
      call @forward_kernel0(%x, %y) : (memref<64xf32>, memref<64xf32>) -> ()
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"minKernels", "min-kernels", "int64_t", "1",
           "Outline the nests of functions with at least this many">,
  ];
}

def VectorizeCopiesPass : Pass<"anvil-vectorize-copies", "ModuleOp"> {
  let summary = "Small static copies as vector loads and stores";
  let description = [{
    Bufferization makes a `linalg.copy` of every tensor slice it cannot
    write in place: a matmul's packed B sliver (16 floats of 32 rows), a
    concat's part, a pad's interior. As loops, LLVM copies them one float
    at a time: it cannot prove that the two buffers do not overlap, so it
    neither vectorizes the loop nor merges the unrolled scalar moves. A
    static copy of at most `max-elements` elements whose rows are contiguous
    in both buffers becomes one `vector.transfer_read` and one
    `vector.transfer_write` instead, which the vector lowering unrolls into
    whole-row vector moves. (MobileNetV2's 1x1 convolutions at 112x112
    spent half their time in such scalar copies of B's slivers.) Larger
    copies stay loops, which LLVM vectorizes with a run-time overlap check.
    Before:

    ```mlir
    linalg.copy ins(%a : memref<1x16xf32, strided<[12544, 1], offset: ?>>)
                outs(%b : memref<1x16xf32, strided<[16, 1], offset: ?>>)
    ```

    After:

    ```mlir
    %v = vector.transfer_read %a[%c0, %c0], %pad {in_bounds = [true, true]}
        : memref<1x16xf32, strided<[12544, 1], offset: ?>>, vector<1x16xf32>
    vector.transfer_write %v, %b[%c0, %c0] {in_bounds = [true, true]}
        : vector<1x16xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>
    ```
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "1024",
           "The largest copy (in elements) that becomes vector transfers">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // ANVIL_PASSES_TD
