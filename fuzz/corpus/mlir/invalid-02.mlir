func.func @no_broadcast(%a: tensor<4x3xf32>, %b: tensor<4xf32>) {
  %0 = anvil.mul %a, %b : tensor<4x3xf32>, tensor<4xf32>
  return
}
