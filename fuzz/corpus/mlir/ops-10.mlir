func.func @reductions(%x: tensor<4x5x6xf32>) -> (tensor<4x1x6xf32>, tensor<6xf32>, tensor<4x5xf32>) {
  %0 = anvil.reduce_sum %x {axes = array<i64: 1>, keepdims} : tensor<4x5x6xf32>
  %1 = anvil.reduce_mean %x {axes = array<i64: 0, 1>} : tensor<4x5x6xf32>
  %2 = anvil.reduce_max %x {axes = array<i64: -1>} : tensor<4x5x6xf32>
  return %0, %1, %2 : tensor<4x1x6xf32>, tensor<6xf32>, tensor<4x5xf32>
}
