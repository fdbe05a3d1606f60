func.func @conv_grad_filter_no_kernel(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x4x4x4xf32>) {
  %0 = anvil.conv2d_grad_filter %x, %dy : tensor<1x3x6x6xf32>, tensor<1x4x4x4xf32>
  return
}
