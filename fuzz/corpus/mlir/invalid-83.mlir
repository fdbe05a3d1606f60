func.func @loss_input_rank(%x: tensor<4x10x2xf32>, %l: tensor<4xi64>) {
  %0 = anvil.nll_loss %x, %l : tensor<4x10x2xf32>, tensor<4xi64>
  return
}
