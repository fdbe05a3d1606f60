// RUN: anvil-opt %s -anvil-autodiff -verify-diagnostics
// An op without a gradient on the path of a trainable parameter.
func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
  %w = anvil.param "w" init = "ones" : tensor<4xf32>
  // expected-error @+1 {{has no gradient yet, and a trainable parameter flows into it; freeze the parameters before it (--freeze)}}
  %e = anvil.slice %w {starts = array<i64: 1>, ends = array<i64: 3>, steps = array<i64: 1>} : tensor<4xf32>
  %s = anvil.reduce_sum %e {axes = array<i64: 0>} : tensor<2xf32>
  return %s : tensor<f32>
}
