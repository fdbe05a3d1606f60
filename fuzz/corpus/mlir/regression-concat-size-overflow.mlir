func.func @f(%x: tensor<2x9223372036854775807x4xf32>, %y: tensor<2x9223372036854775807x4xf32>) -> () {
  %3 = anvil.concat %x, %y {axis = 1 : i64} : tensor<2x9223372036854775807x4xf32>, tensor<2x9223372036854775807x4xf32>
  return
}
