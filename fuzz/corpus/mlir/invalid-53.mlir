func.func @gather_grad_rank(%g: tensor<2xf32>, %i: tensor<2x2xi64>) {
  %0 = anvil.gather_grad %g, %i {axis = 0 : i64, axis_size = 4 : i64} : tensor<2xf32>, tensor<2x2xi64>
  return
}
