// A small convolutional block with inference batch norms, for the tests of
// anvil-fold-batch-norm and the fusion report (fold-batch-norm.test,
// fusion-report.test): conv+bn+relu, a second conv+bn that a residual add
// joins, and a batch norm after an add, which has no convolution to fold
// into. The statistics are random so that a wrong fold shows.
func.func @forward(%x: tensor<2x3x10x10xf32>) -> tensor<2x8x10x10xf32> {
  %w1 = anvil.param "conv1.weight" init = "kaiming_uniform" {seed = 1 : i64} : tensor<8x3x3x3xf32>
  %b1 = anvil.param "conv1.bias" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 2 : i64} : tensor<8xf32>
  %g1 = anvil.param "bn1.weight" init = "uniform" {low = 0.5 : f64, high = 1.5 : f64, seed = 3 : i64} : tensor<8xf32>
  %h1 = anvil.param "bn1.bias" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 4 : i64} : tensor<8xf32>
  %m1 = anvil.param "bn1.running_mean" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 5 : i64} : tensor<8xf32>
  %v1 = anvil.param "bn1.running_var" init = "uniform" {low = 0.5 : f64, high = 2.0 : f64, seed = 6 : i64} : tensor<8xf32>
  %c1 = anvil.conv2d %x, %w1, %b1 {pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>
  %n1 = anvil.batch_norm %c1, %g1, %h1, %m1, %v1 {epsilon = 1.0e-05 : f64} : tensor<2x8x10x10xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  %r1 = anvil.relu %n1 : tensor<2x8x10x10xf32>
  %w2 = anvil.param "conv2.weight" init = "kaiming_uniform" {seed = 7 : i64} : tensor<8x8x3x3xf32>
  %g2 = anvil.param "bn2.weight" init = "uniform" {low = 0.5 : f64, high = 1.5 : f64, seed = 8 : i64} : tensor<8xf32>
  %h2 = anvil.param "bn2.bias" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 9 : i64} : tensor<8xf32>
  %m2 = anvil.param "bn2.running_mean" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 10 : i64} : tensor<8xf32>
  %v2 = anvil.param "bn2.running_var" init = "uniform" {low = 0.5 : f64, high = 2.0 : f64, seed = 11 : i64} : tensor<8xf32>
  %c2 = anvil.conv2d %r1, %w2 {pads = array<i64: 1, 1, 1, 1>} : tensor<2x8x10x10xf32>, tensor<8x8x3x3xf32>
  %n2 = anvil.batch_norm %c2, %g2, %h2, %m2, %v2 : tensor<2x8x10x10xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  %sum = anvil.add %n2, %r1 : tensor<2x8x10x10xf32>, tensor<2x8x10x10xf32>
  %n3 = anvil.batch_norm %sum, %g2, %h2, %m2, %v2 : tensor<2x8x10x10xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  %r3 = anvil.relu %n3 : tensor<2x8x10x10xf32>
  %s3 = anvil.sigmoid %r3 : tensor<2x8x10x10xf32>
  return %s3 : tensor<2x8x10x10xf32>
}
