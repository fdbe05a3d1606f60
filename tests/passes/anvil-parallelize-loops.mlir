// RUN: anvil-opt %s -split-input-file -anvil-parallelize-loops | FileCheck %s

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A big elementwise op: its four loops merge into one contiguous loop
// (1204224 elements), split into 16 parallel tiles of 75264.
// CHECK-LABEL: func @big_elementwise
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : tensor<256x6x28x28xf32> into tensor<1204224xf32>
// CHECK: scf.forall (%[[I:.*]]) = (0) to (1204224) step (75264)
// CHECK: tensor.extract_slice %{{.*}}[%[[I]]] [75264] [1]
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<75264xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.parallel_insert_slice
// CHECK: tensor.expand_shape
func.func @big_elementwise(%x: tensor<256x6x28x28xf32>) -> tensor<256x6x28x28xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x6x28x28xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<256x6x28x28xf32>) outs(%e : tensor<256x6x28x28xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<256x6x28x28xf32>
  return %r : tensor<256x6x28x28xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// A small one (a bias add of 64x10) is not worth a fork: one loop, in
// sequence.
// CHECK-LABEL: func @small_elementwise
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<64x10xf32>, tensor<10xf32>)
func.func @small_elementwise(%x: tensor<64x10xf32>, %b: tensor<10xf32>) -> tensor<64x10xf32> {
  %e = tensor.empty() : tensor<64x10xf32>
  %r = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<64x10xf32>, tensor<10xf32>) outs(%e : tensor<64x10xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<64x10xf32>
  return %r : tensor<64x10xf32>
}

// -----

// A transpose splits its outer loop (the batch, 16 tiles of 16); the inner
// loops stay whole.
// CHECK-LABEL: func @big_transpose
// CHECK: scf.forall (%[[N:.*]]) = (0) to (256) step (16)
// CHECK: tensor.extract_slice %{{.*}}[0, %[[N]], 0, 0] [6, 16, 28, 28]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<6x16x28x28xf32>) outs(%{{.*}} : tensor<16x6x28x28xf32>)
func.func @big_transpose(%x: tensor<6x256x28x28xf32>) -> tensor<256x6x28x28xf32> {
  %e = tensor.empty() : tensor<256x6x28x28xf32>
  %t = linalg.transpose ins(%x : tensor<6x256x28x28xf32>) outs(%e : tensor<256x6x28x28xf32>) permutation = [1, 0, 2, 3]
  return %t : tensor<256x6x28x28xf32>
}

// -----

#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d1)>

// A column sum splits only its parallel loop (the columns, in multiples of
// 16 to keep vector-wide runs), never the reduction: every thread count
// adds in the same order.
// CHECK-LABEL: func @column_sum
// CHECK: scf.forall (%[[J:.*]]) = (0) to (1024) step (64)
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%{{.*}} : tensor<1024x64xf32>) outs(%{{.*}} : tensor<64xf32>)
func.func @column_sum(%x: tensor<1024x1024xf32>, %acc: tensor<1024xf32>) -> tensor<1024xf32> {
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<1024x1024xf32>) outs(%acc : tensor<1024xf32>) {
  ^bb0(%in: f32, %a: f32):
    %s = arith.addf %in, %a : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  return %r : tensor<1024xf32>
}

// -----

// A sum of everything has no parallel loop to split: it stays in sequence.
// CHECK-LABEL: func @total_sum
// CHECK-NOT: scf.forall
// CHECK: linalg.reduce
func.func @total_sum(%x: tensor<1048576xf32>, %acc: tensor<f32>) -> tensor<f32> {
  %r = linalg.reduce ins(%x : tensor<1048576xf32>) outs(%acc : tensor<f32>) dimensions = [0]
    (%in: f32, %a: f32) {
      %s = arith.addf %in, %a : f32
      linalg.yield %s : f32
    }
  return %r : tensor<f32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Ops inside a loop (here the matmul-like blocks of an existing forall) are
// not split again: parallel regions do not nest.
// CHECK-LABEL: func @inside_forall
// CHECK: scf.forall
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<512x1024xf32>)
func.func @inside_forall(%x: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %e = tensor.empty() : tensor<1024x1024xf32>
  %r = scf.forall (%i) = (0) to (1024) step (512) shared_outs(%o = %e) -> (tensor<1024x1024xf32>) {
    %in = tensor.extract_slice %x[%i, 0] [512, 1024] [1, 1] : tensor<1024x1024xf32> to tensor<512x1024xf32>
    %os = tensor.extract_slice %o[%i, 0] [512, 1024] [1, 1] : tensor<1024x1024xf32> to tensor<512x1024xf32>
    %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%in : tensor<512x1024xf32>) outs(%os : tensor<512x1024xf32>) {
    ^bb0(%a: f32, %b: f32):
      %n = arith.negf %a : f32
      linalg.yield %n : f32
    } -> tensor<512x1024xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %g into %o[%i, 0] [512, 1024] [1, 1] : tensor<512x1024xf32> into tensor<1024x1024xf32>
    }
  }
  return %r : tensor<1024x1024xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// An op inside a sequential scf.for (a batch's convolution, one image at a
// time) is split: one parallel region per iteration, none nested.
// CHECK-LABEL: func @inside_for
// CHECK: scf.for
// CHECK: scf.forall (%{{.*}}) = (0) to (1024) step (64)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<64x1024xf32>)
func.func @inside_for(%x: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  %e = tensor.empty() : tensor<1024x1024xf32>
  %r = scf.for %k = %c0 to %c2 step %c1 iter_args(%acc = %e) -> (tensor<1024x1024xf32>) {
    %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%x : tensor<1024x1024xf32>) outs(%acc : tensor<1024x1024xf32>) {
    ^bb0(%a: f32, %b: f32):
      %n = arith.addf %a, %b : f32
      linalg.yield %n : f32
    } -> tensor<1024x1024xf32>
    scf.yield %g : tensor<1024x1024xf32>
  }
  return %r : tensor<1024x1024xf32>
}

// -----

#read = affine_map<(d0, d1, d2, d3) -> (d2, d0 + d3)>
#write = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// An im2col-style copy (a window sum in its input map) keeps its loops, and
// splits the outer ones (5 x 5 taps: 25 tiles).
// CHECK-LABEL: func @im2col
// CHECK-NOT: tensor.collapse_shape
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (5, 5)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x256x784xf32>)
func.func @im2col(%x: tensor<256x788xf32>) -> tensor<5x5x256x784xf32> {
  %e = tensor.empty() : tensor<5x5x256x784xf32>
  %r = linalg.generic {indexing_maps = [#read, #write], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<256x788xf32>) outs(%e : tensor<5x5x256x784xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<5x5x256x784xf32>
  return %r : tensor<5x5x256x784xf32>
}

// -----

#rev = affine_map<(d0, d1) -> (d0, 1023 - d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>

// A reversed read (a negative-step slice's gradient) stays whole: tiling
// bounds an operand's slice by its index at a tile's first and last
// iteration, which a decreasing index gets wrong.
// CHECK-LABEL: func @reversed
// CHECK-NOT: scf.forall
// CHECK: linalg.generic
func.func @reversed(%x: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %e = tensor.empty() : tensor<1024x1024xf32>
  %r = linalg.generic {indexing_maps = [#rev, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1024x1024xf32>) outs(%e : tensor<1024x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1024x1024xf32>
  return %r : tensor<1024x1024xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// An activation writing into the interior of a padded buffer (as
// anvil-fold-pad-into-producer leaves it): its rows are 112 of 114 columns,
// so no loops merge (a collapsed slice would bufferize into a copy there
// and back); it is split along the channels and its result goes back into
// the padded buffer.
// CHECK-LABEL: func @writes_into_padded_interior
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[IN:.*]] = tensor.extract_slice %{{.*}}[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1]
// CHECK: %[[R:.*]] = scf.forall (%[[C:.*]]) = (0) to (32) step (2) shared_outs(%{{.*}} = %[[IN]])
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x112x112xf32>) outs(%{{.*}} : tensor<1x2x112x112xf32>)
// CHECK: tensor.insert_slice %[[R]] into %{{.*}}[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1]
func.func @writes_into_padded_interior(%x: tensor<1x32x112x112xf32>, %p: tensor<1x32x114x114xf32>) -> tensor<1x32x114x114xf32> {
  %zero = arith.constant 0.0 : f32
  %s = tensor.extract_slice %p[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1] : tensor<1x32x114x114xf32> to tensor<1x32x112x112xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x32x112x112xf32>) outs(%s : tensor<1x32x112x112xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x32x112x112xf32>
  %i = tensor.insert_slice %r into %p[0, 0, 1, 1] [1, 32, 112, 112] [1, 1, 1, 1] : tensor<1x32x112x112xf32> into tensor<1x32x114x114xf32>
  return %i : tensor<1x32x114x114xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// A generic reading every row but 56 of 58 columns of a padded buffer: the
// channels and the rows merge (each channel's rows are one run), the
// columns cannot join them: [[0, 1], [2]].
// CHECK-LABEL: func @reads_partial_rows
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<64x58x56xf32> into tensor<3712x56xf32>
// CHECK-NOT: into tensor<207872xf32>
func.func @reads_partial_rows(%p: tensor<64x58x58xf32>) -> tensor<64x58x56xf32> {
  %s = tensor.extract_slice %p[0, 0, 1] [64, 58, 56] [1, 1, 1] : tensor<64x58x58xf32> to tensor<64x58x56xf32>
  %e = tensor.empty() : tensor<64x58x56xf32>
  %r = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<64x58x56xf32>) outs(%e : tensor<64x58x56xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.negf %in : f32
    linalg.yield %m : f32
  } -> tensor<64x58x56xf32>
  return %r : tensor<64x58x56xf32>
}
