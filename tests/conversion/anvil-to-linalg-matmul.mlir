// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s

// A batched lhs times a 2-D rhs (ONNX's MatMul of activations by a weight)
// is one 2-D matmul: the batch folds into the rows, a free reshape.
// CHECK-LABEL: func @matmul_batched_lhs
// CHECK: %[[A:.*]] = tensor.expand_shape {{.*}} : tensor<8192xf32> into tensor<256x32xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[A]], %{{.*}} : tensor<256x32xf32>, tensor<32x64xf32>) outs(%{{.*}} : tensor<256x64xf32>)
// CHECK: tensor.collapse_shape %[[P]]
// CHECK-NOT: linalg.generic
func.func @matmul_batched_lhs(%a: tensor<8x32x32xf32>, %b: tensor<32x64xf32>) -> tensor<8x32x64xf32> {
  %0 = anvil.matmul %a, %b : tensor<8x32x32xf32>, tensor<32x64xf32>
  return %0 : tensor<8x32x64xf32>
}

// -----

// A transposed 2-D rhs is transposed once into a temporary.
// CHECK-LABEL: func @matmul_batched_lhs_transposed_rhs
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<5x4xf32>) outs(%{{.*}} : tensor<4x5xf32>) permutation = [1, 0]
// CHECK: linalg.matmul ins(%{{.*}}, %[[T]] : tensor<6x4xf32>, tensor<4x5xf32>) outs(%{{.*}} : tensor<6x5xf32>)
func.func @matmul_batched_lhs_transposed_rhs(%a: tensor<2x3x4xf32>, %b: tensor<5x4xf32>) -> tensor<2x3x5xf32> {
  %0 = anvil.matmul %a, %b {transpose_b} : tensor<2x3x4xf32>, tensor<5x4xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// The same batch dimensions on both sides: one batch_matmul over the
// flattened batch, a transposed operand transposed into a temporary.
// CHECK-LABEL: func @matmul_same_batch
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<6x4x3xf32>) outs(%{{.*}} : tensor<6x3x4xf32>) permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul ins(%[[T]], %{{.*}} : tensor<6x3x4xf32>, tensor<6x4x5xf32>) outs(%{{.*}} : tensor<6x3x5xf32>)
// CHECK-NOT: linalg.generic
func.func @matmul_same_batch(%a: tensor<2x3x4x3xf32>, %b: tensor<2x3x4x5xf32>) -> tensor<2x3x3x5xf32> {
  %0 = anvil.matmul %a, %b {transpose_a} : tensor<2x3x4x3xf32>, tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x3x5xf32>
}

// -----

// Negative: broadcast batch dimensions stay a linalg.generic contraction.
// CHECK-LABEL: func @matmul_broadcast_batch
// CHECK-NOT: linalg.batch_matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-NOT: linalg.batch_matmul
func.func @matmul_broadcast_batch(%a: tensor<1x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = anvil.matmul %a, %b : tensor<1x3x4xf32>, tensor<2x4x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// A bf16 product that anvil-bf16-matmul left (batched on both sides) rounds
// its operands to bf16 and back (integer arithmetic on the f32 bits, as
// dialects/Bf16.h: no truncf, a libgcc call without AVX512_BF16), then runs
// as the f32 product: the same function as the vdpbf16ps tiles.
// CHECK-LABEL: func @matmul_bf16_rounded
// CHECK: linalg.generic
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: linalg.generic
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: linalg.batch_matmul
func.func @matmul_bf16_rounded(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %y = anvil.matmul %a, %b {bf16} : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  return %y : tensor<2x3x5xf32>
}
