// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="pack-constant-a=false" | FileCheck %s --check-prefix=OFF

// A constant A (16 x 4, entry (r, k) = 4r + k) is copied at compile time
// into 2 panels of 8 rows, k-major: panel 0 starts with rows 0-7 of column
// 0 (0, 4, 8, ...). Each 8x32 register tile reads its panel's k-th 8 floats
// (one contiguous vector) and broadcasts them.
// CHECK-LABEL: func @constant_a
// CHECK: %[[PANELS:.*]] = arith.constant dense<{{\[\[\[}}0.000000e+00, 4.000000e+00, 8.000000e+00, 1.200000e+01, 1.600000e+01, 2.000000e+01, 2.400000e+01, 2.800000e+01], [1.000000e+00, 5.000000e+00{{.*}} : tensor<2x4x8xf32>
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %c0 to %c16 step %c8 iter_args({{.*}}) -> (tensor<16x64xf32>)
// CHECK: %[[P:.*]] = arith.divui %[[I]], %{{.*}} : index
// CHECK: %[[PANEL:.*]] = tensor.extract_slice %[[PANELS]][%[[P]], 0, 0] [1, 4, 8] [1, 1, 1] : tensor<2x4x8xf32> to tensor<4x8xf32>
// CHECK: scf.for %[[K:[a-z0-9_]+]] = {{.*}} -> (vector<8x32xf32>)
// CHECK: %[[ROW:.*]] = tensor.extract_slice %[[PANEL]][%[[K]], 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<1x8xf32>
// CHECK: %[[A:.*]] = vector.transfer_read %[[ROW]]{{.*}} : tensor<1x8xf32>, vector<1x8xf32>
// CHECK: vector.extract %[[A]][0, 0] : f32 from vector<1x8xf32>
// CHECK-COUNT-8: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.matmul
// OFF-LABEL: func @constant_a
// OFF-NOT: tensor<2x4x8xf32>
// OFF: tensor.extract_slice %{{.*}} [8, 4] [1, 1] : tensor<16x4xf32> to tensor<8x4xf32>
// OFF: vector.transfer_read {{.*}} : tensor<8x1xf32>, vector<8x1xf32>
func.func @constant_a(%b: tensor<4x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %a = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0], [16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0], [24.0, 25.0, 26.0, 27.0], [28.0, 29.0, 30.0, 31.0], [32.0, 33.0, 34.0, 35.0], [36.0, 37.0, 38.0, 39.0], [40.0, 41.0, 42.0, 43.0], [44.0, 45.0, 46.0, 47.0], [48.0, 49.0, 50.0, 51.0], [52.0, 53.0, 54.0, 55.0], [56.0, 57.0, 58.0, 59.0], [60.0, 61.0, 62.0, 63.0]]> : tensor<16x4xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<16x4xf32>, tensor<4x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// -----

// Negative: an A that is not a constant is read in place.
// CHECK-LABEL: func @argument_a
// CHECK-NOT: tensor<2x4x8xf32>
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK-NOT: linalg.matmul
func.func @argument_a(%a: tensor<16x4xf32>, %b: tensor<4x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<16x4xf32>, tensor<4x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}
