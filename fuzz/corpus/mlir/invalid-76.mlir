func.func @batch_norm_rank(%x: tensor<8xf32>, %c: tensor<8xf32>) {
  %0 = anvil.batch_norm %x, %c, %c, %c, %c : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}
