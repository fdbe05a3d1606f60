func.func @concat_shape(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  %0 = anvil.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x4xf32>
  return
}
