// A channels-last depthwise convolution (8-wide rows) whose result is
// added to the block's input (fusion-report-depthwise.test): the add reads
// something besides the transposed result, so it stays after the transpose
// to NCHW, a loop of its own.
func.func @forward(%x: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %w = anvil.param "dw.weight" init = "kaiming_uniform" {seed = 1 : i64} : tensor<16x1x3x3xf32>
  %d = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<2x16x8x8xf32>, tensor<16x1x3x3xf32>
  %r = anvil.add %d, %x : tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>
  return %r : tensor<2x16x8x8xf32>
}
