// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul=lanes=false | FileCheck %s --check-prefix=NOLANES

// A one-channel image at stride 1 (LeNet's conv1: 6 channels, 5x5, padded
// by 2; rows of 20): each accumulator holds 16 positions of one channel
// (Int8LaneConv.h). Per filter row, one 32-byte read of the input row
// (padded on the right by 17 - kw = 12 more, so that the last segment's
// read fits), two byte shuffles (taps 0-3 and 4-7, the sliding windows)
// and 6 vpdpbusd each; then per channel the correction, the epilogue
// (dequantize, relu, quantize) and a store of 16 bytes. The segments are
// x0 = 0 and 4 (the second overlaps the first): 12 stores per output row.
// CHECK-LABEL: func @conv_lanes
// CHECK: tensor.pad %{{.*}} low[0, 0, 2, 2] high[0, 0, 2, 14]
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: %[[ROW:.*]] = vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<1728xui8>, vector<32xui8>
// CHECK: vector.shuffle %[[ROW]], %[[ROW]] [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, {{.*}}, 15, 16, 17, 18] : vector<32xui8>, vector<32xui8>
// CHECK: vector.bitcast %{{.*}} : vector<64xui8> to vector<16xi32>
// CHECK-COUNT-6: llvm.inline_asm "vpdpbusd $3, $2, $0"
// CHECK: vector.shuffle %[[ROW]], %[[ROW]] [4, 5, 6, 7, 5, 6, 7, 8, {{.*}}, 19, 20, 21, 22] : vector<32xui8>, vector<32xui8>
// CHECK-COUNT-6: llvm.inline_asm "vpdpbusd $3, $2, $0"
// CHECK: arith.subi %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: math.roundeven %{{.*}} : vector<16xf32>
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xui8>, tensor<1x6x400xui8>
// CHECK-COUNT-11: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xui8>, tensor<1x6x400xui8>
// CHECK-NOT: vector.transfer_write
// CHECK: tensor.expand_shape %{{.*}} : tensor<2x6x400xui8> into tensor<2x6x20x20xui8>
// CHECK-NOT: anvil.{{qconv2d|dequantize|relu|quantize}}
// NOLANES-LABEL: func @conv_lanes
// NOLANES-NOT: vector<64xui8>
// NOLANES: llvm.inline_asm "vpdpbusd
// NOLANES: return
func.func @conv_lanes(%x: tensor<2x1x20x20xui8>) -> tensor<2x6x20x20xui8> {
  %w = anvil.constant dense<3> : tensor<6x1x5x5xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %acc = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 2, 2, 2, 2>} : tensor<2x1x20x20xui8>, tensor<6x1x5x5xi8>, tensor<ui8>, tensor<i8>
  %s = anvil.constant dense<0.5> : tensor<6xf32>
  %z = anvil.constant dense<0> : tensor<6xi32>
  %y = anvil.dequantize %acc, %s, %z : tensor<2x6x20x20xi32>, tensor<6xf32>, tensor<6xi32>
  %r = anvil.relu %y : tensor<2x6x20x20xf32>
  %qs = anvil.constant dense<0.25> : tensor<f32>
  %qz = anvil.constant dense<0> : tensor<ui8>
  %q = anvil.quantize %r, %qs, %qz : tensor<2x6x20x20xf32>, tensor<f32>, tensor<ui8>
  return %q : tensor<2x6x20x20xui8>
}

// -----

// Not lanes: stride 2, and output rows shorter than 16.
// CHECK-LABEL: func @conv_not_lanes
// CHECK-NOT: vector<64xui8>
// CHECK: return
func.func @conv_not_lanes(%x: tensor<1x1x20x20xui8>, %y: tensor<1x1x12x12xui8>) -> (tensor<1x4x10x10xi32>, tensor<1x4x12x12xi32>) {
  %w = anvil.constant dense<3> : tensor<4x1x3x3xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %a = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x1x20x20xui8>, tensor<4x1x3x3xi8>, tensor<ui8>, tensor<i8>
  %b = anvil.qconv2d %y, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>} : tensor<1x1x12x12xui8>, tensor<4x1x3x3xi8>, tensor<ui8>, tensor<i8>
  return %a, %b : tensor<1x4x10x10xi32>, tensor<1x4x12x12xi32>
}
