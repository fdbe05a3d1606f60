func.func @reshape_negative(%a: tensor<6xf32>) {
  %0 = anvil.reshape %a {shape = array<i64: -1, 6>} : tensor<6xf32>
  return
}
