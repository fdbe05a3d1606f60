func.func @select_shapes(%m: tensor<3xi1>, %x: tensor<4xf32>) {
  %0 = anvil.select %m, %x, %x : tensor<3xi1>, tensor<4xf32>, tensor<4xf32>
  return
}
