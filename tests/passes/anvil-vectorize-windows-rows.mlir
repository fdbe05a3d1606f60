// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows="split-tail-stores=false" -canonicalize -cse | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows="row-blocks=false split-tail-stores=false" -canonicalize -cse | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-windows -canonicalize -cse | FileCheck %s --check-prefix=SPLIT

// (split-tail-stores=false: each row's tail is one masked write, so that
// the checks below count one write per row; anvil-vectorize-windows.mlir
// checks the split stores, and SPLIT below that the rows keep them.)

// row-blocks: the taps of a window are slices of one padded tensor, so two
// neighbouring output rows read the same vectors (tap (1, j) of row y is
// tap (0, j) of row y + 1). A 2x2 depthwise convolution with 7-wide rows
// (one masked 8-lane vector each) computes its 4 rows together (8 such
// accumulators fit): 5 padded rows x 2 offsets = 10 reads from the padded
// tensor instead of 4 rows x 4 taps = 16, the filter read once. The rows'
// fmas are interleaved in the order of the padded rows they read: row 0's
// second padded row feeds row 1's first fma at once. Each row keeps its
// own chain of fmas in the order of the generic's body (the results are
// bit-identical to one row at a time).
// CHECK-LABEL: func @dw_2x2_rows
// CHECK-SAME: (%[[P:[a-z0-9]+]]: tensor<1x2x5x8xf32>
// CHECK: scf.for %[[C:.*]] = %c0 to %c2 step %c1 iter_args(%[[O:.*]] =
// CHECK-NOT: scf.for
// CHECK: %[[R00:.*]] = vector.transfer_read %[[P]][%c0, %[[C]], %c0, %c0], %{{.*}} {in_bounds = [true]} : tensor<1x2x5x8xf32>, vector<8xf32>
// CHECK: %[[W00:.*]] = vector.broadcast
// CHECK: %[[A0:.*]] = math.fma %[[R00]], %[[W00]], %{{.*}} : vector<8xf32>
// CHECK: %[[R01:.*]] = vector.transfer_read %[[P]][%c0, %[[C]], %c0, %c1], %{{.*}} : tensor<1x2x5x8xf32>, vector<8xf32>
// CHECK: %[[W01:.*]] = vector.broadcast
// CHECK: %[[A1:.*]] = math.fma %[[R01]], %[[W01]], %[[A0]]
// CHECK: %[[R10:.*]] = vector.transfer_read %[[P]][%c0, %[[C]], %c1, %c0]
// CHECK: %[[W10:.*]] = vector.broadcast
// CHECK: %[[A2:.*]] = math.fma %[[R10]], %[[W10]], %[[A1]]
// CHECK: %[[B0:.*]] = math.fma %[[R10]], %[[W00]], %{{.*}}
// CHECK-COUNT-7: vector.transfer_read %[[P]]
// CHECK-NOT: vector.transfer_read
// CHECK: vector.transfer_write %{{.*}}, %[[O]][%c0, %[[C]], %c0, %c0]
// CHECK: vector.transfer_write %{{.*}}[%c0, %[[C]], %c1, %c0]
// CHECK: vector.transfer_write %{{.*}}[%c0, %[[C]], %c2, %c0]
// CHECK: vector.transfer_write %{{.*}}[%c0, %[[C]], %c3, %c0]
// CHECK-NOT: vector.transfer_write
// CHECK: scf.yield
// SPLIT-LABEL: func @dw_2x2_rows
// SPLIT-COUNT-4: vector.transfer_write {{.*}}, %c0] {in_bounds = [true]} : vector<4xf32>, tensor<1x2x4x7xf32>
// SPLIT-NOT: vector.transfer_write {{.*}} : vector<8xf32>
// SPLIT: scf.yield
// Off: a loop over the rows, each reading its 4 taps.
// OFF-LABEL: func @dw_2x2_rows
// OFF: scf.for
// OFF: scf.for %[[Y:.*]] = %c0 to %c4 step %c1
// OFF-COUNT-4: vector.transfer_read %{{.*}}[%c0, %{{.*}}, %[[Y]], %c0]
// OFF-NOT: vector.transfer_read
// OFF: vector.transfer_write
#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#w00 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 0)>
#w01 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0, 1)>
#w10 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 1, 0)>
#w11 = affine_map<(d0, d1, d2, d3) -> (d1, 0, 1, 1)>
func.func @dw_2x2_rows(%p: tensor<1x2x5x8xf32>, %w: tensor<2x1x2x2xf32>, %o: tensor<1x2x4x7xf32>) -> tensor<1x2x4x7xf32> {
  %t00 = tensor.extract_slice %p[0, 0, 0, 0] [1, 2, 4, 7] [1, 1, 1, 1] : tensor<1x2x5x8xf32> to tensor<1x2x4x7xf32>
  %t01 = tensor.extract_slice %p[0, 0, 0, 1] [1, 2, 4, 7] [1, 1, 1, 1] : tensor<1x2x5x8xf32> to tensor<1x2x4x7xf32>
  %t10 = tensor.extract_slice %p[0, 0, 1, 0] [1, 2, 4, 7] [1, 1, 1, 1] : tensor<1x2x5x8xf32> to tensor<1x2x4x7xf32>
  %t11 = tensor.extract_slice %p[0, 0, 1, 1] [1, 2, 4, 7] [1, 1, 1, 1] : tensor<1x2x5x8xf32> to tensor<1x2x4x7xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #tap, #tap, #w00, #w01, #w10, #w11, #tap], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t00, %t01, %t10, %t11, %w, %w, %w, %w : tensor<1x2x4x7xf32>, tensor<1x2x4x7xf32>, tensor<1x2x4x7xf32>, tensor<1x2x4x7xf32>, tensor<2x1x2x2xf32>, tensor<2x1x2x2xf32>, tensor<2x1x2x2xf32>, tensor<2x1x2x2xf32>)
      outs(%o : tensor<1x2x4x7xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %wa: f32, %wb: f32, %wc: f32, %wd: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %0 = math.fma %a, %wa, %zero : f32
    %1 = math.fma %b, %wb, %0 : f32
    %2 = math.fma %c, %wc, %1 : f32
    %3 = math.fma %d, %wd, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<1x2x4x7xf32>
  return %r : tensor<1x2x4x7xf32>
}

// -----

// 28-wide rows (a 16-lane chunk and a 12-wide masked tail): 16-lane
// accumulators, 4 rows together, spread evenly over the 10 rows: a loop of
// two blocks of 4 (rows y .. y + 4 read once each, per chunk), then the
// last 2 rows as one block.
// CHECK-LABEL: func @vertical_pairs
// CHECK-SAME: (%[[P:[a-z0-9]+]]: tensor<1x1x11x28xf32>
// CHECK: scf.for %[[Y:.*]] = %c0 to %c8 step %c4
// CHECK-COUNT-5: vector.transfer_read %[[P]]{{.*}}%c0], %{{.*}} {in_bounds = [true]} : tensor<1x1x11x28xf32>, vector<16xf32>
// CHECK-COUNT-4: vector.transfer_write {{.*}}%c0] {in_bounds = [true]}
// CHECK-COUNT-5: vector.transfer_read %[[P]]{{.*}}%c16], %{{.*}} : tensor<1x1x11x28xf32>, vector<16xf32>
// CHECK-COUNT-4: vector.transfer_write {{.*}}%c16] :
// CHECK: scf.yield
// CHECK-COUNT-3: vector.transfer_read %[[P]][%c0, %c0, %c{{8|9|10}}, %c0]
// CHECK-COUNT-2: vector.transfer_write {{.*}}[%c0, %c0, %c{{8|9}}, %c0]
// CHECK-COUNT-3: vector.transfer_read %[[P]][%c0, %c0, %c{{8|9|10}}, %c16]
// CHECK-COUNT-2: vector.transfer_write {{.*}}[%c0, %c0, %c{{8|9}}, %c16]
// CHECK-NOT: vector.transfer_read
// CHECK: return
// OFF-LABEL: func @vertical_pairs
// OFF: scf.for %{{.*}} = %c0 to %c10 step %c1
// OFF-COUNT-2: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<1x1x10x28xf32>, vector<16xf32>
#tap = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @vertical_pairs(%p: tensor<1x1x11x28xf32>, %o: tensor<1x1x10x28xf32>) -> tensor<1x1x10x28xf32> {
  %t0 = tensor.extract_slice %p[0, 0, 0, 0] [1, 1, 10, 28] [1, 1, 1, 1] : tensor<1x1x11x28xf32> to tensor<1x1x10x28xf32>
  %t1 = tensor.extract_slice %p[0, 0, 1, 0] [1, 1, 10, 28] [1, 1, 1, 1] : tensor<1x1x11x28xf32> to tensor<1x1x10x28xf32>
  %r = linalg.generic {indexing_maps = [#tap, #tap, #tap], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1 : tensor<1x1x10x28xf32>, tensor<1x1x10x28xf32>) outs(%o : tensor<1x1x10x28xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.maximumf %a, %b : f32
    linalg.yield %0 : f32
  } -> tensor<1x1x10x28xf32>
  return %r : tensor<1x1x10x28xf32>
}

// -----

#tapz = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#zpz = affine_map<(d0, d1, d2, d3) -> ()>

// Rows together with a rank-0 input (a quantize's ui8 zero point, read
// once and broadcast): its root is itself and it has no x to plan (this
// crashed on the trained LeNet: the root of a rank-0 tensor has no
// innermost offset). The two rows share the middle padded row.
// CHECK-LABEL: func @rows_rank0_zero_point
// CHECK: vector.broadcast %{{.*}} : ui8 to vector<8xui8>
// CHECK: vector.transfer_write %{{.*}} : vector<8xui8>, tensor<1x2x2x7xui8>
// OFF-LABEL: func @rows_rank0_zero_point
// OFF: vector.broadcast %{{.*}} : ui8 to vector<8xui8>
func.func @rows_rank0_zero_point(%p: tensor<1x2x3x7xf32>, %zp: tensor<ui8>, %o: tensor<1x2x2x7xui8>) -> tensor<1x2x2x7xui8> {
  %t0 = tensor.extract_slice %p[0, 0, 0, 0] [1, 2, 2, 7] [1, 1, 1, 1] : tensor<1x2x3x7xf32> to tensor<1x2x2x7xf32>
  %t1 = tensor.extract_slice %p[0, 0, 1, 0] [1, 2, 2, 7] [1, 1, 1, 1] : tensor<1x2x3x7xf32> to tensor<1x2x2x7xf32>
  %r = linalg.generic {indexing_maps = [#tapz, #tapz, #zpz, #tapz], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %zp : tensor<1x2x2x7xf32>, tensor<1x2x2x7xf32>, tensor<ui8>)
      outs(%o : tensor<1x2x2x7xui8>) {
  ^bb0(%a: f32, %b: f32, %z: ui8, %out: ui8):
    %m = arith.maximumf %a, %b : f32
    %zi = builtin.unrealized_conversion_cast %z : ui8 to i8
    %zw = arith.extui %zi : i8 to i32
    %zf = arith.sitofp %zw : i32 to f32
    %s = arith.addf %m, %zf : f32
    %q = arith.fptosi %s : f32 to i32
    %q8 = arith.trunci %q : i32 to i8
    %u = builtin.unrealized_conversion_cast %q8 : i8 to ui8
    linalg.yield %u : ui8
  } -> tensor<1x2x2x7xui8>
  return %r : tensor<1x2x2x7xui8>
}
