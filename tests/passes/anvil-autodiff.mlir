// RUN: anvil-opt %s -anvil-autodiff -canonicalize | FileCheck %s
// RUN: anvil-opt %s -anvil-autodiff="freeze=^fc1" -canonicalize | FileCheck %s --check-prefix=FROZEN
// RUN: not anvil-opt %s -anvil-autodiff="function=nope" 2>&1 | FileCheck %s --check-prefix=NOFUNC

// The gradient function returns the loss, then each parameter's gradient,
// named in anvil.gradients; the original function stays.
// CHECK-LABEL: func.func @loss(
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<3x4xf32>, tensor<4xf32>, tensor<4x2xf32>)
// CHECK-SAME: anvil.gradients = ["loss", "fc1.weight", "fc1.bias", "fc2.weight"]
// CHECK: anvil.one_hot
// CHECK: %[[DH:.*]] = anvil.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<8x2xf32>, tensor<4x2xf32>
// CHECK: anvil.relu_grad %{{.*}}, %[[DH]]
// CHECK: anvil.matmul %{{.*}}, %{{.*}} {transpose_a} : tensor<8x3xf32>, tensor<8x4xf32>
// FROZEN-LABEL: func.func @loss_grad(
// FROZEN-SAME: -> (tensor<f32>, tensor<4x2xf32>)
// FROZEN-SAME: anvil.gradients = ["loss", "fc2.weight"]
// FROZEN-NOT: relu_grad
// FROZEN-NOT: {transpose_b}
// FROZEN: return
// NOFUNC: anvil-autodiff: no function @nope
func.func @loss(%x: tensor<8x3xf32>, %labels: tensor<8xi64>) -> tensor<f32> {
  %w1 = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<3x4xf32>
  %b1 = anvil.param "fc1.bias" init = "zeros" : tensor<4xf32>
  %m1 = anvil.matmul %x, %w1 : tensor<8x3xf32>, tensor<3x4xf32>
  %a1 = anvil.add %m1, %b1 : tensor<8x4xf32>, tensor<4xf32>
  %h1 = anvil.relu %a1 : tensor<8x4xf32>
  %w2 = anvil.param "fc2.weight" init = "xavier_uniform" : tensor<4x2xf32>
  %m2 = anvil.matmul %h1, %w2 : tensor<8x4xf32>, tensor<4x2xf32>
  %l = anvil.softmax_cross_entropy %m2, %labels : tensor<8x2xf32>, tensor<8xi64>
  return %l : tensor<f32>
}

