// RUN: anvil-opt %s -split-input-file -anvil-fold-batch-norm | FileCheck %s

// Per channel o: s = scale / sqrt(var + eps), w' = w * s,
// b' = (b - mean) * s + bias. Channel 0: s = 3 / sqrt(3 + 1) = 1.5,
// w' = 2 * 1.5 = 3, b' = (1 - 1) * 1.5 + 0.5 = 0.5. Channel 1: s = 1,
// w' = 4, b' = (2 - 0) * 1 - 1 = 1.
// CHECK-LABEL: func.func @conv_bias_bn
// CHECK-DAG: %[[W:.*]] = anvil.constant dense<{{\[}}{{\[}}{{\[}}[3.000000e+00]]], {{\[}}{{\[}}[4.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = anvil.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = anvil.conv2d %arg0, %[[W]], %[[B]] {anvil.fused = ["batch_norm"]}
// CHECK-NOT: anvil.batch_norm
// CHECK: return %[[Y]]
func.func @conv_bias_bn(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = anvil.constant dense<[[[[2.0]]], [[[4.0]]]]> : tensor<2x1x1x1xf32>
  %b = anvil.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %g = anvil.constant dense<[3.0, 1.0]> : tensor<2xf32>
  %h = anvil.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %m = anvil.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %v = anvil.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %y = anvil.conv2d %x, %w, %b : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>
  %z = anvil.batch_norm %y, %g, %h, %m, %v {epsilon = 1.0 : f64} : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %z : tensor<1x2x4x4xf32>
}

// -----

// A convolution without bias gets one: s = 4 / sqrt(3 + 1) = 2, w' = 4,
// b' = (0 - 3) * 2 + 1 = -5; the attributes stay; splat constants work.
// (The fused location, naming both ops, shows in fusion-report.test.)
// CHECK-LABEL: func.func @conv_without_bias
// CHECK-DAG: %[[W:.*]] = anvil.constant dense<4.000000e+00> : tensor<3x2x3x3xf32>
// CHECK-DAG: %[[B:.*]] = anvil.constant dense<-5.000000e+00> : tensor<3xf32>
// CHECK: anvil.conv2d %arg0, %[[W]], %[[B]] {anvil.fused = ["batch_norm"], pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
func.func @conv_without_bias(%x: tensor<1x2x8x8xf32>) -> tensor<1x3x4x4xf32> {
  %w = anvil.constant dense<2.0> : tensor<3x2x3x3xf32>
  %g = anvil.constant dense<4.0> : tensor<3xf32>
  %h = anvil.constant dense<1.0> : tensor<3xf32>
  %m = anvil.constant dense<3.0> : tensor<3xf32>
  %v = anvil.constant dense<3.0> : tensor<3xf32>
  %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x8x8xf32>, tensor<3x2x3x3xf32> loc("conv")
  %z = anvil.batch_norm %y, %g, %h, %m, %v {epsilon = 1.0 : f64} : tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32> loc("bn")
  return %z : tensor<1x3x4x4xf32>
}

// -----

// Negative: the convolution's result is also used elsewhere, so folding
// would need a second convolution.
// CHECK-LABEL: func.func @conv_with_two_users
// CHECK: %[[Y:.*]] = anvil.conv2d
// CHECK-NOT: anvil.fused
// CHECK: anvil.batch_norm %[[Y]], {{.*}}anvil.not_fused = "the conv2d's result has other users"
func.func @conv_with_two_users(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %w = anvil.constant dense<2.0> : tensor<1x1x1x1xf32>
  %c = anvil.constant dense<1.0> : tensor<1xf32>
  %y = anvil.conv2d %x, %w : tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>
  %z = anvil.batch_norm %y, %c, %c, %c, %c : tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
  return %y, %z : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// Negative: statistics that are not constants (trained, or from a weights
// file) and an input that is not a convolution.
// CHECK-LABEL: func.func @not_foldable
// CHECK: anvil.batch_norm {{.*}}anvil.not_fused = "scale, bias, mean or var is not a constant
// CHECK: anvil.batch_norm {{.*}}anvil.not_fused = "its input comes from anvil.relu, not a conv2d"
// CHECK: anvil.batch_norm {{.*}}anvil.not_fused = "its input is a function argument, not a conv2d"
func.func @not_foldable(%x: tensor<1x1x4x4xf32>, %s: tensor<1xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %w = anvil.constant dense<2.0> : tensor<1x1x1x1xf32>
  %c = anvil.constant dense<1.0> : tensor<1xf32>
  %y = anvil.conv2d %x, %w : tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>
  %a = anvil.batch_norm %y, %s, %c, %c, %c : tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
  %r = anvil.relu %x : tensor<1x1x4x4xf32>
  %b = anvil.batch_norm %r, %c, %c, %c, %c : tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
  %d = anvil.batch_norm %x, %c, %c, %c, %c : tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>
  return %a, %b, %d : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// A quantized convolution's dequantize (per channel, or per tensor) takes
// the factor a = scale / sqrt(var + eps) into its scale, and the shift
// b = bias - mean * a becomes an add of a [1, C, 1, 1] constant. Per tensor
// (scale 0.5, zero point 3): channel 0: a = 3 / sqrt(3 + 1) = 1.5, scale
// 0.5 * 1.5 = 0.75, b = 0.5 - 1 * 1.5 = -1; channel 1: a = 1 / sqrt(0 + 1)
// = 1, scale 0.5, b = 2 - 0 = 2. The scale and zero point become per
// channel.
// CHECK-LABEL: func.func @dequantize
// CHECK-DAG: %[[S:.*]] = anvil.constant dense<[7.500000e-01, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[Z:.*]] = anvil.constant dense<3> : tensor<2xi32>
// CHECK: %[[D:.*]] = anvil.dequantize %arg0, %[[S]], %[[Z]] {anvil.fused = ["batch_norm"]{{.*}}} : tensor<1x2x3x3xi32>, tensor<2xf32>, tensor<2xi32>
// CHECK: %[[B:.*]] = anvil.constant dense<{{\[\[\[\[}}-1.000000e+00]], {{\[\[}}2.000000e+00]]]]> : tensor<1x2x1x1xf32>
// CHECK: anvil.add %[[D]], %[[B]]
// CHECK-NOT: anvil.batch_norm
// The dequantize has another user: the batch norm stays.
// CHECK-LABEL: func.func @dequantize_shared
// CHECK: anvil.batch_norm {{.*}}anvil.not_fused = "the dequantize's result has other users"
func.func @dequantize(%q: tensor<1x2x3x3xi32>) -> tensor<1x2x3x3xf32> {
  %s = anvil.constant dense<0.5> : tensor<f32>
  %z = anvil.constant dense<3> : tensor<i32>
  %x = anvil.dequantize %q, %s, %z : tensor<1x2x3x3xi32>, tensor<f32>, tensor<i32>
  %g = anvil.constant dense<[3.0, 1.0]> : tensor<2xf32>
  %b = anvil.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %m = anvil.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %v = anvil.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %y = anvil.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0 : f64} : tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %y : tensor<1x2x3x3xf32>
}
func.func @dequantize_shared(%q: tensor<1x2x3x3xi32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) {
  %s = anvil.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %z = anvil.constant dense<0> : tensor<2xi32>
  %x = anvil.dequantize %q, %s, %z : tensor<1x2x3x3xi32>, tensor<2xf32>, tensor<2xi32>
  %c = anvil.constant dense<1.0> : tensor<2xf32>
  %y = anvil.batch_norm %x, %c, %c, %c, %c : tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  return %y, %x : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}
