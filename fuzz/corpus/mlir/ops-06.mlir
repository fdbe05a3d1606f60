func.func @one_hot_relu_grad(%l: tensor<4xi64>, %x: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf64>, tensor<4x3xf32>) {
  %0 = anvil.one_hot %l {classes = 3 : i64} : tensor<4xi64>
  %1 = anvil.one_hot %l {classes = 3 : i64, dtype = f64} : tensor<4xi64>
  %2 = anvil.relu_grad %x, %0 : tensor<4x3xf32>, tensor<4x3xf32>
  return %0, %1, %2 : tensor<4x3xf32>, tensor<4x3xf64>, tensor<4x3xf32>
}
