func.func @slice_grad_negative_shape(%g: tensor<2x3xf32>) {
  %0 = anvil.slice_grad %g {input_shape = array<i64: -4, 6>, starts = array<i64: 0, 0>, ends = array<i64: 2, 3>, steps = array<i64: 1, 1>} : tensor<2x3xf32>
  return
}
