func.func @shape_gradients(%ds: tensor<1x2x2xf32>, %dg: tensor<2x2x2x4xf32>, %ids: tensor<2x2xi64>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = anvil.slice_grad %ds {input_shape = array<i64: 2, 3, 4>, starts = array<i64: 0, 0, 3>, ends = array<i64: 1, 3, -1>, steps = array<i64: 1, 2, -2>} : tensor<1x2x2xf32>
  %1 = anvil.gather_grad %dg, %ids {axis = 1 : i64, axis_size = 3 : i64} : tensor<2x2x2x4xf32>, tensor<2x2xi64>
  return %0, %1 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}
