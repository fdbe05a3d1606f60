func.func @integer_exp(%a: tensor<3xi64>) {
  %0 = anvil.exp %a : tensor<3xi64>
  return
}
