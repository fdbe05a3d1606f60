// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg -verify-diagnostics | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @broadcast_add
// CHECK-SAME: (%[[A:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<4x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<4x3xf32>)
// CHECK: arith.addf
func.func @broadcast_add(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %0 = anvil.add %a, %b : tensor<4x3xf32>, tensor<3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A size-1 dimension that stretches reads index 0.
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @stretch_size_one
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[COL]], #{{.*}}]
func.func @stretch_size_one(%a: tensor<4x3xf32>, %b: tensor<4x1xf32>) -> tensor<4x3xf32> {
  %0 = anvil.sub %a, %b : tensor<4x3xf32>, tensor<4x1xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// relu is x < 0 ? 0 : x, which keeps NaN and is one vmaxps on x86 (a
// maximumf is three instructions).
// CHECK-LABEL: func @relu
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[X]], %[[ZERO]] : f32
// CHECK: arith.select %[[NEG]], %[[ZERO]], %[[X]] : f32
func.func @relu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = anvil.relu %x : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func @matmul_2d
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[ACC]] : tensor<2x4xf32>)
func.func @matmul_2d(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = anvil.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Transposes and batch broadcasting live in the indexing maps.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @matmul_batched_transposed
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_batched_transposed(%a: tensor<5x3x2xf32>, %b: tensor<3x4xf32>) -> tensor<5x2x4xf32> {
  %0 = anvil.matmul %a, %b {transpose_a} : tensor<5x3x2xf32>, tensor<3x4xf32>
  return %0 : tensor<5x2x4xf32>
}

// -----

// A one-group convolution is im2col (a copy through an affine map that
// applies strides) of the image inserted into zeros, and a matmul that
// starts from the bias, already NCHW (a loop over the images of a batch:
// anvil-to-linalg-conv.mlir).
// CHECK-DAG: #[[COLS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
// CHECK-LABEL: func @conv_padded_with_bias
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<1x3x10x10xf32>
// CHECK: %[[PAD:.*]] = tensor.insert_slice %{{.*}} into %[[ZERO]][0, 0, 1, 1] [1, 3, 8, 8] [1, 1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[COLS]], {{.*}}]{{.*}} ins(%[[PAD]] : tensor<1x3x10x10xf32>) outs(%{{.*}} : tensor<3x3x3x1x4x4xf32>)
// CHECK: %[[BIAS:.*]] = linalg.broadcast ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<4x16xf32>) dimensions = [1]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x27xf32>, tensor<27x16xf32>) outs(%[[BIAS]] : tensor<4x16xf32>)
// CHECK: tensor.expand_shape {{.*}} into tensor<1x4x4x4xf32>
// CHECK-NOT: linalg.transpose
func.func @conv_padded_with_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %0 = anvil.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// CHECK-LABEL: func @grouped_conv
// CHECK: linalg.conv_2d_ngchw_gfchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x2x6x6xf32>, tensor<2x3x2x3x3xf32>) outs(%{{.*}} : tensor<1x2x3x4x4xf32>)
func.func @grouped_conv(%x: tensor<1x4x6x6xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32> {
  %0 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// (Max pooling reads each window tap as a strided view: see
// anvil-to-linalg-windows.mlir.)
// CHECK-LABEL: func @max_pool
// CHECK: linalg.generic {{.*}} ins({{.*}} : tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>, tensor<1x2x7x7xf32>) outs({{.*}} : tensor<1x2x4x4xf32>)
func.func @max_pool(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32> {
  %0 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// The divisor of each average is a compile-time table: with padding and
// without count_include_pad, corners average fewer cells.
// CHECK-LABEL: func @avg_pool_divisors
// CHECK-COUNT-8: arith.addf
// CHECK: arith.constant dense<{{\[\[\[\[}}4.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00]]]]> : tensor<1x1x2x2xf32>
func.func @avg_pool_divisors(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %0 = anvil.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// The gradient divides by the same table, then each input cell sums the
// shares of its windows: a generic reducing over the kernel offsets.
// CHECK-LABEL: func @avg_pool_grad
// CHECK: %[[DIV:.*]] = arith.constant dense<{{\[\[\[\[}}4.000000e+00, 6.000000e+00], [6.000000e+00, 9.000000e+00]]]]> : tensor<1x1x2x2xf32>
// CHECK: %[[SHARE:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[DIV]] : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>)
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]{{.*}} ins(%{{.*}} : tensor<3x3xf32>) outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK: tensor.extract %[[SHARE]]
func.func @avg_pool_grad(%g: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 4, 4>, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// A negative step reverses that dimension of the gradient, which then goes
// into zeros with a strided insert_slice (columns 5, 3, 1 = 1, 3, 5).
// CHECK-DAG: #[[REV:.*]] = affine_map<(d0, d1) -> (d0, -d1 + 2)>
// CHECK-LABEL: func @slice_grad_steps
// CHECK: %[[ZEROS:.*]] = linalg.fill
// CHECK: %[[REVERSED:.*]] = linalg.generic {indexing_maps = [#[[REV]], #{{.*}}]
// CHECK: tensor.insert_slice %[[REVERSED]] into %[[ZEROS]][0, 1] [2, 3] [2, 2] : tensor<2x3xf32> into tensor<4x6xf32>
func.func @slice_grad_steps(%g: tensor<2x3xf32>) -> tensor<4x6xf32> {
  %0 = anvil.slice_grad %g {input_shape = array<i64: 4, 6>, starts = array<i64: 0, 5>, ends = array<i64: 4, 0>, steps = array<i64: 2, -2>} : tensor<2x3xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// Positive steps need no copy.
// CHECK-LABEL: func @slice_grad_box
// CHECK-NOT: linalg.generic
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, 0] [2, 3] [1, 1]
func.func @slice_grad_box(%g: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %0 = anvil.slice_grad %g {input_shape = array<i64: 4, 3>, starts = array<i64: 1, 0>, ends = array<i64: 3, 3>, steps = array<i64: 1, 1>} : tensor<2x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A scatter-add: one scf.for over the 4 index positions adds each row of
// the gradient ([A, P, B] = [2, 4, 1]) into the row its index names.
// CHECK-LABEL: func @gather_grad
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<2x3x1xf32>
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[DX:.*]] = %[[ZEROS]]) -> (tensor<2x3x1xf32>)
// CHECK: tensor.extract %{{.*}}[%[[P]]] : tensor<4xi64>
// CHECK: %[[ROW:.*]] = tensor.extract_slice %{{.*}}[0, %[[P]], 0] [2, 1, 1] [1, 1, 1] : tensor<2x4x1xf32> to tensor<2x1x1xf32>
// CHECK: %[[CUR:.*]] = tensor.extract_slice %[[DX]][0, %[[I:.*]], 0] [2, 1, 1] [1, 1, 1]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[ROW]] : tensor<2x1x1xf32>) outs(%[[CUR]] : tensor<2x1x1xf32>)
// CHECK: arith.addf
// CHECK: tensor.insert_slice %[[SUM]] into %[[DX]][0, %[[I]], 0]
func.func @gather_grad(%g: tensor<2x2x2xf32>, %i: tensor<2x2xi64>) -> tensor<2x3xf32> {
  %0 = anvil.gather_grad %g, %i {axis = 1 : i64, axis_size = 3 : i64} : tensor<2x2x2xf32>, tensor<2x2xi64>
  return %0 : tensor<2x3xf32>
}

// -----

// Grouped convolution gradients: im2col gets a leading group dimension
// (channel g * C/G + c) and the products are batch_matmuls over the groups.
// CHECK-DAG: #[[GCOLS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d0 * 2 + d4, d2 + d5, d3 + d6)>
// CHECK-LABEL: func @grouped_conv_grads
// CHECK: linalg.generic {indexing_maps = [#[[GCOLS]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x1x4x4x2x3x3xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x3x16xf32>, tensor<2x16x18xf32>) outs(%{{.*}} : tensor<2x3x18xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x18xf32>) outs(%{{.*}} : tensor<2x18x3xf32>) permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x18x3xf32>, tensor<2x3x16xf32>) outs(%{{.*}} : tensor<2x18x16xf32>)
func.func @grouped_conv_grads(%x: tensor<1x4x6x6xf32>, %w: tensor<6x2x3x3xf32>, %dy: tensor<1x6x4x4xf32>) -> (tensor<6x2x3x3xf32>, tensor<1x4x6x6xf32>) {
  %0 = anvil.conv2d_grad_filter %x, %dy {kernel = array<i64: 3, 3>, groups = 2 : i64} : tensor<1x4x6x6xf32>, tensor<1x6x4x4xf32>
  %1 = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 6, 6>, groups = 2 : i64} : tensor<1x6x4x4xf32>, tensor<6x2x3x3xf32>
  return %0, %1 : tensor<6x2x3x3xf32>, tensor<1x4x6x6xf32>
}

// -----

// CHECK-LABEL: func @reduce_keepdims
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: tensor.expand_shape
func.func @reduce_keepdims(%x: tensor<4x5xf32>) -> tensor<4x1xf32> {
  %0 = anvil.reduce_sum %x {axes = array<i64: 1>, keepdims} : tensor<4x5xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// argmax over the first axis: one generic with the maximum and its position
// as accumulators, the reduced dimension's index as the position.
// CHECK-LABEL: func @argmax_axis0
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAX:.*]] = linalg.fill ins(%[[NEGINF]] : f32) {{.*}} -> tensor<5xf32>
// CHECK: %[[POS:.*]] = linalg.fill {{.*}} -> tensor<5xi64>
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK-SAME: outs(%[[MAX]], %[[POS]] : tensor<5xf32>, tensor<5xi64>)
// CHECK: linalg.index 0
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// CHECK: return %[[R]]#1 : tensor<5xi64>
func.func @argmax_axis0(%x: tensor<4x5xf32>) -> tensor<5xi64> {
  %0 = anvil.argmax %x {axis = 0 : i64} : tensor<4x5xf32>
  return %0 : tensor<5xi64>
}

// -----

// CHECK-LABEL: func @cross_entropy
// CHECK-COUNT-2: iterator_types = ["parallel", "reduction"]
// CHECK: tensor.extract
// CHECK: iterator_types = ["reduction"]
func.func @cross_entropy(%x: tensor<4x10xf32>, %l: tensor<4xi64>) -> tensor<f32> {
  %0 = anvil.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<4xi64>
  return %0 : tensor<f32>
}

// -----

// Parameters must be materialized first.
func.func @unmaterialized_param() -> tensor<2xf32> {
  // expected-error @+1 {{failed to legalize operation 'anvil.param' that was explicitly marked illegal}}
  %0 = anvil.param "w" init = "zeros" : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// compare and select are elementwise generics on arith.cmpf / arith.select.
// CHECK-LABEL: func @compare_select
// CHECK: linalg.generic
// CHECK: arith.cmpf olt
// CHECK: linalg.generic
// CHECK: arith.select
func.func @compare_select(%x: tensor<4x3xf32>, %z: tensor<f32>) -> tensor<4x3xf32> {
  %m = anvil.compare "lt" %x, %z : tensor<4x3xf32>, tensor<f32>
  %y = anvil.select %m, %z, %x : tensor<4x3xi1>, tensor<f32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
