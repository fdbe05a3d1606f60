// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="start-in-registers=false" | FileCheck %s --check-prefix=NOSTART
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="peel-first-k-block=false" | FileCheck %s --check-prefix=NOPEEL

// B packed per block and k block: each 32-column sliver of the 256-row k
// block is copied row by row into a contiguous 256x32 buffer, which the 8x32
// register tiles of all 16 row tiles of the block then read; the last 4
// columns (196 = 6 x 32 + 4) get their own 256x4 buffer and 8x4 tiles.
// CHECK-LABEL: func @matmul_conv_pixels
// CHECK-DAG: %[[C192:.*]] = arith.constant 192 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK-DAG: %[[BUF:.*]] = tensor.empty() : tensor<256x32xf32>
// CHECK-DAG: %[[TAILBUF:.*]] = tensor.empty() : tensor<256x4xf32>
// CHECK: scf.for %{{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<128x196xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C192]] step %[[C32]]
// CHECK: %[[PACKED:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[BUF]]) -> (tensor<256x32xf32>)
// CHECK: tensor.insert_slice {{.*}} [1, 32] [1, 1] : tensor<1x32xf32> into tensor<256x32xf32>
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: tensor.extract_slice %[[PACKED]]{{.*}} [1, 32] [1, 1] : tensor<256x32xf32> to tensor<1x32xf32>
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK: %[[TAIL:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[TAILBUF]]) -> (tensor<256x4xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x4xf32>)
// CHECK: tensor.extract_slice %[[TAIL]]{{.*}} [1, 4] [1, 1] : tensor<256x4xf32> to tensor<1x4xf32>
// CHECK-COUNT-8: vector.fma {{.*}} : vector<4xf32>
// CHECK-NOT: linalg.matmul
// CHECK-NOT: linalg.copy
func.func @matmul_conv_pixels(%a: tensor<256x2304xf32>, %b: tensor<2304x196xf32>, %c: tensor<256x196xf32>) -> tensor<256x196xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<256x2304xf32>, tensor<2304x196xf32>) outs(%c : tensor<256x196xf32>) -> tensor<256x196xf32>
  return %0 : tensor<256x196xf32>
}

// -----

// 49 columns: one packed 32-column panel, then a 17-column tail buffer whose
// tiles are a 16-lane one and a peeled 1-lane one.
// CHECK-LABEL: func @matmul_prime_width
// CHECK: tensor.empty() : tensor<256x32xf32>
// CHECK: tensor.empty() : tensor<256x17xf32>
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x16xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x1xf32>)
// CHECK-NOT: linalg.matmul
func.func @matmul_prime_width(%a: tensor<512x512xf32>, %b: tensor<512x49xf32>, %c: tensor<512x49xf32>) -> tensor<512x49xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<512x512xf32>, tensor<512x49xf32>) outs(%c : tensor<512x49xf32>) -> tensor<512x49xf32>
  return %0 : tensor<512x49xf32>
}

// -----

// A prime K (577) has no k block of a useful size: one k block of all 577
// rows, packed once. M = 20 has register tiles of 5 rows.
// CHECK-LABEL: func @matmul_prime_k
// CHECK: tensor.empty() : tensor<577x32xf32>
// CHECK: scf.for {{.*}} -> (vector<5x32xf32>)
// CHECK-NOT: linalg.matmul
func.func @matmul_prime_k(%a: tensor<20x577xf32>, %b: tensor<577x64xf32>, %c: tensor<20x64xf32>) -> tensor<20x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<20x577xf32>, tensor<577x64xf32>) outs(%c : tensor<20x64xf32>) -> tensor<20x64xf32>
  return %0 : tensor<20x64xf32>
}

// -----

// Negative: one row tile (M = 8) would not reuse a packed sliver, and a
// width below 32 has no whole panel: B is read in place.
// CHECK-LABEL: func @matmul_not_packed
// CHECK-NOT: tensor.empty
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x16xf32>)
// CHECK-NOT: linalg.matmul
func.func @matmul_not_packed(%a: tensor<8x256xf32>, %b: tensor<256x64xf32>, %c: tensor<8x64xf32>,
                             %d: tensor<64x256xf32>, %e: tensor<256x16xf32>, %f: tensor<64x16xf32>) -> (tensor<8x64xf32>, tensor<64x16xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<8x256xf32>, tensor<256x64xf32>) outs(%c : tensor<8x64xf32>) -> tensor<8x64xf32>
  %1 = linalg.matmul ins(%d, %e : tensor<64x256xf32>, tensor<256x16xf32>) outs(%f : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %0, %1 : tensor<8x64xf32>, tensor<64x16xf32>
}

// -----

// A convolution's bias broadcast starts a product with one k block (K = 64):
// it runs per row tile, so that each tile's accumulators start as 8 bias
// values broadcast across the columns, not as a read of a block that the
// broadcast wrote first. With start-in-registers=false, it runs per block.
// CHECK-LABEL: func @matmul_bias_start_in_registers
// CHECK-NOT: linalg.broadcast
// CHECK: scf.forall
// CHECK: %[[BIAS:.*]] = tensor.extract_slice %{{.*}}[%{{.*}}] [8] [1] : tensor<64xf32> to tensor<8xf32>
// CHECK: vector.transfer_read %[[BIAS]]{{.*}} : tensor<8xf32>, vector<8xf32>
// CHECK: %[[START:.*]] = vector.transpose {{.*}} : vector<32x8xf32> to vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[START]]) -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.broadcast
// NOSTART-LABEL: func @matmul_bias_start_in_registers
// NOSTART: scf.forall
// NOSTART: linalg.broadcast {{.*}} outs(%{{.*}} : tensor<64x224xf32>)
// NOSTART: scf.for {{.*}} -> (vector<8x32xf32>)
func.func @matmul_bias_start_in_registers(%a: tensor<64x64xf32>, %b: tensor<64x3136xf32>, %bias: tensor<64xf32>) -> tensor<64x3136xf32> {
  %e = tensor.empty() : tensor<64x3136xf32>
  %init = linalg.broadcast ins(%bias : tensor<64xf32>) outs(%e : tensor<64x3136xf32>) dimensions = [1]
  %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x3136xf32>) outs(%init : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %0 : tensor<64x3136xf32>
}

// -----

// Three k blocks (K = 576): the first runs before the k-block loop, on the
// bias itself (peel-first-k-block), so its row tiles start as 8 bias values
// broadcast, like a product with one k block; the loop over the other two
// carries the accumulator on from there and reads its tiles back.
// With peel-first-k-block=false (negative), the bias broadcast writes the
// whole block before the loop over all three.
// CHECK-LABEL: func @matmul_bias_k_blocks
// CHECK-NOT: linalg.broadcast
// CHECK: scf.forall
// CHECK: %[[FIRST:.*]] = scf.for
// CHECK: %[[BIAS:.*]] = tensor.extract_slice %{{.*}}[%{{.*}}] [8] [1] : tensor<64xf32> to tensor<8xf32>
// CHECK: vector.transfer_read %[[BIAS]]{{.*}} : tensor<8xf32>, vector<8xf32>
// CHECK: %[[START:.*]] = vector.transpose {{.*}} : vector<32x8xf32> to vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[START]]) -> (vector<8x32xf32>)
// CHECK: scf.for %{{.*}} = %c192 to %c576 step %c192 iter_args(%{{.*}} = %[[FIRST]]) -> (tensor<64x224xf32>)
// CHECK: %[[TILE:.*]] = vector.transfer_read {{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[TILE]]) -> (vector<8x32xf32>)
// CHECK-NOT: linalg.broadcast
// NOPEEL-LABEL: func @matmul_bias_k_blocks
// NOPEEL: scf.forall
// NOPEEL: %[[START:.*]] = linalg.broadcast {{.*}} outs(%{{.*}} : tensor<64x224xf32>)
// NOPEEL: scf.for {{.*}} iter_args(%{{.*}} = %[[START]]) -> (tensor<64x224xf32>)
// NOPEEL: scf.for {{.*}} -> (vector<8x32xf32>)
// NOPEEL-NOT: vector<8xf32>
func.func @matmul_bias_k_blocks(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>, %bias: tensor<64xf32>) -> tensor<64x3136xf32> {
  %e = tensor.empty() : tensor<64x3136xf32>
  %init = linalg.broadcast ins(%bias : tensor<64xf32>) outs(%e : tensor<64x3136xf32>) dimensions = [1]
  %0 = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%init : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  return %0 : tensor<64x3136xf32>
}
