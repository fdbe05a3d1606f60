func.func @pool_rank(%x: tensor<3x8x8xf32>) {
  %0 = anvil.avg_pool2d %x {kernel = array<i64: 2, 2>} : tensor<3x8x8xf32>
  return
}
