func.func @softmax(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = anvil.softmax %x : tensor<4x10xf32>
  %1 = anvil.log_softmax %0 {axis = 0 : i64} : tensor<4x10xf32>
  return %1 : tensor<4x10xf32>
}
