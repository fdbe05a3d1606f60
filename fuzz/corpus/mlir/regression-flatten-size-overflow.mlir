func.func @f(%x: tensor<2x4294967296x4294967296xf32>) -> () {
  %0 = anvil.flatten %x : tensor<2x4294967296x4294967296xf32>
  return
}
