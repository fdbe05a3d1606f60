// The folders of the anvil ops (dialects/AnvilFolders.cpp) under the
// canonicalizer: constant subgraphs fold, exact identities disappear, chains
// of shape ops shorten. Each positive case has a negative one beside it that
// must stay an op.
// RUN: anvil-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @add_constants
// CHECK-NEXT: %[[C:.*]] = anvil.constant dense<[1.100000e+01, 2.200000e+01]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @add_constants() -> tensor<2xf32> {
  %a = anvil.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = anvil.constant dense<[10.0, 20.0]> : tensor<2xf32>
  %c = anvil.add %a, %b : tensor<2xf32>, tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

// Broadcasting: [2,1] x [3] -> [2,3]; integers wrap like compiled code.
// CHECK-LABEL: func.func @mul_broadcast_ints
// CHECK-NEXT: %[[C:.*]] = anvil.constant dense<{{\[}}[1, 2, 1073741824], [-2, -4, -2147483648]]> : tensor<2x3xi32>
// CHECK-NEXT: return %[[C]]
func.func @mul_broadcast_ints() -> tensor<2x3xi32> {
  %a = anvil.constant dense<[[1], [-2]]> : tensor<2x1xi32>
  %b = anvil.constant dense<[1, 2, 1073741824]> : tensor<3xi32>
  %c = anvil.mul %a, %b : tensor<2x1xi32>, tensor<3xi32>
  return %c : tensor<2x3xi32>
}

// -----

// Shape arithmetic as ONNX exporters write it (Shape -> Gather -> Mul ->
// Concat -> Reshape) folds to one reshape.
// CHECK-LABEL: func.func @shape_subgraph
// CHECK-DAG: %[[S:.*]] = anvil.constant dense<[2, 12]> : tensor<2xi64>
// CHECK-DAG: %[[R:.*]] = anvil.reshape %arg0 {shape = array<i64: 4, 6>}
// CHECK-NOT: anvil.gather
// CHECK: return %[[R]], %[[S]]
func.func @shape_subgraph(%x: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<2xi64>) {
  %shape = anvil.constant dense<[2, 3, 4]> : tensor<3xi64>
  %i0 = anvil.constant dense<0> : tensor<1xi64>
  %i12 = anvil.constant dense<[1, 2]> : tensor<2xi64>
  %n = anvil.gather %shape, %i0 {axis = 0 : i64} : tensor<3xi64>, tensor<1xi64>
  %hw = anvil.gather %shape, %i12 {axis = 0 : i64} : tensor<3xi64>, tensor<2xi64>
  %h = anvil.slice %hw {starts = array<i64: 0>, ends = array<i64: 1>, steps = array<i64: 1>} : tensor<2xi64>
  %w = anvil.slice %hw {starts = array<i64: 1>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<2xi64>
  %f = anvil.mul %h, %w : tensor<1xi64>, tensor<1xi64>
  %dims = anvil.concat %n, %f {axis = 0 : i64} : tensor<1xi64>, tensor<1xi64>
  %cast = anvil.cast %dims : tensor<2xi64> to i32
  %back = anvil.cast %cast : tensor<2xi32> to i64
  %flat = anvil.flatten %x : tensor<2x3x4xf32>
  %r = anvil.reshape %flat {shape = array<i64: 4, 6>} : tensor<2x12xf32>
  return %r, %back : tensor<4x6xf32>, tensor<2xi64>
}

// -----

// Negative: x + 0.0 is not x when x is -0.0, so only x + (-0.0) folds; and an
// identity that broadcasts x to a larger shape is not x.
// CHECK-LABEL: func.func @additive_identities
// CHECK: %[[P:.*]] = anvil.add %arg0, %{{.*}} : tensor<3xf32>, tensor<f32>
// CHECK: %[[B:.*]] = anvil.add %arg0, %{{.*}} : tensor<3xf32>, tensor<2x3xf32>
// CHECK: %[[S:.*]] = anvil.sub %{{.*}}, %arg0
// CHECK: return %arg0, %[[P]], %[[B]], %arg0, %[[S]]
func.func @additive_identities(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %nz = anvil.constant dense<-0.0> : tensor<f32>
  %z = anvil.constant dense<0.0> : tensor<f32>
  %zz = anvil.constant dense<-0.0> : tensor<2x3xf32>
  %a = anvil.add %x, %nz : tensor<3xf32>, tensor<f32>
  %b = anvil.add %x, %z : tensor<3xf32>, tensor<f32>
  %c = anvil.add %x, %zz : tensor<3xf32>, tensor<2x3xf32>
  %d = anvil.sub %x, %z : tensor<3xf32>, tensor<f32>
  // 0 - x is -x, not x.
  %e = anvil.sub %z, %x : tensor<f32>, tensor<3xf32>
  return %a, %b, %c, %d, %e : tensor<3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @multiplicative_identities
// CHECK: %[[Z:.*]] = anvil.mul %arg0, %{{.*}} : tensor<4xi64>, tensor<i64>
// CHECK: %[[D:.*]] = anvil.div %{{.*}}, %arg0
// CHECK: return %arg0, %arg0, %[[Z]], %[[D]]
func.func @multiplicative_identities(%x: tensor<4xi64>) -> (tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) {
  %one = anvil.constant dense<1> : tensor<i64>
  %zero = anvil.constant dense<0> : tensor<i64>
  %a = anvil.mul %one, %x : tensor<i64>, tensor<4xi64>
  %b = anvil.div %x, %one : tensor<4xi64>, tensor<i64>
  // x * 0 is not folded to 0 (for floats it would drop NaN and inf).
  %c = anvil.mul %x, %zero : tensor<4xi64>, tensor<i64>
  // 1 / x is not x.
  %d = anvil.div %one, %x : tensor<i64>, tensor<4xi64>
  return %a, %b, %c, %d : tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>
}

// -----

// Negative: integer division by zero and INT_MIN / -1 are left to run time.
// CHECK-LABEL: func.func @undefined_division
// CHECK: anvil.constant dense<-3> : tensor<i32>
// CHECK-COUNT-2: anvil.div
func.func @undefined_division() -> (tensor<i32>, tensor<i32>, tensor<i32>) {
  %a = anvil.constant dense<7> : tensor<i32>
  %z = anvil.constant dense<0> : tensor<i32>
  %min = anvil.constant dense<-2147483648> : tensor<i32>
  %m1 = anvil.constant dense<-1> : tensor<i32>
  %m2 = anvil.constant dense<-2> : tensor<i32>
  %b = anvil.div %a, %z : tensor<i32>, tensor<i32>
  %c = anvil.div %min, %m1 : tensor<i32>, tensor<i32>
  // Rounds toward zero: 7 / -2 = -3.
  %d = anvil.div %a, %m2 : tensor<i32>, tensor<i32>
  return %b, %c, %d : tensor<i32>, tensor<i32>, tensor<i32>
}

// -----

// max/min propagate NaN like arith.maximumf; relu of -0.0 is +0.0.
// CHECK-LABEL: func.func @max_min_relu
// CHECK-DAG: anvil.constant dense<[0x7FC00000, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: anvil.constant dense<[0x7FC00000, -1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: anvil.constant dense<[0.000000e+00, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
func.func @max_min_relu() -> (tensor<2xf32>, tensor<2xf32>, tensor<3xf32>) {
  %a = anvil.constant dense<[0x7FC00000, 2.0]> : tensor<2xf32>
  %b = anvil.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %mx = anvil.max %a, %b : tensor<2xf32>, tensor<2xf32>
  %mn = anvil.min %a, %b : tensor<2xf32>, tensor<2xf32>
  %c = anvil.constant dense<[-0.0, -2.0, 3.0]> : tensor<3xf32>
  %r = anvil.relu %c : tensor<3xf32>
  return %mx, %mn, %r : tensor<2xf32>, tensor<2xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @unary_constants
// CHECK-DAG: anvil.constant dense<[-1, 2147483647, -2147483648]> : tensor<3xi32>
// CHECK-DAG: anvil.constant dense<[1.500000e+00, 2.000000e+00]> : tensor<2xf64>
func.func @unary_constants() -> (tensor<3xi32>, tensor<2xf64>) {
  %a = anvil.constant dense<[1, -2147483647, -2147483648]> : tensor<3xi32>
  %n = anvil.neg %a : tensor<3xi32>
  %b = anvil.constant dense<[-1.5, 2.0]> : tensor<2xf64>
  %m = anvil.abs %b : tensor<2xf64>
  return %n, %m : tensor<3xi32>, tensor<2xf64>
}

// -----

// Casts round toward zero, to i1 as x != 0; a float out of the integer's
// range (or NaN) is left to run time.
// CHECK-LABEL: func.func @cast_constants
// CHECK-DAG: anvil.constant dense<[-1, 2, 0]> : tensor<3xi64>
// CHECK-DAG: anvil.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: anvil.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK: %[[BAD:.*]] = anvil.cast %{{.*}} : tensor<2xf32> to i32
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[BAD]], %arg0
func.func @cast_constants(%x: tensor<3xf32>) -> (tensor<3xi64>, tensor<3xi1>, tensor<2xf32>, tensor<2xi32>, tensor<3xf32>) {
  %a = anvil.constant dense<[-1.9, 2.5, 0.0]> : tensor<3xf32>
  %i = anvil.cast %a : tensor<3xf32> to i64
  %m = anvil.cast %a : tensor<3xf32> to i1
  %t = anvil.constant dense<[true, false]> : tensor<2xi1>
  %f = anvil.cast %t : tensor<2xi1> to f32
  %big = anvil.constant dense<[3.0e9, 0x7FC00000]> : tensor<2xf32>
  %bad = anvil.cast %big : tensor<2xf32> to i32
  %same = anvil.cast %x : tensor<3xf32> to f32
  return %i, %m, %f, %bad, %same : tensor<3xi64>, tensor<3xi1>, tensor<2xf32>, tensor<2xi32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_chains
// CHECK-DAG: %[[C:.*]] = anvil.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi64>
// CHECK-DAG: %[[R:.*]] = anvil.reshape %arg0 {shape = array<i64: 4, 6>} : tensor<2x3x4xf32>
// CHECK: return %arg0, %[[R]], %[[C]]
func.func @reshape_chains(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x6xf32>, tensor<2x2xi64>) {
  %same = anvil.reshape %x {shape = array<i64: 2, 3, 4>} : tensor<2x3x4xf32>
  %a = anvil.reshape %x {shape = array<i64: 24>} : tensor<2x3x4xf32>
  %b = anvil.reshape %a {shape = array<i64: 6, 4>} : tensor<24xf32>
  %c = anvil.reshape %b {shape = array<i64: 4, 6>} : tensor<6x4xf32>
  %k = anvil.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  %kr = anvil.reshape %k {shape = array<i64: 2, 2>} : tensor<4xi64>
  return %same, %c, %kr : tensor<2x3x4xf32>, tensor<4x6xf32>, tensor<2x2xi64>
}

// -----

// Negative: a flatten of a non-constant, to a new shape, stays.
// CHECK-LABEL: func.func @flatten
// CHECK: %[[F:.*]] = anvil.flatten %arg0 : tensor<2x3x4xf32>
// CHECK: return %[[F]], %arg1
func.func @flatten(%x: tensor<2x3x4xf32>, %y: tensor<2x3xf32>) -> (tensor<2x12xf32>, tensor<2x3xf32>) {
  %f = anvil.flatten %x : tensor<2x3x4xf32>
  %g = anvil.flatten %y : tensor<2x3xf32>
  return %f, %g : tensor<2x12xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transposes
// CHECK-NEXT: %[[C:.*]] = anvil.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi32>
// CHECK-NEXT: %[[T:.*]] = anvil.transpose %arg0 {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32>
// CHECK-NEXT: return %arg0, %arg0, %[[T]], %[[C]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<3x2xi32>) {
  %id = anvil.transpose %x {perm = array<i64: 0, 1, 2>} : tensor<2x3x4xf32>
  %a = anvil.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<2x3x4xf32>
  %back = anvil.transpose %a {perm = array<i64: 1, 0, 2>} : tensor<3x2x4xf32>
  // [3,2,4] -> [4,2,3]: result dim i is x's dim (1,0,2)[(2,1,0)[i]] = (2,0,1).
  %two = anvil.transpose %a {perm = array<i64: 2, 1, 0>} : tensor<3x2x4xf32>
  %k = anvil.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>
  %kt = anvil.transpose %k {perm = array<i64: 1, 0>} : tensor<2x3xi32>
  return %id, %back, %two, %kt : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<3x2xi32>
}

// -----

// CHECK-LABEL: func.func @slices
// CHECK-DAG: anvil.constant dense<{{\[}}[6, 8], [0, 2]]> : tensor<2x2xi64>
// CHECK-DAG: %[[R:.*]] = anvil.slice %arg0 {ends = array<i64: -1, 4>, starts = array<i64: 2, 0>, steps = array<i64: -1, 1>}
// CHECK: return %arg0, %arg1, %[[R]]
func.func @slices(%x: tensor<3x4xf32>, %y: tensor<1x4xf32>) -> (tensor<3x4xf32>, tensor<1x4xf32>, tensor<3x4xf32>, tensor<2x2xi64>) {
  %full = anvil.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 3, 4>, steps = array<i64: 1, 1>} : tensor<3x4xf32>
  %one = anvil.slice %y {starts = array<i64: 0, 0>, ends = array<i64: -1, 4>, steps = array<i64: -1, 1>} : tensor<1x4xf32>
  // Negative: reversing a dimension keeps the type but not the order.
  %rev = anvil.slice %x {starts = array<i64: 2, 0>, ends = array<i64: -1, 4>, steps = array<i64: -1, 1>} : tensor<3x4xf32>
  %k = anvil.constant dense<[[0, 1, 2], [3, 4, 5], [6, 7, 8]]> : tensor<3x3xi64>
  %ks = anvil.slice %k {starts = array<i64: 2, 0>, ends = array<i64: -1, 3>, steps = array<i64: -2, 2>} : tensor<3x3xi64>
  return %full, %one, %rev, %ks : tensor<3x4xf32>, tensor<1x4xf32>, tensor<3x4xf32>, tensor<2x2xi64>
}

// -----

// CHECK-LABEL: func.func @concats
// CHECK-DAG: anvil.constant dense<{{\[}}[1, 2, 5], [3, 4, 6]]> : tensor<2x3xi64>
// CHECK-DAG: %[[C:.*]] = anvil.concat %arg0, %{{.*}} {axis = -1 : i64}
// CHECK: return %arg0, %{{.*}}, %[[C]]
func.func @concats(%x: tensor<2x2xi64>) -> (tensor<2x2xi64>, tensor<2x3xi64>, tensor<2x3xi64>) {
  %one = anvil.concat %x {axis = 0 : i64} : tensor<2x2xi64>
  %a = anvil.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %b = anvil.constant dense<[[5], [6]]> : tensor<2x1xi64>
  %ab = anvil.concat %a, %b {axis = -1 : i64} : tensor<2x2xi64>, tensor<2x1xi64>
  // Negative: one operand is not a constant.
  %xb = anvil.concat %x, %b {axis = -1 : i64} : tensor<2x2xi64>, tensor<2x1xi64>
  return %one, %ab, %xb : tensor<2x2xi64>, tensor<2x3xi64>, tensor<2x3xi64>
}

// -----

// CHECK-LABEL: func.func @gathers
// CHECK-DAG: anvil.constant dense<{{\[}}[3.000000e+00, 1.000000e+00], [6.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[G:.*]] = anvil.gather %{{.*}}, %arg0
// CHECK: return %{{.*}}, %[[G]]
func.func @gathers(%ids: tensor<2xi64>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %t = anvil.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %i = anvil.constant dense<[-1, 0]> : tensor<2xi64>
  %g = anvil.gather %t, %i {axis = 1 : i64} : tensor<2x3xf32>, tensor<2xi64>
  // Negative: indices from the caller.
  %h = anvil.gather %t, %ids {axis = 1 : i64} : tensor<2x3xf32>, tensor<2xi64>
  return %g, %h : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// Comparisons of constants broadcast like the op: [2,1] x [3] -> [2,3].
// Integers compare signed; a NaN is unequal to everything, itself included.
// CHECK-LABEL: func.func @compares
// CHECK-DAG: %[[EQ:.*]] = anvil.constant dense<{{\[}}[true, false, false], [false, true, false]]> : tensor<2x3xi1>
// CHECK-DAG: %[[LT:.*]] = anvil.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG: %[[NE:.*]] = anvil.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-DAG: %[[GE:.*]] = anvil.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[X:.*]] = anvil.compare "eq" %arg0, %{{.*}} : tensor<3xi64>, tensor<3xi64>
// CHECK: return %[[EQ]], %[[LT]], %[[NE]], %[[GE]], %[[X]]
func.func @compares(%x: tensor<3xi64>) -> (tensor<2x3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>) {
  %col = anvil.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %row = anvil.constant dense<[1, 2, 3]> : tensor<3xi64>
  %eq = anvil.compare "eq" %col, %row : tensor<2x1xi64>, tensor<3xi64>
  %neg = anvil.constant dense<[-5, 0, 7]> : tensor<3xi64>
  %zero = anvil.constant dense<0> : tensor<i64>
  %lt = anvil.compare "lt" %neg, %zero : tensor<3xi64>, tensor<i64>
  %f = anvil.constant dense<[0x7FC00000, 1.0, 2.0]> : tensor<3xf32>
  %g = anvil.constant dense<[0x7FC00000, 1.0, 3.0]> : tensor<3xf32>
  %ne = anvil.compare "ne" %f, %g : tensor<3xf32>, tensor<3xf32>
  %ge = anvil.compare "ge" %f, %g : tensor<3xf32>, tensor<3xf32>
  // Negative: one side from the caller.
  %xe = anvil.compare "eq" %x, %row : tensor<3xi64>, tensor<3xi64>
  return %eq, %lt, %ne, %ge, %xe : tensor<2x3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
}

// -----

// Selects of constants broadcast all three operands; a constant condition
// that picks one side everywhere is that side, unless the side is broadcast.
// CHECK-LABEL: func.func @selects
// CHECK-DAG: %[[S:.*]] = anvil.constant dense<{{\[}}[10, 2], [10, 20]]> : tensor<2x2xi64>
// CHECK-DAG: %[[B:.*]] = anvil.select %{{.*}}, %arg1, %arg0 : tensor<i1>, tensor<2xf32>, tensor<2x2xf32>
// CHECK-DAG: %[[X:.*]] = anvil.select %arg2, %{{.*}}, %{{.*}} : tensor<2xi1>, tensor<2x2xi64>, tensor<2xi64>
// CHECK: return %[[S]], %arg0, %arg0, %[[B]], %[[X]]
func.func @selects(%x: tensor<2x2xf32>, %y: tensor<2xf32>, %m: tensor<2xi1>) -> (tensor<2x2xi64>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi64>) {
  %c = anvil.constant dense<[true, false]> : tensor<2xi1>
  %a = anvil.constant dense<10> : tensor<2x2xi64>
  %b = anvil.constant dense<[[1, 2], [3, 20]]> : tensor<2x2xi64>
  %s = anvil.select %c, %a, %b : tensor<2xi1>, tensor<2x2xi64>, tensor<2x2xi64>
  %yes = anvil.constant dense<true> : tensor<i1>
  %no = anvil.constant dense<false> : tensor<i1>
  %px = anvil.select %yes, %x, %y : tensor<i1>, tensor<2x2xf32>, tensor<2xf32>
  %py = anvil.select %no, %y, %x : tensor<i1>, tensor<2xf32>, tensor<2x2xf32>
  // Negative: the picked side is broadcast to the result's shape.
  %pb = anvil.select %yes, %y, %x : tensor<i1>, tensor<2xf32>, tensor<2x2xf32>
  // Negative: the condition comes from the caller.
  %row = anvil.constant dense<[7, 8]> : tensor<2xi64>
  %xs = anvil.select %m, %b, %row : tensor<2xi1>, tensor<2x2xi64>, tensor<2xi64>
  return %s, %px, %py, %pb, %xs : tensor<2x2xi64>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xi64>
}
