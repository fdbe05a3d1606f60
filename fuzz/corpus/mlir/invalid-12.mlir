func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  %0 = anvil.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return
}
