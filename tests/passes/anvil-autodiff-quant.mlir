// RUN: anvil-opt %s -anvil-autodiff -verify-diagnostics
// Quantize has no gradient (quantization-aware training reads through
// anvil.fake_quantize, whose gradient is the straight-through estimator):
// autodiff refuses a trainable parameter flowing into it rather than
// silently giving it the zero gradient of a step function.
func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
  %w = anvil.param "w" init = "ones" : tensor<4xf32>
  %s = anvil.constant dense<0.1> : tensor<f32>
  %z = anvil.constant dense<0> : tensor<i8>
  // expected-error @+1 {{has no gradient, and a trainable parameter flows into it; train through anvil.fake_quantize (anvilc train --qat) or freeze the parameters before it (--freeze)}}
  %q = anvil.quantize %w, %s, %z : tensor<4xf32>, tensor<f32>, tensor<i8>
  %d = anvil.dequantize %q, %s, %z : tensor<4xi8>, tensor<f32>, tensor<i8>
  %m = anvil.reduce_sum %d {axes = array<i64: 0>} : tensor<4xf32>
  return %m : tensor<f32>
}
