func.func @matmul(%a: tensor<2x3x4xf32>, %b: tensor<5x4xf32>, %c: tensor<4x3xf32>) -> (tensor<2x3x5xf32>, tensor<3x3xf32>) {
  %0 = anvil.matmul %a, %b {transpose_b} : tensor<2x3x4xf32>, tensor<5x4xf32>
  %1 = anvil.matmul %c, %c {transpose_a} : tensor<4x3xf32>, tensor<4x3xf32>
  return %0, %1 : tensor<2x3x5xf32>, tensor<3x3xf32>
}
