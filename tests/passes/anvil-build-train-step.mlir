// RUN: anvil-opt %s -split-input-file -anvil-build-train-step="momentum=0.9" -verify-diagnostics | FileCheck %s

// @train_step takes the learning rate after x and the target, updates every
// parameter and its momentum in place and returns the loss; @eval_step
// composes forward and loss without gradients or updates (dropout in its
// inference form) and returns the predicted classes too.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %[[X:.*]]: tensor<8x3xf32>, %[[T:.*]]: tensor<8xi64>) -> (tensor<f32>, tensor<8xi64>)
// CHECK: %[[W:.*]] = anvil.param "fc.weight"
// CHECK: %[[Y:.*]] = anvil.matmul %[[X]], %[[W]]
// CHECK: anvil.dropout %[[Y]] {ratio = 2.500000e-01 : f64} : tensor<8x2xf32>
// CHECK: %[[L:.*]] = anvil.softmax_cross_entropy
// CHECK: %[[C:.*]] = anvil.argmax %{{.*}} : tensor<8x2xf32>
// CHECK-NOT: anvil.assign
// CHECK: return %[[L]], %[[C]] : tensor<f32>, tensor<8xi64>
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8xi64>, %{{.*}}: tensor<f32>) -> tensor<f32>
// CHECK-SAME: anvil.trained = ["fc.weight"]
// CHECK: anvil.dropout %{{.*}} {ratio = 2.500000e-01 : f64, training}
// CHECK: anvil.assign "fc.weight.momentum"
// CHECK: anvil.assign "fc.weight"
func.func @forward(%x: tensor<8x3xf32>) -> tensor<8x2xf32> {
  %w = anvil.param "fc.weight" init = "xavier_uniform" : tensor<3x2xf32>
  %y = anvil.matmul %x, %w : tensor<8x3xf32>, tensor<3x2xf32>
  %d, %mask = anvil.dropout %y {ratio = 0.25 : f64, training} : tensor<8x2xf32>
  return %d : tensor<8x2xf32>
}
func.func @loss(%y: tensor<8x2xf32>, %t: tensor<8xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %y, %t : tensor<8x2xf32>, tensor<8xi64>
  return %l : tensor<f32>
}

// -----

// A prediction without a class axis: @eval_step returns the loss alone.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: -> tensor<f32>
// CHECK-NOT: anvil.argmax
// CHECK-LABEL: func.func @train_step(
func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = anvil.param "w" init = "ones" : tensor<4xf32>
  %y = anvil.mul %x, %w : tensor<4xf32>, tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func @loss(%y: tensor<4xf32>, %t: tensor<4xf32>) -> tensor<f32> {
  %l = anvil.mse_loss %y, %t : tensor<4xf32>, tensor<4xf32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{training needs a @forward and a @loss function}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
