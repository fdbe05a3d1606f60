func.func @gather_elements_rank(%x: tensor<4x10xf32>, %l: tensor<4xi64>) {
  %0 = anvil.gather_elements %x, %l {axis = 1 : i64} : tensor<4x10xf32>, tensor<4xi64>
  return
}
