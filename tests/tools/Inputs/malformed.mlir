func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = anvil.relu %x : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
