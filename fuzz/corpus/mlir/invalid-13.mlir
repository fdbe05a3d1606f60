func.func @matmul_batch(%a: tensor<2x2x3xf32>, %b: tensor<3x3x4xf32>) {
  %0 = anvil.matmul %a, %b : tensor<2x2x3xf32>, tensor<3x3x4xf32>
  return
}
