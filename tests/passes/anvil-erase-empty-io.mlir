// RUN: anvil-opt %s -split-input-file -anvil-erase-empty-io | FileCheck %s

// Empty arguments become tensor<0xT>; the body reads a tensor.empty of the
// old type instead. Non-empty ones stay.
// CHECK-LABEL: func.func @empty_arguments(
// CHECK-SAME: %{{.*}}: tensor<0xf32>, %{{.*}}: tensor<0xf32>) -> tensor<3x4xf32>
// CHECK-DAG: %[[A:.*]] = tensor.empty() : tensor<3x0xf32>
// CHECK-DAG: %[[B:.*]] = tensor.empty() : tensor<0x4xf32>
// CHECK: anvil.matmul %[[A]], %[[B]]
func.func @empty_arguments(%a: tensor<3x0xf32>, %b: tensor<0x4xf32>) -> tensor<3x4xf32> {
  %y = anvil.matmul %a, %b : tensor<3x0xf32>, tensor<0x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// An empty result becomes tensor<0xT> too; a 1-D empty one and private
// functions are left alone.
// CHECK-LABEL: func.func @empty_result(
// CHECK-SAME: %{{.*}}: tensor<0xf32>) -> tensor<0xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<0xf32>
// CHECK: return %[[E]] : tensor<0xf32>
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME: tensor<2x0xf32>) -> tensor<2x0xf32>
func.func @empty_result(%a: tensor<0xf32>) -> tensor<2x0xf32> {
  %y = anvil.reshape %a {shape = array<i64: 2, 0>} : tensor<0xf32>
  return %y : tensor<2x0xf32>
}
func.func private @helper(%a: tensor<2x0xf32>) -> tensor<2x0xf32> {
  return %a : tensor<2x0xf32>
}
