// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue -anvil-tile-and-vectorize | FileCheck %s --check-prefix=TILED
// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue=join-users=false | FileCheck %s --check-prefix=JOINOFF

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
// TILED: tensor.extract_slice %arg3[%{{.*}}, 0] [8, 1] [1, 1] : tensor<64x1xf32> to tensor<8x1xf32>
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

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A batch's convolution: an scf.for over the images (anvil-convert-to-
// linalg's form, the im2col matrix given), each image's product inserted
// into its slot of the result. The residual add + relu after the loop
// move into it, on image %n's slice of the residual, writing the slot
// (the bias now starts in one image's buffer made before the loop), and
// become the image's epilogue; the loop's result is returned as it is.
// The bias broadcast stays one, which tiling runs per packed row tile
// (its first k block peeled: anvil-tile-and-vectorize-pack.mlir).
// CHECK-LABEL: func @image_loop_residual_relu
// CHECK: %[[ACC:.*]] = tensor.empty() : tensor<64x196xf32>
// CHECK: %[[LOOP:.*]] = scf.for %[[N:.*]] = {{.*}} iter_args(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[SLOT:.*]] = tensor.extract_slice %[[OUT]][%[[N]], 0, 0, 0] [1, 64, 14, 14]
// CHECK: linalg.broadcast ins(%arg2 : tensor<64xf32>) outs(%[[ACC]] : tensor<64x196xf32>)
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: %[[RES:.*]] = tensor.extract_slice %arg3[%[[N]], 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<8x64x14x14xf32> to tensor<1x64x14x14xf32>
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[RES]]
// CHECK: %[[S:.*]] = tensor.collapse_shape %[[SLOT]]
// CHECK: %[[E:.*]] = linalg.generic {{.*}}ins(%[[P]], %[[R]] : tensor<64x196xf32>, tensor<64x196xf32>) outs(%[[S]] : tensor<64x196xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: %[[X:.*]] = tensor.expand_shape %[[E]]
// CHECK: tensor.insert_slice %[[X]] into %[[OUT]][%[[N]], 0, 0, 0]
// CHECK-NOT: linalg.generic
// CHECK: return %[[LOOP]]
// TILED-LABEL: func @image_loop_residual_relu
// TILED: scf.for
// TILED: scf.forall
// TILED: tensor.extract_slice %arg2[%{{.*}}] [8] [1] : tensor<64xf32> to tensor<8xf32>
// TILED: vector.fma
// TILED: arith.addf
// TILED: arith.maximumf
// TILED: scf.forall.in_parallel
func.func @image_loop_residual_relu(%w: tensor<64x576xf32>, %cols: tensor<576x196xf32>, %b: tensor<64xf32>, %res: tensor<8x64x14x14xf32>) -> tensor<8x64x14x14xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8x64x14x14xf32>
  %y = scf.for %n = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x64x14x14xf32>) {
    %slot = tensor.extract_slice %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<8x64x14x14xf32> to tensor<1x64x14x14xf32>
    %acc = tensor.collapse_shape %slot [[0, 1], [2, 3]] : tensor<1x64x14x14xf32> into tensor<64x196xf32>
    %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%acc : tensor<64x196xf32>) dimensions = [1]
    %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %x = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
    %next = tensor.insert_slice %x into %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<1x64x14x14xf32> into tensor<8x64x14x14xf32>
    scf.yield %next : tensor<8x64x14x14xf32>
  }
  %e = tensor.empty() : tensor<8x64x14x14xf32>
  %s = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %res : tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>) outs(%e : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %z = arith.addf %u, %v : f32
    linalg.yield %z : f32
  } -> tensor<8x64x14x14xf32>
  %e2 = tensor.empty() : tensor<8x64x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<8x64x14x14xf32>) outs(%e2 : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %v = arith.maximumf %u, %zero : f32
    linalg.yield %v : f32
  } -> tensor<8x64x14x14xf32>
  return %r : tensor<8x64x14x14xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>

// Negatives for the image loop: the loop's result has a second user (it
// is returned too), and the consumer reads a per-channel [C, 1, 1] operand
// (an unfolded batch norm) through constants, which the collapse to the
// image's [O, OH*OW] product cannot carry. Both stay after their loops.
// CHECK-LABEL: func @image_loop_refused
// CHECK: %[[A:.*]] = scf.for
// CHECK-NOT: linalg.generic
// CHECK: scf.yield
// CHECK: linalg.generic {{.*}}ins(%[[A]] :
// CHECK: %[[B:.*]] = scf.for
// CHECK-NOT: linalg.generic
// CHECK: scf.yield
// CHECK: linalg.generic {{.*}}ins(%[[B]], %arg3 :
// CHECK-NOT: anvil.epilogue
func.func @image_loop_refused(%w: tensor<64x576xf32>, %cols: tensor<576x196xf32>, %b: tensor<64xf32>, %scale: tensor<64x1x1xf32>) -> (tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8x64x14x14xf32>
  %y = scf.for %n = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x64x14x14xf32>) {
    %slot = tensor.extract_slice %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<8x64x14x14xf32> to tensor<1x64x14x14xf32>
    %acc = tensor.collapse_shape %slot [[0, 1], [2, 3]] : tensor<1x64x14x14xf32> into tensor<64x196xf32>
    %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%acc : tensor<64x196xf32>) dimensions = [1]
    %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %x = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
    %next = tensor.insert_slice %x into %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<1x64x14x14xf32> into tensor<8x64x14x14xf32>
    scf.yield %next : tensor<8x64x14x14xf32>
  }
  %e = tensor.empty() : tensor<8x64x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<8x64x14x14xf32>) outs(%e : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %v = arith.maximumf %u, %zero : f32
    linalg.yield %v : f32
  } -> tensor<8x64x14x14xf32>
  %init2 = tensor.empty() : tensor<8x64x14x14xf32>
  %y2 = scf.for %n = %c0 to %c8 step %c1 iter_args(%out = %init2) -> (tensor<8x64x14x14xf32>) {
    %slot = tensor.extract_slice %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<8x64x14x14xf32> to tensor<1x64x14x14xf32>
    %acc = tensor.collapse_shape %slot [[0, 1], [2, 3]] : tensor<1x64x14x14xf32> into tensor<64x196xf32>
    %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%acc : tensor<64x196xf32>) dimensions = [1]
    %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %x = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
    %next = tensor.insert_slice %x into %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<1x64x14x14xf32> into tensor<8x64x14x14xf32>
    scf.yield %next : tensor<8x64x14x14xf32>
  }
  %e2 = tensor.empty() : tensor<8x64x14x14xf32>
  %m = linalg.generic {indexing_maps = [#id4, #chan, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y2, %scale : tensor<8x64x14x14xf32>, tensor<64x1x1xf32>) outs(%e2 : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %s: f32, %o: f32):
    %v = arith.mulf %u, %s : f32
    linalg.yield %v : f32
  } -> tensor<8x64x14x14xf32>
  return %r, %y, %m : tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A batch of 7x7 images is one matmul whose [O, N, OH, OW] product is
// transposed to NCHW. The relu commutes with the transpose: it becomes the
// epilogue on the [O, N*OH*OW] product and the transpose moves after it.
// CHECK-LABEL: func @batched_relu
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: %[[E:.*]] = linalg.generic {{.*}}ins(%[[P]] : tensor<128x392xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.maximumf
// CHECK: %[[X:.*]] = tensor.expand_shape %[[E]] {{\[}}[0], [1, 2, 3]]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<128x8x7x7xf32>) {{.*}} permutation = [1, 0, 2, 3]
// CHECK: return %[[T]]
// TILED-LABEL: func @batched_relu
// TILED: scf.forall
// TILED: vector.fma
// TILED: arith.maximumf
// TILED: scf.forall.in_parallel
func.func @batched_relu(%w: tensor<128x1152xf32>, %cols: tensor<1152x392xf32>, %acc: tensor<128x392xf32>) -> tensor<8x128x7x7xf32> {
  %zero = arith.constant 0.0 : f32
  %p = linalg.matmul ins(%w, %cols : tensor<128x1152xf32>, tensor<1152x392xf32>) outs(%acc : tensor<128x392xf32>) -> tensor<128x392xf32>
  %x = tensor.expand_shape %p [[0], [1, 2, 3]] output_shape [128, 8, 7, 7] : tensor<128x392xf32> into tensor<128x8x7x7xf32>
  %e = tensor.empty() : tensor<8x128x7x7xf32>
  %t = linalg.transpose ins(%x : tensor<128x8x7x7xf32>) outs(%e : tensor<8x128x7x7xf32>) permutation = [1, 0, 2, 3]
  %e2 = tensor.empty() : tensor<8x128x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t : tensor<8x128x7x7xf32>) outs(%e2 : tensor<8x128x7x7xf32>) {
  ^bb0(%u: f32, %o: f32):
    %v = arith.maximumf %u, %zero : f32
    linalg.yield %v : f32
  } -> tensor<8x128x7x7xf32>
  return %r : tensor<8x128x7x7xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Negative: a residual add after the batched product. Read in the
// product's layout the residual is (n, o, y, x) at (d1, d0, d2, d3), which
// splits the (n, y, x) columns: the add stays after the transpose.
// CHECK-LABEL: func @batched_residual
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: %[[X:.*]] = tensor.expand_shape %[[P]]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[X]]
// CHECK: linalg.generic {{.*}}ins(%[[T]], %arg3 :
// CHECK-NOT: anvil.epilogue
func.func @batched_residual(%w: tensor<128x1152xf32>, %cols: tensor<1152x392xf32>, %acc: tensor<128x392xf32>, %res: tensor<8x128x7x7xf32>) -> tensor<8x128x7x7xf32> {
  %p = linalg.matmul ins(%w, %cols : tensor<128x1152xf32>, tensor<1152x392xf32>) outs(%acc : tensor<128x392xf32>) -> tensor<128x392xf32>
  %x = tensor.expand_shape %p [[0], [1, 2, 3]] output_shape [128, 8, 7, 7] : tensor<128x392xf32> into tensor<128x8x7x7xf32>
  %e = tensor.empty() : tensor<8x128x7x7xf32>
  %t = linalg.transpose ins(%x : tensor<128x8x7x7xf32>) outs(%e : tensor<8x128x7x7xf32>) permutation = [1, 0, 2, 3]
  %e2 = tensor.empty() : tensor<8x128x7x7xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%t, %res : tensor<8x128x7x7xf32>, tensor<8x128x7x7xf32>) outs(%e2 : tensor<8x128x7x7xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %s = arith.addf %u, %v : f32
    linalg.yield %s : f32
  } -> tensor<8x128x7x7xf32>
  return %r : tensor<8x128x7x7xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A SiLU, x * sigmoid(x): the product has two users, the sigmoid and the
// multiply, whose chains meet in the multiply (join-users). They are
// joined into one epilogue that reads the product once; tiled, the exp
// runs in the matmul's blocks. With join-users=false the product keeps its
// two users and nothing is marked.
// CHECK-LABEL: func @silu
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}}ins(%[[P]] : tensor<64x256xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
// TILED-LABEL: func @silu
// TILED: scf.forall
// TILED: vector.fma
// TILED: math.exp
// TILED: arith.mulf
// TILED: scf.forall.in_parallel
// TILED-NOT: linalg.generic
// TILED: return
// JOINOFF-LABEL: func @silu
// JOINOFF-NOT: anvil.epilogue
// JOINOFF: return
func.func @silu(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %p = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %x1 = math.exp %n : f32
    %d = arith.addf %x1, %one : f32
    %y = arith.divf %one, %d : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  %e3 = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%p, %s : tensor<64x256xf32>, tensor<64x256xf32>) outs(%e3 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %z = arith.mulf %x, %y : f32
    linalg.yield %z : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A hard swish, x * clip(x + 3, 0, 6) / 6, after a batch's image loop:
// the loop's result is read by the add and by the multiply, which the
// add's chain (add, clip) reaches; joined, the chain (and the division
// after it) moves into the loop as each image's epilogue.
// CHECK-LABEL: func @image_loop_hardswish
// CHECK: %[[LOOP:.*]] = scf.for
// CHECK: %[[P:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}}ins(%[[P]] : tensor<64x196xf32>) {{.*}}attrs = {anvil.epilogue}
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[LOOP]]
// JOINOFF-LABEL: func @image_loop_hardswish
// JOINOFF-NOT: anvil.epilogue
// JOINOFF: return
func.func @image_loop_hardswish(%w: tensor<64x576xf32>, %cols: tensor<576x196xf32>, %b: tensor<64xf32>) -> tensor<8x64x14x14xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %three = arith.constant 3.0 : f32
  %six = arith.constant 6.0 : f32
  %sixth = arith.constant 0.166666672 : f32
  %init = tensor.empty() : tensor<8x64x14x14xf32>
  %y = scf.for %n = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x64x14x14xf32>) {
    %slot = tensor.extract_slice %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<8x64x14x14xf32> to tensor<1x64x14x14xf32>
    %acc = tensor.collapse_shape %slot [[0, 1], [2, 3]] : tensor<1x64x14x14xf32> into tensor<64x196xf32>
    %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%acc : tensor<64x196xf32>) dimensions = [1]
    %p = linalg.matmul ins(%w, %cols : tensor<64x576xf32>, tensor<576x196xf32>) outs(%bias : tensor<64x196xf32>) -> tensor<64x196xf32>
    %x = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 64, 14, 14] : tensor<64x196xf32> into tensor<1x64x14x14xf32>
    %next = tensor.insert_slice %x into %out[%n, 0, 0, 0] [1, 64, 14, 14] [1, 1, 1, 1] : tensor<1x64x14x14xf32> into tensor<8x64x14x14xf32>
    scf.yield %next : tensor<8x64x14x14xf32>
  }
  %e = tensor.empty() : tensor<8x64x14x14xf32>
  %a = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<8x64x14x14xf32>) outs(%e : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %v = arith.addf %u, %three : f32
    linalg.yield %v : f32
  } -> tensor<8x64x14x14xf32>
  %e2 = tensor.empty() : tensor<8x64x14x14xf32>
  %c = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a : tensor<8x64x14x14xf32>) outs(%e2 : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %v = arith.maximumf %u, %zero : f32
    %v2 = arith.minimumf %v, %six : f32
    linalg.yield %v2 : f32
  } -> tensor<8x64x14x14xf32>
  %e3 = tensor.empty() : tensor<8x64x14x14xf32>
  %m = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %c : tensor<8x64x14x14xf32>, tensor<8x64x14x14xf32>) outs(%e3 : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %v: f32, %o: f32):
    %z = arith.mulf %u, %v : f32
    linalg.yield %z : f32
  } -> tensor<8x64x14x14xf32>
  %e4 = tensor.empty() : tensor<8x64x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%m : tensor<8x64x14x14xf32>) outs(%e4 : tensor<8x64x14x14xf32>) {
  ^bb0(%u: f32, %o: f32):
    %z = arith.mulf %u, %sixth : f32
    linalg.yield %z : f32
  } -> tensor<8x64x14x14xf32>
  return %r : tensor<8x64x14x14xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Negative: two users whose chains do not meet (a relu and a sigmoid, both
// returned): neither joins the other, and nothing is marked.
// CHECK-LABEL: func @users_apart
// CHECK-NOT: anvil.epilogue
// CHECK: return
func.func @users_apart(%a: tensor<64x256xf32>, %b: tensor<256x256xf32>, %c: tensor<64x256xf32>) -> (tensor<64x256xf32>, tensor<64x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x256xf32>) outs(%c : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x256xf32>) outs(%e : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x256xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x256xf32>) outs(%e2 : tensor<64x256xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    %y = math.exp %n : f32
    linalg.yield %y : f32
  } -> tensor<64x256xf32>
  return %r, %s : tensor<64x256xf32>, tensor<64x256xf32>
}
