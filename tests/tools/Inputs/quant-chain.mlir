// An int8 matmul whose accumulators are dequantized, activated and
// quantized again for the next layer (what anvilc quantize makes of
// matmul -> relu -> matmul): fusion-report-quant.test.
func.func @forward(%x: tensor<8x64xui8>) -> tensor<8x32xui8> {
  %w = anvil.constant dense<1> : tensor<64x32xi8>
  %zx = anvil.constant dense<3> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %a = anvil.qmatmul %x, %w, %zx, %zw : tensor<8x64xui8>, tensor<64x32xi8>, tensor<ui8>, tensor<i8>
  %s = anvil.constant dense<0.5> : tensor<32xf32>
  %z = anvil.constant dense<0> : tensor<32xi32>
  %d = anvil.dequantize %a, %s, %z {axis = 1 : i64} : tensor<8x32xi32>, tensor<32xf32>, tensor<32xi32>
  %r = anvil.relu %d : tensor<8x32xf32>
  %qs = anvil.constant dense<0.1> : tensor<f32>
  %qz = anvil.constant dense<0> : tensor<ui8>
  %q = anvil.quantize %r, %qs, %qz : tensor<8x32xf32>, tensor<f32>, tensor<ui8>
  return %q : tensor<8x32xui8>
}
