func.func @loss_labels(%x: tensor<4x10xf32>, %l: tensor<5xi64>) {
  %0 = anvil.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<5xi64>
  return
}
