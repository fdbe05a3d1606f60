// RUN: anvil-opt %s -split-input-file -anvil-vectorize-copies | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-vectorize-copies="max-elements=8" | FileCheck %s --check-prefix=SMALL

// A packed matmul sliver: 16 contiguous floats of a strided row become one
// vector read and one vector write.
// CHECK-LABEL: func.func @sliver(
// CHECK-NOT: linalg.copy
// CHECK: %[[V:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true, true]} : memref<1x16xf32, strided<[12544, 1], offset: ?>>, vector<1x16xf32>
// CHECK: vector.transfer_write %[[V]], %{{.*}}[%{{.*}}, %{{.*}}] {in_bounds = [true, true]} : vector<1x16xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>
// A copy above max-elements stays a loop nest.
// SMALL-LABEL: func.func @sliver(
// SMALL: linalg.copy
// SMALL-NOT: vector.transfer_read
func.func @sliver(%a: memref<1x16xf32, strided<[12544, 1], offset: ?>>, %b: memref<1x16xf32, strided<[16, 1], offset: ?>>) {
  linalg.copy ins(%a : memref<1x16xf32, strided<[12544, 1], offset: ?>>) outs(%b : memref<1x16xf32, strided<[16, 1], offset: ?>>)
  return
}

// -----

// Rows that are not contiguous (a column of a matrix) would be a gather:
// left to the loops.
// CHECK-LABEL: func.func @column(
// CHECK: linalg.copy
// CHECK-NOT: vector.transfer_read
func.func @column(%a: memref<16x1xf32, strided<[64, 2]>>, %b: memref<16x1xf32>) {
  linalg.copy ins(%a : memref<16x1xf32, strided<[64, 2]>>) outs(%b : memref<16x1xf32>)
  return
}

// -----

// A dynamic shape or a large copy stays a loop nest, which LLVM vectorizes
// with a run-time overlap check.
// CHECK-LABEL: func.func @large(
// CHECK-COUNT-2: linalg.copy
// CHECK-NOT: vector.transfer_read
func.func @large(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<?xf32>, %d: memref<?xf32>) {
  linalg.copy ins(%a : memref<64x64xf32>) outs(%b : memref<64x64xf32>)
  linalg.copy ins(%c : memref<?xf32>) outs(%d : memref<?xf32>)
  return
}
