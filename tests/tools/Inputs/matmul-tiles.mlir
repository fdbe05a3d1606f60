// Two products for the fusion report's register tiles: M = 512 (no divisor
// 6: full-height 6x16 tiles on AVX2) and M = 64 (4x16: full height only for
// M >= 256 and K >= 128).
func.func @forward(%a: tensor<512x256xf32>, %b: tensor<256x64xf32>, %c: tensor<64x256xf32>) -> (tensor<512x64xf32>, tensor<64x64xf32>) {
  %0 = anvil.matmul %a, %b : tensor<512x256xf32>, tensor<256x64xf32>
  %1 = anvil.matmul %c, %b : tensor<64x256xf32>, tensor<256x64xf32>
  return %0, %1 : tensor<512x64xf32>, tensor<64x64xf32>
}
