func.func @reduce_axis_range(%a: tensor<2x3xf32>) {
  %0 = anvil.reduce_mean %a {axes = array<i64: -3>} : tensor<2x3xf32>
  return
}
