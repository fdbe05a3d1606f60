func.func @reduce_axis_twice(%a: tensor<2x3xf32>) {
  %0 = anvil.reduce_max %a {axes = array<i64: 1, -1>} : tensor<2x3xf32>
  return
}
