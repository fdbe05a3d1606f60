func.func @softmax_axis(%a: tensor<2x3xf32>) {
  %0 = anvil.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return
}
