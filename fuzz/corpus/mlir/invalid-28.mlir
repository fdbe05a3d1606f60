func.func @argmax_axis_range(%a: tensor<2x3xf32>) {
  %0 = anvil.argmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return
}
