// RUN: anvil-opt %s -split-input-file -anvil-materialize-params | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-materialize-params="seed=1" | FileCheck %s --check-prefix=SEED1

// CHECK-LABEL: func @constant_initializers
// CHECK-DAG: %[[ONES:.*]] = anvil.constant dense<1.000000e+00> : tensor<2x3xf32>
// CHECK-DAG: %[[DENSE:.*]] = anvil.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK-NOT: anvil.param
// CHECK: return %[[ONES]], %[[DENSE]]
func.func @constant_initializers() -> (tensor<2x3xf32>, tensor<2xf32>) {
  %a = anvil.param "a" init = "ones" : tensor<2x3xf32>
  %b = anvil.param "b" init = "dense" {value = dense<[0.5, 0.25]> : tensor<2xf32>} : tensor<2xf32>
  return %a, %b : tensor<2x3xf32>, tensor<2xf32>
}

// -----

// Random initializers depend on the name and the seed option, unless the
// param fixes its own seed.
// CHECK-LABEL: func @random_initializers
// CHECK: anvil.constant dense<{{\[\[}}-1.3846097, 0.0373852514], [-0.107392728, 0.442203194]]> : tensor<2x2xf32>
// CHECK: anvil.constant dense<[-0.150789306, 1.23596668, -0.45784691]> : tensor<3xf32>
// SEED1-LABEL: func @random_initializers
// SEED1: anvil.constant dense<{{\[\[}}1.53590262, 0.395168573], [-1.4872402, -0.891308426]]> : tensor<2x2xf32>
// SEED1: anvil.constant dense<[-0.150789306, 1.23596668, -0.45784691]> : tensor<3xf32>
func.func @random_initializers() -> (tensor<2x2xf32>, tensor<3xf32>) {
  %u = anvil.param "u" init = "kaiming_uniform" : tensor<2x2xf32>
  %f = anvil.param "f" init = "normal" {seed = 3 : i64} : tensor<3xf32>
  return %u, %f : tensor<2x2xf32>, tensor<3xf32>
}

// -----

// Nothing else changes.
// CHECK-LABEL: func @no_params
// CHECK-NEXT: anvil.relu
func.func @no_params(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = anvil.relu %x : tensor<2xf32>
  return %y : tensor<2xf32>
}
