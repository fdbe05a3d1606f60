// RUN: anvil-opt %s -split-input-file -anvil-write-concat-in-place | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-write-concat-in-place=copy-others=false | FileCheck %s --check-prefix=NOCOPY

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A concat of two activations (as anvil-sink-concat leaves DenseNet's
// batch_norm -> relu chains): each generic moves to its insert and writes
// into the slice of the concat's buffer that the insert fills. The root is
// an alloc_tensor (a slice of a tensor.empty would fold into a fresh one).
// CHECK-LABEL: func @activations_into_concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x4x4xf32>, %[[B:.*]]: tensor<2x2x4x4xf32>)
// CHECK: %[[R:.*]] = bufferization.alloc_tensor() : tensor<2x5x4x4xf32>
// CHECK: %[[SA:.*]] = tensor.extract_slice %[[R]][0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1]
// CHECK: %[[GA:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x3x4x4xf32>) outs(%[[SA]] : tensor<2x3x4x4xf32>)
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[GA]] into %[[R]][0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1]
// CHECK: %[[SB:.*]] = tensor.extract_slice %[[R0]][0, 3, 0, 0] [2, 2, 4, 4] [1, 1, 1, 1]
// CHECK: %[[GB:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<2x2x4x4xf32>) outs(%[[SB]] : tensor<2x2x4x4xf32>)
// CHECK: %[[R1:.*]] = tensor.insert_slice %[[GB]] into %[[R0]][0, 3, 0, 0] [2, 2, 4, 4] [1, 1, 1, 1]
// CHECK: return %[[R1]]
func.func @activations_into_concat(%a: tensor<2x3x4x4xf32>, %b: tensor<2x2x4x4xf32>) -> tensor<2x5x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ea = tensor.empty() : tensor<2x3x4x4xf32>
  %ra = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : tensor<2x3x4x4xf32>) outs(%ea : tensor<2x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x3x4x4xf32>
  %eb = tensor.empty() : tensor<2x2x4x4xf32>
  %rb = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<2x2x4x4xf32>) outs(%eb : tensor<2x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x2x4x4xf32>
  %e = tensor.empty() : tensor<2x5x4x4xf32>
  %c0 = tensor.insert_slice %ra into %e[0, 0, 0, 0] [2, 3, 4, 4] [1, 1, 1, 1] : tensor<2x3x4x4xf32> into tensor<2x5x4x4xf32>
  %c1 = tensor.insert_slice %rb into %c0[0, 3, 0, 0] [2, 2, 4, 4] [1, 1, 1, 1] : tensor<2x2x4x4xf32> into tensor<2x5x4x4xf32>
  return %c1 : tensor<2x5x4x4xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Negative for the generic: it has a second user, so it keeps its own
// tensor and is copied in by a linalg.copy into the slice (or, without
// copy-others, left to bufferization); a function argument is copied the
// same way. The generic does not move.
// CHECK-LABEL: func @shared_piece_and_argument
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x2xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<2x3xf32>)
// CHECK: %[[R:.*]] = bufferization.alloc_tensor() : tensor<2x5xf32>
// CHECK: %[[SA:.*]] = tensor.extract_slice %[[R]][0, 0] [2, 3] [1, 1]
// CHECK: %[[CA:.*]] = linalg.copy ins(%[[G]] : tensor<2x3xf32>) outs(%[[SA]] : tensor<2x3xf32>)
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[CA]] into %[[R]][0, 0] [2, 3] [1, 1]
// CHECK: %[[SB:.*]] = tensor.extract_slice %[[R0]][0, 3] [2, 2] [1, 1]
// CHECK: %[[CB:.*]] = linalg.copy ins(%[[B]] : tensor<2x2xf32>) outs(%[[SB]] : tensor<2x2xf32>)
// CHECK: tensor.insert_slice %[[CB]] into %[[R0]][0, 3] [2, 2] [1, 1]
// NOCOPY-LABEL: func @shared_piece_and_argument
// NOCOPY-NOT: linalg.copy
// NOCOPY: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 3] [1, 1]
// NOCOPY-NOT: linalg.copy
// NOCOPY: return
func.func @shared_piece_and_argument(%a: tensor<2x3xf32>, %b: tensor<2x2xf32>) -> (tensor<2x5xf32>, tensor<2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %ea = tensor.empty() : tensor<2x3xf32>
  %ra = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<2x3xf32>) outs(%ea : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x5xf32>
  %c0 = tensor.insert_slice %ra into %e[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x5xf32>
  %c1 = tensor.insert_slice %b into %c0[0, 3] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x5xf32>
  return %c1, %ra : tensor<2x5xf32>, tensor<2x3xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Negative: one insert into an empty tensor is no concat, and a generic
// that reads what it writes (an accumulation) keeps its own init.
// CHECK-LABEL: func @single_insert_and_accumulation
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<4x3xf32>
// CHECK: %[[R:.*]] = bufferization.alloc_tensor() : tensor<2x6xf32>
// CHECK: linalg.copy
// CHECK: linalg.copy
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @single_insert_and_accumulation(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> (tensor<4x3xf32>, tensor<2x6xf32>) {
  %e = tensor.empty() : tensor<4x3xf32>
  %c = tensor.insert_slice %a into %e[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<4x3xf32>
  %acc = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<2x3xf32>) outs(%b : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %f = tensor.empty() : tensor<2x6xf32>
  %d0 = tensor.insert_slice %acc into %f[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x6xf32>
  %d1 = tensor.insert_slice %a into %d0[0, 3] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x6xf32>
  return %c, %d1 : tensor<4x3xf32>, tensor<2x6xf32>
}
