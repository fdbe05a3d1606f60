func.func @f(%x: tensor<4294967296x4294967296xf32>) -> () {
  %0 = anvil.reshape %x {shape = array<i64: 4294967296, 4294967296>} : tensor<4294967296x4294967296xf32>
  return
}
