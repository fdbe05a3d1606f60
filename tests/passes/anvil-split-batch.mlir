// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-split-batch="min-flops-per-weight-byte=0" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-split-batch | FileCheck %s --check-prefix=DENSE
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-split-batch="chunks=1" | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-split-batch="whole-tail=false" | FileCheck %s --check-prefix=TAILOFF
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-split-batch="whole-tail-max-chunk-flops-per-byte=100" | FileCheck %s --check-prefix=TAILKEPT

// A classifier at batch 8 runs as two chunks of 4: the public function
// calls the re-batched clone with the whole input and the chunk's first row
// and inserts its results; the clone slices its rows and holds the network.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[X:.*]]: tensor<8x4xf32>) -> tensor<8x5xf32>
// CHECK-SAME: anvil.split_batch = "split batch 8 into 2 chunks of 4, one per thread
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x5xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[I:.*]]) in (2) shared_outs(%[[O:.*]] = %[[E]]) -> (tensor<8x5xf32>)
// CHECK: %[[OFS:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK: %[[Y:.*]] = func.call @forward__chunk(%[[X]], %[[OFS]]) : (tensor<8x4xf32>, index) -> tensor<4x5xf32>
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %[[Y]] into %[[O]][%[[OFS]], 0] [4, 5] [1, 1] : tensor<4x5xf32> into tensor<8x5xf32>
// CHECK: return %[[R]] : tensor<8x5xf32>
// CHECK-NOT: anvil.matmul
// CHECK-LABEL: func.func private @forward__chunk(
// CHECK-SAME: %[[W:.*]]: tensor<8x4xf32>, %[[F:.*]]: index) -> tensor<4x5xf32>
// CHECK-SAME: anvil.arena_argument
// CHECK-SAME: anvil.split_chunks = 2 : i64
// CHECK-NOT: anvil.batch
// CHECK: %[[S:.*]] = tensor.extract_slice %[[W]][%[[F]], 0] [4, 4] [1, 1] : tensor<8x4xf32> to tensor<4x4xf32>
// CHECK: anvil.matmul %[[S]], %{{.*}} : tensor<4x4xf32>, tensor<4x5xf32>
// CHECK: anvil.softmax %{{.*}} : tensor<4x5xf32>
// By default a chunk must do 8 FLOPs per byte of the weights every chunk
// reads: this classifier's chunk of 4 rows does 2 (each 4-byte weight is
// used by 4 rows), so it stays whole and says why; the convolution below
// does 16 and is split.
// DENSE-LABEL: func.func @forward(
// DENSE-SAME: anvil.split_batch = "not split into chunks: a chunk of 4 would do 2.0 FLOPs per byte of the weights that every chunk reads, below 8 (anvil-split-batch's min-flops-per-weight-byte): threads would stream the same weights"
// DENSE-NOT: scf.forall
// DENSE-NOT: __chunk
// DENSE-LABEL: func.func @two(
// DENSE-SAME: anvil.split_batch = "split batch 4 into 2 chunks of 2
// OFF-LABEL: func.func @forward(
// OFF-NOT: scf.forall
// OFF-NOT: anvil.split_batch
// OFF: anvil.matmul
func.func @forward(%x: tensor<8x4xf32>) -> tensor<8x5xf32> {
  %w = anvil.param "w" init = "ones" : tensor<4x5xf32>
  %b = anvil.param "b" init = "zeros" : tensor<5xf32>
  %y = anvil.matmul %x, %w : tensor<8x4xf32>, tensor<4x5xf32>
  %z = anvil.add %y, %b : tensor<8x5xf32>, tensor<5xf32>
  %s = anvil.softmax %z : tensor<8x5xf32>
  return %s : tensor<8x5xf32>
}

// -----

// Two inputs and two results (a convolution with a skip input): every
// argument is sliced, every result inserted.
// CHECK-LABEL: func.func @two(
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>)
// CHECK: func.call @two__chunk(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>, index) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>)
// CHECK-COUNT-2: tensor.parallel_insert_slice
// CHECK-LABEL: func.func private @two__chunk(
// CHECK-COUNT-2: tensor.extract_slice
// CHECK: anvil.conv2d %{{.*}}, %{{.*}} {{.*}} : tensor<2x2x4x4xf32>, tensor<2x2x3x3xf32>
func.func @two(%x: tensor<4x2x4x4xf32>, %skip: tensor<4x2x4x4xf32>) -> (tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>) {
  %w = anvil.param "w" init = "ones" : tensor<2x2x3x3xf32>
  %c = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<4x2x4x4xf32>, tensor<2x2x3x3xf32>
  %a = anvil.add %c, %skip : tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>
  %r = anvil.relu %a : tensor<4x2x4x4xf32>
  return %r, %c : tensor<4x2x4x4xf32>, tensor<4x2x4x4xf32>
}

// -----

// An odd batch is not a multiple of two chunks: left alone, and says why.
// CHECK-LABEL: func.func @odd(
// CHECK-SAME: anvil.split_batch = "not split into chunks: batch 3 is not a multiple of 2 chunks"
// CHECK-NOT: scf.forall
// CHECK: anvil.matmul
// CHECK-NOT: __chunk
func.func @odd(%x: tensor<3x4xf32>) -> tensor<3x5xf32> {
  %w = anvil.param "w" init = "ones" : tensor<4x5xf32>
  %y = anvil.matmul %x, %w : tensor<3x4xf32>, tensor<4x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

// An input without the batch (a matrix the caller passes whole) leaves the
// function unmarked by anvil-mark-batch, so it is not split either.
// CHECK-LABEL: func.func @no_batch_dim(
// CHECK-SAME: anvil.split_batch = "not split into chunks: its samples are not proven independent
// CHECK-NOT: scf.forall
// CHECK-NOT: __chunk
func.func @no_batch_dim(%x: tensor<8x4xf32>, %w: tensor<4x5xf32>) -> tensor<8x5xf32> {
  %y = anvil.matmul %x, %w : tensor<8x4xf32>, tensor<4x5xf32>
  return %y : tensor<8x5xf32>
}

// -----

// A mean over the batch (a loss) mixes the samples: not split.
// CHECK-LABEL: func.func @mixes(
// CHECK-SAME: anvil.split_batch = "not split into chunks: its samples are not proven independent
// CHECK-NOT: scf.forall
func.func @mixes(%x: tensor<8x4xf32>) -> tensor<4xf32> {
  %m = anvil.reduce_mean %x {axes = array<i64: 0>} : tensor<8x4xf32>
  return %m : tensor<4xf32>
}

// -----

// Indices from the caller are checked only in public functions
// (anvil-check-indices): a lookup by them stays whole.
// CHECK-LABEL: func.func @embed(
// CHECK-SAME: anvil.split_batch = "not split into chunks: it reads by indices
// CHECK-NOT: scf.forall
func.func @embed(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %e = anvil.param "e" init = "ones" : tensor<10x4xf32>
  %g = anvil.gather %e, %ids {axis = 0 : i64} : tensor<10x4xf32>, tensor<2x3xi64>
  return %g : tensor<2x3x4xf32>
}

// -----

// whole-tail: a CNN's classifier after its pooling. The convolution does
// 72 FLOPs per weight byte for a chunk of 4 and is split; the matmul on
// [8, 16] would do 2 in each chunk (its weights streamed once per chunk),
// so it runs once on the whole batch after the forall, with its bias add:
// the chunk returns the pooled [4, 16] rows, and the public function keeps
// the matmul's weights.
// DENSE-LABEL: func.func @cnn_head(
// DENSE-SAME: anvil.split_batch = "split batch 8 into 2 chunks of 4, one per thread (anvil-split-batch): the kernels of @cnn_head__chunk run once per chunk; its last 2 ops (1 matmuls, whose weights a chunk of 4 would stream for too few rows) run once on the whole batch after them (whole-tail)"
// DENSE: %[[FW:.*]] = anvil.param "fw"
// DENSE: %[[E:.*]] = tensor.empty() : tensor<8x16xf32>
// DENSE: %[[P:.*]] = scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %[[E]]) -> (tensor<8x16xf32>)
// DENSE: func.call @cnn_head__chunk(%{{.*}}, %{{.*}}) : (tensor<8x4x6x6xf32>, index) -> tensor<4x16xf32>
// DENSE: tensor.parallel_insert_slice %{{.*}}[%{{.*}}, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<8x16xf32>
// DENSE: %[[M:.*]] = anvil.matmul %[[P]], %[[FW]] : tensor<8x16xf32>, tensor<16x10xf32>
// DENSE: %[[Y:.*]] = anvil.add %[[M]], %{{.*}} : tensor<8x10xf32>, tensor<10xf32>
// DENSE: return %[[Y]] : tensor<8x10xf32>
// DENSE-LABEL: func.func private @cnn_head__chunk(
// DENSE-SAME: -> tensor<4x16xf32>
// DENSE-NOT: anvil.param "fw"
// DENSE: anvil.conv2d
// DENSE: %[[G:.*]] = anvil.reduce_mean
// DENSE-NOT: anvil.matmul
// DENSE: return %[[G]] : tensor<4x16xf32>
// With min-flops-per-weight-byte=0 every chunk is worth its weights: the
// classifier stays in the chunk.
// CHECK-LABEL: func.func @cnn_head(
// CHECK-NOT: whole-tail
// CHECK-LABEL: func.func private @cnn_head__chunk(
// CHECK: anvil.matmul %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x10xf32>
// A chunk that does at least whole-tail-max-chunk-flops-per-byte FLOPs
// per byte of the classifier's weights (the convolution's 166 KFLOP per 640
// bytes of the matmul's: 259) keeps the classifier, and says why.
// TAILKEPT-LABEL: func.func @cnn_head(
// TAILKEPT-SAME: its last 2 ops (a classifier on [B, C]) stay in each chunk: a chunk does 259 FLOPs per byte of their weights, at least 100 (whole-tail-max-chunk-flops-per-byte), so reading them once per chunk costs it little"
// TAILKEPT-NOT: anvil.matmul
// TAILKEPT: return %{{.*}} : tensor<8x10xf32>
// TAILKEPT-LABEL: func.func private @cnn_head__chunk(
// TAILKEPT: anvil.matmul %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x10xf32>
// Off: the chunk holds the classifier.
// TAILOFF-LABEL: func.func @cnn_head(
// TAILOFF-NOT: anvil.matmul
// TAILOFF: return %{{.*}} : tensor<8x10xf32>
// TAILOFF-LABEL: func.func private @cnn_head__chunk(
// TAILOFF: anvil.matmul %{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x10xf32>
func.func @cnn_head(%x: tensor<8x4x6x6xf32>) -> tensor<8x10xf32> {
  %w = anvil.param "cw" init = "ones" : tensor<16x4x3x3xf32>
  %c = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<8x4x6x6xf32>, tensor<16x4x3x3xf32>
  %r = anvil.relu %c : tensor<8x16x6x6xf32>
  %g = anvil.reduce_mean %r {axes = array<i64: 2, 3>} : tensor<8x16x6x6xf32>
  %fw = anvil.param "fw" init = "ones" : tensor<16x10xf32>
  %fb = anvil.param "fb" init = "zeros" : tensor<10xf32>
  %m = anvil.matmul %g, %fw : tensor<8x16xf32>, tensor<16x10xf32>
  %y = anvil.add %m, %fb : tensor<8x10xf32>, tensor<10xf32>
  return %y : tensor<8x10xf32>
}

// -----

// An MLP behind a flatten: the tail would be all its matmuls, leaving each
// chunk only the flatten (a fork and a join for nothing), so there is no
// tail, and a chunk of 4 would do too little per weight byte: not split.
// DENSE-LABEL: func.func @flat_mlp(
// DENSE-SAME: anvil.split_batch = "not split into chunks: a chunk of 4 would do 2.0 FLOPs per byte
// DENSE-NOT: scf.forall
// DENSE-NOT: __chunk
func.func @flat_mlp(%x: tensor<8x4x2x2xf32>) -> tensor<8x10xf32> {
  %f = anvil.flatten %x : tensor<8x4x2x2xf32>
  %w = anvil.param "w" init = "ones" : tensor<16x10xf32>
  %m = anvil.matmul %f, %w : tensor<8x16xf32>, tensor<16x10xf32>
  return %m : tensor<8x10xf32>
}
