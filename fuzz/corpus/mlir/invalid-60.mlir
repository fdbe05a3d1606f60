func.func @conv_kernel_too_large(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x5x5xf32>) {
  %0 = anvil.conv2d %x, %w : tensor<1x3x4x4xf32>, tensor<4x3x5x5xf32>
  return
}
