func.func @loss_float_labels(%x: tensor<4x10xf32>, %l: tensor<4xf32>) {
  %0 = anvil.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<4xf32>
  return
}
