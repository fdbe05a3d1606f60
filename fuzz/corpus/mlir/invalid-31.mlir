func.func @reshape_count(%a: tensor<6xf32>) {
  %0 = anvil.reshape %a {shape = array<i64: 4, 2>} : tensor<6xf32>
  return
}
