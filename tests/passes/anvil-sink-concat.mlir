// RUN: anvil-opt %s -split-input-file -anvil-sink-concat | FileCheck %s

// A DenseNet layer's pre-activation: the batch norm and the relu after the
// concat of channels run on each input (the batch norm with its slice of
// the parameters), and one concat joins the results.
// CHECK-LABEL: func @batch_norm_relu_after_concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x4x4xf32>, %[[B:.*]]: tensor<2x2x4x4xf32>, %[[G:.*]]: tensor<5xf32>, %[[S:.*]]: tensor<5xf32>, %[[M:.*]]: tensor<5xf32>, %[[V:.*]]: tensor<5xf32>)
// CHECK: %[[GA:.*]] = anvil.slice %[[G]] {ends = array<i64: 3>, starts = array<i64: 0>, steps = array<i64: 1>}
// CHECK: %[[VA:.*]] = anvil.slice %[[V]] {ends = array<i64: 3>, starts = array<i64: 0>, steps = array<i64: 1>}
// CHECK: %[[NA:.*]] = anvil.batch_norm %[[A]], %[[GA]], %{{.*}}, %{{.*}}, %[[VA]] {epsilon = 1.000000e-03 : f64, note = "kept"} : tensor<2x3x4x4xf32>, tensor<3xf32>
// CHECK: %[[GB:.*]] = anvil.slice %[[G]] {ends = array<i64: 5>, starts = array<i64: 3>, steps = array<i64: 1>}
// CHECK: %[[NB:.*]] = anvil.batch_norm %[[B]], %[[GB]], {{.*}} : tensor<2x2x4x4xf32>, tensor<2xf32>
// CHECK: %[[RA:.*]] = anvil.relu %[[NA]] : tensor<2x3x4x4xf32>
// CHECK: %[[RB:.*]] = anvil.relu %[[NB]] : tensor<2x2x4x4xf32>
// CHECK: %[[C:.*]] = anvil.concat %[[RA]], %[[RB]] {axis = 1 : i64}
// CHECK-NOT: anvil.concat
// CHECK: return %[[C]]
func.func @batch_norm_relu_after_concat(%a: tensor<2x3x4x4xf32>, %b: tensor<2x2x4x4xf32>, %g: tensor<5xf32>, %s: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>) -> tensor<2x5x4x4xf32> {
  %c = anvil.concat %a, %b {axis = 1 : i64} : tensor<2x3x4x4xf32>, tensor<2x2x4x4xf32>
  %n = anvil.batch_norm %c, %g, %s, %m, %v {epsilon = 1.0e-3 : f64, note = "kept"} : tensor<2x5x4x4xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
  %r = anvil.relu %n : tensor<2x5x4x4xf32>
  return %r : tensor<2x5x4x4xf32>
}

// -----

// A unary op after a concat along any axis moves before it too.
// CHECK-LABEL: func @sigmoid_after_concat_of_rows
// CHECK: %[[SA:.*]] = anvil.sigmoid %{{.*}} : tensor<2x3xf32>
// CHECK: %[[SB:.*]] = anvil.sigmoid %{{.*}} : tensor<4x3xf32>
// CHECK: %[[C:.*]] = anvil.concat %[[SA]], %[[SB]] {axis = 0 : i64}
// CHECK: return %[[C]]
func.func @sigmoid_after_concat_of_rows(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<6x3xf32> {
  %c = anvil.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<4x3xf32>
  %s = anvil.sigmoid %c : tensor<6x3xf32>
  return %s : tensor<6x3xf32>
}

// -----

// Negative: a concat with a second user stays where it is (moving the op
// would compute the concat twice), and so does its user.
// CHECK-LABEL: func @concat_with_two_users
// CHECK: %[[C:.*]] = anvil.concat %{{.*}}, %{{.*}} {axis = 1 : i64}
// CHECK: %[[R:.*]] = anvil.relu %[[C]] : tensor<2x5xf32>
// CHECK: anvil.add %[[R]], %[[C]]
func.func @concat_with_two_users(%a: tensor<2x3xf32>, %b: tensor<2x2xf32>) -> tensor<2x5xf32> {
  %c = anvil.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x2xf32>
  %r = anvil.relu %c : tensor<2x5xf32>
  %s = anvil.add %r, %c : tensor<2x5xf32>, tensor<2x5xf32>
  return %s : tensor<2x5xf32>
}

// -----

// Negative: a batch norm normalizes axis 1; a concat along another axis
// would need the same parameters for every input, which this pass does not
// do. Nor does a binary op move (its other operand would need slicing).
// CHECK-LABEL: func @batch_norm_after_concat_of_rows
// CHECK: %[[C:.*]] = anvil.concat %{{.*}}, %{{.*}} {axis = 2 : i64}
// CHECK: anvil.batch_norm %[[C]]
// CHECK: %[[D:.*]] = anvil.concat %{{.*}}, %{{.*}} {axis = 0 : i64}
// CHECK: anvil.add %[[D]], %{{.*}}
func.func @batch_norm_after_concat_of_rows(%a: tensor<2x3x4x4xf32>, %b: tensor<2x3x2x4xf32>, %g: tensor<3xf32>, %x: tensor<2x3xf32>, %y: tensor<4x3xf32>, %z: tensor<6x3xf32>) -> (tensor<2x3x6x4xf32>, tensor<6x3xf32>) {
  %c = anvil.concat %a, %b {axis = 2 : i64} : tensor<2x3x4x4xf32>, tensor<2x3x2x4xf32>
  %n = anvil.batch_norm %c, %g, %g, %g, %g : tensor<2x3x6x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  %d = anvil.concat %x, %y {axis = 0 : i64} : tensor<2x3xf32>, tensor<4x3xf32>
  %e = anvil.add %d, %z : tensor<6x3xf32>, tensor<6x3xf32>
  return %n, %e : tensor<2x3x6x4xf32>, tensor<6x3xf32>
}
