// RUN: anvil-opt %s -split-input-file -anvil-hoist-quantize | FileCheck %s

// LeNet's tail: relu -> max_pool2d -> flatten -> quantize. The quantize
// moves before the flatten, then before the pool: both run on ui8.
// CHECK-LABEL: func @pool_flatten
// CHECK: %[[R:.*]] = anvil.relu
// CHECK: %[[Q:.*]] = anvil.quantize %[[R]], %{{.*}}, %{{.*}} : tensor<2x4x6x6xf32>, tensor<f32>, tensor<ui8>
// CHECK: %[[P:.*]] = anvil.max_pool2d %[[Q]] {anvil.after_quantize, kernel = array<i64: 2, 2>} : tensor<2x4x6x6xui8>
// CHECK: %[[F:.*]] = anvil.flatten %[[P]] {anvil.after_quantize} : tensor<2x4x3x3xui8>
// CHECK-NOT: anvil.quantize
// CHECK: return %[[F]] : tensor<2x36xui8>
func.func @pool_flatten(%x: tensor<2x4x6x6xf32>) -> tensor<2x36xui8> {
  %s = anvil.constant dense<0.05> : tensor<f32>
  %z = anvil.constant dense<3> : tensor<ui8>
  %r = anvil.relu %x : tensor<2x4x6x6xf32>
  %p = anvil.max_pool2d %r {kernel = array<i64: 2, 2>} : tensor<2x4x6x6xf32>
  %f = anvil.flatten %p : tensor<2x4x3x3xf32>
  %q = anvil.quantize %f, %s, %z : tensor<2x36xf32>, tensor<f32>, tensor<ui8>
  return %q : tensor<2x36xui8>
}

// -----

// A per-channel quantize (axis 1) moves before a padded, strided pool: the
// channels stay where they are. The scale and zero point, made after the
// pool, are cloned before it.
// CHECK-LABEL: func @per_channel
// CHECK: %[[S:.*]] = anvil.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>
// CHECK: %[[Z:.*]] = anvil.constant dense<[1, 2]> : tensor<2xi8>
// CHECK: %[[Q:.*]] = anvil.quantize %{{.*}}, %[[S]], %[[Z]] : tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<2xi8>
// CHECK: %[[P:.*]] = anvil.max_pool2d %[[Q]] {anvil.after_quantize, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x2x5x5xi8>
// CHECK: return %[[P]] : tensor<1x2x3x3xi8>
func.func @per_channel(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xi8> {
  %p = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x2x5x5xf32>
  %s = anvil.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %z = anvil.constant dense<[1, 2]> : tensor<2xi8>
  %q = anvil.quantize %p, %s, %z : tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xi8>
  return %q : tensor<1x2x3x3xi8>
}

// -----

// Each quantize stays, with the reason: the pool's result has another
// user; a negative scale (the quantize reverses order); a scale that is
// not a constant; the pool's input has another user; a per-channel
// quantize after a reshape.
// CHECK-LABEL: func @refused
// CHECK: anvil.quantize %{{.*}} {anvil.not_hoisted = "the max_pool2d's result has 2 users"}
// CHECK: anvil.quantize %{{.*}} {anvil.not_hoisted = "its scale is not positive and finite (a max pool commutes with an increasing quantize only)"}
// CHECK: anvil.quantize %{{.*}} {anvil.not_hoisted = "its scale is not a constant, so its sign is unknown (a max pool commutes with an increasing quantize only)"}
// CHECK: anvil.quantize %{{.*}} {anvil.not_hoisted = "the max_pool2d's input has 2 users: {{.*}}"}
// CHECK: anvil.quantize %{{.*}} {anvil.not_hoisted = "it quantizes per channel, along an axis the reshape moves", axis = 0 : i64}
// CHECK-NOT: anvil.after_quantize
func.func @refused(%x: tensor<1x2x4x4xf32>, %scale: tensor<f32>) -> (tensor<1x2x2x2xui8>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xui8>, tensor<1x2x2x2xui8>, tensor<1x2x2x2xui8>, tensor<1x2x4x4xf32>, tensor<2x16xi8>) {
  %s = anvil.constant dense<0.05> : tensor<f32>
  %neg = anvil.constant dense<-0.05> : tensor<f32>
  %z = anvil.constant dense<0> : tensor<ui8>
  %p1 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x2x4x4xf32>
  %q1 = anvil.quantize %p1, %s, %z : tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>
  %p2 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x2x4x4xf32>
  %q2 = anvil.quantize %p2, %neg, %z : tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>
  %p3 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x2x4x4xf32>
  %q3 = anvil.quantize %p3, %scale, %z : tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>
  %r = anvil.relu %x : tensor<1x2x4x4xf32>
  %p4 = anvil.max_pool2d %r {kernel = array<i64: 2, 2>} : tensor<1x2x4x4xf32>
  %q4 = anvil.quantize %p4, %s, %z : tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>
  %f = anvil.reshape %x {shape = array<i64: 2, 16>} : tensor<1x2x4x4xf32>
  %cs = anvil.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %cz = anvil.constant dense<0> : tensor<2xi8>
  %q5 = anvil.quantize %f, %cs, %cz {axis = 0 : i64} : tensor<2x16xf32>, tensor<2xf32>, tensor<2xi8>
  return %q1, %p1, %q2, %q3, %q4, %r, %q5 : tensor<1x2x2x2xui8>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xui8>, tensor<1x2x2x2xui8>, tensor<1x2x2x2xui8>, tensor<1x2x4x4xf32>, tensor<2x16xi8>
}
