func.func @conv_negative_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = anvil.conv2d %x, %w {pads = array<i64: 0, -1, 0, 0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}
