func.func @unary(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = anvil.neg %x : tensor<2x3xf32>
  %1 = anvil.abs %0 : tensor<2x3xf32>
  %2 = anvil.exp %1 : tensor<2x3xf32>
  %3 = anvil.log %2 : tensor<2x3xf32>
  %4 = anvil.sqrt %3 : tensor<2x3xf32>
  %5 = anvil.rsqrt %4 : tensor<2x3xf32>
  %6 = anvil.relu %5 : tensor<2x3xf32>
  %7 = anvil.sigmoid %6 : tensor<2x3xf32>
  %8 = anvil.tanh %7 : tensor<2x3xf32>
  %9 = anvil.erf %8 : tensor<2x3xf32>
  %10 = anvil.gelu %9 : tensor<2x3xf32>
  %11 = anvil.gelu %10 {tanh_approx} : tensor<2x3xf32>
  %12 = anvil.leaky_relu %11 {alpha = 0.1 : f64} : tensor<2x3xf32>
  %13 = anvil.clip %12 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x3xf32>
  return %13 : tensor<2x3xf32>
}
