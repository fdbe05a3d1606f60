func.func @shapes(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %ids: tensor<2x2xi64>) -> (tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x12xf32>, tensor<2x8x4xf32>, tensor<1x2x2xf32>, tensor<2x2x2x4xf32>) {
  %0 = anvil.reshape %x {shape = array<i64: 6, 4>} : tensor<2x3x4xf32>
  %1 = anvil.transpose %x {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
  %2 = anvil.flatten %x : tensor<2x3x4xf32>
  %3 = anvil.concat %x, %y {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x5x4xf32>
  %4 = anvil.slice %x {starts = array<i64: 0, 0, 3>, ends = array<i64: 1, 3, -1>, steps = array<i64: 1, 2, -2>} : tensor<2x3x4xf32>
  %5 = anvil.gather %x, %ids {axis = 1 : i64} : tensor<2x3x4xf32>, tensor<2x2xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x12xf32>, tensor<2x8x4xf32>, tensor<1x2x2xf32>, tensor<2x2x2x4xf32>
}
