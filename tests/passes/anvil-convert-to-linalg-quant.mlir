// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s
// Quantize, dequantize and qmatmul lower to one generic each (Quant.cpp);
// numeric truth is tests/e2e/test_quant.py.

// Per tensor to ui8: f32 division, roundeven, zero point (ui8 bits read as
// i8, zero-extended), clamped as maxnumf then minnumf would (compares and
// selects: NaN fails `> 0`) before the conversion.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @quantize_u8
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[SCALAR]], #[[ID]]]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK: arith.extui
// CHECK: %[[ABOVE:.*]] = arith.cmpf ogt, %[[V:.*]], %[[LO:.*]] : f32
// CHECK: %[[LOW:.*]] = arith.select %[[ABOVE]], %[[V]], %[[LO]] : f32
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[LOW]], %[[HI:.*]] : f32
// CHECK: arith.select %[[BELOW]], %[[LOW]], %[[HI]] : f32
// CHECK: arith.fptosi
// CHECK: arith.trunci
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
// CHECK-NOT: anvil.quantize
func.func @quantize_u8(%x: tensor<2x3xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<2x3xui8> {
  %0 = anvil.quantize %x, %s, %z : tensor<2x3xf32>, tensor<f32>, tensor<ui8>
  return %0 : tensor<2x3xui8>
}

// -----

// Per channel along axis 0 to i8: the parameters read at d0; signless, so
// sign extension and no cast.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @quantize_i8_per_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]], #[[ROW]], #{{.*}}]
// CHECK-NOT: unrealized_conversion_cast
// CHECK: arith.extsi
func.func @quantize_i8_per_channel(%x: tensor<2x3xf32>, %s: tensor<2xf32>, %z: tensor<2xi8>) -> tensor<2x3xi8> {
  %0 = anvil.quantize %x, %s, %z {axis = 0 : i64} : tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>
  return %0 : tensor<2x3xi8>
}

// -----

// Dequantize: the difference in i32, one f32 product; a one-element scale
// reads index 0.
// CHECK-DAG: #[[FIRST:.*]] = affine_map<(d0, d1) -> (0)>
// CHECK-LABEL: func @dequantize
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[FIRST]], #[[FIRST]], #{{.*}}]
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequantize(%q: tensor<2x3xi8>, %s: tensor<1xf32>, %z: tensor<1xi8>) -> tensor<2x3xf32> {
  %0 = anvil.dequantize %q, %s, %z : tensor<2x3xi8>, tensor<1xf32>, tensor<1xi8>
  return %0 : tensor<2x3xf32>
}

// -----

// qmatmul: one generic over (m, n, k), k a reduction; both operands widened
// to i32 (ui8 zero-extended, i8 sign-extended) before the zero points are
// subtracted, so products and sums are exact i32; the per-column zero point
// reads n; the accumulator starts at 0.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[ZA:.*]] = affine_map<(d0, d1, d2) -> ()>
// CHECK-DAG: #[[ZW:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @qmatmul
// CHECK: linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[W]], #[[ZA]], #[[ZW]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK-NOT: anvil.qmatmul
func.func @qmatmul(%a: tensor<4x6xui8>, %w: tensor<6x5xi8>, %za: tensor<ui8>, %zw: tensor<5xi8>) -> tensor<4x5xi32> {
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<4x6xui8>, tensor<6x5xi8>, tensor<ui8>, tensor<5xi8>
  return %0 : tensor<4x5xi32>
}

// -----

// Batched with shared weights: the weights ignore the batch index.
// CHECK-DAG: #[[WS:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-LABEL: func @qmatmul_shared
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[WS]], #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @qmatmul_shared(%a: tensor<2x4x6xi8>, %w: tensor<6x5xi8>, %z: tensor<1xi8>) -> tensor<2x4x5xi32> {
  %0 = anvil.qmatmul %a, %w, %z, %z : tensor<2x4x6xi8>, tensor<6x5xi8>, tensor<1xi8>, tensor<1xi8>
  return %0 : tensor<2x4x5xi32>
}

// -----

// A ui8 constant: an i8 constant of the same bits (arith has no unsigned
// constants), reinterpreted by one generic.
// CHECK-LABEL: func @ui8_constant
// CHECK: arith.constant dense<[0, -1]> : tensor<2xi8>
// CHECK: linalg.generic
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
// CHECK-NOT: anvil.constant
func.func @ui8_constant() -> tensor<2xui8> {
  %0 = anvil.constant dense<[0, 255]> : tensor<2xui8>
  return %0 : tensor<2xui8>
}

// -----

// A ui8 max pool: padded with 0 (the lowest ui8, i8 bits reinterpreted),
// its taps compared unsigned on their i8 bits.
// CHECK-LABEL: func @ui8_max_pool
// CHECK: %[[LOW:.*]] = arith.constant 0 : i8
// CHECK: %[[PAD:.*]] = builtin.unrealized_conversion_cast %[[LOW]] : i8 to ui8
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[PAD]] : ui8
// CHECK: linalg.generic
// CHECK-COUNT-8: arith.maxui {{.*}} : i8
// CHECK: %[[M:.*]] = builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
// CHECK: linalg.yield %[[M]] : ui8
func.func @ui8_max_pool(%x: tensor<1x2x6x6xui8>) -> tensor<1x2x3x3xui8> {
  %p = anvil.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6xui8>
  return %p : tensor<1x2x3x3xui8>
}

// -----

// An i8 max pool of 64 taps (more than the taps' generic takes): one
// generic that reduces over the window from -128, compared signed.
// CHECK-LABEL: func @i8_wide_max_pool
// CHECK: %[[LOW:.*]] = arith.constant -128 : i8
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[LOW]] : i8)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x2x8x8xi8>, tensor<8x8xi8>) outs(%[[INIT]] : tensor<1x2x1x1xi8>)
// CHECK: arith.maxsi
func.func @i8_wide_max_pool(%x: tensor<1x2x8x8xi8>) -> tensor<1x2x1x1xi8> {
  %p = anvil.max_pool2d %x {kernel = array<i64: 8, 8>} : tensor<1x2x8x8xi8>
  return %p : tensor<1x2x1x1xi8>
}
