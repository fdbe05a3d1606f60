func.func @transpose_no_perm(%a: tensor<2x3xf32>) {
  %0 = anvil.transpose %a : tensor<2x3xf32>
  return
}
