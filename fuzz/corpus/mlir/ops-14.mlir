func.func @conv_pool(%x: tensor<1x4x9x9xf32>, %w: tensor<8x2x3x3xf32>, %b: tensor<8xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x4x1x1xf32>) {
  %0 = anvil.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>, groups = 2 : i64} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>
  %1 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x4x9x9xf32>, tensor<8x2x3x3xf32>
  %2 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>, ceil_mode} : tensor<1x4x9x9xf32>
  %3 = anvil.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad} : tensor<1x4x9x9xf32>
  %4 = anvil.global_avg_pool %x : tensor<1x4x9x9xf32>
  return %0, %2, %3, %4 : tensor<1x8x4x4xf32>, tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>, tensor<1x4x1x1xf32>
}
