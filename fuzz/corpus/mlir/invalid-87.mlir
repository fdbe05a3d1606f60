func.func @inferred_type_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  %0 = "anvil.matmul"(%a, %b) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return
}
