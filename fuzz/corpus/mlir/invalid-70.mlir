func.func @avg_pool_grad_no_size(%g: tensor<1x3x4x4xf32>) {
  %0 = anvil.avg_pool2d_grad %g {kernel = array<i64: 2, 2>} : tensor<1x3x4x4xf32>
  return
}
