func.func @gather_grad_axis(%g: tensor<2x6xf32>, %i: tensor<2xi64>) {
  %0 = anvil.gather_grad %g, %i {axis = 2 : i64, axis_size = 4 : i64} : tensor<2x6xf32>, tensor<2xi64>
  return
}
