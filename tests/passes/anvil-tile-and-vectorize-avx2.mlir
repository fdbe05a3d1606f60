// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="vector-bits=256" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s --check-prefix=AVX512
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="vector-bits=256 full-height-tiles=false" | FileCheck %s --check-prefix=DIVISOR

// Register tiles sized for AVX2's 16 registers of 8 lanes: up to 6 rows by
// 16 lanes (12 accumulators), B packed in 16-column slivers (the last 4 of
// 196 columns in their own buffer). With AVX-512's sizes (the default), 8
// rows by 32 lanes.
// CHECK-LABEL: func @matmul_avx2
// CHECK: tensor.empty() : tensor<256x16xf32>
// CHECK: scf.for {{.*}} -> (vector<6x16xf32>)
// CHECK-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// CHECK: tensor.empty() : tensor<256x4xf32>
// CHECK: scf.for {{.*}} -> (vector<6x4xf32>)
// CHECK-NOT: linalg.matmul
// AVX512-LABEL: func @matmul_avx2
// AVX512-DAG: tensor.empty() : tensor<256x32xf32>
// AVX512: scf.for {{.*}} -> (vector<8x32xf32>)
func.func @matmul_avx2(%a: tensor<48x256xf32>, %b: tensor<256x196xf32>, %c: tensor<48x196xf32>) -> tensor<48x196xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<48x256xf32>, tensor<256x196xf32>) outs(%c : tensor<48x196xf32>) -> tensor<48x196xf32>
  return %0 : tensor<48x196xf32>
}

// -----

// M = 256: no divisor of 256 is 5 or 6. Full-height tiles (the default,
// for M >= 256 and K >= 128): 42 row tiles of 6 rows (12 accumulators),
// then one of the last 4 rows; with full-height-tiles off, 4-row tiles
// (8 accumulators) only.
// CHECK-LABEL: func @matmul_avx2_full_height
// CHECK: scf.for %{{.*}} = %c0 to %c252 step %c6
// CHECK: scf.for {{.*}} -> (vector<6x16xf32>)
// CHECK: scf.for {{.*}} -> (vector<4x16xf32>)
// CHECK-NOT: linalg.matmul
// DIVISOR-LABEL: func @matmul_avx2_full_height
// DIVISOR: scf.for %{{.*}} = %c0 to %c256 step %c4
// DIVISOR-NOT: vector<6x16xf32>
func.func @matmul_avx2_full_height(%a: tensor<256x128xf32>, %b: tensor<128x64xf32>, %c: tensor<256x64xf32>) -> tensor<256x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<256x128xf32>, tensor<128x64xf32>) outs(%c : tensor<256x64xf32>) -> tensor<256x64xf32>
  return %0 : tensor<256x64xf32>
}

// -----

// M = 64: tiles of 4 rows, its largest divisor up to 6 (full height is for
// M >= 256: measured slower on ResNet-50's 1x1 convolutions to 64 and 128
// channels).
// CHECK-LABEL: func @matmul_avx2_rows4
// CHECK: scf.for {{.*}} -> (vector<4x16xf32>)
// CHECK-NOT: vector<6x16xf32>
// CHECK-NOT: linalg.matmul
func.func @matmul_avx2_rows4(%a: tensor<64x128xf32>, %b: tensor<128x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
