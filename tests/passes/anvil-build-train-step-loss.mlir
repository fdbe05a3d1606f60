// RUN: anvil-opt %s -split-input-file -anvil-build-train-step="loss=nll" -verify-diagnostics | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-build-train-step="loss=cross-entropy" -verify-diagnostics | FileCheck %s --check-prefix=CE
// RUN: anvil-opt %s -split-input-file -anvil-build-train-step="loss=mse" -verify-diagnostics | FileCheck %s --check-prefix=MSE
// RUN: not anvil-opt %s -split-input-file -anvil-build-train-step="loss=hinge" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not anvil-opt %s -split-input-file -anvil-build-train-step="optimizer=rmsprop" 2>&1 | FileCheck %s --check-prefix=BADOPT

// The loss anvilc train --loss names (the pass's `loss` option) is built
// here, not by the driver: a @loss of @forward's result against a target.
// (anvil-build-train-step.mlir: without it, the model's own @loss.)

// loss=nll replaces the model's @loss by the NLL loss of @forward's result
// against class indices, which the steps then compose.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8xi64>) -> (tensor<f32>, tensor<8xi64>)
// CHECK: anvil.nll_loss
// CHECK-NOT: anvil.mse_loss
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8xi64>, %{{.*}}: tensor<f32>) -> tensor<f32>
// CHECK: anvil.nll_loss
// cross-entropy: softmax cross-entropy against class indices.
// CE-LABEL: func.func @eval_step(
// CE-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8xi64>) -> (tensor<f32>, tensor<8xi64>)
// CE: anvil.softmax_cross_entropy
// CE-NOT: anvil.mse_loss
// CE-LABEL: func.func @train_step(
// CE: anvil.softmax_cross_entropy
// mse: the target is a tensor like the prediction.
// MSE-LABEL: func.func @eval_step(
// MSE-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8x2xf32>) -> (tensor<f32>, tensor<8xi64>)
// MSE: anvil.mse_loss
// MSE-LABEL: func.func @train_step(
// MSE-SAME: tensor<8x3xf32>, %{{.*}}: tensor<8x2xf32>, %{{.*}}: tensor<f32>) -> tensor<f32>
// A loss the pass does not know is an error naming the option and the value
// (the option is an enum: its cl::values are the spellings).
// BAD: for the --loss option: Cannot find option named 'hinge'!
// BADOPT: for the --optimizer option: Cannot find option named 'rmsprop'!
func.func @forward(%x: tensor<8x3xf32>) -> tensor<8x2xf32> {
  %w = anvil.param "fc.weight" init = "xavier_uniform" : tensor<3x2xf32>
  %y = anvil.matmul %x, %w : tensor<8x3xf32>, tensor<3x2xf32>
  return %y : tensor<8x2xf32>
}
func.func @loss(%y: tensor<8x2xf32>, %t: tensor<8x2xf32>) -> tensor<f32> {
  %l = anvil.mse_loss %y, %t : tensor<8x2xf32>, tensor<8x2xf32>
  return %l : tensor<f32>
}

// -----

// Without a @loss of its own, the model gets one.
// CHECK-LABEL: func.func @eval_step(
// CHECK: anvil.nll_loss
// CHECK-LABEL: func.func @train_step(
func.func @forward(%x: tensor<8x3xf32>) -> tensor<8x2xf32> {
  %w = anvil.param "fc.weight" init = "xavier_uniform" : tensor<3x2xf32>
  %y = anvil.matmul %x, %w : tensor<8x3xf32>, tensor<3x2xf32>
  return %y : tensor<8x2xf32>
}

// -----

// expected-error @+1 {{training needs a @forward with one result}}
module {
  func.func @forward(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    return %x, %x : tensor<4xf32>, tensor<4xf32>
  }
}
