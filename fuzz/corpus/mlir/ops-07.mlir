func.func @compare_select(%l: tensor<4xi64>, %i: tensor<i64>, %x: tensor<4x3xf32>, %z: tensor<f32>) -> (tensor<4xi1>, tensor<4x3xf32>) {
  %0 = anvil.compare "eq" %l, %i : tensor<4xi64>, tensor<i64>
  %1 = anvil.compare "lt" %x, %z : tensor<4x3xf32>, tensor<f32>
  %2 = anvil.select %1, %z, %x : tensor<4x3xi1>, tensor<f32>, tensor<4x3xf32>
  return %0, %2 : tensor<4xi1>, tensor<4x3xf32>
}
