func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x4xf32>) {
  %0 = anvil.matmul %a, %b : tensor<3xf32>, tensor<3x4xf32>
  return
}
