func.func @value_without_dense() {
  %0 = anvil.param "w" init = "zeros" {value = dense<1.0> : tensor<3xf32>} : tensor<3xf32>
  return
}
