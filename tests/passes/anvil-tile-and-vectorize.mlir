// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="pack=false" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="pack=false peel=false" | FileCheck %s --check-prefix=NOPEEL

// Parallel cache blocks (the 64x256 result split in two column blocks, so
// that two threads have work), an 8x32 register tile, and a k loop that
// carries the accumulator in registers.
// CHECK-LABEL: func @matmul_register_tile
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: tensor.extract_slice {{.*}} [64, 128] [1, 1] : tensor<64x256xf32> to tensor<64x128xf32>
// CHECK: scf.for %{{.*}} step %[[C8]]
// CHECK: %[[TILE:.*]] = tensor.extract_slice {{.*}} [8, 32] [1, 1] : tensor<64x128xf32> to tensor<8x32xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read %[[TILE]]{{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_register_tile(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %0 : tensor<64x256xf32>
}

// -----

// Below ~8 MFLOP the blocks are not worth a thread fork: no forall.
// CHECK-LABEL: func @matmul_small_serial
// CHECK-NOT: scf.forall
// CHECK: vector.fma {{.*}} : vector<32xf32>
func.func @matmul_small_serial(%a: tensor<16x8xf32>, %b: tensor<8x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// -----

// Odd sizes: tiles are divisors of each dimension (7 rows, 5 columns), so
// every tile is full and no mask is needed.
// CHECK-LABEL: func @matmul_odd
// CHECK: vector.transfer_read {{.*}}, vector<7x5xf32>
// CHECK-COUNT-7: vector.fma {{.*}} : vector<5xf32>
// CHECK-NOT: vector.mask
func.func @matmul_odd(%a: tensor<7x3xf32>, %b: tensor<3x5xf32>, %c: tensor<7x5xf32>) -> tensor<7x5xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<7x3xf32>, tensor<3x5xf32>) outs(%c : tensor<7x5xf32>) -> tensor<7x5xf32>
  return %0 : tensor<7x5xf32>
}

// -----

// Dynamic shapes are left alone.
// CHECK-LABEL: func @matmul_dynamic
// CHECK: linalg.matmul
// CHECK-NOT: vector.
func.func @matmul_dynamic(%a: tensor<?x8xf32>, %b: tensor<8x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x64xf32>) outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// A width 16 does not divide (a filter gradient's 25 columns): one whole
// 16-lane tile and the last 9 columns peeled into their own tile, both with
// their accumulators in registers; no masks, no odd vector that spills.
// CHECK-LABEL: func @matmul_peeled_edge
// CHECK-NOT: vector.mask
// CHECK-NOT: vector.constant_mask
// CHECK-DAG: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<6x16xf32>)
// CHECK-DAG: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<6x9xf32>)
// CHECK-DAG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 16] [6, 9] [1, 1] : tensor<6x9xf32> into tensor<6x25xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_peeled_edge(%a: tensor<6x512xf32>, %b: tensor<512x25xf32>, %c: tensor<6x25xf32>) -> tensor<6x25xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<6x512xf32>, tensor<512x25xf32>) outs(%c : tensor<6x25xf32>) -> tensor<6x25xf32>
  return %0 : tensor<6x25xf32>
}

// -----

// A 3x3 convolution's product at 14x14 (N = 196 output pixels): two
// parallel row blocks, each with six full 8x32 tiles per row band (a loop to
// 192) and the last 4 columns peeled into an 8x4 tile.
// With peel=false the register tile is a divisor of the width: 28 lanes.
// CHECK-LABEL: func @matmul_conv_pixels
// NOPEEL-LABEL: func @matmul_conv_pixels
// NOPEEL: scf.for {{.*}} -> (vector<8x28xf32>)
// NOPEEL-NOT: vector<8x4xf32>
// NOPEEL-LABEL: func @matmul_prime_width
// CHECK-DAG: %[[C192:.*]] = arith.constant 192 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C192]] step %[[C32]]
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK: scf.for {{.*}} -> (vector<8x4xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<4xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_conv_pixels(%a: tensor<256x2304xf32>, %b: tensor<2304x196xf32>, %c: tensor<256x196xf32>) -> tensor<256x196xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<256x2304xf32>, tensor<2304x196xf32>) outs(%c : tensor<256x196xf32>) -> tensor<256x196xf32>
  return %0 : tensor<256x196xf32>
}

// -----

// A width no divisor of at least 64 tiles (49 = 7x7 pixels) is one column
// block: three 16-lane tiles and one peeled column.
// CHECK-LABEL: func @matmul_prime_width
// CHECK: scf.for {{.*}} -> (vector<8x16xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x1xf32>)
// CHECK-NOT: linalg.matmul
func.func @matmul_prime_width(%a: tensor<512x512xf32>, %b: tensor<512x49xf32>, %c: tensor<512x49xf32>) -> tensor<512x49xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<512x512xf32>, tensor<512x49xf32>) outs(%c : tensor<512x49xf32>) -> tensor<512x49xf32>
  return %0 : tensor<512x49xf32>
}

// -----

// A batch_matmul is a loop over its batch of 2-D matmuls, each with the
// matmul schedule (the batch dimension tiled by 1).
// CHECK-LABEL: func @batch_matmul_per_entry
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C4]] step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<4x16x64xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK: tensor.insert_slice {{.*}} into tensor<4x16x64xf32>
// CHECK-NOT: linalg.batch_matmul
// CHECK-NOT: linalg.matmul
func.func @batch_matmul_per_entry(%a: tensor<4x16x8xf32>, %b: tensor<4x8x64xf32>, %c: tensor<4x16x64xf32>) -> tensor<4x16x64xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x16x8xf32>, tensor<4x8x64xf32>) outs(%c : tensor<4x16x64xf32>) -> tensor<4x16x64xf32>
  return %0 : tensor<4x16x64xf32>
}

// -----

// A peeled tile inside a batch entry (40 = 32 + 8 columns, one k step, one
// row tile): the entry keeps both tiles' results. (MLIR 19's
// fold_tensor_subset_ops_into_vector_transfers would fold the entry's insert
// and the 8-column tile's write into one write, dropping the 32 columns.)
// CHECK-LABEL: func @batch_matmul_peeled_entry
// CHECK: scf.for
// CHECK: %[[MAIN:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [3, 32] [1, 1] : tensor<3x32xf32> into tensor<3x40xf32>
// CHECK: %[[BOTH:.*]] = tensor.insert_slice %{{.*}} into %[[MAIN]][0, 32] [3, 8] [1, 1] : tensor<3x8xf32> into tensor<3x40xf32>
// CHECK: tensor.insert_slice %[[BOTH]] into %{{.*}} [1, 3, 40] [1, 1, 1] : tensor<3x40xf32> into tensor<2x3x40xf32>
func.func @batch_matmul_peeled_entry(%a: tensor<2x3x1xf32>, %b: tensor<2x1x40xf32>, %c: tensor<2x3x40xf32>) -> tensor<2x3x40xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<2x3x1xf32>, tensor<2x1x40xf32>) outs(%c : tensor<2x3x40xf32>) -> tensor<2x3x40xf32>
  return %0 : tensor<2x3x40xf32>
}

// -----

// Negative: a dynamic batch_matmul is left alone.
// CHECK-LABEL: func @batch_matmul_dynamic
// CHECK: linalg.batch_matmul
// CHECK-NOT: scf.for
func.func @batch_matmul_dynamic(%a: tensor<?x16x8xf32>, %b: tensor<?x8x64xf32>, %c: tensor<?x16x64xf32>) -> tensor<?x16x64xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<?x16x8xf32>, tensor<?x8x64xf32>) outs(%c : tensor<?x16x64xf32>) -> tensor<?x16x64xf32>
  return %0 : tensor<?x16x64xf32>
}
