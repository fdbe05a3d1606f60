func.func @mse_shapes(%x: tensor<4x1xf32>, %t: tensor<4xf32>) {
  %0 = anvil.mse_loss %x, %t : tensor<4x1xf32>, tensor<4xf32>
  return
}
