func.func @uniform_bounds() {
  %0 = anvil.param "w" init = "uniform" {low = 1.0 : f64, high = 1.0 : f64} : tensor<3xf32>
  return
}
