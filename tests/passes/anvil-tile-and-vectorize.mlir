// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s

// Parallel cache blocks (the 64x256 result split in two column blocks, so
// that two threads have work), an 8x32 register tile, and a k loop that
// carries the accumulator in registers.
// CHECK-LABEL: func @matmul_register_tile
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: tensor.extract_slice {{.*}} [64, 128] [1, 1] : tensor<64x256xf32> to tensor<64x128xf32>
// CHECK: scf.for %{{.*}} step %[[C8]]
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<64x128xf32>, vector<8x32xf32>
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

// A width no whole vector divides (a filter gradient's 25 columns): whole
// 32-lane vectors, masked at the edge, instead of 25-lane ones that spill.
// CHECK-LABEL: func @matmul_masked_edge
// CHECK: %[[MASK:.*]] = vector.constant_mask [6, 25] : vector<6x32xi1>
// CHECK: vector.transfer_read {{.*}}, %[[MASK]] {{.*}} : tensor<6x25xf32>, vector<6x32xf32>
// CHECK-COUNT-6: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_masked_edge(%a: tensor<6x512xf32>, %b: tensor<512x25xf32>, %c: tensor<6x25xf32>) -> tensor<6x25xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<6x512xf32>, tensor<512x25xf32>) outs(%c : tensor<6x25xf32>) -> tensor<6x25xf32>
  return %0 : tensor<6x25xf32>
}
