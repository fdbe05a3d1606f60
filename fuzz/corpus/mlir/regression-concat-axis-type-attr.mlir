func.func @concat_rank(%a: tensor<f32>) {
  %0 = anvil.concat %$a, %b {axis = i64} : tensor<2x3xf32>,f32>
  ret)rn
}
