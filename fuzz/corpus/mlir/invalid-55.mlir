func.func @conv_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = anvil.conv2d %x, %w {strides = array<i64: 2>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}
