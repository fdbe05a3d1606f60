// Depthwise convolutions and a squeeze-and-excitation scale, for the fusion
// report's elementwise rules (fusion-report-depthwise.test): a depthwise
// convolution with 16-wide rows lowers to one elementwise generic, which
// anvil-fuse-elementwise fuses with the clip after it, but not with a
// SiLU (x * sigmoid(x)), whose exp keeps it a loop of its own
// (math-out-of-windows); one with 8-wide stride-2 rows stays NCHW
// (deinterleaved taps) and takes its clip (with --no-depthwise-strided-nchw
// it runs channels-last, and its clip, moved above the transpose back to
// NCHW, joins its loop too); the sigmoid of the pooled [N, C, 1, 1] stays out of the
// multiply that broadcasts it.
func.func @forward(%x: tensor<2x8x16x16xf32>) -> tensor<2x8x8x8xf32> {
  %w1 = anvil.param "dw1.weight" init = "kaiming_uniform" {seed = 1 : i64} : tensor<8x1x3x3xf32>
  %b1 = anvil.param "dw1.bias" init = "normal" {mean = 0.0 : f64, std = 0.5 : f64, seed = 2 : i64} : tensor<8xf32>
  %w2 = anvil.param "dw2.weight" init = "kaiming_uniform" {seed = 3 : i64} : tensor<8x1x3x3xf32>
  %w3 = anvil.param "dw3.weight" init = "kaiming_uniform" {seed = 4 : i64} : tensor<8x1x5x5xf32>
  %d1 = anvil.conv2d %x, %w1, %b1 {pads = array<i64: 1, 1, 1, 1>, groups = 8 : i64} : tensor<2x8x16x16xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>
  %r1 = anvil.clip %d1 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x8x16x16xf32>
  %d3 = anvil.conv2d %r1, %w3 {pads = array<i64: 2, 2, 2, 2>, groups = 8 : i64} : tensor<2x8x16x16xf32>, tensor<8x1x5x5xf32>
  %s3 = anvil.sigmoid %d3 : tensor<2x8x16x16xf32>
  %r3 = anvil.mul %d3, %s3 : tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>
  %d2 = anvil.conv2d %r3, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 8 : i64} : tensor<2x8x16x16xf32>, tensor<8x1x3x3xf32>
  %r2 = anvil.clip %d2 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x8x8x8xf32>
  %g = anvil.global_avg_pool %r2 : tensor<2x8x8x8xf32>
  %s = anvil.sigmoid %g : tensor<2x8x1x1xf32>
  %m = anvil.mul %r2, %s : tensor<2x8x8x8xf32>, tensor<2x8x1x1xf32>
  return %m : tensor<2x8x8x8xf32>
}
