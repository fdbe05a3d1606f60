// RUN: anvil-opt %s -anvil-autodiff -canonicalize | FileCheck %s
// RUN: anvil-opt %s -anvil-autodiff="freeze=^fc1" -canonicalize | FileCheck %s --check-prefix=FROZEN
// RUN: not anvil-opt %s -anvil-autodiff="function=nope" 2>&1 | FileCheck %s --check-prefix=NOFUNC
// RUN: anvil-opt %s -anvil-autodiff="function=embed" | FileCheck %s --check-prefix=EMBED

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


// gather, slice, cast and avg_pool2d differentiate through their gradient
// ops, in reverse order; the indices get no gradient.
// EMBED-LABEL: func.func @embed_grad(
// EMBED-SAME: -> (tensor<f64>, tensor<10x8xf32>)
// EMBED-SAME: anvil.gradients = ["embed", "table"]
// EMBED: anvil.avg_pool2d_grad %{{.*}} {ceil_mode, input_size = array<i64: 2, 3>, kernel = array<i64: 2, 2>} : tensor<1x1x1x2xf64>
// EMBED: anvil.cast %{{.*}} : tensor<2x3xf64> to f32
// EMBED: anvil.slice_grad %{{.*}} {ends = array<i64: 4, 8>, input_shape = array<i64: 4, 8>, starts = array<i64: 0, 1>, steps = array<i64: 2, 3>} : tensor<2x3xf32>
// EMBED: anvil.gather_grad %{{.*}}, %{{.*}} {axis = 0 : i64, axis_size = 10 : i64} : tensor<4x8xf32>, tensor<4xi64>
func.func @embed(%ids: tensor<4xi64>) -> tensor<f64> {
  %table = anvil.param "table" init = "normal" : tensor<10x8xf32>
  %e = anvil.gather %table, %ids {axis = 0 : i64} : tensor<10x8xf32>, tensor<4xi64>
  %s = anvil.slice %e {starts = array<i64: 0, 1>, ends = array<i64: 4, 8>, steps = array<i64: 2, 3>} : tensor<4x8xf32>
  %c = anvil.cast %s : tensor<2x3xf32> to f64
  %r = anvil.reshape %c {shape = array<i64: 1, 1, 2, 3>} : tensor<2x3xf64>
  %p = anvil.avg_pool2d %r {kernel = array<i64: 2, 2>, ceil_mode} : tensor<1x1x2x3xf64>
  %l = anvil.reduce_sum %p {axes = array<i64: 0, 1, 2, 3>} : tensor<1x1x1x2xf64>
  return %l : tensor<f64>
}
