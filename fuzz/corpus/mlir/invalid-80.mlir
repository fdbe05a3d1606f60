func.func @layer_norm_scale(%x: tensor<2x8xf32>, %g: tensor<2x8xf32>, %b: tensor<8xf32>) {
  %0 = anvil.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>
  return
}
