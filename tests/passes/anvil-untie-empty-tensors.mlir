// RUN: anvil-opt %s --anvil-untie-empty-tensors --split-input-file | FileCheck %s

// 18 users of one empty tensor: the first 16 keep it, the last two share a
// copy created right after the original.
// CHECK-LABEL: func.func @eighteen_users
// CHECK:      %[[E0:.*]] = tensor.empty() : tensor<4xf32>
// CHECK-NEXT: %[[E1:.*]] = tensor.empty() : tensor<4xf32>
// CHECK-NOT:  tensor.empty
// CHECK-COUNT-16: linalg.fill ins(%{{.*}} : f32) outs(%[[E0]] : tensor<4xf32>)
// CHECK-COUNT-2: linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<4xf32>)
func.func @eighteen_users(%c: f32) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %f0 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f1 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f2 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f3 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f4 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f5 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f6 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f7 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f8 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f9 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f10 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f11 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f12 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f13 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f14 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f15 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f16 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %f17 = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %f0, %f1, %f2, %f3, %f4, %f5, %f6, %f7, %f8, %f9, %f10, %f11, %f12, %f13, %f14, %f15, %f16, %f17 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A dynamic size stays the copy's operand; the first 16 users (in a loop)
// keep the original, the 17th gets a copy beside it, outside the loop.
// CHECK-LABEL: func.func @dynamic_in_loop
// CHECK:      %[[E0:.*]] = tensor.empty(%[[N:.*]]) : tensor<?xf32>
// CHECK-NEXT: %[[E1:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK:      scf.for
// CHECK-NOT:  tensor.empty
// CHECK-COUNT-16: tensor.insert_slice %[[E0]]
// CHECK:      return %[[E1]], 
func.func @dynamic_in_loop(%n: index, %t: tensor<16x?xf32>) -> (tensor<?xf32>, tensor<16x?xf32>) {
  %e = tensor.empty(%n) : tensor<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %c1 step %c1 iter_args(%acc = %t) -> tensor<16x?xf32> {
    %s0 = tensor.insert_slice %e into %acc[0, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s1 = tensor.insert_slice %e into %s0[1, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s2 = tensor.insert_slice %e into %s1[2, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s3 = tensor.insert_slice %e into %s2[3, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s4 = tensor.insert_slice %e into %s3[4, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s5 = tensor.insert_slice %e into %s4[5, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s6 = tensor.insert_slice %e into %s5[6, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s7 = tensor.insert_slice %e into %s6[7, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s8 = tensor.insert_slice %e into %s7[8, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s9 = tensor.insert_slice %e into %s8[9, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s10 = tensor.insert_slice %e into %s9[10, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s11 = tensor.insert_slice %e into %s10[11, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s12 = tensor.insert_slice %e into %s11[12, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s13 = tensor.insert_slice %e into %s12[13, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s14 = tensor.insert_slice %e into %s13[14, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    %s15 = tensor.insert_slice %e into %s14[15, 0] [1, %n] [1, 1] : tensor<?xf32> into tensor<16x?xf32>
    scf.yield %s15 : tensor<16x?xf32>
  }
  return %e, %r : tensor<?xf32>, tensor<16x?xf32>
}

// -----

// 16 users or fewer, or none: nothing to untie.
// CHECK-LABEL: func.func @few_users
// CHECK-COUNT-2: tensor.empty
// CHECK-NOT:  tensor.empty
func.func @few_users() -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %unused = tensor.empty() : tensor<8xf32>
  return %e, %e : tensor<4xf32>, tensor<4xf32>
}
