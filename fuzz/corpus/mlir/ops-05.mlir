func.func @cast(%x: tensor<8xf32>) -> tensor<8xi1> {
  %0 = anvil.cast %x : tensor<8xf32> to i64
  %1 = anvil.cast %0 : tensor<8xi64> to i1
  return %1 : tensor<8xi1>
}
