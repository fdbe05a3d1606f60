// RUN: anvil-opt %s -split-input-file -anvil-bf16-matmul | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-bf16-matmul=parallel=false | FileCheck %s --check-prefix=SERIAL
// RUN: anvil-opt %s -split-input-file -anvil-bf16 | FileCheck %s --check-prefix=MARK
// bf16 matmuls become vdpbf16ps register tiles (Bf16Matmul.cpp); numeric
// truth is tests/e2e/test_bf16.py (every layout against numpy on rounded
// operands and the reference).

// A constant rhs packed at compile time: [2 blocks, 2 k pairs, 16 lanes x
// 2], column 0's pairs (1, 3) | (0.5, 0), column 1's (-2, 1.00390625 ->
// 1.0: a tie, to even). As i16 hex, little-endian: 803F 4040 | 00C0 803F.
// CHECK-LABEL: func @constant
// The unmarked product is left to anvil-convert-to-linalg.
// CHECK: anvil.matmul %{{.*}}, %{{.*}} : tensor<3x3xf32>, tensor<3x2xf32>
// CHECK: arith.constant dense<"0x803F404000C0803F{{0+}}003F{{0+}}"> : tensor<2x2x32xi16>
// The lhs rounded once: truncf to bf16, as i16 bits.
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3x3xf32>) outs(%{{.*}} : tensor<3x3xi16>)
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: arith.bitcast {{.*}} : bf16 to i16
// M = 3: one tile of 3 rows x 2 blocks, f32 accumulators.
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<3x3xi16>, vector<2xi16>
// CHECK: vector.bitcast {{.*}} : vector<2xi16> to vector<1xi32>
// CHECK: llvm.inline_asm "vdpbf16ps $3, $2, $0", "=v,0,v,v" {{.*}} : (vector<16xf32>, vector<16xi32>, vector<16xi32>) -> vector<16xf32>
// K = 3: the last pair read masked (no in_bounds).
// CHECK: vector.transfer_read {{[^{]*}} : tensor<3x3xi16>, vector<2xi16>
// No correction: the accumulators are written as they are.
// CHECK-NOT: arith.subi
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<3x2xf32>
// CHECK-NOT: anvil.matmul
// MARK-LABEL: func @constant
// MARK: anvil.matmul %{{.*}}, %{{.*}} {bf16} : tensor<3x3xf32>, tensor<3x2xf32>
func.func @constant(%a: tensor<3x3xf32>) -> tensor<3x2xf32> {
  %w = anvil.constant dense<[[1.0, -2.0], [3.0, 1.00390625], [0.5, 0.0]]> : tensor<3x2xf32>
  %y = anvil.matmul %a, %w : tensor<3x3xf32>, tensor<3x2xf32>
  %z = anvil.matmul %a, %w {bf16} : tensor<3x3xf32>, tensor<3x2xf32>
  %s = anvil.add %y, %z : tensor<3x2xf32>, tensor<3x2xf32>
  return %s : tensor<3x2xf32>
}

// -----

// A weight gradient's shape: X^T (transpose_a) by a run-time rhs. The rhs
// packed by a loop: rows 2g and 2g+1 of a 16-column block rounded and
// interleaved into one line (masked reads: N = 40 is no multiple of 32);
// the lhs's rows 2g and 2g+1 interleaved into [K/2, 2M], the tile's rows
// read at [g, 2m].
// CHECK-LABEL: func @transposed_a
// CHECK: scf.for {{.*}} -> (tensor<4x2x32xi16>)
// CHECK: vector.transfer_read %arg1{{.*}} : tensor<4x40xf32>, vector<16xf32>
// CHECK: arith.truncf {{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK: vector.shuffle {{.*}} [0, 16, 1, 17, 2, 18, {{.*}}] : vector<16xi16>, vector<16xi16>
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<32xi16>, tensor<4x2x32xi16>
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<4x10xf32>, vector<16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<32xi16>, tensor<2x20xi16>
// CHECK: llvm.inline_asm "vdpbf16ps
func.func @transposed_a(%a: tensor<4x10xf32>, %b: tensor<4x40xf32>) -> tensor<10x40xf32> {
  %y = anvil.matmul %a, %b {bf16, transpose_a} : tensor<4x10xf32>, tensor<4x40xf32>
  return %y : tensor<10x40xf32>
}

// -----

// An input gradient's shape: dY by W^T (transpose_b). The rhs is packed 16
// columns by 32 k at a time: its 3 rows read as 32 f32 (masked: K = 5),
// rounded, and the 16 x 16 dwords (13 rows of zeros) transposed by 4 stages
// of 16 shuffles; the 3 lines of k pairs written into a buffer zeroed first
// (its second block is padding).
// CHECK-LABEL: func @transposed_b
// CHECK: linalg.fill {{.*}} -> tensor<2x3x32xi16>
// CHECK-COUNT-3: vector.transfer_read %arg1{{[^{]*}} : tensor<3x5xf32>, vector<32xf32>
// CHECK-NOT: vector.transfer_read
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK-NOT: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK-COUNT-3: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<32xi16>, tensor<2x3x32xi16>
// CHECK-NOT: vector.transfer_write {{.*}} tensor<2x3x32xi16>
// CHECK: llvm.inline_asm "vdpbf16ps
func.func @transposed_b(%a: tensor<2x5xf32>, %b: tensor<3x5xf32>) -> tensor<2x3xf32> {
  %y = anvil.matmul %a, %b {bf16, transpose_b} : tensor<2x5xf32>, tensor<3x5xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Large enough for threads: the column groups are an scf.forall (serial
// with parallel=false).
// CHECK-LABEL: func @parallel
// CHECK: scf.forall
// SERIAL-LABEL: func @parallel
// SERIAL-NOT: scf.forall
func.func @parallel(%a: tensor<256x256xf32>, %b: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %y = anvil.matmul %a, %b {bf16} : tensor<256x256xf32>, tensor<256x256xf32>
  return %y : tensor<256x256xf32>
}

// -----

// A batched product with a batched rhs stays for anvil-convert-to-linalg
// (which rounds the operands: tests/conversion/anvil-to-linalg-matmul.mlir).
// CHECK-LABEL: func @batched
// CHECK: anvil.matmul {{.*}} {bf16}
// MARK-LABEL: func @batched
// MARK: anvil.matmul {{.*}} {bf16}
func.func @batched(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %y = anvil.matmul %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  %z = anvil.matmul %a, %b {bf16} : tensor<2x3x4xf32>, tensor<2x4x5xf32>
  %s = anvil.add %y, %z : tensor<2x3x5xf32>, tensor<2x3x5xf32>
  return %s : tensor<2x3x5xf32>
}
