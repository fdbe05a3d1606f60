// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fold-pad-into-producer=copy-others=false | FileCheck %s --check-prefix=NOCOPY

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
