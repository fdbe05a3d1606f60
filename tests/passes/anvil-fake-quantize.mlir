// RUN: anvil-opt %s -split-input-file -anvil-fake-quantize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fake-quantize=per-channel | FileCheck %s --check-prefix=CHANNEL
// RUN: anvil-opt %s -anvil-fake-quantize -anvil-autodiff="function=forward args=true" | FileCheck %s --check-prefix=GRAD
// Quantization-aware training: a calibrated layer with parameter weights
// reads its activations through fake_quantize by a fixed range parameter
// and its weights through fake_quantize_weights (FakeQuantize.cpp).

// CHECK-LABEL: func.func @forward
// CHECK: %[[W:.*]] = anvil.param "fc.weight"
// CHECK: %[[R:.*]] = anvil.param "fc.weight.qat_range" init = "dense" {anvil.fixed, value = dense<[-1.000000e+00, 4.000000e+00]> : tensor<2xf32>} : tensor<2xf32>
// CHECK: %[[XQ:.*]] = anvil.fake_quantize %arg0, %[[R]]
// CHECK: %[[WQ:.*]] = anvil.fake_quantize_weights %[[W]] : tensor<16x4xf32>
// CHECK: anvil.matmul %[[XQ]], %[[WQ]] : tensor<8x16xf32>, tensor<16x4xf32>
// CHECK-NOT: anvil.calibration
// CHANNEL: anvil.fake_quantize_weights %{{.*}} {axis = 1 : i64} : tensor<16x4xf32>
// The range gets no gradient (anvil.fixed); the activations' gradient
// goes through the straight-through estimator, the weights' straight.
// GRAD-LABEL: func.func @forward_grad
// GRAD-SAME: anvil.gradients = ["forward", "arg0", "fc.weight"]
// GRAD: anvil.fake_quantize_grad %arg0
func.func @forward(%x: tensor<8x16xf32>) -> tensor<f32> {
  %w = anvil.param "fc.weight" init = "xavier_uniform" : tensor<16x4xf32>
  %y = anvil.matmul %x, %w {anvil.calibration = array<f64: -1.0, 4.0>} : tensor<8x16xf32>, tensor<16x4xf32>
  %s = anvil.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<8x4xf32>
  return %s : tensor<f32>
}

// -----

// A convolution's weights always per output channel (axis 0); a layer
// without a range, or with constant weights, stays as it is.
// CHECK-LABEL: func.func @conv
// CHECK: anvil.fake_quantize %arg0
// CHECK: anvil.fake_quantize_weights %{{.*}} {axis = 0 : i64} : tensor<4x3x3x3xf32>
// CHECK: anvil.conv2d
// CHECK-NOT: anvil.fake_quantize
// CHECK: anvil.matmul
// CHECK-NOT: anvil.fake_quantize
// CHECK: anvil.matmul
// CHECK-NOT: anvil.calibration
func.func @conv(%x: tensor<1x3x8x8xf32>, %a: tensor<2x16xf32>) -> (tensor<1x4x6x6xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = anvil.param "conv.weight" init = "kaiming_uniform" : tensor<4x3x3x3xf32>
  %y = anvil.conv2d %x, %w {anvil.calibration = array<f64: 0.0, 2.0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  %v = anvil.param "v" init = "ones" : tensor<16x4xf32>
  %z = anvil.matmul %a, %v : tensor<2x16xf32>, tensor<16x4xf32>
  %c = anvil.constant dense<1.0> : tensor<16x4xf32>
  %u = anvil.matmul %a, %c {anvil.calibration = array<f64: 0.0, 2.0>} : tensor<2x16xf32>, tensor<16x4xf32>
  return %y, %z, %u : tensor<1x4x6x6xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
