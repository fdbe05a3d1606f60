func.func @pool_padding(%x: tensor<1x3x8x8xf32>) {
  %0 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x3x8x8xf32>
  return
}
