// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer="pad-rows-lanes=0" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer="copy-others=false pad-rows-lanes=0" | FileCheck %s --check-prefix=NOCOPY
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer="split-windows=false pad-rows-lanes=0" | FileCheck %s --check-prefix=NOSPLIT
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer="band-columns=1 pad-rows-lanes=0" | FileCheck %s --check-prefix=BANDS1
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer | FileCheck %s --check-prefix=ROWS
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer="split-tail-stores=false" | FileCheck %s --check-prefix=MASKED

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// The clip before a depthwise convolution's pad writes into the interior of
// the padded buffer; only the four border slabs are filled (rows 0 and 57
// whole, columns 0 and 57 of the interior rows: the first before the
// interior, the others after it), and the pad is gone.
// CHECK-LABEL: func @activation_then_pad
// CHECK: tensor.empty() : tensor<1x8x56x56xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x8x58x58xf32>
// CHECK: %[[T:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [1, 8, 1, 58] [1, 1, 1, 1]
// CHECK: %[[FT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[T]] : tensor<1x8x1x58xf32>)
// CHECK: %[[B1:.*]] = tensor.insert_slice %[[FT]] into %[[E]][0, 0, 0, 0] [1, 8, 1, 58] [1, 1, 1, 1]
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[B1]][0, 0, 1, 1] [1, 8, 56, 56] [1, 1, 1, 1]
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%[[IN]] : tensor<1x8x56x56xf32>)
// CHECK: arith.maximumf
// CHECK: %[[B2:.*]] = tensor.insert_slice %[[G]] into %[[B1]][0, 0, 1, 1] [1, 8, 56, 56] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %[[B2]][0, 0, 57, 0] [1, 8, 1, 58]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 1, 0] [1, 8, 56, 1]
// CHECK: %[[L:.*]] = tensor.extract_slice %{{.*}}[0, 0, 1, 57] [1, 8, 56, 1]
// CHECK: linalg.fill ins(%[[ZERO]] : f32) outs(%[[L]] : tensor<1x8x56x1xf32>)
// CHECK: %[[P:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 1, 57] [1, 8, 56, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[P]]
func.func @activation_then_pad(%x: tensor<1x8x56x56xf32>) -> tensor<1x8x58x58xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x56x56xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x56x56xf32>) outs(%e : tensor<1x8x56x56xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x56x56xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x56x56xf32> to tensor<1x8x58x58xf32>
  return %p : tensor<1x8x58x58xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Asymmetric padding (only bottom and right, as a ceil-mode pool pads) and
// a padding value other than 0: two slabs, filled with -inf.
// CHECK-LABEL: func @high_only_pad
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x9x42xf32>
// CHECK: tensor.extract_slice %[[E]][0, 0, 7, 0] [2, 3, 2, 42]
// CHECK: linalg.fill ins(%[[NINF]] : f32)
// CHECK: %[[IN:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 3, 7, 40] [1, 1, 1, 1]
// CHECK: linalg.generic {{.*}} outs(%[[IN]] : tensor<2x3x7x40xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 40] [2, 3, 7, 2]
// CHECK: linalg.fill ins(%[[NINF]] : f32)
// CHECK-NOT: tensor.pad
func.func @high_only_pad(%x: tensor<2x3x7x40xf32>) -> tensor<2x3x9x42xf32> {
  %e = tensor.empty() : tensor<2x3x7x40xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x7x40xf32>) outs(%e : tensor<2x3x7x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.negf %in : f32
    linalg.yield %m : f32
  } -> tensor<2x3x7x40xf32>
  %p = tensor.pad %r low[0, 0, 0, 0] high[0, 0, 2, 2] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    %ninf = arith.constant 0xFF800000 : f32
    tensor.yield %ninf : f32
  } : tensor<2x3x7x40xf32> to tensor<2x3x9x42xf32>
  return %p : tensor<2x3x9x42xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A pad of a function argument, and of a generic whose result has another
// user (the residual branch reads it unpadded), cannot take a producer's
// writes: each becomes the border fill around a linalg.copy of its source
// into the interior (which anvil-parallelize-loops can split for threads).
// With copy-others=false both pads stay.
// CHECK-LABEL: func @pads_copied
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<1x4x6x32xf32>
// CHECK: tensor.empty() : tensor<1x4x8x34xf32>
// CHECK: linalg.fill
// CHECK: %[[IN0:.*]] = tensor.extract_slice %{{.*}}[0, 0, 1, 1] [1, 4, 6, 32] [1, 1, 1, 1]
// CHECK: %[[C0:.*]] = linalg.copy ins(%arg0 : tensor<1x4x6x32xf32>) outs(%[[IN0]] : tensor<1x4x6x32xf32>)
// CHECK: tensor.insert_slice %[[C0]] into %{{.*}}[0, 0, 1, 1] [1, 4, 6, 32] [1, 1, 1, 1]
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x6x32xf32>)
// CHECK: %[[IN1:.*]] = tensor.extract_slice %{{.*}}[0, 0, 1, 1] [1, 4, 6, 32] [1, 1, 1, 1]
// CHECK: linalg.copy ins(%[[R]] : tensor<1x4x6x32xf32>) outs(%[[IN1]] : tensor<1x4x6x32xf32>)
// CHECK-NOT: tensor.pad
// CHECK: return
// By default (pad-rows-lanes=16) both are written in one pass over their
// rows instead: fills of the rows above and below, then each source row as
// three 16-lane chunks of its 34-wide padded row: the first read at column
// 0 and shuffled one lane right past the left border, the second read at
// 15, the last at 31 (reads past column 31 give zeros), of which 2 lanes
// are written at 32 as a whole vector<2> (split-tail-stores; without it,
// one masked write of 16 lanes).
// ROWS-LABEL: func @pads_copied
// ROWS: tensor.empty() : tensor<1x4x8x34xf32>
// ROWS: linalg.fill {{.*}} -> tensor<1x4x1x34xf32>
// ROWS: linalg.fill {{.*}} -> tensor<1x4x1x34xf32>
// ROWS: %[[BORDER:.*]] = vector.splat %{{.*}} : vector<16xf32>
// ROWS: scf.forall ({{.*}}) in (1, 4) shared_outs
// ROWS: scf.for
// ROWS: %[[V0:.*]] = vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}], %{{.*}} : tensor<1x4x6x32xf32>, vector<16xf32>
// ROWS: %[[S0:.*]] = vector.shuffle %[[V0]], %[[BORDER]] [16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
// ROWS: %[[W0:.*]] = vector.transfer_write %[[S0]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}] {in_bounds = [true]} : vector<16xf32>, tensor<1x1x8x34xf32>
// ROWS: %[[V1:.*]] = vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c15], %{{.*}} : tensor<1x4x6x32xf32>, vector<16xf32>
// ROWS: %[[W1:.*]] = vector.transfer_write %[[V1]], %[[W0]][%{{.*}}, %{{.*}}, %{{.*}}, %c16] {in_bounds = [true]}
// ROWS: %[[V2:.*]] = vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c31], %{{.*}} : tensor<1x4x6x32xf32>, vector<16xf32>
// ROWS: %[[T2:.*]] = vector.extract_strided_slice %[[V2]] {offsets = [0], sizes = [2], strides = [1]} : vector<16xf32> to vector<2xf32>
// ROWS: vector.transfer_write %[[T2]], %[[W1]][%{{.*}}, %{{.*}}, %{{.*}}, %c32] {in_bounds = [true]} : vector<2xf32>, tensor<1x1x8x34xf32>
// ROWS: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x6x32xf32>)
// ROWS: vector.transfer_read %[[R]]
// ROWS-NOT: linalg.copy
// ROWS-NOT: tensor.pad
// ROWS: return
// MASKED-LABEL: func @pads_copied
// MASKED: %[[V2:.*]] = vector.transfer_read %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %c31]
// MASKED: vector.transfer_write %[[V2]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %c32] : vector<16xf32>, tensor<1x1x8x34xf32>
// NOCOPY-LABEL: func @pads_copied
// NOCOPY: tensor.pad %arg0
// NOCOPY: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x6x32xf32>)
// NOCOPY: tensor.pad %[[R]]
// NOCOPY-NOT: linalg.copy
func.func @pads_copied(%x: tensor<1x4x6x32xf32>) -> (tensor<1x4x8x34xf32>, tensor<1x4x8x34xf32>, tensor<1x4x6x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %p0 = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x32xf32> to tensor<1x4x8x34xf32>
  %e = tensor.empty() : tensor<1x4x6x32xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x6x32xf32>) outs(%e : tensor<1x4x6x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x6x32xf32>
  %p1 = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x32xf32> to tensor<1x4x8x34xf32>
  return %p0, %p1, %r : tensor<1x4x8x34xf32>, tensor<1x4x8x34xf32>, tensor<1x4x6x32xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Rows narrower than min-row (32): the generic keeps its fresh tensor
// (a copy is cheaper than its short loops over a strided interior), and
// the pad copies it into the interior; with copy-others=false the pad
// stays.
// CHECK-LABEL: func @short_rows
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x4x14x14xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<1x4x14x14xf32>)
// CHECK: linalg.copy ins(%[[R]] : tensor<1x4x14x14xf32>)
// CHECK-NOT: tensor.pad
// By default the pad's 16-wide rows are written in one pass: each source
// row one chunk, its border columns shuffled in, written in bounds; the
// (image, channel) pairs are an scf.forall, split for threads.
// ROWS-LABEL: func @short_rows
// ROWS: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x14x14xf32>)
// ROWS: linalg.fill {{.*}} -> tensor<1x4x1x16xf32>
// ROWS: linalg.fill {{.*}} -> tensor<1x4x1x16xf32>
// ROWS: scf.forall ({{.*}}) in (1, 4) shared_outs
// ROWS: scf.for
// ROWS: %[[V:.*]] = vector.transfer_read %[[R]][%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}], %{{.*}} : tensor<1x4x14x14xf32>, vector<16xf32>
// ROWS: %[[S:.*]] = vector.shuffle %[[V]], %{{.*}} [16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
// ROWS: vector.transfer_write %[[S]], %{{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<1x1x16x16xf32>
// ROWS-NOT: linalg.copy
// ROWS-NOT: tensor.pad
// ROWS: return
// NOCOPY-LABEL: func @short_rows
// NOCOPY: %[[R:.*]] = linalg.generic
// NOCOPY: tensor.pad %[[R]]
func.func @short_rows(%x: tensor<1x4x14x14xf32>) -> tensor<1x4x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x14x14xf32>) outs(%e : tensor<1x4x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x14x14xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x14x14xf32> to tensor<1x4x16x16xf32>
  return %p : tensor<1x4x16x16xf32>
}

// -----

// Negative cases: a padding value computed at run time (an argument), and
// padding sizes known only at run time, keep their pads.
// CHECK-LABEL: func @pads_that_stay
// CHECK: tensor.pad %arg0
// CHECK: tensor.pad %arg0
// CHECK-NOT: linalg.copy
func.func @pads_that_stay(%x: tensor<2x8xf32>, %v: f32, %n: index) -> (tensor<4x10xf32>, tensor<?x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %p0 = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : f32
  } : tensor<2x8xf32> to tensor<4x10xf32>
  %p1 = tensor.pad %x low[%n, 0] high[0, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<2x8xf32> to tensor<?x8xf32>
  return %p0, %p1 : tensor<4x10xf32>, tensor<?x8xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>

// A 2x2 window (a pool's taps, plus a per-channel operand) over a pad of a
// function argument, which cannot take a producer's writes: instead of a
// copy into a padded buffer, the window is split. The top band (output
// row 0) reads a pad of source row 0; the left band (rows 1-7, column 0)
// a pad of source column 0; the interior (rows 1-7, columns 1-31) the
// source itself, each tap counted from the interior's first cell. Each
// piece writes its region of the one result.
// CHECK-LABEL: func @window_over_argument
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x8x32xf32>, %[[B:.*]]: tensor<2xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x2x8x32xf32>
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[TS:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 1, 32] [1, 1, 1, 1]
// CHECK: %[[TP:.*]] = tensor.pad %[[TS]] low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: tensor.yield %[[NINF]]
// CHECK: } : tensor<1x2x1x32xf32> to tensor<1x2x2x33xf32>
// CHECK: %[[T00:.*]] = tensor.extract_slice %[[TP]][0, 0, 0, 0] [1, 2, 1, 32]
// CHECK: %[[T11:.*]] = tensor.extract_slice %[[TP]][0, 0, 1, 1] [1, 2, 1, 32]
// CHECK: %[[TO:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [1, 2, 1, 32]
// CHECK: %[[TOP:.*]] = linalg.generic {{.*}} ins(%[[T00]], %[[T11]], %[[B]] : {{.*}}) outs(%[[TO]] : tensor<1x2x1x32xf32>)
// CHECK: %[[R1:.*]] = tensor.insert_slice %[[TOP]] into %[[E]][0, 0, 0, 0] [1, 2, 1, 32]
// CHECK: %[[LS:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 8, 1] [1, 1, 1, 1]
// CHECK: %[[LP:.*]] = tensor.pad %[[LS]] low[0, 0, 0, 1] high[0, 0, 0, 0]
// CHECK: } : tensor<1x2x8x1xf32> to tensor<1x2x8x2xf32>
// CHECK: tensor.extract_slice %[[LP]][0, 0, 0, 0] [1, 2, 7, 1]
// CHECK: tensor.extract_slice %[[LP]][0, 0, 1, 1] [1, 2, 7, 1]
// CHECK: %[[LO:.*]] = tensor.extract_slice %[[R1]][0, 0, 1, 0] [1, 2, 7, 1]
// CHECK: %[[LEFT:.*]] = linalg.generic {{.*}} outs(%[[LO]] : tensor<1x2x7x1xf32>)
// CHECK: %[[R2:.*]] = tensor.insert_slice %[[LEFT]] into %[[R1]][0, 0, 1, 0] [1, 2, 7, 1]
// CHECK: %[[IS:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 8, 32] [1, 1, 1, 1]
// CHECK: %[[I00:.*]] = tensor.extract_slice %[[IS]][0, 0, 0, 0] [1, 2, 7, 31]
// CHECK: %[[I11:.*]] = tensor.extract_slice %[[IS]][0, 0, 1, 1] [1, 2, 7, 31]
// CHECK: %[[IO:.*]] = tensor.extract_slice %[[R2]][0, 0, 1, 1] [1, 2, 7, 31]
// CHECK: %[[IN:.*]] = linalg.generic {{.*}} ins(%[[I00]], %[[I11]], %[[B]] : {{.*}}) outs(%[[IO]] : tensor<1x2x7x31xf32>)
// CHECK: arith.maximumf
// CHECK: %[[R3:.*]] = tensor.insert_slice %[[IN]] into %[[R2]][0, 0, 1, 1] [1, 2, 7, 31]
// CHECK-NOT: linalg.copy
// CHECK: return %[[R3]]
// NOSPLIT-LABEL: func @window_over_argument
// NOSPLIT: linalg.copy ins(%arg0 : tensor<1x2x8x32xf32>)
// NOSPLIT-NOT: tensor.pad
func.func @window_over_argument(%x: tensor<1x2x8x32xf32>, %b: tensor<2xf32>) -> tensor<1x2x8x32xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x2x8x32xf32> to tensor<1x2x9x33xf32>
  %t00 = tensor.extract_slice %p[0, 0, 0, 0] [1, 2, 8, 32] [1, 1, 1, 1] : tensor<1x2x9x33xf32> to tensor<1x2x8x32xf32>
  %t11 = tensor.extract_slice %p[0, 0, 1, 1] [1, 2, 8, 32] [1, 1, 1, 1] : tensor<1x2x9x33xf32> to tensor<1x2x8x32xf32>
  %e = tensor.empty() : tensor<1x2x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4, #ch, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t00, %t11, %b : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<2xf32>) outs(%e : tensor<1x2x8x32xf32>) {
  ^bb0(%a: f32, %c: f32, %bias: f32, %out: f32):
    %m = arith.maximumf %a, %c : f32
    %s = arith.addf %m, %bias : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x32xf32>
  return %r : tensor<1x2x8x32xf32>
}

// -----

#s2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Stride 2, padding 1 on both sides of a 16x32 input, taps at offsets 0
// and 2: output rows 1-7 and columns 1-15 read only the source, row 0 and
// column 0 are the border bands (nothing reads the high padding).
// CHECK-LABEL: func @stride_two
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: } : tensor<1x1x2x32xf32> to tensor<1x1x3x33xf32>
// CHECK: } -> tensor<1x1x1x16xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 1] high[0, 0, 0, 0]
// CHECK: } : tensor<1x1x15x2xf32> to tensor<1x1x15x3xf32>
// CHECK: } -> tensor<1x1x7x1xf32>
// CHECK: %[[IS:.*]] = tensor.extract_slice %arg0[0, 0, 1, 1] [1, 1, 15, 31] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %[[IS]][0, 0, 0, 0] [1, 1, 13, 29]
// CHECK: tensor.extract_slice %[[IS]][0, 0, 2, 2] [1, 1, 13, 29]
// CHECK: } -> tensor<1x1x7x15xf32>
// CHECK-NOT: tensor.pad
func.func @stride_two(%x: tensor<1x1x16x32xf32>) -> tensor<1x1x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x1x16x32xf32> to tensor<1x1x18x34xf32>
  %t00 = tensor.extract_slice %p[0, 0, 0, 0] [1, 1, 15, 31] [1, 1, 1, 1] : tensor<1x1x18x34xf32> to tensor<1x1x15x31xf32>
  %t22 = tensor.extract_slice %p[0, 0, 2, 2] [1, 1, 15, 31] [1, 1, 1, 1] : tensor<1x1x18x34xf32> to tensor<1x1x15x31xf32>
  %e = tensor.empty() : tensor<1x1x8x16xf32>
  %r = linalg.generic {indexing_maps = [#s2, #s2, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t00, %t22 : tensor<1x1x15x31xf32>, tensor<1x1x15x31xf32>) outs(%e : tensor<1x1x8x16xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8x16xf32>
  return %r : tensor<1x1x8x16xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Padding 2 on both ends of 32-wide rows, taps at column offsets 0, 2 and
// 4 (a 5-wide window's first, middle and last): columns 0-1 and 30-31
// read the pad. Bands of two columns or more are widened to band-columns
// (8): the bands are columns 0-7 and 24-31 (one vector per row), the
// interior 8-23. With band-columns=1 they are the two columns that read
// the pad.
// CHECK-LABEL: func @wide_bands
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 2] high[0, 0, 0, 0]
// CHECK: } : tensor<1x2x4x10xf32> to tensor<1x2x4x12xf32>
// CHECK: } -> tensor<1x2x4x8xf32>
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 0, 2]
// CHECK: } : tensor<1x2x4x10xf32> to tensor<1x2x4x12xf32>
// CHECK: } -> tensor<1x2x4x8xf32>
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 6] [1, 2, 4, 20] [1, 1, 1, 1]
// CHECK: } -> tensor<1x2x4x16xf32>
// BANDS1-LABEL: func @wide_bands
// BANDS1: } : tensor<1x2x4x4xf32> to tensor<1x2x4x6xf32>
// BANDS1: } -> tensor<1x2x4x2xf32>
// BANDS1: } : tensor<1x2x4x4xf32> to tensor<1x2x4x6xf32>
// BANDS1: } -> tensor<1x2x4x2xf32>
// BANDS1: } -> tensor<1x2x4x28xf32>
func.func @wide_bands(%x: tensor<1x2x4x32xf32>) -> tensor<1x2x4x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 0, 2] high[0, 0, 0, 2] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x4x32xf32> to tensor<1x2x4x36xf32>
  %t0 = tensor.extract_slice %p[0, 0, 0, 0] [1, 2, 4, 32] [1, 1, 1, 1] : tensor<1x2x4x36xf32> to tensor<1x2x4x32xf32>
  %t2 = tensor.extract_slice %p[0, 0, 0, 2] [1, 2, 4, 32] [1, 1, 1, 1] : tensor<1x2x4x36xf32> to tensor<1x2x4x32xf32>
  %t4 = tensor.extract_slice %p[0, 0, 0, 4] [1, 2, 4, 32] [1, 1, 1, 1] : tensor<1x2x4x36xf32> to tensor<1x2x4x32xf32>
  %e = tensor.empty() : tensor<1x2x4x32xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t0, %t2, %t4 : tensor<1x2x4x32xf32>, tensor<1x2x4x32xf32>, tensor<1x2x4x32xf32>) outs(%e : tensor<1x2x4x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    %t = arith.addf %s, %c : f32
    linalg.yield %t : f32
  } -> tensor<1x2x4x32xf32>
  return %r : tensor<1x2x4x32xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Not split: the pad is also returned (its only readers are not one
// generic's taps), and rows narrower than split-min-row (8 outputs): both
// pads become copies.
// CHECK-LABEL: func @windows_not_split
// CHECK: linalg.copy ins(%arg0 : tensor<1x2x8x32xf32>)
// CHECK: linalg.copy ins(%arg1 : tensor<1x2x8x8xf32>)
func.func @windows_not_split(%x: tensor<1x2x8x32xf32>, %y: tensor<1x2x8x8xf32>) -> (tensor<1x2x8x32xf32>, tensor<1x2x9x33xf32>, tensor<1x2x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x8x32xf32> to tensor<1x2x9x33xf32>
  %t00 = tensor.extract_slice %p[0, 0, 0, 0] [1, 2, 8, 32] [1, 1, 1, 1] : tensor<1x2x9x33xf32> to tensor<1x2x8x32xf32>
  %e = tensor.empty() : tensor<1x2x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t00 : tensor<1x2x8x32xf32>) outs(%e : tensor<1x2x8x32xf32>) {
  ^bb0(%a: f32, %out: f32):
    linalg.yield %a : f32
  } -> tensor<1x2x8x32xf32>
  %q = tensor.pad %y low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x8x8xf32> to tensor<1x2x9x9xf32>
  %u00 = tensor.extract_slice %q[0, 0, 0, 0] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x9x9xf32> to tensor<1x2x8x8xf32>
  %u11 = tensor.extract_slice %q[0, 0, 1, 1] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x9x9xf32> to tensor<1x2x8x8xf32>
  %f = tensor.empty() : tensor<1x2x8x8xf32>
  %s = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%u00, %u11 : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) outs(%f : tensor<1x2x8x8xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %m = arith.addf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x8xf32>
  return %r, %p, %s : tensor<1x2x8x32xf32>, tensor<1x2x9x33xf32>, tensor<1x2x8x8xf32>
}
