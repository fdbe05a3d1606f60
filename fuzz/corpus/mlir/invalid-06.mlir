func.func @dense_without_value() {
  %0 = anvil.param "w" init = "dense" : tensor<3xf32>
  return
}
