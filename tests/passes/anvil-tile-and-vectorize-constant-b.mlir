// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="pack-constant-b=false" | FileCheck %s --check-prefix=OFF

// A constant B (2 x 40, entry (k, j) = 100k + j) is copied at compile time
// into column panels 32 wide, k-major, the last one zero-padded: [2, 2, 32],
// panel 0 = columns 0-31 of rows 0 and 1, panel 1 = columns 32-39 and 24
// zeros. The product of 8 rows (one row tile, which without the panels
// would not be packed) reads each panel as a slice of that constant: no
// copy at run time.
// CHECK-LABEL: func @constant_b
// CHECK: %[[PANELS:.*]] = arith.constant dense<"0x000000000000803F0000004000004040000080400000A0400000C0400000E0400000004100001041000020410000304100004041000050410000604100007041000080410000884100009041000098410000A0410000A8410000B0410000B8410000C0410000C8410000D0410000D8410000E0410000E8410000F0410000F8410000C8420000CA420000CC420000CE420000D0420000D2420000D4420000D6420000D8420000DA420000DC420000DE420000E0420000E2420000E4420000E6420000E8420000EA420000EC420000EE420000F0420000F2420000F4420000F6420000F8420000FA420000FC420000FE420000004300000143000002430000034300000042000004420000084200000C4200001042000014420000184200001C4200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000443000005430000064300000743000008430000094300000A4300000B43000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<2x2x32xf32>
// CHECK: tensor.extract_slice %[[PANELS]][0, 0, 0] [1, 2, 32] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x32xf32>
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: tensor.extract_slice %[[PANELS]][1, 0, 0] [1, 2, 8] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x8xf32>
// CHECK: scf.for {{.*}} -> (vector<8x8xf32>)
// CHECK-NOT: linalg.copy
// CHECK-NOT: linalg.matmul
// OFF-LABEL: func @constant_b
// OFF-NOT: tensor<2x2x32xf32>
// OFF: tensor.extract_slice %{{.*}} [1, {{[0-9]+}}] [1, 1] : tensor<2x40xf32> to tensor<1x{{[0-9]+}}xf32>
func.func @constant_b(%a: tensor<8x2xf32>, %c: tensor<8x40xf32>) -> tensor<8x40xf32> {
  %b = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0], [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0, 128.0, 129.0, 130.0, 131.0, 132.0, 133.0, 134.0, 135.0, 136.0, 137.0, 138.0, 139.0]]> : tensor<2x40xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<8x2xf32>, tensor<2x40xf32>) outs(%c : tensor<8x40xf32>) -> tensor<8x40xf32>
  return %0 : tensor<8x40xf32>
}

// -----

// The same weights stored [40, 2] and transposed (a linear layer's, as
// ONNX's Gemm has them): the same panels, read from the stored constant;
// the transpose is left without a use.
// CHECK-LABEL: func @transposed_b
// CHECK: %[[PANELS:.*]] = arith.constant dense<"0x000000000000803F0000004000004040000080400000A0400000C0400000E0400000004100001041000020410000304100004041000050410000604100007041000080410000884100009041000098410000A0410000A8410000B0410000B8410000C0410000C8410000D0410000D8410000E0410000E8410000F0410000F8410000C8420000CA420000CC420000CE420000D0420000D2420000D4420000D6420000D8420000DA420000DC420000DE420000E0420000E2420000E4420000E6420000E8420000EA420000EC420000EE420000F0420000F2420000F4420000F6420000F8420000FA420000FC420000FE420000004300000143000002430000034300000042000004420000084200000C4200001042000014420000184200001C4200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000443000005430000064300000743000008430000094300000A4300000B43000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"> : tensor<2x2x32xf32>
// CHECK-NOT: linalg.transpose
// CHECK: tensor.extract_slice %[[PANELS]][0, 0, 0] [1, 2, 32] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x32xf32>
// CHECK: tensor.extract_slice %[[PANELS]][1, 0, 0] [1, 2, 8] [1, 1, 1] : tensor<2x2x32xf32> to tensor<2x8xf32>
// CHECK-NOT: linalg.matmul
// OFF-LABEL: func @transposed_b
// OFF: linalg.transpose
func.func @transposed_b(%a: tensor<8x2xf32>, %c: tensor<8x40xf32>) -> tensor<8x40xf32> {
  %w = arith.constant dense<[[0.0, 100.0], [1.0, 101.0], [2.0, 102.0], [3.0, 103.0], [4.0, 104.0], [5.0, 105.0], [6.0, 106.0], [7.0, 107.0], [8.0, 108.0], [9.0, 109.0], [10.0, 110.0], [11.0, 111.0], [12.0, 112.0], [13.0, 113.0], [14.0, 114.0], [15.0, 115.0], [16.0, 116.0], [17.0, 117.0], [18.0, 118.0], [19.0, 119.0], [20.0, 120.0], [21.0, 121.0], [22.0, 122.0], [23.0, 123.0], [24.0, 124.0], [25.0, 125.0], [26.0, 126.0], [27.0, 127.0], [28.0, 128.0], [29.0, 129.0], [30.0, 130.0], [31.0, 131.0], [32.0, 132.0], [33.0, 133.0], [34.0, 134.0], [35.0, 135.0], [36.0, 136.0], [37.0, 137.0], [38.0, 138.0], [39.0, 139.0]]> : tensor<40x2xf32>
  %e = tensor.empty() : tensor<2x40xf32>
  %b = linalg.transpose ins(%w : tensor<40x2xf32>) outs(%e : tensor<2x40xf32>) permutation = [1, 0]
  %0 = linalg.matmul ins(%a, %b : tensor<8x2xf32>, tensor<2x40xf32>) outs(%c : tensor<8x40xf32>) -> tensor<8x40xf32>
  return %0 : tensor<8x40xf32>
}

// -----

// Negative: a B that is not a constant, in a block of one row tile, is
// read in place (no panels, no copy).
// CHECK-LABEL: func @argument_b
// CHECK-NOT: tensor<2x2x32xf32>
// CHECK-NOT: linalg.copy
// CHECK: tensor.extract_slice %{{.*}} [1, {{[0-9]+}}] [1, 1] : tensor<2x40xf32> to tensor<1x{{[0-9]+}}xf32>
func.func @argument_b(%a: tensor<8x2xf32>, %b: tensor<2x40xf32>, %c: tensor<8x40xf32>) -> tensor<8x40xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<8x2xf32>, tensor<2x40xf32>) outs(%c : tensor<8x40xf32>) -> tensor<8x40xf32>
  return %0 : tensor<8x40xf32>
}
