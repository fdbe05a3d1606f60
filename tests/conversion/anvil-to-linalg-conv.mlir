// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s

// A 1x1 stride-1 convolution of one image needs no im2col: the input
// [1, C, H, W] is the [C, H*W] matrix, and the product [O, H*W] is already
// NCHW.
// CHECK-LABEL: func @conv_pointwise
// CHECK-NOT: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x8x7x7xf32>)
// CHECK: %[[COLS:.*]] = tensor.expand_shape {{.*}} : tensor<392xf32> into tensor<8x49xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%{{.*}}, %[[COLS]] : tensor<16x8xf32>, tensor<8x49xf32>) outs(%{{.*}} : tensor<16x49xf32>)
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[P]]
// CHECK: %[[R:.*]] = tensor.expand_shape %[[F]] {{.*}} into tensor<1x16x7x7xf32>
// CHECK-NOT: linalg.transpose
// CHECK: return %[[R]]
func.func @conv_pointwise(%x: tensor<1x8x7x7xf32>, %w: tensor<16x8x1x1xf32>, %b: tensor<16xf32>) -> tensor<1x16x7x7xf32> {
  %0 = anvil.conv2d %x, %w, %b : tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>
  return %0 : tensor<1x16x7x7xf32>
}

// -----

// Padding keeps it a reshape, of the padded input.
// CHECK-LABEL: func @conv_pointwise_padded
// CHECK: %[[PAD:.*]] = tensor.pad
// CHECK: tensor.collapse_shape %[[PAD]] {{.*}} : tensor<1x8x9x9xf32> into tensor<648xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x81xf32>)
// CHECK-NOT: linalg.transpose
func.func @conv_pointwise_padded(%x: tensor<1x8x7x7xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<1x16x9x9xf32> {
  %0 = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>
  return %0 : tensor<1x16x9x9xf32>
}

// -----

// Negative: with a stride (or a batch of images) the 1x1 convolution still
// gathers its columns with im2col; several images still transpose back.
// CHECK-LABEL: func @conv_pointwise_strided_batch
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x8x7x7xf32>) outs(%{{.*}} : tensor<8x1x1x2x4x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x32xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<16x2x4x4xf32>) outs(%{{.*}} : tensor<2x16x4x4xf32>) permutation = [1, 0, 2, 3]
func.func @conv_pointwise_strided_batch(%x: tensor<2x8x7x7xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<2x16x4x4xf32> {
  %0 = anvil.conv2d %x, %w {strides = array<i64: 2, 2>} : tensor<2x8x7x7xf32>, tensor<16x8x1x1xf32>
  return %0 : tensor<2x16x4x4xf32>
}
