func.func @dense_wrong_type() {
  %0 = anvil.param "w" init = "dense" {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return
}
