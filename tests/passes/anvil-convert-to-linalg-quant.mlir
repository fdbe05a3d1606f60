// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s
// Quantize and dequantize lower to one elementwise generic each (Quant.cpp);
// numeric truth is tests/e2e/test_quant.py.

// Per tensor to ui8: f32 division, roundeven, zero point (ui8 bits read as
// i8, zero-extended), clamped with maxnumf/minnumf before the conversion.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @quantize_u8
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[SCALAR]], #[[ID]]]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK: arith.extui
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
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
