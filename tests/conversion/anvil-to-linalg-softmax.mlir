// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg="row-softmax=false" | FileCheck %s --check-prefix=GENERICS

// Attention's softmax over a short innermost axis is one loop over the
// rows: each row is read once into a vector, reduced to its maximum and
// its sum of exponentials, normalized and written once.
// CHECK-LABEL: func @row_softmax
// CHECK: tensor.expand_shape {{.*}} into tensor<8x32xf32>
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[X:.*]] = vector.transfer_read %{{.*}}[%[[R]], %{{.*}}]{{.*}} : tensor<8x32xf32>, vector<32xf32>
// CHECK: %[[MAX:.*]] = vector.reduction <maximumf>, %[[X]]
// CHECK: math.exp %{{.*}} : vector<32xf32>
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc>
// CHECK: arith.divf %{{.*}} : vector<32xf32>
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.generic
// GENERICS-LABEL: func @row_softmax
// GENERICS-NOT: vector.
// GENERICS: linalg.generic
func.func @row_softmax(%x: tensor<2x4x32xf32>) -> tensor<2x4x32xf32> {
  %0 = anvil.softmax %x {axis = 2 : i64} : tensor<2x4x32xf32>
  return %0 : tensor<2x4x32xf32>
}

// -----

// log_softmax too: x - max - log(sum).
// CHECK-LABEL: func @row_log_softmax
// CHECK: scf.for
// CHECK: vector.reduction <maximumf>
// CHECK: math.log %{{.*}} : f32
// CHECK: arith.subf %{{.*}} : vector<16xf32>
func.func @row_log_softmax(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = anvil.log_softmax %x {axis = 1 : i64} : tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Negative cases: softmax over an outer axis, or over a row too long for
// the vector registers, keeps the four generics.
// CHECK-LABEL: func @softmax_outer_axis
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @softmax_outer_axis(%x: tensor<32x8xf32>) -> tensor<32x8xf32> {
  %0 = anvil.softmax %x {axis = 0 : i64} : tensor<32x8xf32>
  return %0 : tensor<32x8xf32>
}

// CHECK-LABEL: func @softmax_long_row
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @softmax_long_row(%x: tensor<2x1000xf32>) -> tensor<2x1000xf32> {
  %0 = anvil.softmax %x {axis = 1 : i64} : tensor<2x1000xf32>
  return %0 : tensor<2x1000xf32>
}
