func.func @gather_grad_indices_shape(%g: tensor<2x6xf32>, %i: tensor<3xi64>) {
  %0 = anvil.gather_grad %g, %i {axis = 1 : i64, axis_size = 4 : i64} : tensor<2x6xf32>, tensor<3xi64>
  return
}
