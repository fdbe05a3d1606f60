func.func @conv_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = anvil.conv2d %x, %w : tensor<1x3x8xf32>, tensor<4x3x3x3xf32>
  return
}
