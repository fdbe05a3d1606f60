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

// -----

// A batch norm over parameter statistics trains in its training form and
// the step updates the running statistics (PyTorch's rule, momentum 0.1:
// 0.9 old + 0.1 batch; the variance unbiased, n = 2 x 2 x 2 = 8 values per
// channel: x 8/7); they get no gradient and no optimizer state. @eval_step
// and @forward keep the inference form.
// CHECK-LABEL: func.func @eval_step(
// CHECK: anvil.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NOT: anvil.batch_norm_train
// CHECK-NOT: anvil.assign
// CHECK: return
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: anvil.trained = ["bn.weight", "bn.bias"]
// CHECK: %{{.*}}, %[[MEAN:.*]], %[[VAR:.*]] = anvil.batch_norm_train %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64} :
// CHECK-NOT: anvil.running_stats
// CHECK-NOT: running_mean.momentum
// CHECK: %[[N:.*]] = anvil.constant dense<1.14285
// CHECK: %[[UNBIASED:.*]] = anvil.mul %[[VAR]], %[[N]]
// CHECK: %[[OLD_MEAN:.*]] = anvil.param "bn.running_mean" init = "zeros"
// CHECK: %[[KEEP:.*]] = anvil.constant dense<0.89999
// CHECK: %[[DECAYED:.*]] = anvil.mul %[[OLD_MEAN]], %[[KEEP]]
// CHECK: %[[TAKE:.*]] = anvil.constant dense<1.000000e-01>
// CHECK: %[[NEW:.*]] = anvil.mul %[[MEAN]], %[[TAKE]]
// CHECK: %[[SUM:.*]] = anvil.add %[[DECAYED]], %[[NEW]]
// CHECK: anvil.assign "bn.running_mean", %[[SUM]]
// CHECK: anvil.param "bn.running_var" init = "ones"
// CHECK: anvil.mul %[[UNBIASED]]
// CHECK: anvil.assign "bn.running_var"
func.func @forward(%x: tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32> {
  %g = anvil.param "bn.weight" init = "ones" : tensor<3xf32>
  %b = anvil.param "bn.bias" init = "zeros" : tensor<3xf32>
  %m = anvil.param "bn.running_mean" init = "zeros" : tensor<3xf32>
  %v = anvil.param "bn.running_var" init = "ones" : tensor<3xf32>
  %y = anvil.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-3 : f64} : tensor<2x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return %y : tensor<2x3x2x2xf32>
}
func.func @loss(%y: tensor<2x3x2x2xf32>, %t: tensor<2x3x2x2xf32>) -> tensor<f32> {
  %l = anvil.mse_loss %y, %t : tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>
  return %l : tensor<f32>
}

// -----

// Statistics that also feed another op cannot be updated from the batch.
func.func @forward(%x: tensor<2x3x2x2xf32>) -> tensor<2x3x2x2xf32> {
  %g = anvil.param "bn.weight" init = "ones" : tensor<3xf32>
  %m = anvil.param "bn.running_mean" init = "zeros" : tensor<3xf32>
  %v = anvil.param "bn.running_var" init = "ones" : tensor<3xf32>
  // expected-error @+1 {{the running statistics 'bn.running_mean' and 'bn.running_var' must be two parameters that feed only this batch norm}}
  %y = anvil.batch_norm %x, %g, %m, %m, %v : tensor<2x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return %y : tensor<2x3x2x2xf32>
}
func.func @loss(%y: tensor<2x3x2x2xf32>, %t: tensor<2x3x2x2xf32>) -> tensor<f32> {
  %l = anvil.mse_loss %y, %t : tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>
  return %l : tensor<f32>
}

// -----

// One value per channel has no variance to train with.
func.func @forward(%x: tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32> {
  %g = anvil.param "bn.weight" init = "ones" : tensor<3xf32>
  %b = anvil.param "bn.bias" init = "zeros" : tensor<3xf32>
  %m = anvil.param "bn.running_mean" init = "zeros" : tensor<3xf32>
  %v = anvil.param "bn.running_var" init = "ones" : tensor<3xf32>
  // expected-error @+1 {{training batch norm needs more than one value per channel (batch x height x width), has 1}}
  %y = anvil.batch_norm %x, %g, %b, %m, %v : tensor<1x3x1x1xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return %y : tensor<1x3x1x1xf32>
}
func.func @loss(%y: tensor<1x3x1x1xf32>, %t: tensor<1x3x1x1xf32>) -> tensor<f32> {
  %l = anvil.mse_loss %y, %t : tensor<1x3x1x1xf32>, tensor<1x3x1x1xf32>
  return %l : tensor<f32>
}
