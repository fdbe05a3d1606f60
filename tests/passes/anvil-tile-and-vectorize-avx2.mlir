// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="vector-bits=256" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s --check-prefix=AVX512

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

// M = 64: no divisor of 64 is 5 or 6; tiles of 4 rows.
// CHECK-LABEL: func @matmul_avx2_rows4
// CHECK: scf.for {{.*}} -> (vector<4x16xf32>)
// CHECK-NOT: linalg.matmul
func.func @matmul_avx2_rows4(%a: tensor<64x128xf32>, %b: tensor<128x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}
