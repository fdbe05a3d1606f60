// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows="masked-tails=false" -canonicalize -cse | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows -canonicalize -cse | FileCheck %s --check-prefix=MASKED
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows=split-tail-stores=false -canonicalize -cse | FileCheck %s --check-prefix=MASKSTORE
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows="short-rows=false ragged-rows=false" | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows="ragged-rows=false" | FileCheck %s --check-prefix=RAGGEDOFF

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// 2x2/2 max pooling of 28x28 (LeNet): 14 outputs per row, whose taps are
// 27-wide views. No 16-lane chunk fits (32 elements), so the row is two
// static chunks: 8 outputs from one 16-element read at 0, then 6 from a
// 16-element read moved back to end at 27 (from 11: lanes 5, 7, ..., 15).
// CHECK-LABEL: func @max_pool_2x2_s2
// CHECK-SAME: (%[[T0:[a-z0-9]+]]: tensor<4x6x27x27xf32>
// CHECK-DAG: %[[C11:.*]] = arith.constant 11 : index
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step {{.*}} iter_args(%[[O:.*]] =
// CHECK: %[[Y2:.*]] = affine.apply #{{.*}}(%[[Y]])
// CHECK: %[[R0:.*]] = vector.transfer_read %[[T0]][%[[N]], %[[C]], %[[Y2]], %c0], %{{.*}} {in_bounds = [true]} : tensor<4x6x27x27xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6, 8, 10, 12, 14] : vector<16xf32>, vector<16xf32>
// CHECK: arith.cmpf ogt, %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: arith.cmpf uno, %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: %[[W0:.*]] = vector.transfer_write %{{.*}}, %[[O]][%[[N]], %[[C]], %[[Y]], %c0] {in_bounds = [true]} : vector<8xf32>, tensor<4x6x14x14xf32>
// CHECK: %[[R1:.*]] = vector.transfer_read %[[T0]][%[[N]], %[[C]], %[[Y2]], %[[C11]]], %{{.*}} {in_bounds = [true]} : tensor<4x6x27x27xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[R1]], %[[R1]] [5, 7, 9, 11, 13, 15] : vector<16xf32>, vector<16xf32>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<6xi1>, vector<6xf32>
// CHECK: vector.transfer_write %{{.*}}, %[[W0]][%[[N]], %[[C]], %[[Y]], %c8] {in_bounds = [true]} : vector<6xf32>, tensor<4x6x14x14xf32>
// CHECK-NOT: linalg.generic
// With masked tails (the default), the row is one 16-lane chunk: 32
// elements read from 0, the 5 past the taps' end masked off
// (in_bounds = false), and its 14 results in the row written as vectors
// of 8, 4 and 2 (split-tail-stores); with split-tail-stores=false, 16
// results written with the last 2 masked off (a masked store).
// MASKED-LABEL: func @max_pool_2x2_s2
// MASKED-SAME: (%[[T0:[a-z0-9]+]]: tensor<4x6x27x27xf32>
// MASKED: %[[R0:.*]] = vector.transfer_read %[[T0]][%{{.*}}, %{{.*}}, %{{.*}}, %c0], %{{.*}} : tensor<4x6x27x27xf32>, vector<32xf32>
// MASKED: vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<32xf32>, vector<32xf32>
// MASKED: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// MASKED: %[[LO:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [8], strides = [1]} : vector<16xf32> to vector<8xf32>
// MASKED: vector.transfer_write %[[LO]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c0] {in_bounds = [true]} : vector<8xf32>, tensor<4x6x14x14xf32>
// MASKED: %[[MID:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [8], sizes = [4], strides = [1]} : vector<16xf32> to vector<4xf32>
// MASKED: vector.transfer_write %[[MID]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c8] {in_bounds = [true]} : vector<4xf32>, tensor<4x6x14x14xf32>
// MASKED: %[[HI:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [12], sizes = [2], strides = [1]} : vector<16xf32> to vector<2xf32>
// MASKED: vector.transfer_write %[[HI]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c12] {in_bounds = [true]} : vector<2xf32>, tensor<4x6x14x14xf32>
// MASKED-NOT: vector.transfer_write
// MASKED: return
// MASKSTORE-LABEL: func @max_pool_2x2_s2
// MASKSTORE: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// MASKSTORE: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c0] : vector<16xf32>, tensor<4x6x14x14xf32>
// MASKSTORE-NOT: vector.transfer_write
// MASKSTORE: return
func.func @max_pool_2x2_s2(%t0: tensor<4x6x27x27xf32>, %t1: tensor<4x6x27x27xf32>,
                           %t2: tensor<4x6x27x27xf32>, %t3: tensor<4x6x27x27xf32>,
                           %o: tensor<4x6x14x14xf32>) -> tensor<4x6x14x14xf32> {
  %r = linalg.generic {indexing_maps = [#tap, #tap, #tap, #tap, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %t2, %t3 : tensor<4x6x27x27xf32>, tensor<4x6x27x27xf32>, tensor<4x6x27x27xf32>, tensor<4x6x27x27xf32>)
      outs(%o : tensor<4x6x14x14xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %out: f32):
    %0 = arith.cmpf ogt, %a, %b : f32
    %1 = arith.select %0, %a, %b : f32
    %2 = arith.cmpf uno, %a, %a : f32
    %3 = arith.select %2, %a, %1 : f32
    %4 = arith.cmpf ogt, %3, %c : f32
    %5 = arith.select %4, %3, %c : f32
    %6 = arith.cmpf uno, %3, %3 : f32
    %7 = arith.select %6, %3, %5 : f32
    %8 = arith.cmpf ogt, %7, %d : f32
    %9 = arith.select %8, %7, %d : f32
    %10 = arith.cmpf uno, %7, %7 : f32
    %11 = arith.select %10, %7, %9 : f32
    linalg.yield %11 : f32
  } -> tensor<4x6x14x14xf32>
  return %r : tensor<4x6x14x14xf32>
}

// -----

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// 3x3/2 max pooling of 112x112 padded to 114x114 (ResNet): 56 outputs per
// row from 111-wide taps. Three 16-lane chunks of 32-element reads fit and
// run in a loop; the last 8 outputs read 16 elements from 95 (lanes 1, 3,
// ..., 15), as the last read from 96 would pass the end.
// CHECK-LABEL: func @max_pool_3x3_s2_padded
// CHECK: scf.for %[[X:.*]] = %c0 to %c48 step %c16
// CHECK: %[[X2:.*]] = affine.apply #{{.*}}(%[[X]])
// CHECK: %[[R:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[X2]]], %{{.*}} {in_bounds = [true]} : tensor<1x4x111x111xf32>, vector<32xf32>
// CHECK: vector.shuffle %[[R]], %[[R]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<1x4x56x56xf32>
// CHECK: scf.yield
// CHECK: %[[RT:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c95], %{{.*}} {in_bounds = [true]} : tensor<1x4x111x111xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[RT]], %[[RT]] [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c48] {in_bounds = [true]} : vector<8xf32>, tensor<1x4x56x56xf32>
// Masked: the same loop; the last 8 outputs read 16 elements from 96, the
// last one past the taps' end masked off, and are written in bounds.
// MASKED-LABEL: func @max_pool_3x3_s2_padded
// MASKED: scf.for %{{.*}} = %c0 to %c48 step %c16
// MASKED: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<1x4x111x111xf32>, vector<32xf32>
// MASKED: scf.yield
// MASKED: %[[RT:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c96], %{{.*}} : tensor<1x4x111x111xf32>, vector<16xf32>
// MASKED: vector.shuffle %[[RT]], %[[RT]] [0, 2, 4, 6, 8, 10, 12, 14]
// MASKED: vector.transfer_write %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c48] {in_bounds = [true]} : vector<8xf32>, tensor<1x4x56x56xf32>
func.func @max_pool_3x3_s2_padded(%x: tensor<1x4x112x112xf32>) -> tensor<1x4x56x56xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x4x112x112xf32> to tensor<1x4x114x114xf32>
  %t0 = tensor.extract_slice %p[0, 0, 0, 0] [1, 4, 111, 111] [1, 1, 1, 1] : tensor<1x4x114x114xf32> to tensor<1x4x111x111xf32>
  %t1 = tensor.extract_slice %p[0, 0, 0, 1] [1, 4, 111, 111] [1, 1, 1, 1] : tensor<1x4x114x114xf32> to tensor<1x4x111x111xf32>
  %t2 = tensor.extract_slice %p[0, 0, 0, 2] [1, 4, 111, 111] [1, 1, 1, 1] : tensor<1x4x114x114xf32> to tensor<1x4x111x111xf32>
  %e = tensor.empty() : tensor<1x4x56x56xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #tap, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %t2 : tensor<1x4x111x111xf32>, tensor<1x4x111x111xf32>, tensor<1x4x111x111xf32>)
      outs(%e : tensor<1x4x56x56xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
    %0 = arith.maximumf %a, %b : f32
    %1 = arith.maximumf %0, %c : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x56x56xf32>
  return %r : tensor<1x4x56x56xf32>
}

// -----

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#counts = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Average pooling fused with its division: the window counts are read
// contiguously along x (stride 1). 7 outputs per row from 13-wide taps: 16
// elements do not fit, so 4 outputs (8-element reads from 0), then 3
// (8-element reads moved back to 5: lanes 3, 5, 7; the counts: 4 from 3).
// CHECK-LABEL: func @avg_pool_s2
// CHECK-SAME: (%[[T0:[a-z0-9]+]]: tensor<2x3x13x13xf32>, %[[T1:[a-z0-9]+]]: tensor<2x3x13x13xf32>, %[[N:[a-z0-9]+]]: tensor<1x1x7x7xf32>)
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[R0:.*]] = vector.transfer_read %[[T0]][%{{.*}}, %{{.*}}, %{{.*}}, %c0], %{{.*}} {in_bounds = [true]} : tensor<2x3x13x13xf32>, vector<8xf32>
// CHECK: vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6] : vector<8xf32>, vector<8xf32>
// CHECK: vector.transfer_read %[[N]][%c0, %c0, %[[Y]], %c0], %{{.*}} {in_bounds = [true]} : tensor<1x1x7x7xf32>, vector<4xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: arith.divf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: %[[W:.*]] = vector.transfer_write {{.*}} : vector<4xf32>, tensor<2x3x7x7xf32>
// CHECK: %[[R1:.*]] = vector.transfer_read %[[T0]][%{{.*}}, %{{.*}}, %{{.*}}, %c5], %{{.*}} {in_bounds = [true]} : tensor<2x3x13x13xf32>, vector<8xf32>
// CHECK: vector.shuffle %[[R1]], %[[R1]] [3, 5, 7] : vector<8xf32>, vector<8xf32>
// CHECK: %[[C:.*]] = vector.transfer_read %[[N]][%c0, %c0, %[[Y]], %c3], %{{.*}} {in_bounds = [true]} : tensor<1x1x7x7xf32>, vector<4xf32>
// CHECK: vector.shuffle %[[C]], %[[C]] [1, 2, 3] : vector<4xf32>, vector<4xf32>
// CHECK: arith.divf %{{.*}}, %{{.*}} : vector<3xf32>
// CHECK: vector.transfer_write %{{.*}}, %[[W]][%{{.*}}, %{{.*}}, %[[Y]], %c4] {in_bounds = [true]} : vector<3xf32>, tensor<2x3x7x7xf32>
func.func @avg_pool_s2(%t0: tensor<2x3x13x13xf32>, %t1: tensor<2x3x13x13xf32>,
                       %n: tensor<1x1x7x7xf32>) -> tensor<2x3x7x7xf32> {
  %e = tensor.empty() : tensor<2x3x7x7xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #counts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %n : tensor<2x3x13x13xf32>, tensor<2x3x13x13xf32>, tensor<1x1x7x7xf32>)
      outs(%e : tensor<2x3x7x7xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.divf %0, %c : f32
    linalg.yield %1 : f32
  } -> tensor<2x3x7x7xf32>
  return %r : tensor<2x3x7x7xf32>
}

// -----

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#w0 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 0)>
#w1 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 1)>
#bias = affine_map<(d0, d1, d2, d3) -> (d1)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A depthwise convolution with stride 2 (two taps shown) and a fused clamp:
// the filter and the bias do not depend on x and are broadcast; scalars
// from outside the body too. 28 outputs per row from 55-wide taps: one
// 16-lane chunk (32 elements from 0; its one-trip loop folds away), then
// 12 outputs from 32 elements moved back to end at 55 (from 23: lanes 9,
// 11, ..., 31).
// CHECK-LABEL: func @depthwise_s2
// CHECK-SAME: (%[[T0:[a-z0-9]+]]: tensor<1x8x55x55xf32>, %[[T1:[a-z0-9]+]]: tensor<1x8x55x55xf32>, %[[W:[a-z0-9]+]]: tensor<8x1x3x3xf32>, %[[B:[a-z0-9]+]]: tensor<8xf32>, %[[SIX:[a-z0-9]+]]: f32)
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[R0:.*]] = vector.transfer_read %[[T0]][%c0, %[[C]], %{{.*}}, %c0], %{{.*}} {in_bounds = [true]} : tensor<1x8x55x55xf32>, vector<32xf32>
// CHECK: vector.shuffle %[[R0]], %[[R0]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<32xf32>, vector<32xf32>
// CHECK: %[[W0:.*]] = tensor.extract %[[W]][%[[C]], %c0, %c0, %c0] : tensor<8x1x3x3xf32>
// CHECK: vector.broadcast %[[W0]] : f32 to vector<16xf32>
// CHECK: %[[B0:.*]] = tensor.extract %[[B]][%[[C]]] : tensor<8xf32>
// CHECK: vector.broadcast %[[B0]] : f32 to vector<16xf32>
// CHECK: math.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.broadcast %[[SIX]] : f32 to vector<16xf32>
// CHECK: arith.minimumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}}%c0] {in_bounds = [true]} : vector<16xf32>, tensor<1x8x28x28xf32>
// CHECK: %[[R1:.*]] = vector.transfer_read %[[T0]][%c0, %[[C]], %{{.*}}, %c23], %{{.*}} {in_bounds = [true]} : tensor<1x8x55x55xf32>, vector<32xf32>
// CHECK: vector.shuffle %[[R1]], %[[R1]] [9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK: vector.transfer_write {{.*}}%c16] {in_bounds = [true]} : vector<12xf32>, tensor<1x8x28x28xf32>
func.func @depthwise_s2(%t0: tensor<1x8x55x55xf32>, %t1: tensor<1x8x55x55xf32>,
                        %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>, %six: f32) -> tensor<1x8x28x28xf32> {
  %e = tensor.empty() : tensor<1x8x28x28xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #w0, #w1, #bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %w, %w, %b : tensor<1x8x55x55xf32>, tensor<1x8x55x55xf32>, tensor<8x1x3x3xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>)
      outs(%e : tensor<1x8x28x28xf32>) {
  ^bb0(%a: f32, %c: f32, %wa: f32, %wc: f32, %bb: f32, %out: f32):
    %0 = math.fma %a, %wa, %bb : f32
    %1 = math.fma %c, %wc, %0 : f32
    %2 = arith.minimumf %1, %six : f32
    linalg.yield %2 : f32
  } -> tensor<1x8x28x28xf32>
  return %r : tensor<1x8x28x28xf32>
}

// -----

#tap1 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Stride 1, 30-wide rows: LLVM vectorizes the contiguous reads itself, but
// with narrow vectors for a row that is not a multiple of 16; ragged-rows
// makes it a 16-lane chunk and a 14-lane tail. Without ragged-rows it is
// left alone.
// CHECK-LABEL: func @stride_1_ragged
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: arith.maximumf {{.*}} : vector<14xf32>
// CHECK-NOT: linalg.generic
// RAGGEDOFF-LABEL: func @stride_1_ragged
// RAGGEDOFF: linalg.generic
// RAGGEDOFF-NOT: vector.
// RAGGEDOFF: return
func.func @stride_1_ragged(%t0: tensor<1x4x30x30xf32>, %t1: tensor<1x4x30x30xf32>) -> tensor<1x4x30x30xf32> {
  %e = tensor.empty() : tensor<1x4x30x30xf32>
  %r = linalg.generic {indexing_maps = [#tap1, #tap1, #tap1], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1 : tensor<1x4x30x30xf32>, tensor<1x4x30x30xf32>) outs(%e : tensor<1x4x30x30xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.maximumf %a, %b : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x30x30xf32>
  return %r : tensor<1x4x30x30xf32>
}

// -----

#nhwc = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 2, d2 * 2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Channels-last depthwise taps: the stride is on an outer loop, the
// innermost (channels) is contiguous. Left alone.
// CHECK-LABEL: func @channels_last_untouched
// CHECK: linalg.generic
// CHECK-NOT: vector.
// MASKED-LABEL: func @channels_last_untouched
// MASKED: linalg.generic
// MASKED-NOT: vector.
func.func @channels_last_untouched(%t0: tensor<1x27x27x64xf32>) -> tensor<1x14x14x64xf32> {
  %e = tensor.empty() : tensor<1x14x14x64xf32>
  %r = linalg.generic {indexing_maps = [#nhwc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0 : tensor<1x27x27x64xf32>) outs(%e : tensor<1x14x14x64xf32>) {
  ^bb0(%a: f32, %out: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<1x14x14x64xf32>
  return %r : tensor<1x14x14x64xf32>
}

// -----

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A body that reads its indices: left alone.
// CHECK-LABEL: func @index_untouched
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @index_untouched(%t0: tensor<1x2x7x7xf32>) -> tensor<1x2x4x4xf32> {
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [#tap, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0 : tensor<1x2x7x7xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %out: f32):
    %i = linalg.index 3 : index
    %j = arith.index_cast %i : index to i64
    %f = arith.sitofp %j : i64 to f32
    %0 = arith.addf %a, %f : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}

// -----

#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#w00 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 0)>
#w44 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 4, 4)>
#bias = affine_map<(d0, d1, d2, d3) -> (d1)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Short rows, stride 1: a 5x5 depthwise convolution of 7x7 (EfficientNet's
// last stage; two of its taps here) with its bias and SiLU. LLVM leaves a
// 7-iteration loop scalar; each row becomes one 7-lane vector: the taps
// read contiguously, the filter taps and the bias broadcast, the sigmoid on
// vectors. With short-rows=false the generic is left alone.
// CHECK-LABEL: func @depthwise_5x5_short_rows
// CHECK-SAME: (%[[T0:[a-z0-9]+]]: tensor<2x3x7x7xf32>, %[[T1:[a-z0-9]+]]: tensor<2x3x7x7xf32>
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step {{.*}} iter_args(%[[O:.*]] =
// CHECK-DAG: vector.transfer_read %[[T0]][%[[N]], %[[C]], %[[Y]], %c0], %{{.*}} {in_bounds = [true]} : tensor<2x3x7x7xf32>, vector<7xf32>
// CHECK-DAG: vector.transfer_read %[[T1]][%[[N]], %[[C]], %[[Y]], %c0], %{{.*}} {in_bounds = [true]} : tensor<2x3x7x7xf32>, vector<7xf32>
// CHECK-DAG: tensor.extract %{{.*}}[%[[C]], %c0, %c4, %c4] : tensor<3x1x5x5xf32>
// CHECK-DAG: tensor.extract %{{.*}}[%[[C]]] : tensor<3xf32>
// CHECK: math.fma %{{.*}} : vector<7xf32>
// CHECK: math.exp %{{.*}} : vector<7xf32>
// CHECK: vector.transfer_write %{{.*}}, %[[O]][%[[N]], %[[C]], %[[Y]], %c0] {in_bounds = [true]} : vector<7xf32>, tensor<2x3x7x7xf32>
// CHECK-NOT: linalg.generic
// OFF-LABEL: func @depthwise_5x5_short_rows
// OFF: linalg.generic
// OFF-NOT: vector.
// Masked: 8 lanes per 7-wide row, the eighth read masked off; the seven
// in the row written as vectors of 4, 2 and 1 (with split-tail-stores=false,
// 8 written, the eighth masked off).
// MASKED-LABEL: func @depthwise_5x5_short_rows
// MASKED-SAME: (%[[T0:[a-z0-9]+]]: tensor<2x3x7x7xf32>
// MASKED: vector.transfer_read %[[T0]][%{{.*}}, %{{.*}}, %{{.*}}, %c0], %{{.*}} : tensor<2x3x7x7xf32>, vector<8xf32>
// MASKED: math.exp %{{.*}} : vector<8xf32>
// MASKED: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c0] {in_bounds = [true]} : vector<4xf32>, tensor<2x3x7x7xf32>
// MASKED: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c4] {in_bounds = [true]} : vector<2xf32>, tensor<2x3x7x7xf32>
// MASKED: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c6] {in_bounds = [true]} : vector<1xf32>, tensor<2x3x7x7xf32>
// MASKED-NOT: linalg.generic
// MASKED: return
// MASKSTORE-LABEL: func @depthwise_5x5_short_rows
// MASKSTORE: math.exp %{{.*}} : vector<8xf32>
// MASKSTORE: vector.transfer_write %{{.*}} : vector<8xf32>, tensor<2x3x7x7xf32>
// MASKSTORE-NOT: vector.transfer_write
// MASKSTORE: return
func.func @depthwise_5x5_short_rows(%t0: tensor<2x3x7x7xf32>, %t1: tensor<2x3x7x7xf32>,
                                    %w: tensor<3x1x5x5xf32>, %b: tensor<3xf32>) -> tensor<2x3x7x7xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2x3x7x7xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #w00, #w44, #bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %w, %w, %b : tensor<2x3x7x7xf32>, tensor<2x3x7x7xf32>, tensor<3x1x5x5xf32>, tensor<3x1x5x5xf32>, tensor<3xf32>)
      outs(%e : tensor<2x3x7x7xf32>) {
  ^bb0(%a0: f32, %a1: f32, %k0: f32, %k1: f32, %bias: f32, %out: f32):
    %0 = math.fma %a0, %k0, %bias : f32
    %1 = math.fma %a1, %k1, %0 : f32
    %2 = arith.negf %1 : f32
    %3 = math.exp %2 : f32
    %4 = arith.addf %3, %one : f32
    %5 = arith.divf %1, %4 : f32
    linalg.yield %5 : f32
  } -> tensor<2x3x7x7xf32>
  return %r : tensor<2x3x7x7xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bc = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>

// A short row under a broadcast operand (a squeeze-and-excitation scale of
// 14-wide rows): one 14-lane vector per row, the scale broadcast.
// CHECK-LABEL: func @scale_short_rows
// CHECK: %[[X:.*]] = vector.transfer_read %{{.*}} : tensor<1x8x14x14xf32>, vector<14xf32>
// CHECK: %[[S:.*]] = tensor.extract %{{.*}} : tensor<1x8x1x1xf32>
// CHECK: %[[B:.*]] = vector.broadcast %[[S]] : f32 to vector<14xf32>
// CHECK: arith.mulf %[[X]], %[[B]] : vector<14xf32>
// CHECK: vector.transfer_write {{.*}} : vector<14xf32>, tensor<1x8x14x14xf32>
func.func @scale_short_rows(%x: tensor<1x8x14x14xf32>, %s: tensor<1x8x1x1xf32>) -> tensor<1x8x14x14xf32> {
  %e = tensor.empty() : tensor<1x8x14x14xf32>
  %m = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %s : tensor<1x8x14x14xf32>, tensor<1x8x1x1xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x8x14x14xf32>
  return %m : tensor<1x8x14x14xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Rows of 3 (fewer than 4) and of 16 (a whole vector: LLVM's) are left
// alone at stride 1.
// CHECK-LABEL: func @short_row_bounds_untouched
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @short_row_bounds_untouched(%a: tensor<2x5x3x3xf32>, %b: tensor<2x5x3x16xf32>) -> (tensor<2x5x3x3xf32>, tensor<2x5x3x16xf32>) {
  %e = tensor.empty() : tensor<2x5x3x3xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<2x5x3x3xf32>) outs(%e : tensor<2x5x3x3xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = arith.negf %x : f32
    linalg.yield %0 : f32
  } -> tensor<2x5x3x3xf32>
  %e2 = tensor.empty() : tensor<2x5x3x16xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<2x5x3x16xf32>) outs(%e2 : tensor<2x5x3x16xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = arith.negf %x : f32
    linalg.yield %0 : f32
  } -> tensor<2x5x3x16xf32>
  return %r, %r2 : tensor<2x5x3x3xf32>, tensor<2x5x3x16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#bc = affine_map<(d0, d1) -> (d0, 0)>

// A comparison's i1 result (a vector of i1 is bit-packed; a tensor of i1
// takes a byte each): left alone, short row or not.
// CHECK-LABEL: func @i1_untouched
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @i1_untouched(%a: tensor<3x1xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xi1> {
  %e = tensor.empty() : tensor<3x5xi1>
  %r = linalg.generic {indexing_maps = [#bc, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<3x1xf32>, tensor<3x5xf32>) outs(%e : tensor<3x5xi1>) {
  ^bb0(%x: f32, %y: f32, %out: i1):
    %0 = arith.cmpf olt, %x, %y : f32
    linalg.yield %0 : i1
  } -> tensor<3x5xi1>
  return %r : tensor<3x5xi1>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bias = affine_map<(d0, d1, d2, d3) -> (d1)>

// Ragged rows, stride 1: 28-wide rows (EfficientNet's 5x5 depthwise
// convolutions at 28x28, here one tap and a bias), which LLVM ran 4 lanes
// wide. One 16-lane chunk in the loop, then a static 12-lane tail whose
// read is moved back to end at the row's end (columns 12..27, lanes 4..15
// kept). With ragged-rows=false the generic is left alone.
// CHECK-LABEL: func @ragged_row_28
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x3x28x28xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read %[[X]]{{.*}} : tensor<1x3x28x28xf32>, vector<16xf32>
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x3x28x28xf32>
// CHECK: %[[W:.*]] = vector.transfer_read %[[X]][%{{.*}}, %{{.*}}, %{{.*}}, %c12]{{.*}} : tensor<1x3x28x28xf32>, vector<16xf32>
// CHECK: vector.shuffle %[[W]], %[[W]] [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c16] {in_bounds = [true]} : vector<12xf32>, tensor<1x3x28x28xf32>
// CHECK-NOT: linalg.generic
// RAGGEDOFF-LABEL: func @ragged_row_28
// RAGGEDOFF: linalg.generic
// RAGGEDOFF-NOT: vector.
// RAGGEDOFF: return
func.func @ragged_row_28(%x: tensor<1x3x28x28xf32>, %b: tensor<3xf32>) -> tensor<1x3x28x28xf32> {
  %k = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<1x3x28x28xf32>
  %r = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<1x3x28x28xf32>, tensor<3xf32>) outs(%e : tensor<1x3x28x28xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %0 = arith.mulf %a, %k : f32
    %1 = arith.addf %0, %c : f32
    linalg.yield %1 : f32
  } -> tensor<1x3x28x28xf32>
  return %r : tensor<1x3x28x28xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Rows that are a multiple of 16 (32 wide) stay LLVM's to vectorize.
// CHECK-LABEL: func @whole_vector_rows_untouched
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @whole_vector_rows_untouched(%a: tensor<2x5x3x32xf32>) -> tensor<2x5x3x32xf32> {
  %e = tensor.empty() : tensor<2x5x3x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<2x5x3x32xf32>) outs(%e : tensor<2x5x3x32xf32>) {
  ^bb0(%x: f32, %out: f32):
    %0 = arith.negf %x : f32
    linalg.yield %0 : f32
  } -> tensor<2x5x3x32xf32>
  return %r : tensor<2x5x3x32xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// An epilogue run in place (anvil-tile-and-vectorize's epilogue-in-place)
// reads its output: each chunk reads the loops' current tensor, the one it
// then writes, not the tensor from before the loops (which would need a
// copy of its own once bufferized).
// CHECK-LABEL: func @reads_its_output
// CHECK-SAME: (%[[P:[a-z0-9]+]]: tensor<4x196xf32>
// CHECK: scf.for {{.*}} iter_args(%[[ROWS:.*]] = %[[P]])
// CHECK: scf.for {{.*}} iter_args(%[[CUR:.*]] = %[[ROWS]])
// CHECK: vector.transfer_read %[[CUR]]
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{.*}}, %[[CUR]]
// CHECK-NOT: vector.transfer_read %[[P]]
func.func @reads_its_output(%p: tensor<4x196xf32>) -> tensor<4x196xf32> {
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%p : tensor<4x196xf32>) {
  ^bb0(%out: f32):
    %0 = arith.maximumf %out, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<4x196xf32>
  return %r : tensor<4x196xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An integer division over 5-wide rows: a masked tail would divide its
// lanes past the row's end by the reads' zero padding (a trap), so it keeps
// 5-lane vectors, masked tails or not.
// CHECK-LABEL: func @integer_division_unmasked
// CHECK: arith.divsi %{{.*}}, %{{.*}} : vector<5xi64>
// MASKED-LABEL: func @integer_division_unmasked
// MASKED: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<3x5xi64>, vector<5xi64>
// MASKED: arith.divsi %{{.*}}, %{{.*}} : vector<5xi64>
// MASKED: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<5xi64>, tensor<3x5xi64>
// MASKED-NOT: vector<8xi64>
// MASKED: return
func.func @integer_division_unmasked(%a: tensor<3x5xi64>, %b: tensor<3x5xi64>) -> tensor<3x5xi64> {
  %e = tensor.empty() : tensor<3x5xi64>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<3x5xi64>, tensor<3x5xi64>) outs(%e : tensor<3x5xi64>) {
  ^bb0(%x: i64, %y: i64, %out: i64):
    %q = arith.divsi %x, %y : i64
    linalg.yield %q : i64
  } -> tensor<3x5xi64>
  return %r : tensor<3x5xi64>
}

// -----

#tapq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#zpq = affine_map<(d0, d1, d2, d3) -> ()>
#idq = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A stride-2 max of two taps quantized to ui8 in the same body (LeNet's
// pool and the next layer's quantize, fused): the body's ui8 <-> i8 casts
// (arith has no unsigned types) become casts of vectors, the ui8 zero point
// is read once and broadcast, and the ui8 result is written as a vector.
// MASKED-LABEL: func @pool_quantize_ui8
// MASKED: vector.shuffle
// MASKED: vector.broadcast %{{.*}} : ui8 to vector<8xui8>
// MASKED: builtin.unrealized_conversion_cast %{{.*}} : vector<8xui8> to vector<8xi8>
// MASKED: builtin.unrealized_conversion_cast %{{.*}} : vector<8xi8> to vector<8xui8>
// MASKED: vector.transfer_write %{{.*}} : vector<4xui8>, tensor<2x3x7x7xui8>
// MASKED: vector.transfer_write %{{.*}} : vector<2xui8>, tensor<2x3x7x7xui8>
// MASKED: vector.transfer_write %{{.*}} : vector<1xui8>, tensor<2x3x7x7xui8>
// MASKED-NOT: linalg.generic
// (Strided: vectorized with short-rows and ragged-rows off too.)
// OFF-LABEL: func @pool_quantize_ui8
// OFF: vector.transfer_write %{{.*}} : vector<4xui8>, tensor<2x3x7x7xui8>
func.func @pool_quantize_ui8(%t0: tensor<2x3x14x14xf32>, %t1: tensor<2x3x14x14xf32>,
                             %zp: tensor<ui8>, %o: tensor<2x3x7x7xui8>) -> tensor<2x3x7x7xui8> {
  %scale = arith.constant 0.5 : f32
  %r = linalg.generic {indexing_maps = [#tapq, #tapq, #zpq, #idq], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %zp : tensor<2x3x14x14xf32>, tensor<2x3x14x14xf32>, tensor<ui8>)
      outs(%o : tensor<2x3x7x7xui8>) {
  ^bb0(%a: f32, %b: f32, %z: ui8, %out: ui8):
    %m = arith.maximumf %a, %b : f32
    %d = arith.divf %m, %scale : f32
    %zi = builtin.unrealized_conversion_cast %z : ui8 to i8
    %zw = arith.extui %zi : i8 to i32
    %zf = arith.sitofp %zw : i32 to f32
    %s = arith.addf %d, %zf : f32
    %q = arith.fptosi %s : f32 to i32
    %q8 = arith.trunci %q : i32 to i8
    %u = builtin.unrealized_conversion_cast %q8 : i8 to ui8
    linalg.yield %u : ui8
  } -> tensor<2x3x7x7xui8>
  return %r : tensor<2x3x7x7xui8>
}
