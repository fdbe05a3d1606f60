func.func @binary(%a: tensor<4x3xf32>, %b: tensor<3xf32>, %i: tensor<2xi64>) -> tensor<4x3xf32> {
  %0 = anvil.add %a, %b : tensor<4x3xf32>, tensor<3xf32>
  %1 = anvil.sub %0, %b : tensor<4x3xf32>, tensor<3xf32>
  %2 = anvil.mul %1, %a : tensor<4x3xf32>, tensor<4x3xf32>
  %3 = anvil.div %2, %b : tensor<4x3xf32>, tensor<3xf32>
  %4 = anvil.pow %3, %b : tensor<4x3xf32>, tensor<3xf32>
  %5 = anvil.max %4, %b : tensor<4x3xf32>, tensor<3xf32>
  %6 = anvil.min %5, %a : tensor<4x3xf32>, tensor<4x3xf32>
  %7 = anvil.add %i, %i : tensor<2xi64>, tensor<2xi64>
  return %6 : tensor<4x3xf32>
}
