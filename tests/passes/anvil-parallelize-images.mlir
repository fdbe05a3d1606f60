// RUN: anvil-opt %s -split-input-file -anvil-parallelize-images | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-parallelize-images=max-flops=500000 | FileCheck %s --check-prefix=BIG
// RUN: anvil-opt %s -split-input-file -anvil-parallelize-images=max-scratch-bytes=8000000 | FileCheck %s --check-prefix=ROOM
// RUN: anvil-opt %s -split-input-file -anvil-parallelize-images=chunk-images=false | FileCheck %s --check-prefix=NOCHUNK

#map = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1, d5 + d2)>
#map1 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// A batch's 3x3 convolution as anvil-convert-to-linalg writes it (4 images,
// 590k FLOPs per image): the image loop becomes an scf.forall. The padded
// image it carried and the im2col matrix made before the loop are made in
// each iteration instead (anvil-plan-memory gives them a slot per image);
// each image's matmul is marked to stay one block.
// CHECK-LABEL: func @conv_images
// CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<4x16x16x16xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[N:.*]]) in (4) shared_outs(%[[OUT:.*]] = %[[OUT0]]) -> (tensor<4x16x16x16xf32>)
// CHECK:   %[[PE:.*]] = tensor.empty() : tensor<1x8x18x18xf32>
// CHECK:   %[[PZ:.*]] = linalg.fill {{.*}} outs(%[[PE]] : tensor<1x8x18x18xf32>)
// CHECK:   %[[CE:.*]] = tensor.empty() : tensor<8x3x3x1x16x16xf32>
// CHECK:   %[[IMAGE:.*]] = tensor.extract_slice %arg0[%[[N]], 0, 0, 0]
// CHECK:   %[[SLOT:.*]] = tensor.extract_slice %[[OUT]][%[[N]], 0, 0, 0] [1, 16, 16, 16]
// CHECK:   %[[PI:.*]] = tensor.insert_slice %[[IMAGE]] into %[[PZ]][0, 0, 1, 1]
// CHECK:   linalg.generic {{.*}} ins(%[[PI]] : tensor<1x8x18x18xf32>) outs(%[[CE]] : tensor<8x3x3x1x16x16xf32>)
// CHECK:   tensor.collapse_shape %[[SLOT]]
// CHECK:   linalg.matmul {anvil.in_parallel_loop}
// CHECK:   %[[E:.*]] = tensor.expand_shape
// CHECK:   scf.forall.in_parallel {
// CHECK-NEXT: tensor.parallel_insert_slice %[[E]] into %[[OUT]][%[[N]], 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1]
// CHECK-NEXT: }
// CHECK: return %[[R]]
// Negative: above max-flops, the loop stays sequential and its matmul
// unmarked (anvil-tile-and-vectorize gives it parallel blocks).
// BIG-LABEL: func @conv_images
// BIG-NOT: scf.forall
// BIG: scf.for
// BIG-NOT: anvil.in_parallel_loop
func.func @conv_images(%arg0: tensor<4x8x16x16xf32>, %arg1: tensor<16x8x3x3xf32>, %arg2: tensor<16xf32>) -> tensor<4x16x16x16xf32> {
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %collapsed = tensor.collapse_shape %arg1 [[0], [1, 2, 3]] : tensor<16x8x3x3xf32> into tensor<16x72xf32>
  %0 = tensor.empty() : tensor<1x8x18x18xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x8x18x18xf32>) -> tensor<1x8x18x18xf32>
  %2 = tensor.empty() : tensor<8x3x3x1x16x16xf32>
  %3 = tensor.empty() : tensor<4x16x16x16xf32>
  %4:2 = scf.for %arg3 = %c0 to %c4 step %c1 iter_args(%arg4 = %3, %arg5 = %1) -> (tensor<4x16x16x16xf32>, tensor<1x8x18x18xf32>) {
    %extracted_slice = tensor.extract_slice %arg0[%arg3, 0, 0, 0] [1, 8, 16, 16] [1, 1, 1, 1] : tensor<4x8x16x16xf32> to tensor<1x8x16x16xf32>
    %extracted_slice_0 = tensor.extract_slice %arg4[%arg3, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<4x16x16x16xf32> to tensor<1x16x16x16xf32>
    %inserted_slice = tensor.insert_slice %extracted_slice into %arg5[0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1] : tensor<1x8x16x16xf32> into tensor<1x8x18x18xf32>
    %5 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%inserted_slice : tensor<1x8x18x18xf32>) outs(%2 : tensor<8x3x3x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<8x3x3x1x16x16xf32>
    %collapsed_1 = tensor.collapse_shape %5 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x16x16xf32> into tensor<72x256xf32>
    %collapsed_2 = tensor.collapse_shape %extracted_slice_0 [[0, 1], [2, 3]] : tensor<1x16x16x16xf32> into tensor<16x256xf32>
    %broadcasted = linalg.broadcast ins(%arg2 : tensor<16xf32>) outs(%collapsed_2 : tensor<16x256xf32>) dimensions = [1]
    %6 = linalg.matmul ins(%collapsed, %collapsed_1 : tensor<16x72xf32>, tensor<72x256xf32>) outs(%broadcasted : tensor<16x256xf32>) -> tensor<16x256xf32>
    %expanded = tensor.expand_shape %6 [[0, 1], [2, 3]] output_shape [1, 16, 16, 16] : tensor<16x256xf32> into tensor<1x16x16x16xf32>
    %inserted_slice_3 = tensor.insert_slice %expanded into %arg4[%arg3, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<1x16x16x16xf32> into tensor<4x16x16x16xf32>
    scf.yield %inserted_slice_3, %inserted_slice : tensor<4x16x16x16xf32>, tensor<1x8x18x18xf32>
  }
  return %4#0 : tensor<4x16x16x16xf32>
}

// -----

#map = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1, d5 + d2)>
#map1 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// The same convolution on 64 images would need 64 slots of its padded
// image and im2col matrix (84 kB each, 5.4 MB in all, more than 1 MB): it
// runs in 8 chunks of 8 images instead (12 would fit in 1 MB; 8 is the
// largest count that divides 64), an scf.forall over the chunks whose body
// makes one padded image and im2col matrix and loops over its 8 images
// sequentially, reusing them. The loop reads image `chunk * 8 + j` and
// writes slot `j` of the chunk's slice of the output, which goes back into
// its place in the forall's terminator.
// CHECK-LABEL: func @many_images
// CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<64x16x16x16xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[C:.*]]) in (8) shared_outs(%[[OUT:.*]] = %[[OUT0]]) -> (tensor<64x16x16x16xf32>)
// CHECK:   %[[START:.*]] = arith.muli %[[C]], %[[C8:.*]] : index
// CHECK:   %[[CHUNK:.*]] = tensor.extract_slice %[[OUT]][%[[START]], 0, 0, 0] [8, 16, 16, 16] [1, 1, 1, 1] : tensor<64x16x16x16xf32> to tensor<8x16x16x16xf32>
// CHECK:   %[[PE:.*]] = tensor.empty() : tensor<1x8x18x18xf32>
// CHECK:   %[[PZ:.*]] = linalg.fill {{.*}} outs(%[[PE]] : tensor<1x8x18x18xf32>)
// CHECK:   %[[CE:.*]] = tensor.empty() : tensor<8x3x3x1x16x16xf32>
// CHECK:   %[[LOOP:.*]]:2 = scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[SLICE:.*]] = %[[CHUNK]], %[[PAD:.*]] = %[[PZ]]) -> (tensor<8x16x16x16xf32>, tensor<1x8x18x18xf32>)
// CHECK:     %[[N:.*]] = arith.addi %[[START]], %[[J]] : index
// CHECK:     tensor.extract_slice %arg0[%[[N]], 0, 0, 0]
// CHECK:     tensor.extract_slice %[[SLICE]][%[[J]], 0, 0, 0] [1, 16, 16, 16]
// CHECK:     linalg.generic {{.*}} outs(%[[CE]] : tensor<8x3x3x1x16x16xf32>)
// CHECK:     linalg.matmul {anvil.in_parallel_loop}
// CHECK:     %[[INS:.*]] = tensor.insert_slice %{{.*}} into %[[SLICE]][%[[J]], 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<1x16x16x16xf32> into tensor<8x16x16x16xf32>
// CHECK:     scf.yield %[[INS]], %{{.*}} : tensor<8x16x16x16xf32>, tensor<1x8x18x18xf32>
// CHECK:   scf.forall.in_parallel {
// CHECK-NEXT: tensor.parallel_insert_slice %[[LOOP]]#0 into %[[OUT]][%[[START]], 0, 0, 0] [8, 16, 16, 16] [1, 1, 1, 1]
// CHECK-NEXT: }
// CHECK: return %[[R]]
// With max-scratch-bytes above 5.4 MB each image gets its own slots.
// ROOM-LABEL: func @many_images
// ROOM: scf.forall (%{{.*}}) in (64)
// ROOM-NOT: scf.for
// ROOM: anvil.in_parallel_loop
// Negative: with chunk-images=false the sequential loop keeps reusing
// one of each, in cache.
// NOCHUNK-LABEL: func @many_images
// NOCHUNK-NOT: scf.forall
// NOCHUNK: scf.for
// NOCHUNK-NOT: anvil.in_parallel_loop
func.func @many_images(%arg0: tensor<64x8x16x16xf32>, %arg1: tensor<16x8x3x3xf32>, %arg2: tensor<16xf32>) -> tensor<64x16x16x16xf32> {
  %c4 = arith.constant 64 : index
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %collapsed = tensor.collapse_shape %arg1 [[0], [1, 2, 3]] : tensor<16x8x3x3xf32> into tensor<16x72xf32>
  %0 = tensor.empty() : tensor<1x8x18x18xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x8x18x18xf32>) -> tensor<1x8x18x18xf32>
  %2 = tensor.empty() : tensor<8x3x3x1x16x16xf32>
  %3 = tensor.empty() : tensor<64x16x16x16xf32>
  %4:2 = scf.for %arg3 = %c0 to %c4 step %c1 iter_args(%arg4 = %3, %arg5 = %1) -> (tensor<64x16x16x16xf32>, tensor<1x8x18x18xf32>) {
    %extracted_slice = tensor.extract_slice %arg0[%arg3, 0, 0, 0] [1, 8, 16, 16] [1, 1, 1, 1] : tensor<64x8x16x16xf32> to tensor<1x8x16x16xf32>
    %extracted_slice_0 = tensor.extract_slice %arg4[%arg3, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<64x16x16x16xf32> to tensor<1x16x16x16xf32>
    %inserted_slice = tensor.insert_slice %extracted_slice into %arg5[0, 0, 1, 1] [1, 8, 16, 16] [1, 1, 1, 1] : tensor<1x8x16x16xf32> into tensor<1x8x18x18xf32>
    %5 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%inserted_slice : tensor<1x8x18x18xf32>) outs(%2 : tensor<8x3x3x1x16x16xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<8x3x3x1x16x16xf32>
    %collapsed_1 = tensor.collapse_shape %5 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x16x16xf32> into tensor<72x256xf32>
    %collapsed_2 = tensor.collapse_shape %extracted_slice_0 [[0, 1], [2, 3]] : tensor<1x16x16x16xf32> into tensor<16x256xf32>
    %broadcasted = linalg.broadcast ins(%arg2 : tensor<16xf32>) outs(%collapsed_2 : tensor<16x256xf32>) dimensions = [1]
    %6 = linalg.matmul ins(%collapsed, %collapsed_1 : tensor<16x72xf32>, tensor<72x256xf32>) outs(%broadcasted : tensor<16x256xf32>) -> tensor<16x256xf32>
    %expanded = tensor.expand_shape %6 [[0, 1], [2, 3]] output_shape [1, 16, 16, 16] : tensor<16x256xf32> into tensor<1x16x16x16xf32>
    %inserted_slice_3 = tensor.insert_slice %expanded into %arg4[%arg3, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<1x16x16x16xf32> into tensor<64x16x16x16xf32>
    scf.yield %inserted_slice_3, %inserted_slice : tensor<64x16x16x16xf32>, tensor<1x8x18x18xf32>
  }
  return %4#0 : tensor<64x16x16x16xf32>
}

// -----

// Negative: a loop that carries a running sum (each image adds to what
// the previous ones left) is not a loop over independent images.
// CHECK-LABEL: func @running_sum
// CHECK-NOT: scf.forall
// CHECK: scf.for
// CHECK-NOT: anvil.in_parallel_loop
func.func @running_sum(%a: tensor<4x16x8xf32>, %b: tensor<8x16xf32>) -> tensor<16x16xf32> {
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<16x16xf32>) {
    %s = tensor.extract_slice %a[%i, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<4x16x8xf32> to tensor<16x8xf32>
    %m = linalg.matmul ins(%s, %b : tensor<16x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<16x16xf32>) -> tensor<16x16xf32>
    scf.yield %m : tensor<16x16xf32>
  }
  return %r : tensor<16x16xf32>
}
