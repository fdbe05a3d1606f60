func.func @mixed_element_types(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  %0 = anvil.add %a, %b : tensor<3xf32>, tensor<3xf64>
  return
}
