// RUN: anvil-opt %s -split-input-file -anvil-record-interface -verify-diagnostics | FileCheck %s

// Every public function gets its signature on tensors; private and
// external functions are not entry points. The parameters kept in storage
// (tagged by anvil-materialize-params) are listed on the module, in order.
// CHECK-LABEL: module attributes {anvil.external_params = [
// CHECK-SAME: {name = "fc.weight", storage = @__anvil_param_0, type = tensor<3x2xf32>},
// CHECK-SAME: {name = "fc.bias", storage = @__anvil_param_1, type = tensor<2xi64>}]}
// CHECK: func.func @forward(%{{.*}}: tensor<2x3xf32>, %{{.*}}: tensor<2xi1>) -> (tensor<2x2xf32>, tensor<f64>)
// CHECK-SAME: attributes {anvil.signature = (tensor<2x3xf32>, tensor<2xi1>) -> (tensor<2x2xf32>, tensor<f64>)}
// CHECK: func.func private @helper
// CHECK-NOT: anvil.signature
// CHECK: func.func private @anvil_index_error
// CHECK-NOT: anvil.signature
memref.global @__anvil_param_0 : memref<3x2xf32> = uninitialized {anvil.param_name = "fc.weight"}
memref.global @__anvil_param_1 : memref<2xi64> = uninitialized {anvil.param_name = "fc.bias"}
memref.global "private" @__anvil_arena_forward : memref<64xi8> = uninitialized
func.func @forward(%x: tensor<2x3xf32>, %m: tensor<2xi1>) -> (tensor<2x2xf32>, tensor<f64>) {
  %y = tensor.empty() : tensor<2x2xf32>
  %s = tensor.empty() : tensor<f64>
  return %y, %s : tensor<2x2xf32>, tensor<f64>
}
func.func private @helper(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
func.func private @anvil_index_error(i64)

// -----

// Without parameters in storage (they were folded into the code) the module
// gets no list.
// CHECK-LABEL: module {
// CHECK: func.func @forward(%{{.*}}: tensor<4xi32>) -> tensor<4xi8>
// CHECK-SAME: attributes {anvil.signature = (tensor<4xi32>) -> tensor<4xi8>}
func.func @forward(%x: tensor<4xi32>) -> tensor<4xi8> {
  %y = tensor.empty() : tensor<4xi8>
  return %y : tensor<4xi8>
}

// -----

// A type the runtime cannot pass is an error naming the argument, and one
// naming the result.
// expected-error @+2 {{argument 0 has type 'tensor<?xf32>', which a compiled entry point cannot take}}
// expected-error @+1 {{result 0 has type 'tensor<4xf16>', which a compiled entry point cannot return}}
func.func @dynamic(%x: tensor<?xf32>) -> tensor<4xf16> {
  %y = tensor.empty() : tensor<4xf16>
  return %y : tensor<4xf16>
}
