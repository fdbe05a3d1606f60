func.func @slice_bounds(%a: tensor<4x6xf32>) {
  %0 = anvil.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 7>, steps = array<i64: 1, 1>} : tensor<4x6xf32>
  return
}
