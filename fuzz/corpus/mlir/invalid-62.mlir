func.func @conv_grad_input_rank(%dy: tensor<4x4x4xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 6, 6>} : tensor<4x4x4xf32>, tensor<4x3x3x3xf32>
  return
}
