func.func @argmax(%x: tensor<4x5x6xf32>) -> (tensor<4x5xi64>, tensor<5x6xi64>) {
  %0 = anvil.argmax %x : tensor<4x5x6xf32>
  %1 = anvil.argmax %x {axis = 0 : i64} : tensor<4x5x6xf32>
  return %0, %1 : tensor<4x5xi64>, tensor<5x6xi64>
}
