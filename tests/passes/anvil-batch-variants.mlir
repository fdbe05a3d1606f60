// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-batch-variants="batches=1,3" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-batch-variants="batches=1,3" -anvil-split-batch="min-flops-per-weight-byte=0" | FileCheck %s --check-prefix=SPLIT
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-batch-variants="batches=1,3" -anvil-materialize-params="external=true" | FileCheck %s --check-prefix=PARAMS
// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-batch-variants | FileCheck %s --check-prefix=OFF

// A classifier at batch 8 also for batches 1 and 3: public clones named
// by their batch, re-batched through the flatten (the reshape follows the
// batch), marked with their batch and the function they are variants of.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<8x2x2xf32>) -> tensor<8x5xf32>
// CHECK-SAME: anvil.batch = 8 : i64
// CHECK-NOT: anvil.variant_of
// CHECK: anvil.reshape %{{.*}} {shape = array<i64: 8, 4>}
// CHECK-LABEL: func.func @forward__b1(
// CHECK-SAME: tensor<1x2x2xf32>) -> tensor<1x5xf32>
// CHECK-SAME: anvil.batch = 1 : i64, anvil.variant_of = "forward"
// CHECK: anvil.reshape %{{.*}} {shape = array<i64: 1, 4>} : tensor<1x2x2xf32>
// CHECK: anvil.param "w"
// CHECK: anvil.matmul %{{.*}}, %{{.*}} : tensor<1x4xf32>, tensor<4x5xf32>
// CHECK: return %{{.*}} : tensor<1x5xf32>
// CHECK-LABEL: func.func @forward__b3(
// CHECK-SAME: tensor<3x2x2xf32>) -> tensor<3x5xf32>
// CHECK-SAME: anvil.batch = 3 : i64, anvil.variant_of = "forward"
// CHECK: anvil.softmax %{{.*}} : tensor<3x5xf32>

// Each variant is split on its own: batch 8 into two chunks of 4, the odd
// ones not (and say why).
// SPLIT-LABEL: func.func @forward(
// SPLIT-SAME: anvil.split_batch = "split batch 8 into 2 chunks of 4
// SPLIT: func.func private @forward__chunk(
// SPLIT: func.func @forward__b1(
// SPLIT-SAME: anvil.split_batch = "not split into chunks: batch 1 is not a multiple of 2 chunks"
// SPLIT: func.func @forward__b3(
// SPLIT-SAME: anvil.split_batch = "not split into chunks: batch 3 is not a multiple of 2 chunks"

// The parameters stay shared: one global each, read by every variant.
// PARAMS-COUNT-2: memref.global "private" @
// PARAMS-NOT: memref.global
// PARAMS-LABEL: func.func @forward(
// PARAMS: memref.get_global @[[W:.*]] :
// PARAMS-LABEL: func.func @forward__b1(
// PARAMS: memref.get_global @[[W]] :
// PARAMS-LABEL: func.func @forward__b3(
// PARAMS: memref.get_global @[[W]] :

// No batches: nothing is cloned.
// OFF-LABEL: func.func @forward(
// OFF-NOT: __b1

func.func @forward(%x: tensor<8x2x2xf32>) -> tensor<8x5xf32> {
  %f = anvil.reshape %x {shape = array<i64: 8, 4>} : tensor<8x2x2xf32>
  %w = anvil.param "w" init = "ones" : tensor<4x5xf32>
  %b = anvil.param "b" init = "zeros" : tensor<5xf32>
  %y = anvil.matmul %f, %w : tensor<8x4xf32>, tensor<4x5xf32>
  %z = anvil.add %y, %b : tensor<8x5xf32>, tensor<5xf32>
  %s = anvil.softmax %z : tensor<8x5xf32>
  return %s : tensor<8x5xf32>
}

// -----

// A function that mixes its samples (a loss) beside one that keeps them
// apart: the latter gets its variants, the loss keeps its one batch and
// says why.
// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @forward__b1(
// CHECK-LABEL: func.func @forward__b3(
// CHECK-LABEL: func.func @loss(
// CHECK-SAME: anvil.batch_variants = "no batch variants: its samples are not proven independent (anvil-mark-batch)"
// CHECK-NOT: func.func @loss__b
// SPLIT-LABEL: func.func @loss(
// PARAMS-LABEL: func.func @loss(
// OFF-LABEL: func.func @loss(
// OFF-NOT: anvil.batch_variants
func.func @forward(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %y = anvil.relu %x : tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
func.func @loss(%x: tensor<4x3xf32>) -> tensor<1x3xf32> {
  %m = anvil.reduce_mean %x {axes = array<i64: 0>, keepdims} : tensor<4x3xf32>
  return %m : tensor<1x3xf32>
}
