func.func @conv_pool_gradients(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<2x4x4x4xf32>, %dp: tensor<2x3x4x4xf32>, %da: tensor<2x3x5x5xf32>, %wd: tensor<3x1x3x3xf32>, %dd: tensor<2x3x6x6xf32>) -> (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<3x1x3x3xf32>) {
  %0 = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 8, 8>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>
  %1 = anvil.conv2d_grad_filter %x, %dy {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32>, tensor<2x4x4x4xf32>
  %2 = anvil.max_pool2d_grad %x, %dp {kernel = array<i64: 2, 2>} : tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>
  %3 = anvil.avg_pool2d_grad %da {input_size = array<i64: 8, 8>, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad} : tensor<2x3x5x5xf32>
  %4 = anvil.conv2d_grad_input %dd, %wd {input_size = array<i64: 8, 8>, groups = 3 : i64} : tensor<2x3x6x6xf32>, tensor<3x1x3x3xf32>
  %5 = anvil.conv2d_grad_filter %x, %dd {kernel = array<i64: 3, 3>, groups = 3 : i64} : tensor<2x3x8x8xf32>, tensor<2x3x6x6xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<3x1x3x3xf32>
}
