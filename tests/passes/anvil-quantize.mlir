// RUN: anvil-opt %s -split-input-file -anvil-quantize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-quantize=per-channel | FileCheck %s --check-prefix=CHANNEL
// A matmul with a calibrated input range and constant weights becomes
// quantize (ui8) -> qmatmul (i8 symmetric weights quantized now) ->
// dequantize by scale_x * scale_w (Quantize.cpp); numeric truth is
// tests/e2e/test_quantize.py (compiled against the reference, and the
// report against fp32).

// Range [0, 2.55]: scale_x 0.01, zero point 0. Weights max |w| 2.54 per
// tensor: scale 0.02, w / 0.02 = 127, -50, 25, 15.
// CHECK-LABEL: func @constant_weights
// CHECK: %[[SX:.*]] = anvil.constant dense<0.00999999977> : tensor<f32>
// CHECK: %[[ZX:.*]] = anvil.constant dense<0> : tensor<ui8>
// CHECK: %[[Q:.*]] = anvil.quantize %arg0, %[[SX]], %[[ZX]] : tensor<4x2xf32>, tensor<f32>, tensor<ui8>
// CHECK: %[[W:.*]] = anvil.constant dense<{{\[\[}}127, -50], [25, 15]]> : tensor<2x2xi8>
// CHECK: %[[ZW:.*]] = anvil.constant dense<0> : tensor<i8>
// CHECK: %[[A:.*]] = anvil.qmatmul %[[Q]], %[[W]], %[[ZX]], %[[ZW]] : tensor<4x2xui8>, tensor<2x2xi8>, tensor<ui8>, tensor<i8>
// CHECK: %[[S:.*]] = anvil.constant dense<2.000000e-04> : tensor<f32>
// CHECK: %[[Z:.*]] = anvil.constant dense<0> : tensor<i32>
// CHECK: %[[Y:.*]] = anvil.dequantize %[[A]], %[[S]], %[[Z]] : tensor<4x2xi32>, tensor<f32>, tensor<i32>
// CHECK: anvil.add %[[Y]]
// CHECK-NOT: anvil.matmul
// CHECK-NOT: anvil.calibration
// Per channel: column 0's max is 2.54 (scale 0.02), column 1's 1.0 (scale
// 1/127: -1 -> -127, 0.3 -> 38).
// CHANNEL-LABEL: func @constant_weights
// CHANNEL: anvil.constant dense<{{\[\[}}127, -127], [25, 38]]> : tensor<2x2xi8>
// CHANNEL: %[[S:.*]] = anvil.constant dense<[2.000000e-04, {{.*}}]> : tensor<2xf32>
// CHANNEL: %[[Z:.*]] = anvil.constant dense<0> : tensor<2xi32>
// CHANNEL: anvil.dequantize %{{.*}}, %[[S]], %[[Z]] : tensor<4x2xi32>, tensor<2xf32>, tensor<2xi32>
func.func @constant_weights(%x: tensor<4x2xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
  %w = anvil.constant dense<[[2.54, -1.0], [0.5, 0.3]]> : tensor<2x2xf32>
  %y = anvil.matmul %x, %w {anvil.calibration = array<f64: 0.0, 2.55>} : tensor<4x2xf32>, tensor<2x2xf32>
  %z = anvil.add %y, %b : tensor<4x2xf32>, tensor<2xf32>
  return %z : tensor<4x2xf32>
}

// -----

// A negative range: widened to hold 0, the zero point is where 0 falls
// ([-1, 1.55]: scale 0.01, zero point 100). Param weights (their value:
// max |w| 2, scale 2/127: 1 -> 63.5, rounded to even 64).
// CHECK-LABEL: func @param_weights
// CHECK: anvil.constant dense<100> : tensor<ui8>
// CHECK: anvil.quantize
// CHECK: anvil.constant dense<{{\[\[}}64], [-127]]> : tensor<2x1xi8>
// CHECK: anvil.qmatmul
// CHECK-NOT: anvil.matmul
func.func @param_weights(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = anvil.param "w" init = "dense" {value = dense<[[1.0], [-2.0]]> : tensor<2x1xf32>} : tensor<2x1xf32>
  %y = anvil.matmul %x, %w {anvil.calibration = array<f64: -1.0, 1.55>} : tensor<3x2xf32>, tensor<2x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Negative: weights computed at run time, or no calibrated range, stay f32
// (the attribute goes).
// CHECK-LABEL: func @runtime_weights
// CHECK: anvil.matmul %arg0, %arg1 :
// CHECK-NOT: anvil.qmatmul
// CHECK-NOT: anvil.calibration
func.func @runtime_weights(%x: tensor<3x2xf32>, %w: tensor<2x4xf32>) -> tensor<3x4xf32> {
  %y = anvil.matmul %x, %w {anvil.calibration = array<f64: 0.0, 1.0>} : tensor<3x2xf32>, tensor<2x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func @no_range
// CHECK: anvil.matmul
// CHECK-NOT: anvil.qmatmul
func.func @no_range(%x: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %w = anvil.constant dense<1.0> : tensor<2x4xf32>
  %y = anvil.matmul %x, %w : tensor<3x2xf32>, tensor<2x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// A one-group convolution: quantize (ui8) -> qconv2d with the conv's
// window attributes -> dequantize per output channel (axis 1, always, even
// without per-channel) -> the bias as an f32 add of [O, 1, 1]. Range
// [-1, 1.55]: scale 0.01, zero point 100 (the qconv2d's padding). Weights
// per output channel: channel 0's max |w| is 2.54 (scale 0.02: 127, -50,
// 0, 25), channel 1's 0.5 (scale 0.5/127: 127, -0.1 -> -25.4 -> -25).
// CHECK-LABEL: func @conv
// CHECK: %[[ZX:.*]] = anvil.constant dense<100> : tensor<ui8>
// CHECK: %[[Q:.*]] = anvil.quantize %arg0, %{{.*}}, %[[ZX]] : tensor<2x1x5x5xf32>, tensor<f32>, tensor<ui8>
// CHECK: %[[W:.*]] = anvil.constant dense<{{\[\[\[\[}}127, -50], [0, 25]]], {{\[\[\[}}127, -25], [0, 0]]]]> : tensor<2x1x2x2xi8>
// CHECK: %[[A:.*]] = anvil.qconv2d %[[Q]], %[[W]], %[[ZX]], %{{.*}} {pads = array<i64: 1, 0, 1, 0>, strides = array<i64: 2, 2>} : tensor<2x1x5x5xui8>, tensor<2x1x2x2xi8>, tensor<ui8>, tensor<i8>
// CHECK: %[[S:.*]] = anvil.constant dense<[{{.*}}, {{.*}}]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = anvil.dequantize %[[A]], %[[S]], %{{.*}} : tensor<2x2x3x2xi32>, tensor<2xf32>, tensor<2xi32>
// CHECK: %[[B:.*]] = anvil.reshape %arg1 {shape = array<i64: 2, 1, 1>} : tensor<2xf32>
// CHECK: %[[YB:.*]] = anvil.add %[[Y]], %[[B]] : tensor<2x2x3x2xf32>, tensor<2x1x1xf32>
// CHECK: anvil.relu %[[YB]]
// CHECK-NOT: anvil.conv2d
// CHECK-NOT: anvil.calibration
func.func @conv(%x: tensor<2x1x5x5xf32>, %b: tensor<2xf32>) -> tensor<2x2x3x2xf32> {
  %w = anvil.constant dense<[[[[2.54, -1.0], [0.0, 0.5]]], [[[0.5, -0.1], [0.0, 0.0]]]]> : tensor<2x1x2x2xf32>
  %y = anvil.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 0>, anvil.calibration = array<f64: -1.0, 1.55>} : tensor<2x1x5x5xf32>, tensor<2x1x2x2xf32>, tensor<2xf32>
  %r = anvil.relu %y : tensor<2x2x3x2xf32>
  return %r : tensor<2x2x3x2xf32>
}

// -----

// Negative: a depthwise (grouped) convolution stays f32, as does one whose
// filter is computed at run time; both lose the attribute.
// CHECK-LABEL: func @grouped_conv
// CHECK: anvil.conv2d %arg0, %{{.*}} {groups = 2 : i64}
// CHECK: anvil.conv2d %arg0, %arg1 :
// CHECK-NOT: anvil.qconv2d
// CHECK-NOT: anvil.calibration
func.func @grouped_conv(%x: tensor<1x2x4x4xf32>, %v: tensor<2x2x3x3xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = anvil.constant dense<1.0> : tensor<2x1x3x3xf32>
  %y = anvil.conv2d %x, %w {groups = 2 : i64, anvil.calibration = array<f64: 0.0, 1.0>} : tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>
  %z = anvil.conv2d %x, %v {anvil.calibration = array<f64: 0.0, 1.0>} : tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>
  return %y, %z : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
