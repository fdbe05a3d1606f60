func.func @pool_window_too_large(%x: tensor<1x3x2x8xf32>) {
  %0 = anvil.max_pool2d %x {kernel = array<i64: 3, 3>} : tensor<1x3x2x8xf32>
  return
}
