func.func @unknown_init() {
  %0 = anvil.param "w" init = "glorot" : tensor<3xf32>
  return
}
