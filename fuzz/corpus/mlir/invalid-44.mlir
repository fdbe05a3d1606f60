func.func @gather_axis(%a: tensor<4x6xf32>, %i: tensor<2xi64>) {
  %0 = anvil.gather %a, %i {axis = -3 : i64} : tensor<4x6xf32>, tensor<2xi64>
  return
}
