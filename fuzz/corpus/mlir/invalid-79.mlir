func.func @layer_norm_axis(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  %0 = anvil.layer_norm %x, %g, %g {axis = 2 : i64} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}
