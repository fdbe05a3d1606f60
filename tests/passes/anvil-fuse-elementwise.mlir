// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise="max-body-ops=2" | FileCheck %s --check-prefix=BOUND
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise="fuse-broadcasts=true" | FileCheck %s --check-prefix=BROADCASTS
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise="hoist-above-transposes=false" | FileCheck %s --check-prefix=NOHOIST
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise="math-out-of-windows=false" | FileCheck %s --check-prefix=MATHIN
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise="windows-read-in-order=false" | FileCheck %s --check-prefix=WINDOWSIN

#id = affine_map<(d0) -> (d0)>

// A chain of three one-op generics becomes one loop whose body holds all
// three. With a bound of two ops, the producer that already holds two
// (exp, negf) is not fused into the third: two loops.
// CHECK-LABEL: func @chain
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK-NEXT: arith.negf
// CHECK-NEXT: math.absf
// CHECK-NOT: linalg.generic
// BOUND-LABEL: func @chain
// BOUND: linalg.generic
// BOUND: math.exp
// BOUND-NEXT: arith.negf
// BOUND-NEXT: linalg.yield
// BOUND: linalg.generic
// BOUND: math.absf
func.func @chain(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.absf %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  return %c : tensor<8xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>

// A producer with two users is not fused (it would be computed twice).
// CHECK-LABEL: func @two_users
// CHECK: %[[A:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[A]] :
// CHECK: linalg.generic {{.*}} ins(%[[A]] :
func.func @two_users(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.negf %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.absf %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  return %b, %c : tensor<8xf32>, tensor<8xf32>
}

// -----

#row = affine_map<(d0) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#bcast = affine_map<(d0, d1) -> (d0)>

// A per-row sqrt divided into every element of its row (a layer norm's
// last step) stays a loop of its own: fused, the division's body would take
// the square root once per element, 128 times per row. With
// fuse-broadcasts it is fused as before.
// CHECK-LABEL: func @broadcast_producer
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4xf32>)
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[S]] : tensor<4x128xf32>, tensor<4xf32>)
// CHECK-NOT: math.sqrt
// CHECK: arith.divf
// BROADCASTS-LABEL: func @broadcast_producer
// BROADCASTS: linalg.generic
// BROADCASTS: math.sqrt
// BROADCASTS-NEXT: arith.divf
// BROADCASTS-NOT: linalg.generic
func.func @broadcast_producer(%x: tensor<4x128xf32>, %v: tensor<4xf32>) -> tensor<4x128xf32> {
  %e1 = tensor.empty() : tensor<4xf32>
  %s = linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel"]}
      ins(%v : tensor<4xf32>) outs(%e1 : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4x128xf32>
  %d = linalg.generic {indexing_maps = [#id2, #bcast, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<4x128xf32>, tensor<4xf32>) outs(%e2 : tensor<4x128xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x128xf32>
  return %d : tensor<4x128xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bc = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>

// A squeeze-and-excitation scale: the sigmoid of [1, 4, 1, 1] is read
// broadcast by the multiply over [1, 4, 8, 8]. Fused, it would run 64 times
// per channel; it stays a loop of its own, and the multiply reads its
// result. With fuse-broadcasts it is fused (the sigmoid in the multiply's
// body).
// CHECK-LABEL: func @se_scale_producer
// CHECK: %[[S:.*]] = linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<1x4x1x1xf32>)
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %[[S]] : tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>)
// CHECK-NOT: math.exp
// CHECK: arith.mulf
// BROADCASTS-LABEL: func @se_scale_producer
// BROADCASTS: linalg.generic
// BROADCASTS-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>)
// BROADCASTS: math.exp
// BROADCASTS: arith.mulf
// BROADCASTS-NOT: linalg.generic
func.func @se_scale_producer(%x: tensor<1x4x8x8xf32>, %s: tensor<1x4x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %one = arith.constant 1.0 : f32
  %es = tensor.empty() : tensor<1x4x1x1xf32>
  %sig = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x4x1x1xf32>) outs(%es : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x4x1x1xf32>
  %ex = tensor.empty() : tensor<1x4x8x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %sig : tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>) outs(%ex : tensor<1x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  return %m : tensor<1x4x8x8xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1) -> (d0)>

// Negative case: a producer of the same size as its consumer's loops is
// fused, into a reduction too (a layer norm's square summed over its row):
// each element is computed once either way.
// CHECK-LABEL: func @same_size_into_reduction
// BROADCASTS-LABEL: func @same_size_into_reduction
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NOT: linalg.generic
func.func @same_size_into_reduction(%x: tensor<4x128xf32>) -> tensor<4xf32> {
  %e2 = tensor.empty() : tensor<4x128xf32>
  %sq = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x128xf32>) outs(%e2 : tensor<4x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %in : f32
    linalg.yield %r : f32
  } -> tensor<4x128xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id2, #red], iterator_types = ["parallel", "reduction"]}
      ins(%sq : tensor<4x128xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %sum : tensor<4xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// The same shapes read without a broadcast still fuse.
// CHECK-LABEL: func @same_shape_producer
// BROADCASTS-LABEL: func @same_shape_producer
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
func.func @same_shape_producer(%x: tensor<1x4x8x8xf32>, %s: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %sig = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %sig : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  return %m : tensor<1x4x8x8xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A relu6 after the transpose back to NCHW of a channels-last result moves
// above the transpose and fuses with the generic that makes the result
// (in its NHWC loops): one loop and the transpose, where there were three.
// Off (hoist-above-transposes=false): the transpose, then the relu6 loop.
// CHECK-LABEL: func @activation_above_transpose
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>)
// CHECK: arith.addf
// CHECK-NEXT: arith.maximumf
// CHECK-NEXT: arith.minimumf
// CHECK: -> tensor<1x4x4x8xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[Y]] : tensor<1x4x4x8xf32>) outs(%{{.*}} : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
// CHECK-NOT: linalg.generic
// CHECK: return %[[T]]
// NOHOIST-LABEL: func @activation_above_transpose
// NOHOIST: linalg.generic
// NOHOIST: linalg.transpose
// NOHOIST: linalg.generic
// NOHOIST: arith.maximumf
func.func @activation_above_transpose(%a: tensor<1x4x4x8xf32>, %b: tensor<1x4x4x8xf32>) -> tensor<1x8x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x4x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %b : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) outs(%e : tensor<1x4x4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %r = arith.addf %in, %in2 : f32
    linalg.yield %r : f32
  } -> tensor<1x4x4x8xf32>
  %e2 = tensor.empty() : tensor<1x8x4x4xf32>
  %t = linalg.transpose ins(%y : tensor<1x4x4x8xf32>) outs(%e2 : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
  %e3 = tensor.empty() : tensor<1x8x4x4xf32>
  %z = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t : tensor<1x8x4x4xf32>) outs(%e3 : tensor<1x8x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    %n = arith.minimumf %m, %six : f32
    linalg.yield %n : f32
  } -> tensor<1x8x4x4xf32>
  return %z : tensor<1x8x4x4xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Negative: the transposed tensor has another user (it is returned too),
// which would still need it: the activation stays after the transpose.
// CHECK-LABEL: func @transpose_with_two_users
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[T]] : tensor<1x8x4x4xf32>)
// CHECK: arith.maximumf
func.func @transpose_with_two_users(%y: tensor<1x4x4x8xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<1x8x4x4xf32>
  %t = linalg.transpose ins(%y : tensor<1x4x4x8xf32>) outs(%e2 : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
  %e3 = tensor.empty() : tensor<1x8x4x4xf32>
  %z = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t : tensor<1x8x4x4xf32>) outs(%e3 : tensor<1x8x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x4x4xf32>
  return %z, %t : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Negative: a body that reads its indices (here the channel) computes
// something else in another layout: it stays after the transpose.
// CHECK-LABEL: func @indexed_body_stays
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[T]] : tensor<1x8x4x4xf32>)
// CHECK: linalg.index 1
func.func @indexed_body_stays(%y: tensor<1x4x4x8xf32>) -> tensor<1x8x4x4xf32> {
  %e2 = tensor.empty() : tensor<1x8x4x4xf32>
  %t = linalg.transpose ins(%y : tensor<1x4x4x8xf32>) outs(%e2 : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
  %e3 = tensor.empty() : tensor<1x8x4x4xf32>
  %z = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%t : tensor<1x8x4x4xf32>) outs(%e3 : tensor<1x8x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = linalg.index 1 : index
    %i = arith.index_cast %c : index to i32
    %f = arith.sitofp %i : i32 to f32
    %m = arith.addf %in, %f : f32
    linalg.yield %m : f32
  } -> tensor<1x8x4x4xf32>
  return %z : tensor<1x8x4x4xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#nchw = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>

// A producer of two inputs that its consumer reads transposed (the NHWC
// copy before a channels-last depthwise convolution) is not fused: the
// fused loop would read both across their layout. A one-input producer
// (an activation) is: only its one read moves.
// CHECK-LABEL: func @transposed_reads
// CHECK: %[[ADD:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ADD]] : tensor<1x8x4x4xf32>)
// CHECK-NOT: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<1x8x4x4xf32>)
// CHECK: math.exp
func.func @transposed_reads(%a: tensor<1x8x4x4xf32>, %b: tensor<1x8x4x4xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) {
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %s = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %b : tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) outs(%e : tensor<1x8x4x4xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %r = arith.addf %in, %in2 : f32
    linalg.yield %r : f32
  } -> tensor<1x8x4x4xf32>
  %x = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<1x8x4x4xf32>) outs(%e : tensor<1x8x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.exp %in : f32
    linalg.yield %r : f32
  } -> tensor<1x8x4x4xf32>
  %e2 = tensor.empty() : tensor<1x4x4x8xf32>
  %t1 = linalg.generic {indexing_maps = [#nchw, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x8x4x4xf32>) outs(%e2 : tensor<1x4x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x8xf32>
  %t2 = linalg.generic {indexing_maps = [#nchw, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x4x4xf32>) outs(%e2 : tensor<1x4x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x8xf32>
  return %t1, %t2 : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#w3 = affine_map<(d0, d1, d2) -> (d0)>

// A window generic (two of its inputs are views of one tensor: a
// depthwise convolution's taps) is not fused into a consumer that computes
// an exp (a sigmoid, math-out-of-windows); into a relu it is. With the
// option off, the sigmoid joins its loop too.
// CHECK-LABEL: func @window_and_math
// CHECK: linalg.generic
// CHECK: math.fma
// CHECK-NEXT: math.fma
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic
// CHECK-NOT: math.fma
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: math.fma
// CHECK-NEXT: math.fma
// CHECK-NEXT: arith.maximumf
// CHECK-NEXT: linalg.yield
// MATHIN-LABEL: func @window_and_math
// MATHIN: linalg.generic
// MATHIN: math.fma
// MATHIN-NEXT: math.fma
// MATHIN-NEXT: arith.negf
// MATHIN-NEXT: math.exp
// MATHIN: linalg.generic
// MATHIN: math.fma
// MATHIN-NEXT: math.fma
// MATHIN-NEXT: arith.maximumf
func.func @window_and_math(%p: tensor<2x4x10xf32>, %w: tensor<2x2xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %t0 = tensor.extract_slice %p[0, 0, 0] [2, 4, 8] [1, 1, 1] : tensor<2x4x10xf32> to tensor<2x4x8xf32>
  %t1 = tensor.extract_slice %p[0, 0, 2] [2, 4, 8] [1, 1, 1] : tensor<2x4x10xf32> to tensor<2x4x8xf32>
  %w0 = tensor.extract_slice %w[0, 0] [2, 1] [1, 1] : tensor<2x2xf32> to tensor<2xf32>
  %w1 = tensor.extract_slice %w[0, 1] [2, 1] [1, 1] : tensor<2x2xf32> to tensor<2xf32>
  %e = tensor.empty() : tensor<2x4x8xf32>
  %d = linalg.generic {indexing_maps = [#id3, #id3, #w3, #w3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %w0, %w1 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %u: f32, %v: f32, %out: f32):
    %s0 = math.fma %a, %u, %zero : f32
    %s1 = math.fma %b, %v, %s0 : f32
    linalg.yield %s1 : f32
  } -> tensor<2x4x8xf32>
  %s = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%d : tensor<2x4x8xf32>) outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %x = math.exp %n : f32
    %y = arith.addf %x, %one : f32
    %r = arith.divf %one, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x4x8xf32>
  %d2 = linalg.generic {indexing_maps = [#id3, #id3, #w3, #w3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %w0, %w1 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %u: f32, %v: f32, %out: f32):
    %s0 = math.fma %a, %u, %zero : f32
    %s1 = math.fma %b, %v, %s0 : f32
    linalg.yield %s1 : f32
  } -> tensor<2x4x8xf32>
  %r2 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%d2 : tensor<2x4x8xf32>) outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4x8xf32>
  return %s, %r2 : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#w3 = affine_map<(d0, d1, d2) -> (d0)>
#cols = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3 + d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A window generic (a depthwise convolution's taps) is not fused into a
// consumer that reads it other than element for element: here the im2col
// copy of a batched 1x1 convolution, [C, 1, N, X] read from [N, C, X]
// (windows-read-in-order). Fused, the window would run in the copy's
// order, which anvil-vectorize-windows does not recognize. With the option
// off it is fused.
// CHECK-LABEL: func @window_into_im2col
// CHECK: %[[D:.*]] = linalg.generic
// CHECK: math.fma
// CHECK-NEXT: math.fma
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[D]] : tensor<2x4x8xf32>)
// CHECK-NOT: math.fma
// CHECK: return
// WINDOWSIN-LABEL: func @window_into_im2col
// WINDOWSIN: linalg.generic
// WINDOWSIN-SAME: outs(%{{.*}} : tensor<4x1x2x8xf32>)
// WINDOWSIN: math.fma
// WINDOWSIN-NEXT: math.fma
// WINDOWSIN-NEXT: linalg.yield
// WINDOWSIN-NOT: linalg.generic
func.func @window_into_im2col(%p: tensor<2x4x10xf32>, %w: tensor<4x2xf32>) -> tensor<4x1x2x8xf32> {
  %zero = arith.constant 0.0 : f32
  %t0 = tensor.extract_slice %p[0, 0, 0] [2, 4, 8] [1, 1, 1] : tensor<2x4x10xf32> to tensor<2x4x8xf32>
  %t1 = tensor.extract_slice %p[0, 0, 2] [2, 4, 8] [1, 1, 1] : tensor<2x4x10xf32> to tensor<2x4x8xf32>
  %w0 = tensor.extract_slice %w[0, 0] [4, 1] [1, 1] : tensor<4x2xf32> to tensor<4xf32>
  %w1 = tensor.extract_slice %w[0, 1] [4, 1] [1, 1] : tensor<4x2xf32> to tensor<4xf32>
  %e = tensor.empty() : tensor<2x4x8xf32>
  %d = linalg.generic {indexing_maps = [#id3, #id3, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t0, %t1, %w0, %w1 : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %u: f32, %v: f32, %out: f32):
    %s0 = math.fma %a, %u, %zero : f32
    %s1 = math.fma %b, %v, %s0 : f32
    linalg.yield %s1 : f32
  } -> tensor<2x4x8xf32>
  %ce = tensor.empty() : tensor<4x1x2x8xf32>
  %c = linalg.generic {indexing_maps = [#cols, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%d : tensor<2x4x8xf32>) outs(%ce : tensor<4x1x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x1x2x8xf32>
  return %c : tensor<4x1x2x8xf32>
}
