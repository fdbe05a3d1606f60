func.func @loss_reduction(%x: tensor<4x10xf32>, %l: tensor<4xi64>) {
  %0 = anvil.softmax_cross_entropy %x, %l {reduction = "avg"} : tensor<4x10xf32>, tensor<4xi64>
  return
}
