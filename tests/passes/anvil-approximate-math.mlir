// RUN: anvil-opt %s -split-input-file -anvil-approximate-math="sigmoid-reciprocal=true" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-approximate-math="ops=tanh" | FileCheck %s --check-prefix=TANH
// RUN: anvil-opt %s -split-input-file -anvil-approximate-math | FileCheck %s --check-prefix=EXACT
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

// -----

// A sigmoid's division 1 / (1 + exp(y)), scalar or vector, the 1 on
// either side of the add: the denominator clamped to 2^126 and the
// division marked arcp ninf (LLVM: a reciprocal estimate and one Newton
// step). With sigmoid-reciprocal=false it stays an exact division.
// CHECK-LABEL: func @sigmoid_division
// CHECK: %[[LIMIT:.*]] = arith.constant 8.50705917E+37 : f32
// CHECK: %[[D:.*]] = arith.minimumf %{{.*}}, %[[LIMIT]] : f32
// CHECK: arith.divf %{{.*}}, %[[D]] fastmath<ninf,arcp> : f32
// CHECK: %[[VLIMIT:.*]] = arith.constant dense<8.50705917E+37> : vector<16xf32>
// CHECK: %[[VD:.*]] = arith.minimumf %{{.*}}, %[[VLIMIT]] : vector<16xf32>
// CHECK: arith.divf %{{.*}}, %[[VD]] fastmath<ninf,arcp> : vector<16xf32>
// EXACT-LABEL: func @sigmoid_division
// EXACT-NOT: minimumf
// EXACT-NOT: fastmath
// EXACT: return
func.func @sigmoid_division(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>) {
  %one = arith.constant 1.0 : f32
  %n = arith.negf %x : f32
  %e = math.exp %n : f32
  %d = arith.addf %e, %one : f32
  %s = arith.divf %one, %d : f32
  %vone = arith.constant dense<1.0> : vector<16xf32>
  %ve = math.exp %v : vector<16xf32>
  %vd = arith.addf %vone, %ve : vector<16xf32>
  %vs = arith.divf %vone, %vd : vector<16xf32>
  return %s, %vs : f32, vector<16xf32>
}

// -----

// Negative: other divisions stay exact (a numerator other than 1, a
// denominator that is not 1 + exp, f64).
// CHECK-LABEL: func @other_divisions
// CHECK-NOT: minimumf
// CHECK-NOT: fastmath
// CHECK: return
func.func @other_divisions(%x: f32, %y: f64) -> (f32, f32, f64) {
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %e = math.exp %x : f32
  %d = arith.addf %one, %e : f32
  %a = arith.divf %two, %d : f32
  %l = math.log %x : f32
  %dl = arith.addf %one, %l : f32
  %b = arith.divf %one, %dl : f32
  %one64 = arith.constant 1.0 : f64
  %e64 = math.exp %y : f64
  %d64 = arith.addf %one64, %e64 : f64
  %c = arith.divf %one64, %d64 : f64
  return %a, %b, %c : f32, f32, f64
}
