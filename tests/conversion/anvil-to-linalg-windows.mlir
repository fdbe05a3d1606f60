// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg=depthwise-stride1-nchw=false | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg=vector-max-pool-grad=false | FileCheck %s --check-prefix=GATHER
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg=depthwise-strided-nchw=false | FileCheck %s --check-prefix=STRIDEDOFF

// Depthwise convolutions and pooling read each window tap as a strided view
// of the padded input (DepthwiseConv.cpp, Pooling.cpp): one elementwise
// generic over the output, no reduction loops. A tap's map applies the
// stride; its view starts at the tap's offset.

// CHECK-DAG: #[[TAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
// CHECK-DAG: #[[W00:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 0)>
// CHECK-DAG: #[[W22:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 2, 2)>
// CHECK-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @depthwise_stride2_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x7x7xf32>, %[[W:.*]]: tensor<3x1x3x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[T00:.*]] = tensor.extract_slice %[[PAD]][0, 0, 0, 0] [2, 3, 7, 7] [1, 1, 1, 1]
// CHECK: %[[T01:.*]] = tensor.extract_slice %[[PAD]][0, 0, 0, 1] [2, 3, 7, 7] [1, 1, 1, 1]
// CHECK: %[[T22:.*]] = tensor.extract_slice %[[PAD]][0, 0, 2, 2] [2, 3, 7, 7] [1, 1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[W00]], {{.*}}, #[[W22]], #[[BIAS]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[T00]], %[[T01]], {{.*}}, %[[T22]], %[[W]], {{.*}}, %[[W]], %[[B]] :
// CHECK-SAME: outs(%{{.*}} : tensor<2x3x4x4xf32>)
// CHECK: ^bb0(%[[I0:[a-z0-9_]+]]: f32, {{.*}} %[[BI:[a-z0-9_]+]]: f32, %{{[a-z0-9_]+}}: f32):
// CHECK: math.fma %[[I0]], %{{.*}}, %[[BI]] : f32
// CHECK-COUNT-8: math.fma
// CHECK: linalg.yield
// CHECK-NOT: linalg.conv
func.func @depthwise_stride2_bias(%x: tensor<2x3x7x7xf32>, %w: tensor<3x1x3x3xf32>, %b: tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  %0 = anvil.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 3 : i64} : tensor<2x3x7x7xf32>, tensor<3x1x3x3xf32>, tensor<3xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// Dilation moves the taps' views; without padding they are views of the
// input itself; without a bias the sum starts at zero.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @depthwise_dilated_no_bias
// (A label for the run with the option off: the map checks after it are
// the next function's.)
// OFF-LABEL: func @depthwise_dilated_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x8x8xf32>,
// CHECK-NOT: tensor.pad
// CHECK: tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 6, 6]
// CHECK: tensor.extract_slice %[[X]][0, 0, 0, 2] [1, 2, 6, 6]
// CHECK: tensor.extract_slice %[[X]][0, 0, 2, 0] [1, 2, 6, 6]
// CHECK: tensor.extract_slice %[[X]][0, 0, 2, 2] [1, 2, 6, 6]
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: math.fma %{{.*}}, %{{.*}}, %[[ZERO]] : f32
func.func @depthwise_dilated_no_bias(%x: tensor<1x2x8x8xf32>, %w: tensor<2x1x2x2xf32>) -> tensor<1x2x6x6xf32> {
  %0 = anvil.conv2d %x, %w {dilations = array<i64: 2, 2>, groups = 2 : i64} : tensor<1x2x8x8xf32>, tensor<2x1x2x2xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Stride-1 output rows 8 to 15 wide stay NCHW (depthwise-stride1-nchw, the
// default): one masked vector per tap and row after anvil-vectorize-windows,
// no transposes.
// CHECK-LABEL: func @depthwise_rows_8_to_15
// CHECK-NOT: linalg.transpose
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x8x8xf32>)
// CHECK-COUNT-9: math.fma
// CHECK-NOT: linalg.transpose
// CHECK: return
// With depthwise-stride1-nchw=false (and strided rows with
// depthwise-strided-nchw=false, below), output rows 8 to 15 wide compute in NHWC copies, along the channels:
// the input is transposed by a copying generic (which
// anvil-fold-pad-into-producer can make write into the padded buffer),
// then padded along H and W; the filter (as [kh*kw, C]) is transposed by a
// generic too (constant folding folds it); the result is transposed back
// by a linalg.transpose.
// OFF-DAG: #[[TAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// OFF-DAG: #[[NCHW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// OFF-DAG: #[[W0:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d3)>
// OFF-DAG: #[[W8:.*]] = affine_map<(d0, d1, d2, d3) -> (8, d3)>
// OFF-DAG: #[[BIAS:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// OFF-LABEL: func @depthwise_rows_8_to_15
// OFF: %[[NHWC:.*]] = linalg.generic {indexing_maps = [#[[NCHW]], #[[TAP]]]
// OFF-SAME: ins(%{{.*}} : tensor<1x4x8x8xf32>) outs(%{{.*}} : tensor<1x8x8x4xf32>)
// OFF-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// OFF-NEXT: linalg.yield %[[IN]]
// OFF: %[[PAD:.*]] = tensor.pad %[[NHWC]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// OFF: tensor<1x8x8x4xf32> to tensor<1x10x10x4xf32>
// OFF: tensor.extract_slice %[[PAD]][0, 0, 0, 0] [1, 8, 8, 4] [1, 1, 1, 1]
// OFF: tensor.extract_slice %[[PAD]][0, 2, 2, 0] [1, 8, 8, 4] [1, 1, 1, 1]
// OFF: %[[FILTER:.*]] = linalg.generic
// OFF-SAME: ins(%{{.*}} : tensor<4x9xf32>) outs(%{{.*}} : tensor<9x4xf32>)
// OFF: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[TAP]], {{.*}}, #[[W0]], {{.*}}, #[[W8]], #[[BIAS]], #[[TAP]]]
// OFF-SAME: outs(%{{.*}} : tensor<1x8x8x4xf32>)
// OFF: linalg.transpose ins(%[[Y]] : tensor<1x8x8x4xf32>) outs(%{{.*}} : tensor<1x4x8x8xf32>) permutation = [0, 3, 1, 2]
func.func @depthwise_rows_8_to_15(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  %0 = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Strided output rows 8 to 15 wide loop along their NCHW rows too (each
// tap's row is read as one vector and deinterleaved by
// anvil-vectorize-windows): no transposes, the stride in the taps' maps.
// With depthwise-strided-nchw=false they run channels-last; the stride-1
// option leaves them alone.
// CHECK-LABEL: func @depthwise_strided_rows_8_to_15
// CHECK-NOT: linalg.transpose
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x8x8xf32>)
// CHECK-COUNT-9: math.fma
// CHECK-NOT: linalg.transpose
// CHECK: return
// OFF-LABEL: func @depthwise_strided_rows_8_to_15
// OFF-NOT: linalg.transpose
// OFF: return
// STRIDEDOFF-LABEL: func @depthwise_strided_rows_8_to_15
// STRIDEDOFF: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// STRIDEDOFF: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x8x8x4xf32>)
// STRIDEDOFF: linalg.transpose ins(%{{.*}} : tensor<1x8x8x4xf32>) outs(%{{.*}} : tensor<1x4x8x8xf32>) permutation = [0, 3, 1, 2]
func.func @depthwise_strided_rows_8_to_15(%x: tensor<1x4x16x16xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %0 = anvil.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : tensor<1x4x16x16xf32>, tensor<4x1x3x3xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Negative: two filters per channel (groups == input channels, but twice
// as many outputs) keep the grouped convolution.
// CHECK-LABEL: func @channel_multiplier_2
// CHECK-NOT: math.fma
// CHECK: linalg.conv_2d_ngchw_gfchw
func.func @channel_multiplier_2(%x: tensor<1x2x6x6xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %0 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x2x6x6xf32>, tensor<4x1x3x3xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Negative: a window of more than 49 taps keeps the grouped convolution.
// CHECK-LABEL: func @depthwise_large_window
// CHECK-NOT: math.fma
// CHECK: linalg.conv_2d_ngchw_gfchw
func.func @depthwise_large_window(%x: tensor<1x2x9x9xf32>, %w: tensor<2x1x8x8xf32>) -> tensor<1x2x2x2xf32> {
  %0 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x2x9x9xf32>, tensor<2x1x8x8xf32>
  return %0 : tensor<1x2x2x2xf32>
}

// -----

// Max pooling pads with -inf and takes the NaN-propagating maximum of the
// taps with compares and selects (which LLVM vectorizes).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @max_pool_stride1
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: tensor.yield %[[NEGINF]]
// CHECK: %[[T0:.*]] = tensor.extract_slice %[[PAD]][0, 0, 0, 0] [1, 2, 5, 5] [1, 1, 1, 1]
// CHECK: %[[T1:.*]] = tensor.extract_slice %[[PAD]][0, 0, 0, 1] [1, 2, 5, 5] [1, 1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]]]
// CHECK-SAME: ins(%[[T0]], %[[T1]], %{{.*}}, %{{.*}} :
// CHECK: ^bb0(%[[A:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32,
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[A]], %[[B]] : f32
// CHECK: %[[M:.*]] = arith.select %[[GT]], %[[A]], %[[B]] : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[A]], %[[A]] : f32
// CHECK: arith.select %[[NAN]], %[[A]], %[[M]] : f32
// CHECK-NOT: linalg.pooling
func.func @max_pool_stride1(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %0 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>} : tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

// Average pooling sums the taps, then divides by the window sizes; ceil
// mode pads the bottom and right further for the last window.
// CHECK-LABEL: func @avg_pool_ceil
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.extract_slice %[[PAD]][0, 0, 1, 1] [1, 1, 5, 5] [1, 1, 1, 1]
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-COUNT-3: arith.addf
// CHECK: arith.constant dense<{{\[\[\[\[}}4.000000e+00, 4.000000e+00, 2.000000e+00]
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %{{.*}} : tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>)
// CHECK: arith.divf
func.func @avg_pool_ceil(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %0 = anvil.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode} : tensor<1x1x5x5xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// Negative: a window of more than 49 taps keeps linalg's pooling op.
// CHECK-LABEL: func @max_pool_large_window
// CHECK: linalg.pooling_nchw_max
func.func @max_pool_large_window(%x: tensor<1x1x8x8xf32>) -> tensor<1x1x1x1xf32> {
  %0 = anvil.max_pool2d %x {kernel = array<i64: 8, 8>} : tensor<1x1x8x8xf32>
  return %0 : tensor<1x1x1x1xf32>
}

// -----

// A max pool gradient whose 2x2 windows tile the input: vector code over 8
// windows per step (Pooling.cpp's vectorGradRows), the rows [N*C*OH, 2, W]
// by free reshapes; W = 28, so each row's second step is masked (no
// in_bounds); the first maximum by strict compares in row-major order.
// CHECK-LABEL: func @max_pool_grad_tiling
// CHECK: tensor.expand_shape {{.*}} output_shape [12, 2, 28]
// CHECK: scf.for {{.*}} -> (tensor<12x2x28xf32>)
// CHECK: scf.for {{.*}} step %c8
// CHECK: vector.transfer_read {{[^{]*}} : tensor<12x14xf32>, vector<8xf32>
// CHECK: vector.transfer_read {{[^{]*}} : tensor<12x2x28xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK-COUNT-3: arith.cmpf ogt
// CHECK: vector.shuffle {{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15]
// CHECK: vector.transfer_write {{[^{]*}} : vector<16xf32>, tensor<12x2x28xf32>
// CHECK-NOT: tensor.extract
// GATHER-LABEL: func @max_pool_grad_tiling
// GATHER-NOT: vector.shuffle
// GATHER: linalg.generic
// GATHER: tensor.extract
func.func @max_pool_grad_tiling(%x: tensor<2x3x4x28xf32>, %g: tensor<2x3x2x14xf32>) -> tensor<2x3x4x28xf32> {
  %r = anvil.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : tensor<2x3x4x28xf32>, tensor<2x3x2x14xf32>
  return %r : tensor<2x3x4x28xf32>
}
