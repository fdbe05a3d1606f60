// RUN: anvil-opt %s -split-input-file -anvil-approximate-math | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-approximate-math="ops=tanh" | FileCheck %s --check-prefix=TANH
// RUN: not anvil-opt %s -anvil-approximate-math="ops=sin" 2>&1 | FileCheck %s --check-prefix=BAD

// f32 exp, tanh and erf become arithmetic (no math call is left); with
// ops=tanh only tanh does.
// CHECK-LABEL: func @f32_ops
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: return
// TANH-LABEL: func @f32_ops
// TANH: math.exp
// TANH-NOT: math.tanh
// TANH: math.erf
// BAD: unknown op 'sin'; the ops are exp, tanh and erf
func.func @f32_ops(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %v : vector<16xf32>
  %r = math.erf %x : f32
  return %e, %t, %r : f32, vector<16xf32>, f32
}

// -----

// f64 ops and other math ops are left to libm and LLVM.
// CHECK-LABEL: func @left_alone
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.log %{{.*}} : f32
func.func @left_alone(%x: f64, %y: f32) -> (f64, f32) {
  %e = math.exp %x : f64
  %l = math.log %y : f32
  return %e, %l : f64, f32
}
