// RUN: anvil-opt %s -split-input-file -anvil-direct-conv=split-tail-stores=false -canonicalize -cse | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-direct-conv=epilogue=false -canonicalize | FileCheck %s --check-prefix=NOEPI
// RUN: anvil-opt %s -split-input-file -anvil-direct-conv=parallel=false -canonicalize | FileCheck %s --check-prefix=SERIAL
// RUN: anvil-opt %s -split-input-file -anvil-direct-conv="lanes=8 split-tail-stores=false" -canonicalize -cse | FileCheck %s --check-prefix=LANES8
// RUN: anvil-opt %s -split-input-file -anvil-direct-conv="lanes=8 periods=false split-tail-stores=false" -canonicalize -cse | FileCheck %s --check-prefix=ROWS8
// RUN: anvil-opt %s -split-input-file -anvil-direct-conv="lanes=8 periods=false" -canonicalize -cse | FileCheck %s --check-prefix=SPLIT8
// (split-tail-stores=false above: a tile's short last run is one masked
// store, whose mask the checks name; SPLIT8 checks the default, whole
// vectors of 4, 2 and 1 lanes.)
// RUN: not anvil-opt %s -split-input-file -anvil-direct-conv=lanes=4 2>&1 | FileCheck %s --check-prefix=BADLANES
// BADLANES: anvil-direct-conv: lanes must be 8 or 16, not 4
// f32 one-group convolutions with constant filters become direct register
// tiles (DirectConv.cpp); numeric truth is tests/e2e/test_direct_conv.py
// (against the im2col path and the reference interpreter).

// OW = 19: two segments per output row, 10 and 9 positions, 16 channels.
// The filter packed at compile time as [1 group, taps x 16 lanes]: tap 0 of
// channels 0..15, then tap 1. The add (either operand order) and the relu
// are absorbed: each transposed run gets the residual's positions added,
// relu; the block's 16 runs are stacked into one vector<16x16xf32> and
// stored by one 2-D write (masked past the segment's end), which becomes a
// store per channel only after bufferization (TailStores.h says why).
// CHECK-LABEL: func @add_relu
// CHECK: arith.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00{{.*}}1.500000e+01, 5.000000e-01, 1.500000e+00{{.*}}]]> : tensor<1x32xf32>
// CHECK-NOT: anvil.conv2d
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1, 2, 3]] : tensor<1x1x3x20xf32> into tensor<60xf32>
// CHECK: scf.for
// CHECK-COUNT-20: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.constant_mask [10] : vector<16xi1>
// CHECK: vector.shuffle
// CHECK: vector.transfer_read {{.*}} : tensor<1x16x57xf32>, vector<16xf32>
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.cmpf olt
// CHECK-NEXT: arith.select
// CHECK: vector.insert {{.*}} [15] : vector<16xf32> into vector<16x16xf32>
// CHECK-NEXT: vector.constant_mask [16, 10] : vector<16x16xi1>
// CHECK-NEXT: vector.transfer_write {{.*}} {in_bounds = [true, true]} : vector<16x16xf32>, tensor<1x16x57xf32>
// CHECK: vector.constant_mask [9] : vector<16xi1>
// CHECK: vector.constant_mask [16, 9] : vector<16x16xi1>
// CHECK: tensor.expand_shape {{.*}} : tensor<1x16x57xf32> into tensor<1x16x3x19xf32>
// CHECK-NOT: anvil.add
// CHECK-NOT: anvil.relu
// AVX2's tiles (lanes=8): two blocks of 8 channels, the filter packed as
// [2 blocks, taps x 8 lanes]; the segments of 10 and 9 positions are
// transposed 8 at a time, the rest (2 and 1 positions) masked.
// LANES8-LABEL: func @add_relu
// LANES8: arith.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00{{.*}}7.000000e+00, 5.000000e-01{{.*}}], [8.000000e+00{{.*}}]]> : tensor<2x16xf32>
// LANES8-COUNT-20: vector.fma {{.*}} : vector<8xf32>
// LANES8-NOT: vector.constant_mask [8] :
// LANES8: vector.constant_mask [2] : vector<8xi1>
// LANES8: vector.constant_mask [1] : vector<8xi1>
// NOEPI-LABEL: func @add_relu
// NOEPI-NOT: arith.select
// NOEPI: anvil.add
// NOEPI: anvil.relu
func.func @add_relu(%x: tensor<1x1x3x20xf32>, %r: tensor<1x16x3x19xf32>) -> tensor<1x16x3x19xf32> {
  %w = anvil.constant dense<[[[[0.0, 0.5]]], [[[1.0, 1.5]]], [[[2.0, 2.5]]], [[[3.0, 3.5]]], [[[4.0, 4.5]]], [[[5.0, 5.5]]], [[[6.0, 6.5]]], [[[7.0, 7.5]]], [[[8.0, 8.5]]], [[[9.0, 9.5]]], [[[10.0, 10.5]]], [[[11.0, 11.5]]], [[[12.0, 12.5]]], [[[13.0, 13.5]]], [[[14.0, 14.5]]], [[[15.0, 15.5]]]]> : tensor<16x1x1x2xf32>
  %b = anvil.constant dense<1.0> : tensor<16xf32>
  %y = anvil.conv2d %x, %w, %b : tensor<1x1x3x20xf32>, tensor<16x1x1x2xf32>, tensor<16xf32>
  %s = anvil.add %r, %y : tensor<1x16x3x19xf32>, tensor<1x16x3x19xf32>
  %z = anvil.relu %s : tensor<1x16x3x19xf32>
  return %z : tensor<1x16x3x19xf32>
}

// -----

// A clip (relu6) after the convolution is absorbed too: each run clamped
// below at 0 and above at 6 (compare and select: vmaxps, vminps) before its
// store.
// CHECK-LABEL: func @clip
// CHECK-DAG: %[[SIX:.*]] = arith.constant dense<6.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// CHECK: vector.fma
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[SUM:.*]], %[[ZERO]] : vector<16xf32>
// CHECK-NEXT: %[[LO:.*]] = arith.select %[[BELOW]], %[[ZERO]], %[[SUM]]
// CHECK-NEXT: %[[ABOVE:.*]] = arith.cmpf ogt, %[[LO]], %[[SIX]] : vector<16xf32>
// CHECK-NEXT: %[[HI:.*]] = arith.select %[[ABOVE]], %[[SIX]], %[[LO]]
// CHECK: vector.insert %[[HI]], %{{.*}} [0] : vector<16xf32> into vector<16x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16x16xf32>
// CHECK-NOT: anvil.clip
// NOEPI-LABEL: func @clip
// NOEPI: anvil.clip
func.func @clip(%x: tensor<1x3x9x9xf32>) -> tensor<1x16x4x4xf32> {
  %w = anvil.constant dense<0.25> : tensor<16x3x3x3xf32>
  %y = anvil.conv2d %x, %w {strides = array<i64: 2, 2>} : tensor<1x3x9x9xf32>, tensor<16x3x3x3xf32>
  %z = anvil.clip %y {min = 0.0 : f64, max = 6.0 : f64} : tensor<1x16x4x4xf32>
  return %z : tensor<1x16x4x4xf32>
}

// -----

// A 3x3 convolution with padding on 7x7 maps: the input padded once, tiles
// across output rows (DirectConvSchedule.h's periods): periods of 4 rows cut
// into two tiles of 14 positions (the second starting mid-row), the last 3
// rows into 11 and 10; the channel loop and the filter rows' loop carry 14
// accumulators; large enough for an scf.forall, over the 8 images (each
// image period by period, all 4 groups of 16 channels in each period).
// CHECK-LABEL: func @whole_rows
// CHECK: tensor.pad
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK: vector.constant_mask [16, 14] : vector<16x16xi1>
// CHECK: vector.constant_mask [16, 11] : vector<16x16xi1>
// CHECK: vector.constant_mask [16, 10] : vector<16x16xi1>
// With 8 lanes: 8 groups; at most 12 positions per tile (12 accumulators
// besides a filter row's 3 weights and a broadcast: AVX2 has 16
// registers), and one row of 7 would leave the FMA pipes waiting: periods
// of 4 rows in tiles of 10, 10 and 8, the last 3 rows in 11 and 10,
// transposed 8 positions at a time (the rest masked: 2, 3).
// LANES8-LABEL: func @whole_rows
// LANES8: scf.forall (%{{.*}}) in (8)
// LANES8: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// LANES8: vector.constant_mask [8, 2] : vector<8x8xi1>
// LANES8: vector.constant_mask [8, 3] : vector<8x8xi1>
// Without periods (--no-direct-conv-periods) every tile is one row of 7.
// ROWS8-LABEL: func @whole_rows
// ROWS8: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// ROWS8: vector.constant_mask [8, 7] : vector<8x8xi1>
// ROWS8-NOT: vector.constant_mask
// Split (the default): each channel's run of 7 positions stored as 4, 2
// and 1 lanes, no mask: the 8 channels' leading 4 lanes as one 2-D write,
// then their next 2, then the last 1.
// SPLIT8-LABEL: func @whole_rows
// SPLIT8-NOT: vector.constant_mask
// SPLIT8: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [4], strides = [1]} : vector<8xf32> to vector<4xf32>
// SPLIT8: vector.insert {{.*}} [7] : vector<4xf32> into vector<8x4xf32>
// SPLIT8-NEXT: vector.transfer_write {{.*}} {in_bounds = [true, true]} : vector<8x4xf32>, tensor<1x64x49xf32>
// SPLIT8: vector.extract_strided_slice %{{.*}} {offsets = [4], sizes = [2], strides = [1]} : vector<8xf32> to vector<2xf32>
// SPLIT8: vector.transfer_write {{.*}} {in_bounds = [true, true]} : vector<8x2xf32>, tensor<1x64x49xf32>
// SPLIT8: vector.extract_strided_slice %{{.*}} {offsets = [6], sizes = [1], strides = [1]} : vector<8xf32> to vector<1xf32>
// SPLIT8: vector.transfer_write {{.*}} {in_bounds = [true, true]} : vector<8x1xf32>, tensor<1x64x49xf32>
// SPLIT8-NOT: vector.constant_mask
// SPLIT8: return
// SERIAL-LABEL: func @whole_rows
// SERIAL-NOT: scf.forall
func.func @whole_rows(%x: tensor<8x64x7x7xf32>) -> tensor<8x64x7x7xf32> {
  %w = anvil.constant dense<0.5> : tensor<64x64x3x3xf32>
  %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<8x64x7x7xf32>, tensor<64x64x3x3xf32>
  return %y : tensor<8x64x7x7xf32>
}

// -----

// One image (an odd count would share two threads unevenly): the channel
// groups in parallel instead, 4 of 16 (8 of 8 with AVX2's lanes).
// CHECK-LABEL: func @one_image
// CHECK: scf.forall (%{{.*}}) in (4)
// LANES8-LABEL: func @one_image
// ROWS8-LABEL: func @one_image
// LANES8: scf.forall (%{{.*}}) in (8)
func.func @one_image(%x: tensor<1x64x14x14xf32>) -> tensor<1x64x14x14xf32> {
  %w = anvil.constant dense<0.5> : tensor<64x64x3x3xf32>
  %y = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<1x64x14x14xf32>, tensor<64x64x3x3xf32>
  return %y : tensor<1x64x14x14xf32>
}

// -----

// Left alone: a 1x1 convolution (a plain matmul), 24 output channels, a
// filter that is an argument, a depthwise convolution.
// With 8 lanes 24 channels are 3 blocks: that one is direct.
// LANES8-LABEL: func @not_direct
// LANES8: vector.fma {{.*}} : vector<8xf32>
// CHECK-LABEL: func @not_direct
// CHECK-COUNT-4: anvil.conv2d
// CHECK-NOT: vector.fma
func.func @not_direct(%x: tensor<1x16x8x8xf32>, %wa: tensor<16x16x3x3xf32>) -> (tensor<1x32x8x8xf32>, tensor<1x24x8x8xf32>, tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) {
  %w1 = anvil.constant dense<0.5> : tensor<32x16x1x1xf32>
  %y1 = anvil.conv2d %x, %w1 : tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>
  %w2 = anvil.constant dense<0.5> : tensor<24x16x3x3xf32>
  %y2 = anvil.conv2d %x, %w2 {pads = array<i64: 1, 1, 1, 1>} : tensor<1x16x8x8xf32>, tensor<24x16x3x3xf32>
  %y3 = anvil.conv2d %x, %wa {pads = array<i64: 1, 1, 1, 1>} : tensor<1x16x8x8xf32>, tensor<16x16x3x3xf32>
  %wd = anvil.constant dense<0.5> : tensor<16x1x3x3xf32>
  %y4 = anvil.conv2d %x, %wd {pads = array<i64: 1, 1, 1, 1>, groups = 16 : i64} : tensor<1x16x8x8xf32>, tensor<16x1x3x3xf32>
  return %y1, %y2, %y3, %y4 : tensor<1x32x8x8xf32>, tensor<1x24x8x8xf32>, tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>
}
