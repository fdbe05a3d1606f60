func.func @conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  %0 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>
  return
}
