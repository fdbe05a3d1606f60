// RUN: anvil-opt %s -split-input-file -anvil-mark-batch -anvil-batch-variants="batches=1" -verify-diagnostics

// A function that mixes its samples (a mean over the batch) cannot have
// variants: one error naming it and what to do.
// expected-error @+1 {{@mixing cannot be compiled for more than one batch: its samples are not proven independent (anvil-opt -anvil-mark-batch=explain=1 names the op that mixes them); give --batch one size}}
func.func @mixing(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %m = anvil.reduce_mean %x {axes = array<i64: 0>, keepdims} : tensor<4x3xf32>
  %y = anvil.sub %x, %m : tensor<4x3xf32>, tensor<1x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A name taken already: the variant is not renamed behind the user's back.
// expected-error @+1 {{cannot add the batch-1 variant of @forward: @forward__b1 exists already; rename it}}
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = anvil.relu %x : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
func.func private @forward__b1(%x: tensor<1x3xf32>) -> tensor<1x3xf32> {
  return %x : tensor<1x3xf32>
}
