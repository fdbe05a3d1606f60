func.func @params() -> (tensor<784x256xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<3xf32>) {
  %w = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<784x256xf32>
  %b = anvil.param "b" init = "dense" {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %u = anvil.param "u" init = "uniform" {low = -0.5 : f64, high = 0.5 : f64, seed = 7 : i64} : tensor<2x2xf32>
  %n = anvil.param "n" init = "normal" {mean = 0.0 : f64, std = 0.02 : f64} : tensor<3xf32>
  return %w, %b, %u, %n : tensor<784x256xf32>, tensor<2xf32>, tensor<2x2xf32>, tensor<3xf32>
}
