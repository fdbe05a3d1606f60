// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue -anvil-tile-and-vectorize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue -anvil-tile-and-vectorize="epilogue-in-place=false" | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue -anvil-tile-and-vectorize="epilogue-in-tiles=false" | FileCheck %s --check-prefix=BLOCK

#id = affine_map<(d0, d1) -> (d0, d1)>

// The stem's shape (K = 147, one k block): each parallel block's
// accumulator starts in the block's slice of the result (the forall's
// shared output) and the product accumulates there. With one k block each
// row tile's product is final: the relu runs on the tile's accumulators,
// in registers, before they are stored (epilogue-in-tiles), and no loop
// over the block follows. With epilogue-in-tiles=false the relu is a
// generic over the finished block with no input, whose destination is the
// product. Without in-place epilogues the relu reads the product and
// writes a slice of its own, which bufferization turns into two scratch
// blocks and a copy.
// CHECK-LABEL: func @stem_relu_in_place
// CHECK: scf.forall ({{.*}}) in (49) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][0, %{{.*}}] [64, 256] [1, 1]
// CHECK: %[[P:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[SLICE]]) -> (tensor<64x256xf32>)
// CHECK: %[[ACC:.*]] = scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: vector.fma
// CHECK: %[[R:.*]] = arith.maximumf %[[ACC]], %{{.*}} : vector<8x32xf32>
// CHECK-NEXT: vector.transfer_write %[[R]]
// CHECK-NOT: linalg.generic
// CHECK: tensor.parallel_insert_slice %[[P]] into %[[OUT]]
// BLOCK-LABEL: func @stem_relu_in_place
// BLOCK: scf.forall ({{.*}}) in (49) shared_outs(%[[OUT:.*]] = %{{.*}})
// BLOCK: %[[P:.*]] = scf.for {{.*}} -> (tensor<64x256xf32>)
// BLOCK-NOT: arith.maximumf
// BLOCK: %[[E:.*]] = linalg.generic {{.*}} outs(%[[P]] : tensor<64x256xf32>)
// BLOCK: arith.maximumf
// BLOCK: tensor.parallel_insert_slice %[[E]] into %[[OUT]]
// OFF-LABEL: func @stem_relu_in_place
// OFF: scf.forall
// OFF: %[[P:.*]] = scf.for
// OFF: linalg.generic {{.*}} ins(%[[P]] : tensor<64x256xf32>) outs(%{{.*}} : tensor<64x256xf32>)
func.func @stem_relu_in_place(%a: tensor<64x147xf32>, %b: tensor<147x12544xf32>) -> tensor<64x12544xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x12544xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<64x12544xf32>) -> tensor<64x12544xf32>
  %p = linalg.matmul ins(%a, %b : tensor<64x147xf32>, tensor<147x12544xf32>) outs(%c : tensor<64x12544xf32>) -> tensor<64x12544xf32>
  %e2 = tensor.empty() : tensor<64x12544xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<64x12544xf32>) outs(%e2 : tensor<64x12544xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<64x12544xf32>
  return %r : tensor<64x12544xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Several k blocks (K = 576) and a residual add: the first k block starts
// the accumulator from the bias in registers and writes the result's
// slice, the k-block loop carries it on, and the add + relu read the
// residual and overwrite the product.
// CHECK-LABEL: func @k_blocks_residual_in_place
// CHECK: scf.forall {{.*}} shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]]
// CHECK: %[[FIRST:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[SLICE]])
// CHECK: vector.transpose {{.*}} : vector<32x8xf32> to vector<8x32xf32>
// CHECK: %[[P:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[FIRST]])
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<64x{{.*}}xf32>) outs(%[[P]] : tensor<64x{{.*}}xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: tensor.parallel_insert_slice %[[E]] into %[[OUT]]
func.func @k_blocks_residual_in_place(%a: tensor<64x576xf32>, %b: tensor<576x3136xf32>, %bias: tensor<64xf32>, %res: tensor<64x3136xf32>) -> tensor<64x3136xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x3136xf32>
  %c = linalg.broadcast ins(%bias : tensor<64xf32>) outs(%e : tensor<64x3136xf32>) dimensions = [1]
  %p = linalg.matmul ins(%a, %b : tensor<64x576xf32>, tensor<576x3136xf32>) outs(%c : tensor<64x3136xf32>) -> tensor<64x3136xf32>
  %e2 = tensor.empty() : tensor<64x3136xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%p, %res : tensor<64x3136xf32>, tensor<64x3136xf32>) outs(%e2 : tensor<64x3136xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x3136xf32>
  return %r : tensor<64x3136xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A product too small for parallel blocks (2 KFLOP) whose B is packed and
// whose K is one k block is one block all the same: the forall of one
// iteration is unwrapped and the relu runs on each row tile's
// accumulators before they are stored, with no loop over the product after
// it. With epilogue-in-tiles=false the epilogue stays that loop.
// CHECK-LABEL: func @serial_in_tiles
// CHECK-NOT: scf.forall
// CHECK: %[[ACC:.*]] = scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: vector.fma
// CHECK: %[[R:.*]] = arith.maximumf %[[ACC]], %{{.*}} : vector<8x32xf32>
// CHECK-NEXT: vector.transfer_write %[[R]]
// CHECK-NOT: linalg.generic
// CHECK: return
// BLOCK-LABEL: func @serial_in_tiles
// BLOCK-NOT: scf.forall
// BLOCK: linalg.generic {{.*}} ins(%{{.*}} : tensor<16x64xf32>) outs(%{{.*}} : tensor<16x64xf32>)
// BLOCK: arith.maximumf
func.func @serial_in_tiles(%a: tensor<16x8xf32>, %b: tensor<8x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %p = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<16x64xf32>) outs(%e2 : tensor<16x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Negative: a serial product with too few rows to pack B for (4 rows, one
// row tile) keeps its epilogue as a separate loop after it.
// CHECK-LABEL: func @serial_unpacked
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x64xf32>) outs(%{{.*}} : tensor<4x64xf32>)
// CHECK: arith.maximumf
func.func @serial_unpacked(%a: tensor<4x8xf32>, %b: tensor<8x64xf32>) -> tensor<4x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x64xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  %p = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x64xf32>) outs(%c : tensor<4x64xf32>) -> tensor<4x64xf32>
  %e2 = tensor.empty() : tensor<4x64xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%p : tensor<4x64xf32>) outs(%e2 : tensor<4x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A fused epilogue on 111-wide blocks of N = 12321 (SqueezeNet's stem):
// each block's last 15 columns are one 15-lane tile. The whole product
// that fusion leaves behind, unused, must not set the tail's width (it did:
// 12321 % 32 = 1, one column per tile, scalar FMAs).
// CHECK-LABEL: func @stem_tail_width_of_block
// CHECK: scf.forall
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK: scf.for {{.*}} -> (vector<8x15xf32>)
// CHECK-NOT: -> (vector<8x1xf32>)
func.func @stem_tail_width_of_block(%a: tensor<64x27xf32>, %b: tensor<27x12321xf32>, %bias: tensor<64xf32>) -> tensor<64x12321xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x12321xf32>
  %init = linalg.broadcast ins(%bias : tensor<64xf32>) outs(%e : tensor<64x12321xf32>) dimensions = [1]
  %0 = linalg.matmul ins(%a, %b : tensor<64x27xf32>, tensor<27x12321xf32>) outs(%init : tensor<64x12321xf32>) -> tensor<64x12321xf32>
  %e2 = tensor.empty() : tensor<64x12321xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%0 : tensor<64x12321xf32>) outs(%e2 : tensor<64x12321xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x12321xf32>
  return %r : tensor<64x12321xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Two serial products read by one epilogue (p + q): it is the first
// product's only, and the second product is a plain one (both claiming it
// left the first schedule's match empty: "requires exactly one
// containing_op handle"). Reading q, the add stays a loop over p in place.
// CHECK-LABEL: func @two_products_one_epilogue
// CHECK: vector.fma
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: return
func.func @two_products_one_epilogue(%a: tensor<16x8xf32>, %b: tensor<8x64xf32>, %c: tensor<8x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %p = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x64xf32>) outs(%f : tensor<16x64xf32>) -> tensor<16x64xf32>
  %e1 = tensor.empty() : tensor<16x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %q = linalg.matmul ins(%a, %c : tensor<16x8xf32>, tensor<8x64xf32>) outs(%f1 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%p, %q : tensor<16x64xf32>, tensor<16x64xf32>) outs(%e2 : tensor<16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}
