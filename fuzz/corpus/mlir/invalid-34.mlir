func.func @flatten_axis(%a: tensor<2x3xf32>) {
  %0 = anvil.flatten %a {axis = 3 : i64} : tensor<2x3xf32>
  return
}
