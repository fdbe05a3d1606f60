func.func @conv_grad_input_no_size(%dy: tensor<1x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = anvil.conv2d_grad_input %dy, %w : tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>
  return
}
