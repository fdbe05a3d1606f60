func.func @avg_pool_grad_padding(%g: tensor<1x3x4x4xf32>) {
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 8, 8>, kernel = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x3x4x4xf32>
  return
}
