// RUN: anvil-opt %s -anvil-autodiff -verify-diagnostics
// An op without a gradient on the path of a trainable parameter.
func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
  %w = anvil.param "w" init = "ones" : tensor<4xf32>
  // expected-error @+1 {{has no gradient yet, and a trainable parameter flows into it; freeze the parameters before it (--freeze)}}
  %m = anvil.reduce_max %w {axes = array<i64: 0>} : tensor<4xf32>
  return %m : tensor<f32>
}
