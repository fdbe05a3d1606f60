func.func @reduce_no_axes(%a: tensor<2x3xf32>) {
  %0 = anvil.reduce_sum %a : tensor<2x3xf32>
  return
}
