func.func @batch_norm_channels(%x: tensor<2x8x4x4xf32>, %c: tensor<8xf32>, %v: tensor<4xf32>) {
  %0 = anvil.batch_norm %x, %c, %c, %c, %v : tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>
  return
}
