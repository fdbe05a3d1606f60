func.func @dynamic_shape(%a: tensor<?x3xf32>, %b: tensor<3xf32>) {
  %0 = anvil.add %a, %b : tensor<?x3xf32>, tensor<3xf32>
  return
}
