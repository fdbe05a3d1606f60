func.func @gather_elements(%x: tensor<4x10xf32>, %l: tensor<4x1xi64>) -> tensor<4x1xf32> {
  %0 = anvil.gather_elements %x, %l {axis = 1 : i64} : tensor<4x10xf32>, tensor<4x1xi64>
  return %0 : tensor<4x1xf32>
}
