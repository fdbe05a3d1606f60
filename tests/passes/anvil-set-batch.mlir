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

// A reshape that does not keep the batch in front cannot follow.
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
