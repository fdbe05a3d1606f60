// RUN: anvil-opt %s -split-input-file -anvil-check-indices | FileCheck %s

// Labels from an argument: one loop over them before the loss, calling the
// runtime's anvil_index_error (declared once) when one is outside [0, 10).
// CHECK-DAG: llvm.mlir.global private constant @{{.*}}("label_argument\00")
// CHECK-DAG: llvm.mlir.global private constant @{{.*}}("argument 1 (labels)\00")
// CHECK-DAG: func.func private @anvil_index_error(!llvm.ptr, !llvm.ptr, i64, i64, i64, i64)
// CHECK-LABEL: func.func @label_argument(
// CHECK-SAME: %[[X:.*]]: tensor<2x10xf32>, %[[T:.*]]: tensor<2xi64>)
// CHECK: scf.for %[[I:.*]] =
// CHECK: %[[V:.*]] = tensor.extract %[[T]][%[[I]]] : tensor<2xi64>
// CHECK: %[[OUT:.*]] = arith.cmpi uge
// CHECK: scf.if %[[OUT]] {
// CHECK: func.call @anvil_index_error({{.*}}, %[[V]],
// CHECK: anvil.softmax_cross_entropy %[[X]], %[[T]]
func.func @label_argument(%x: tensor<2x10xf32>, %t: tensor<2xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %x, %t : tensor<2x10xf32>, tensor<2xi64>
  return %l : tensor<f32>
}

// -----

// Gather indices through a reshape: checked in the argument's own order
// (two nested loops), against [-4, 4): negative indices count from the back.
// CHECK-LABEL: func.func @reshaped_indices(
// CHECK-SAME: %{{.*}}: tensor<4x3xf32>, %[[I:.*]]: tensor<2x3xi64>)
// CHECK: scf.for %[[A:.*]] =
// CHECK: scf.for %[[B:.*]] =
// CHECK: tensor.extract %[[I]][%[[A]], %[[B]]] : tensor<2x3xi64>
// CHECK: arith.constant 8 : i64
// CHECK: anvil.gather
func.func @reshaped_indices(%x: tensor<4x3xf32>, %i: tensor<2x3xi64>) -> tensor<6x3xf32> {
  %r = anvil.reshape %i {shape = array<i64: 6>} : tensor<2x3xi64>
  %y = anvil.gather %x, %r {axis = 0 : i64} : tensor<4x3xf32>, tensor<6xi64>
  return %y : tensor<6x3xf32>
}

// -----

// Computed labels (argmax) are in range by construction, and private
// functions are not entry points: no check, no declaration.
// CHECK-NOT: anvil_index_error
// CHECK-LABEL: func.func @computed_labels(
// CHECK-NOT: scf.for
// CHECK: anvil.nll_loss
func.func @computed_labels(%x: tensor<2x10xf32>) -> tensor<f32> {
  %t = anvil.argmax %x {axis = 1 : i64} : tensor<2x10xf32>
  %l = anvil.nll_loss %x, %t : tensor<2x10xf32>, tensor<2xi64>
  return %l : tensor<f32>
}
func.func private @helper(%x: tensor<2x10xf32>, %t: tensor<2xi64>) -> tensor<f32> {
  %l = anvil.nll_loss %x, %t : tensor<2x10xf32>, tensor<2xi64>
  return %l : tensor<f32>
}
