// RUN: anvil-opt %s -split-input-file -anvil-mark-batch="explain=true" -verify-diagnostics | FileCheck %s

// A classifier keeps its samples apart: reshape with the batch in front,
// matmul on the rows, broadcast bias, softmax over the classes.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: attributes {anvil.batch = 4 : i64}
func.func @forward(%x: tensor<4x2x2xf32>) -> tensor<4x5xf32> {
  %f = anvil.reshape %x {shape = array<i64: 4, 4>} : tensor<4x2x2xf32>
  %w = anvil.param "w" init = "ones" : tensor<4x5xf32>
  %b = anvil.param "b" init = "zeros" : tensor<5xf32>
  %y = anvil.matmul %f, %w : tensor<4x4xf32>, tensor<4x5xf32>
  %z = anvil.add %y, %b : tensor<4x5xf32>, tensor<5xf32>
  %s = anvil.softmax %z : tensor<4x5xf32>
  return %s : tensor<4x5xf32>
}

// -----

// A convolution, then pooling, transposes and a reduction that move the
// batch around but never mix it.
// CHECK-LABEL: func.func @conv(
// CHECK-SAME: attributes {anvil.batch = 2 : i64}
func.func @conv(%x: tensor<2x3x8x8xf32>) -> tensor<2x6xf32> {
  %w = anvil.param "w" init = "ones" : tensor<6x3x3x3xf32>
  %c = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32>, tensor<6x3x3x3xf32>
  %t = anvil.transpose %c {perm = array<i64: 1, 2, 3, 0>} : tensor<2x6x8x8xf32>
  %r = anvil.reduce_mean %t {axes = array<i64: 1, 2>} : tensor<6x8x8x2xf32>
  %u = anvil.transpose %r {perm = array<i64: 1, 0>} : tensor<6x2xf32>
  return %u : tensor<2x6xf32>
}

// -----

// Token ids carry the batch into an embedding lookup.
// CHECK-LABEL: func.func @embed(
// CHECK-SAME: attributes {anvil.batch = 2 : i64}
func.func @embed(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %e = anvil.param "e" init = "ones" : tensor<10x4xf32>
  %g = anvil.gather %e, %ids {axis = 0 : i64} : tensor<10x4xf32>, tensor<2x3xi64>
  return %g : tensor<2x3x4xf32>
}

// -----

// Multi-head attention's reshapes merge the batch (4, in dimension 1) with
// the heads (2), and then with the sequence (3), and split it back: each
// element still belongs to one sample.
// CHECK-LABEL: func.func @heads(
// CHECK-SAME: attributes {anvil.batch = 4 : i64}
func.func @heads(%x: tensor<4x3x8xf32>) -> tensor<4x3x8xf32> {
  %t = anvil.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<4x3x8xf32>
  %h = anvil.reshape %t {shape = array<i64: 3, 8, 4>} : tensor<3x4x8xf32>
  %b = anvil.transpose %h {perm = array<i64: 1, 0, 2>} : tensor<3x8x4xf32>
  %s = anvil.matmul %b, %b {transpose_b} : tensor<8x3x4xf32>, tensor<8x3x4xf32>
  %p = anvil.softmax %s : tensor<8x3x3xf32>
  %o = anvil.matmul %p, %b : tensor<8x3x3xf32>, tensor<8x3x4xf32>
  %u = anvil.transpose %o {perm = array<i64: 1, 0, 2>} : tensor<8x3x4xf32>
  %m = anvil.reshape %u {shape = array<i64: 12, 8>} : tensor<3x8x4xf32>
  %r = anvil.reshape %m {shape = array<i64: 3, 4, 8>} : tensor<12x8xf32>
  %y = anvil.transpose %r {perm = array<i64: 1, 0, 2>} : tensor<3x4x8xf32>
  return %y : tensor<4x3x8xf32>
}

// -----

// Normalizing over the batch mixes the samples.
// CHECK-LABEL: func.func @center(
// CHECK-NOT: anvil.batch
func.func @center(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-remark @+1 {{@center cannot run in chunks of its batch: it combines elements across the batch dimension}}
  %m = anvil.reduce_mean %x {axes = array<i64: 0>, keepdims} : tensor<4x3xf32>
  %y = anvil.sub %x, %m : tensor<4x3xf32>, tensor<1x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A weight with a row per sample would give every chunk the first rows.
// CHECK-LABEL: func.func @per_row(
// CHECK-NOT: anvil.batch
func.func @per_row(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %w = anvil.param "w" init = "ones" : tensor<4x3xf32>
  // expected-remark @+1 {{@per_row cannot run in chunks of its batch: a per-sample-constant operand is broadcast along the batch dimension}}
  %y = anvil.mul %x, %w : tensor<4x3xf32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A reshape that moves the batch out of the leading dimension mixes the
// samples' elements, even when a transpose brings a dimension of 4 back.
// CHECK-LABEL: func.func @merge(
// CHECK-NOT: anvil.batch
func.func @merge(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // expected-remark @+1 {{@merge cannot run in chunks of its batch: the reshape splits the batch across dimensions}}
  %r = anvil.reshape %x {shape = array<i64: 6, 4>} : tensor<4x6xf32>
  %y = anvil.transpose %r {perm = array<i64: 1, 0>} : tensor<6x4xf32>
  return %y : tensor<4x6xf32>
}

// -----

// Functions whose arguments and results do not all lead with one size are
// left alone without a remark (a train step, a loss).
// CHECK-LABEL: func.func @loss(
// CHECK-NOT: anvil.batch
func.func @loss(%y: tensor<4x5xf32>, %t: tensor<4xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %y, %t : tensor<4x5xf32>, tensor<4xi64>
  return %l : tensor<f32>
}

// -----

// A quantized convolution and matmul (as anvil-quantize writes them) keep
// the samples apart: per-tensor quantize, qconv2d on NCHW, a dequantize per
// output channel (axis 1, not the batch), a qmatmul on the rows.
// CHECK-LABEL: func.func @quantized(
// CHECK-SAME: attributes {anvil.batch = 2 : i64}
func.func @quantized(%x: tensor<2x3x4x4xf32>) -> tensor<2x3xi32> {
  %s = anvil.constant dense<0.1> : tensor<f32>
  %zx = anvil.constant dense<3> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %q = anvil.quantize %x, %s, %zx : tensor<2x3x4x4xf32>, tensor<f32>, tensor<ui8>
  %w = anvil.constant dense<1> : tensor<5x3x3x3xi8>
  %c = anvil.qconv2d %q, %w, %zx, %zw : tensor<2x3x4x4xui8>, tensor<5x3x3x3xi8>, tensor<ui8>, tensor<i8>
  %ds = anvil.constant dense<0.5> : tensor<5xf32>
  %dz = anvil.constant dense<0> : tensor<5xi32>
  %y = anvil.dequantize %c, %ds, %dz : tensor<2x5x2x2xi32>, tensor<5xf32>, tensor<5xi32>
  %f = anvil.reshape %y {shape = array<i64: 2, 20>} : tensor<2x5x2x2xf32>
  %q2 = anvil.quantize %f, %s, %zx : tensor<2x20xf32>, tensor<f32>, tensor<ui8>
  %w2 = anvil.constant dense<1> : tensor<20x3xi8>
  %m = anvil.qmatmul %q2, %w2, %zx, %zw : tensor<2x20xui8>, tensor<20x3xi8>, tensor<ui8>, tensor<i8>
  return %m : tensor<2x3xi32>
}

// -----

// A dequantize per channel along the batch dimension mixes samples.
func.func @dequantize_batch_axis(%q: tensor<2x3xi8>) -> tensor<2x3xf32> {
  %s = anvil.constant dense<0.5> : tensor<2xf32>
  %z = anvil.constant dense<0> : tensor<2xi8>
  // expected-remark @+1 {{@dequantize_batch_axis cannot run in chunks of its batch: it combines elements across the batch dimension}}
  %y = anvil.dequantize %q, %s, %z {axis = 0 : i64} : tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>
  return %y : tensor<2x3xf32>
}
