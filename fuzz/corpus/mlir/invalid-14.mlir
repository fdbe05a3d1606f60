func.func @clip_bounds(%a: tensor<3xf32>) {
  %0 = anvil.clip %a {min = 2.0 : f64, max = 1.0 : f64} : tensor<3xf32>
  return
}
