// Round trip of every anvil op: print, re-parse, print again, and check the
// text (including the inferred result types) is stable. Also checks the
// generic form round-trips.
// RUN: anvil-opt %s | anvil-opt | FileCheck %s
// RUN: anvil-opt %s --mlir-print-op-generic | anvil-opt | FileCheck %s

// CHECK-LABEL: func @params
func.func @params() -> (tensor<784x256xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<3xf32>) {
  // CHECK: anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<784x256xf32>
  %w = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<784x256xf32>
  // CHECK: anvil.param "b" init = "dense" {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : tensor<2xf32>
  %b = anvil.param "b" init = "dense" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  // CHECK: anvil.param "u" init = "uniform" {high = 5.000000e-01 : f64, low = -5.000000e-01 : f64, seed = 7 : i64} : tensor<2x2xf32>
  %u = anvil.param "u" init = "uniform" {low = -0.5 : f64, high = 0.5 : f64, seed = 7 : i64} : tensor<2x2xf32>
  // CHECK: anvil.param "n" init = "normal" {mean = 0.000000e+00 : f64, std = 2.000000e-02 : f64} : tensor<3xf32>
  %n = anvil.param "n" init = "normal" {mean = 0.0 : f64, std = 0.02 : f64} : tensor<3xf32>
  return %w, %b, %u, %n : tensor<784x256xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<3xf32>
}

// CHECK-LABEL: func @constant
func.func @constant() -> tensor<2xi64> {
  // CHECK: anvil.constant dense<[1, 2]> : tensor<2xi64>
  %c = anvil.constant dense<[1, 2]> : tensor<2xi64>
  return %c : tensor<2xi64>
}

// CHECK-LABEL: func @matmul
func.func @matmul(%a: tensor<2x3x4xf32>, %b: tensor<5x4xf32>, %c: tensor<4x3xf32>) -> (tensor<2x3x5xf32>, tensor<3x3xf32>) {
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<2x3x4xf32>, tensor<5x4xf32>
  %0 = anvil.matmul %a, %b {transpose_b} : tensor<2x3x4xf32>, tensor<5x4xf32>
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} {transpose_a} : tensor<4x3xf32>, tensor<4x3xf32>
  %1 = anvil.matmul %c, %c {transpose_a} : tensor<4x3xf32>, tensor<4x3xf32>
  return %0, %1 : tensor<2x3x5xf32>, tensor<3x3xf32>
}

// CHECK-LABEL: func @binary
func.func @binary(%a: tensor<4x3xf32>, %b: tensor<3xf32>, %i: tensor<2xi64>) -> tensor<4x3xf32> {
  // CHECK: anvil.add %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<3xf32>
  %0 = anvil.add %a, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: anvil.sub
  %1 = anvil.sub %0, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: anvil.mul
  %2 = anvil.mul %1, %a : tensor<4x3xf32>, tensor<4x3xf32>
  // CHECK: anvil.div
  %3 = anvil.div %2, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: anvil.pow
  %4 = anvil.pow %3, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: anvil.max
  %5 = anvil.max %4, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: anvil.min
  %6 = anvil.min %5, %a : tensor<4x3xf32>, tensor<4x3xf32>
  // CHECK: anvil.add %{{.*}}, %{{.*}} : tensor<2xi64>, tensor<2xi64>
  %7 = anvil.add %i, %i : tensor<2xi64>, tensor<2xi64>
  return %6 : tensor<4x3xf32>
}

// CHECK-LABEL: func @unary
func.func @unary(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: anvil.neg %{{.*}} : tensor<2x3xf32>
  %0 = anvil.neg %x : tensor<2x3xf32>
  // CHECK: anvil.abs
  %1 = anvil.abs %0 : tensor<2x3xf32>
  // CHECK: anvil.exp
  %2 = anvil.exp %1 : tensor<2x3xf32>
  // CHECK: anvil.log
  %3 = anvil.log %2 : tensor<2x3xf32>
  // CHECK: anvil.sqrt
  %4 = anvil.sqrt %3 : tensor<2x3xf32>
  // CHECK: anvil.rsqrt
  %5 = anvil.rsqrt %4 : tensor<2x3xf32>
  // CHECK: anvil.relu
  %6 = anvil.relu %5 : tensor<2x3xf32>
  // CHECK: anvil.sigmoid
  %7 = anvil.sigmoid %6 : tensor<2x3xf32>
  // CHECK: anvil.tanh
  %8 = anvil.tanh %7 : tensor<2x3xf32>
  // CHECK: anvil.erf
  %9 = anvil.erf %8 : tensor<2x3xf32>
  // CHECK: anvil.gelu %{{.*}} : tensor<2x3xf32>
  %10 = anvil.gelu %9 : tensor<2x3xf32>
  // CHECK: anvil.gelu %{{.*}} {tanh_approx} : tensor<2x3xf32>
  %11 = anvil.gelu %10 {tanh_approx} : tensor<2x3xf32>
  // CHECK: anvil.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f64} : tensor<2x3xf32>
  %12 = anvil.leaky_relu %11 {alpha = 0.1 : f64} : tensor<2x3xf32>
  // CHECK: anvil.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<2x3xf32>
  %13 = anvil.clip %12 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x3xf32>
  return %13 : tensor<2x3xf32>
}

// CHECK-LABEL: func @cast
func.func @cast(%x: tensor<8xf32>) -> tensor<8xi1> {
  // CHECK: anvil.cast %{{.*}} : tensor<8xf32> to i64
  %0 = anvil.cast %x : tensor<8xf32> to i64
  // CHECK: anvil.cast %{{.*}} : tensor<8xi64> to i1
  %1 = anvil.cast %0 : tensor<8xi64> to i1
  return %1 : tensor<8xi1>
}

// CHECK-LABEL: func @one_hot_relu_grad
func.func @one_hot_relu_grad(%l: tensor<4xi64>, %x: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf64>, tensor<4x3xf32>) {
  // CHECK: anvil.one_hot %{{.*}} {classes = 3 : i64} : tensor<4xi64>
  %0 = anvil.one_hot %l {classes = 3 : i64} : tensor<4xi64>
  // CHECK: anvil.one_hot %{{.*}} {classes = 3 : i64, dtype = f64} : tensor<4xi64>
  %1 = anvil.one_hot %l {classes = 3 : i64, dtype = f64} : tensor<4xi64>
  // CHECK: anvil.relu_grad %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4x3xf32>
  %2 = anvil.relu_grad %x, %0 : tensor<4x3xf32>, tensor<4x3xf32>
  return %0, %1, %2 : tensor<4x3xf32>, tensor<4x3xf64>, tensor<4x3xf32>
}

// CHECK-LABEL: func @compare_select
func.func @compare_select(%l: tensor<4xi64>, %i: tensor<i64>, %x: tensor<4x3xf32>, %z: tensor<f32>) -> (tensor<4xi1>, tensor<4x3xf32>) {
  // CHECK: anvil.compare "eq" %{{.*}}, %{{.*}} : tensor<4xi64>, tensor<i64>
  %0 = anvil.compare "eq" %l, %i : tensor<4xi64>, tensor<i64>
  // CHECK: anvil.compare "lt" %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<f32>
  %1 = anvil.compare "lt" %x, %z : tensor<4x3xf32>, tensor<f32>
  // CHECK: anvil.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x3xi1>, tensor<f32>, tensor<4x3xf32>
  %2 = anvil.select %1, %z, %x : tensor<4x3xi1>, tensor<f32>, tensor<4x3xf32>
  return %0, %2 : tensor<4xi1>, tensor<4x3xf32>
}

// CHECK-LABEL: func @gather_elements
func.func @gather_elements(%x: tensor<4x10xf32>, %l: tensor<4x1xi64>) -> tensor<4x1xf32> {
  // CHECK: anvil.gather_elements %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<4x10xf32>, tensor<4x1xi64>
  %0 = anvil.gather_elements %x, %l {axis = 1 : i64} : tensor<4x10xf32>, tensor<4x1xi64>
  return %0 : tensor<4x1xf32>
}

// CHECK-LABEL: func @softmax
func.func @softmax(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // CHECK: anvil.softmax %{{.*}} : tensor<4x10xf32>
  %0 = anvil.softmax %x : tensor<4x10xf32>
  // CHECK: anvil.log_softmax %{{.*}} {axis = 0 : i64} : tensor<4x10xf32>
  %1 = anvil.log_softmax %0 {axis = 0 : i64} : tensor<4x10xf32>
  return %1 : tensor<4x10xf32>
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<4x5x6xf32>) -> (tensor<4x1x6xf32>, tensor<6xf32>, tensor<4x5xf32>) {
  // CHECK: anvil.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims} : tensor<4x5x6xf32>
  %0 = anvil.reduce_sum %x {axes = array<i64: 1>, keepdims} : tensor<4x5x6xf32>
  // CHECK: anvil.reduce_mean %{{.*}} {axes = array<i64: 0, 1>} : tensor<4x5x6xf32>
  %1 = anvil.reduce_mean %x {axes = array<i64: 0, 1>} : tensor<4x5x6xf32>
  // CHECK: anvil.reduce_max %{{.*}} {axes = array<i64: -1>} : tensor<4x5x6xf32>
  %2 = anvil.reduce_max %x {axes = array<i64: -1>} : tensor<4x5x6xf32>
  return %0, %1, %2 : tensor<4x1x6xf32>, tensor<6xf32>, tensor<4x5xf32>
}

// CHECK-LABEL: func @argmax
func.func @argmax(%x: tensor<4x5x6xf32>) -> (tensor<4x5xi64>, tensor<5x6xi64>) {
  // CHECK: anvil.argmax %{{.*}} : tensor<4x5x6xf32>
  %0 = anvil.argmax %x : tensor<4x5x6xf32>
  // CHECK: anvil.argmax %{{.*}} {axis = 0 : i64} : tensor<4x5x6xf32>
  %1 = anvil.argmax %x {axis = 0 : i64} : tensor<4x5x6xf32>
  return %0, %1 : tensor<4x5xi64>, tensor<5x6xi64>
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %ids: tensor<2x2xi64>) -> (tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x12xf32>, tensor<2x8x4xf32>, tensor<1x2x2xf32>, tensor<2x2x2x4xf32>) {
  // CHECK: anvil.reshape %{{.*}} {shape = array<i64: 6, 4>} : tensor<2x3x4xf32>
  %0 = anvil.reshape %x {shape = array<i64: 6, 4>} : tensor<2x3x4xf32>
  // CHECK: anvil.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
  %1 = anvil.transpose %x {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
  // CHECK: anvil.flatten %{{.*}} : tensor<2x3x4xf32>
  %2 = anvil.flatten %x : tensor<2x3x4xf32>
  // CHECK: anvil.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x5x4xf32>
  %3 = anvil.concat %x, %y {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x5x4xf32>
  // CHECK: anvil.slice %{{.*}} {ends = array<i64: 1, 3, -1>, starts = array<i64: 0, 0, 3>, steps = array<i64: 1, 2, -2>} : tensor<2x3x4xf32>
  %4 = anvil.slice %x {starts = array<i64: 0, 0, 3>, ends = array<i64: 1, 3, -1>, steps = array<i64: 1, 2, -2>} : tensor<2x3x4xf32>
  // CHECK: anvil.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x2xi64>
  %5 = anvil.gather %x, %ids {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x2xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x12xf32>, tensor<2x8x4xf32>, tensor<1x2x2xf32>, tensor<2x2x2x4xf32>
}

// CHECK-LABEL: func @shape_gradients
func.func @shape_gradients(%ds: tensor<1x2x2xf32>, %dg: tensor<2x2x2x4xf32>, %ids: tensor<2x2xi64>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: anvil.slice_grad %{{.*}} {ends = array<i64: 1, 3, -1>, input_shape = array<i64: 2, 3, 4>, starts = array<i64: 0, 0, 3>, steps = array<i64: 1, 2, -2>} : tensor<1x2x2xf32>
  %0 = anvil.slice_grad %ds {input_shape = array<i64: 2, 3, 4>, starts = array<i64: 0, 0, 3>, ends = array<i64: 1, 3, -1>, steps = array<i64: 1, 2, -2>} : tensor<1x2x2xf32>
  // CHECK: anvil.gather_grad %{{.*}}, %{{.*}} {axis = 1 : i64, axis_size = 3 : i64} : tensor<2x2x2x4xf32>, tensor<2x2xi64>
  %1 = anvil.gather_grad %dg, %ids {axis = 1 : i64, axis_size = 3 : i64} : tensor<2x2x2x4xf32>, tensor<2x2xi64>
  return %0, %1 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// CHECK-LABEL: func @conv_pool
func.func @conv_pool(%x: tensor<1x4x9x9xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x4x1x1xf32>) {
  // CHECK: anvil.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>
  %0 = anvil.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>, groups = 2 : i64} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>
  // CHECK: anvil.conv2d %{{.*}}, %{{.*}} {groups = 2 : i64} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>
  %1 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>
  // CHECK: anvil.max_pool2d %{{.*}} {ceil_mode, kernel = array<i64: 2, 2>} : tensor<1x4x9x9xf32>
  %2 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>, ceil_mode} : tensor<1x4x9x9xf32>
  // CHECK: anvil.avg_pool2d %{{.*}} {count_include_pad, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x9x9xf32>
  %3 = anvil.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<1x4x9x9xf32>
  // CHECK: anvil.global_avg_pool %{{.*}} : tensor<1x4x9x9xf32>
  %4 = anvil.global_avg_pool %x : tensor<1x4x9x9xf32>
  return %0, %2, %3, %4 : tensor<1x8x4x4xf32>, tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x4x1x1xf32>
}

// CHECK-LABEL: func @conv_pool_gradients
func.func @conv_pool_gradients(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<2x4x4x4xf32>, %dp: tensor<2x3x4x4xf32>, %da: tensor<2x3x5x5xf32>, %wd: tensor<3x1x3x3xf32>, %dd: tensor<2x3x6x6xf32>) -> (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<3x1x3x3xf32>) {
  // CHECK: anvil.conv2d_grad_input %{{.*}}, %{{.*}} {input_size = array<i64: 8, 8>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>
  %0 = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 8, 8>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>
  // CHECK: anvil.conv2d_grad_filter %{{.*}}, %{{.*}} {kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>
  %1 = anvil.conv2d_grad_filter %x, %dy {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>
  // CHECK: anvil.max_pool2d_grad %{{.*}}, %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>
  %2 = anvil.max_pool2d_grad %x, %dp {kernel = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>
  // CHECK: anvil.avg_pool2d_grad %{{.*}} {ceil_mode, count_include_pad, input_size = array<i64: 8, 8>, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x3x5x5xf32>
  %3 = anvil.avg_pool2d_grad %da {input_size = array<i64: 8, 8>, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad} : tensor<2x3x5x5xf32>
  // Grouped (depthwise) convolution gradients.
  // CHECK: anvil.conv2d_grad_input %{{.*}}, %{{.*}} {groups = 3 : i64, input_size = array<i64: 8, 8>} : tensor<2x3x6x6xf32>, tensor<3x1x3x3xf32>
  %4 = anvil.conv2d_grad_input %dd, %wd {input_size = array<i64: 8, 8>, groups = 3 : i64} : tensor<2x3x6x6xf32>, tensor<3x1x3x3xf32>
  // CHECK: anvil.conv2d_grad_filter %{{.*}}, %{{.*}} {groups = 3 : i64, kernel = array<i64: 3, 3>} : tensor<2x3x8x8xf32>, tensor<2x3x6x6xf32>
  %5 = anvil.conv2d_grad_filter %x, %dd {kernel = array<i64: 3, 3>, groups = 3 : i64} : tensor<2x3x8x8xf32>, tensor<2x3x6x6xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<3x1x3x3xf32>
}

// CHECK-LABEL: func @normalization
func.func @normalization(%x: tensor<8x16x4x4xf32>, %c: tensor<16xf32>, %s: tensor<10x32xf32>, %g: tensor<32xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<10x32xf32>, tensor<10x32xi1>) {
  // CHECK: anvil.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64} : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
  %0 = anvil.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-3 : f64} : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
  // CHECK: anvil.batch_norm_train %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>
  %1:3 = anvil.batch_norm_train %0, %c, %c : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>
  // CHECK: anvil.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : tensor<10x32xf32>, tensor<32xf32>, tensor<32xf32>
  %2 = anvil.layer_norm %s, %g, %g : tensor<10x32xf32>, tensor<32xf32>, tensor<32xf32>
  // CHECK: anvil.dropout %{{.*}} {ratio = 2.000000e-01 : f64, seed = 3 : i64, training} : tensor<10x32xf32>
  %3:2 = anvil.dropout %2 {ratio = 0.2 : f64, training, seed = 3 : i64} : tensor<10x32xf32>
  return %1#0, %1#2, %3#0, %3#1 : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<10x32xf32>, tensor<10x32xi1>
}

// CHECK-LABEL: func @losses
func.func @losses(%logits: tensor<4x10xf32>, %labels: tensor<4xi64>, %p: tensor<4x1xf32>) -> (tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<4x1xf32>) {
  // CHECK: anvil.softmax_cross_entropy %{{.*}}, %{{.*}} : tensor<4x10xf32>, tensor<4xi64>
  %0 = anvil.softmax_cross_entropy %logits, %labels : tensor<4x10xf32>, tensor<4xi64>
  // CHECK: anvil.nll_loss %{{.*}}, %{{.*}} {reduction = "none"} : tensor<4x10xf32>, tensor<4xi64>
  %1 = anvil.nll_loss %logits, %labels {reduction = "none"} : tensor<4x10xf32>, tensor<4xi64>
  // CHECK: anvil.mse_loss %{{.*}}, %{{.*}} {reduction = "sum"} : tensor<4x1xf32>, tensor<4x1xf32>
  %2 = anvil.mse_loss %p, %p {reduction = "sum"} : tensor<4x1xf32>, tensor<4x1xf32>
  // CHECK: anvil.mse_loss %{{.*}}, %{{.*}} {reduction = "none"} : tensor<4x1xf32>, tensor<4x1xf32>
  %3 = anvil.mse_loss %p, %p {reduction = "none"} : tensor<4x1xf32>, tensor<4x1xf32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<4x1xf32>
}

// CHECK-LABEL: func @quantization
func.func @quantization(%x: tensor<2x3xf32>, %s: tensor<f32>, %zu: tensor<ui8>, %cs: tensor<3xf32>, %cz: tensor<3xi8>, %acc: tensor<2x3xi32>, %z32: tensor<i32>, %s1: tensor<1xf32>, %z1: tensor<1xi8>) -> (tensor<2x3xui8>, tensor<2x3xi8>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi8>) {
  // CHECK: anvil.quantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<f32>, tensor<ui8>
  %0 = anvil.quantize %x, %s, %zu : tensor<2x3xf32>, tensor<f32>, tensor<ui8>
  // CHECK: anvil.quantize %{{.*}}, %{{.*}}, %{{.*}} {axis = -1 : i64} : tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>
  %1 = anvil.quantize %x, %cs, %cz {axis = -1 : i64} : tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xui8>, tensor<f32>, tensor<ui8>
  %2 = anvil.dequantize %0, %s, %zu : tensor<2x3xui8>, tensor<f32>, tensor<ui8>
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xi8>, tensor<3xf32>, tensor<3xi8>
  %3 = anvil.dequantize %1, %cs, %cz : tensor<2x3xi8>, tensor<3xf32>, tensor<3xi8>
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<f32>, tensor<i32>
  %4 = anvil.dequantize %acc, %s, %z32 : tensor<2x3xi32>, tensor<f32>, tensor<i32>
  // An i32 zero point fits any input; one element of rank 1 is per tensor.
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xui8>, tensor<f32>, tensor<i32>
  %5 = anvil.dequantize %0, %s, %z32 : tensor<2x3xui8>, tensor<f32>, tensor<i32>
  // CHECK: anvil.quantize %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : tensor<2x3xf32>, tensor<1xf32>, tensor<1xi8>
  %6 = anvil.quantize %x, %s1, %z1 {axis = 0 : i64} : tensor<2x3xf32>, tensor<1xf32>, tensor<1xi8>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x3xui8>, tensor<2x3xi8>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi8>
}

// CHECK-LABEL: func @fake_quantization
func.func @fake_quantization(%x: tensor<2x3xf32>, %r: tensor<2xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<4x3x3x3xf32>, tensor<2x3xf32>) {
  // CHECK: anvil.fake_quantize %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2xf32>
  %0 = anvil.fake_quantize %x, %r : tensor<2x3xf32>, tensor<2xf32>
  // CHECK: anvil.fake_quantize_grad %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>
  %1 = anvil.fake_quantize_grad %x, %r, %0 : tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>
  // CHECK: anvil.fake_quantize_weights %{{.*}} {axis = 0 : i64} : tensor<4x3x3x3xf32>
  %2 = anvil.fake_quantize_weights %w {axis = 0 : i64} : tensor<4x3x3x3xf32>
  // CHECK: anvil.fake_quantize_weights %{{.*}} : tensor<2x3xf32>
  %3 = anvil.fake_quantize_weights %x : tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<4x3x3x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func @qmatmul
func.func @qmatmul(%a: tensor<4x6xui8>, %w: tensor<6x5xi8>, %za: tensor<ui8>, %zw: tensor<5xi8>, %b: tensor<2x4x6xi8>, %wb: tensor<2x6x5xi8>, %z1: tensor<1xi8>) -> (tensor<4x5xi32>, tensor<2x4x5xi32>, tensor<2x4x5xi32>) {
  // CHECK: anvil.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x6xui8>, tensor<6x5xi8>, tensor<ui8>, tensor<5xi8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<4x6xui8>, tensor<6x5xi8>, tensor<ui8>, tensor<5xi8>
  // Shared weights, and weights per batch; one-element zero points.
  // CHECK: anvil.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x6xi8>, tensor<6x5xi8>, tensor<1xi8>, tensor<1xi8>
  %1 = anvil.qmatmul %b, %w, %z1, %z1 : tensor<2x4x6xi8>, tensor<6x5xi8>, tensor<1xi8>, tensor<1xi8>
  // CHECK: anvil.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x6xi8>, tensor<2x6x5xi8>, tensor<1xi8>, tensor<5xi8>
  %2 = anvil.qmatmul %b, %wb, %z1, %zw : tensor<2x4x6xi8>, tensor<2x6x5xi8>, tensor<1xi8>, tensor<5xi8>
  return %0, %1, %2 : tensor<4x5xi32>, tensor<2x4x5xi32>, tensor<2x4x5xi32>
}

// CHECK-LABEL: func @qconv2d
func.func @qconv2d(%x: tensor<2x3x8x8xui8>, %w: tensor<4x3x3x3xi8>, %zx: tensor<ui8>, %zw: tensor<4xi8>) -> tensor<2x4x4x4xi32> {
  // CHECK: anvil.qconv2d %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<ui8>, tensor<4xi8>
  %0 = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x3x8x8xui8>, tensor<4x3x3x3xi8>, tensor<ui8>, tensor<4xi8>
  return %0 : tensor<2x4x4x4xi32>
}

// CHECK-LABEL: func @ui8_constant
func.func @ui8_constant() -> tensor<2xui8> {
  // CHECK: anvil.constant dense<[0, 255]> : tensor<2xui8>
  %0 = anvil.constant dense<[0, 255]> : tensor<2xui8>
  return %0 : tensor<2xui8>
}
