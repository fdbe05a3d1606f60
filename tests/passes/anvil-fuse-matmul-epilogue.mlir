// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue -anvil-tile-and-vectorize | FileCheck %s --check-prefix=TILED

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// A matmul's relu becomes its epilogue: one marked generic reading the
// product. Tiled, the relu runs inside the matmul's parallel blocks, after
// the block's k loop, and the zero fill moves into the blocks too (with
// one k block, into the row tiles: their accumulators start at zero).
// CHECK-LABEL: func @relu
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}}ins(%[[P]] : tensor<64x256xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.maximumf
// TILED-LABEL: func @relu
// TILED: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// TILED: scf.forall
// TILED-NOT: linalg.fill
// TILED: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (vector<8x32xf32>)
// TILED: vector.fma
// TILED: arith.maximumf
// TILED: scf.forall.in_parallel
// TILED-NOT: linalg.generic
func.func @relu(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %p = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// A Gemm's bias add (a broadcast row) and relu fuse into one epilogue.
// CHECK-LABEL: func @bias_relu
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}}ins(%[[P]], %{{.*}} : tensor<64x256xf32>, tensor<256xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// TILED-LABEL: func @bias_relu
// TILED: scf.forall
// TILED: vector.fma
// TILED: arith.addf
// TILED: arith.maximumf
// TILED: scf.forall.in_parallel
func.func @bias_relu(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>, %bias: tensor<256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %p = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %s = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%p, %bias : tensor<64x256xf32>, tensor<256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %z = arith.addf %x, %y : f32
    linalg.yield %z : f32
  } -> tensor<64x256xf32>
  %e3 = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<64x256xf32>) outs(%e3 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

#bias = affine_map<(d0, d1) -> (d0, 0)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A convolution (im2col product started from its bias) with a residual add
// and relu on NCHW: the epilogue moves before the reshape, onto the
// product's [O, OH*OW] space, and reads the residual collapsed the same way.
// CHECK-LABEL: func @conv_residual_relu
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: %[[R:.*]] = tensor.collapse_shape %arg2 {{\[}}[0, 1], [2, 3]] : tensor<1x64x14x14xf32> into tensor<64x196xf32>
// CHECK: %[[E:.*]] = linalg.generic {{.*}}ins(%[[P]], %[[R]] : tensor<64x196xf32>, tensor<64x196xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: tensor.expand_shape %[[E]]
// TILED-LABEL: func @conv_residual_relu
// TILED: scf.forall
// TILED: linalg.generic {{.*}}ins(%arg3 : tensor<64x1xf32>) outs(%{{.*}} : tensor<64x98xf32>)
// TILED: vector.fma
// TILED: arith.addf
// TILED: arith.maximumf
// TILED: scf.forall.in_parallel
func.func @conv_residual_relu(%w: tensor<64x576xf32>, %cols: tensor<576x196xf32>, %res: tensor<1x64x14x14xf32>, %b: tensor<64x1xf32>) -> tensor<1x64x14x14xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x196xf32>
  %c = linalg.generic {indexing_maps = [#bias, #id], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<64x1xf32>) outs(%e : tensor<64x196xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<64x196xf32>
  %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%c : tensor<64x196xf32>) -> tensor<64x196xf32>
  %x = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
  %e2 = tensor.empty() : tensor<1x64x14x14xf32>
  %s = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %res : tensor<1x64x14x14xf32>, tensor<1x64x14x14xf32>) outs(%e2 : tensor<1x64x14x14xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %z = arith.addf %u, %v : f32
    linalg.yield %z : f32
  } -> tensor<1x64x14x14xf32>
  %e3 = tensor.empty() : tensor<1x64x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x64x14x14xf32>) outs(%e3 : tensor<1x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %y = arith.maximumf %u, %zero : f32
    linalg.yield %y : f32
  } -> tensor<1x64x14x14xf32>
  return %r : tensor<1x64x14x14xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Negative: the product has a second user (it is also returned), so the
// relu cannot run on its blocks alone; nothing is marked.
// CHECK-LABEL: func @second_user
// CHECK-NOT: anvil.epilogue
// TILED-LABEL: func @second_user
// TILED: scf.forall
// TILED: scf.forall.in_parallel
// TILED: linalg.generic
// TILED: arith.maximumf
func.func @second_user(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>, %c: tensor<64x256xf32>) -> (tensor<64x256xf32>, tensor<64x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  return %r, %p : tensor<64x256xf32>, tensor<64x256xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>

// Negative: the consumer reads the product transposed; a block of the
// product is not a block of the result.
// CHECK-LABEL: func @transposed_read
// CHECK-NOT: anvil.epilogue
func.func @transposed_read(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %p = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x64xf32>) outs(%e2 : tensor<64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.negf %x : f32
    linalg.yield %y : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
