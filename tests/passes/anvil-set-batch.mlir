// RUN: anvil-opt %s -split-input-file -anvil-set-batch="batch=3" -verify-diagnostics | FileCheck %s

// Every argument with the batch in front follows it; result types are
// inferred again; a reshape that changes size gets the new batch; @loss
// (its logits and labels) follows too. Parameters keep their shapes.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %{{.*}}: tensor<3x2x2xf32>) -> tensor<3x5xf32>
// CHECK: anvil.reshape %{{.*}} {shape = array<i64: 3, 4>} : tensor<3x2x2xf32>
// CHECK: anvil.param "w" init = "ones" : tensor<4x5xf32>
// CHECK: anvil.matmul %{{.*}}, %{{.*}} : tensor<3x4xf32>, tensor<4x5xf32>
// CHECK: return %{{.*}} : tensor<3x5xf32>
// CHECK-LABEL: func.func @loss(
// CHECK-SAME: tensor<3x5xf32>, %{{.*}}: tensor<3xi64>) -> tensor<f32>
func.func @forward(%x: tensor<8x2x2xf32>) -> tensor<8x5xf32> {
  %f = anvil.reshape %x {shape = array<i64: 8, 4>} : tensor<8x2x2xf32>
  %w = anvil.param "w" init = "ones" : tensor<4x5xf32>
  %y = anvil.matmul %f, %w : tensor<8x4xf32>, tensor<4x5xf32>
  return %y : tensor<8x5xf32>
}
func.func @loss(%y: tensor<8x5xf32>, %t: tensor<8xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %y, %t : tensor<8x5xf32>, tensor<8xi64>
  return %l : tensor<f32>
}

// -----

// Where the function keeps its samples apart, reshapes and slices follow the
// batch wherever anvil-mark-batch's analysis finds it: here behind the
// sequence, then merged with 2 heads (attention's layout).
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<3x4x6xf32>) -> tensor<3x4x2xf32>
// CHECK: anvil.transpose %{{.*}} : tensor<3x4x6xf32>
// CHECK: anvil.reshape %{{.*}} {shape = array<i64: 4, 6, 3>} : tensor<4x3x6xf32>
// CHECK: anvil.slice %{{.*}} {ends = array<i64: 4, 6, 1>, {{.*}}} : tensor<4x6x3xf32>
// CHECK: anvil.reshape %{{.*}} {shape = array<i64: 4, 3, 2>} : tensor<4x6x1xf32>
// CHECK: return %{{.*}} : tensor<3x4x2xf32>
func.func @forward(%x: tensor<8x4x6xf32>) -> tensor<8x4x2xf32> {
  %t = anvil.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<8x4x6xf32>
  %h = anvil.reshape %t {shape = array<i64: 4, 16, 3>} : tensor<4x8x6xf32>
  %s = anvil.slice %h {starts = array<i64: 0, 0, 0>, ends = array<i64: 4, 16, 1>, steps = array<i64: 1, 1, 1>} : tensor<4x16x3xf32>
  %m = anvil.reshape %s {shape = array<i64: 4, 8, 2>} : tensor<4x16x1xf32>
  %r = anvil.transpose %m {perm = array<i64: 1, 0, 2>} : tensor<4x8x2xf32>
  return %r : tensor<8x4x2xf32>
}

// -----

// A reshape that does not keep the batch in front cannot follow (the
// function's result does not lead with the batch, so the analysis does not
// apply).
func.func @forward(%x: tensor<8x2xf32>) -> tensor<16xf32> {
  // expected-error @+1 {{cannot re-batch the model from 8 to 3: this reshape does not keep the batch as its leading dimension}}
  %f = anvil.reshape %x {shape = array<i64: 16>} : tensor<8x2xf32>
  return %f : tensor<16xf32>
}

// -----

// A constant shaped by the batch cannot follow: one error with the reason.
func.func @forward(%x: tensor<8x2xf32>) -> tensor<8x2xf32> {
  %c = anvil.constant dense<1.0> : tensor<8x2xf32>
  // expected-error @+1 {{cannot re-batch the model from 8 to 3: }}
  %y = anvil.add %x, %c : tensor<8x2xf32>, tensor<8x2xf32>
  return %y : tensor<8x2xf32>
}
