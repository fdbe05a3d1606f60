func.func @relu_grad_types(%x: tensor<4xf32>, %g: tensor<5xf32>) {
  %0 = anvil.relu_grad %x, %g : tensor<4xf32>, tensor<5xf32>
  return
}
