func.func @normalization(%x: tensor<8x16x4x4xf32>, %c: tensor<16xf32>, %s: tensor<10x32xf32>, %g: tensor<32xf32>) -> (tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<10x32xf32>, tensor<10x32xi1>) {
  %0 = anvil.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-3 : f64} : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
  %1:3 = anvil.batch_norm_train %0, %c, %c : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>
  %2 = anvil.layer_norm %s, %g, %g : tensor<10x32xf32>, tensor<32xf32>, tensor<32xf32>
  %3:2 = anvil.dropout %2 {ratio = 0.2 : f64, training, seed = 3 : i64} : tensor<10x32xf32>
  return %1#0, %1#2, %3#0, %3#1 : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<10x32xf32>, tensor<10x32xi1>
}
