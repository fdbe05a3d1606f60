func.func @negative_std() {
  %0 = anvil.param "w" init = "normal" {std = -1.0 : f64} : tensor<3xf32>
  return
}
