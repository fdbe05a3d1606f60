// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg=bf16-tiles=true | FileCheck %s --check-prefix=TILES
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s --check-prefix=ROUND
// One-group convolutions marked bf16 (Conv.cpp): with bf16-tiles their
// im2col products run on the vdpbf16ps tiles (Bf16Tiles.h), else the f32
// lowering on operands rounded to bf16 (in integer arithmetic, no
// arith.truncf: without AVX512_BF16 that is a libgcc call GCC 12 lacks,
// so each rounding ends in a bitcast back to f32). Numeric truth is
// tests/e2e/test_bf16.py (each against the reference on rounded operands).

// The forward, one image at a time: its im2col vector copies of 10-wide
// output rows, the bias starting each row's sums in the tile (no broadcast,
// no add after), which writes the image's slot.
// TILES-LABEL: func @forward
// TILES: scf.for
// TILES: vector.transfer_write {{[^{]*}} : vector<16xf32>, tensor<3x3x3x1x10x10xf32>
// TILES: vector.broadcast {{.*}} : f32 to vector<16xf32>
// TILES: llvm.inline_asm "vdpbf16ps
// TILES-NOT: linalg.matmul
// TILES-NOT: linalg.broadcast
// ROUND-LABEL: func @forward
// ROUND-COUNT-2: arith.bitcast {{.*}} : i32 to f32
// ROUND: linalg.matmul
// ROUND-NOT: vdpbf16ps
func.func @forward(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<2x8x10x10xf32> {
  %y = anvil.conv2d %x, %w, %b {bf16, pads = array<i64: 1, 1, 1, 1>} : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>
  return %y : tensor<2x8x10x10xf32>
}

// -----

// The filter gradient: dY [O, N*OH*OW] by the im2col [C*kh*kw, N*OH*OW]
// read as a transpose_b operand (packed 16 x 32 at a time, transposed in
// registers), the product [O, C*kh*kw] the gradient. The im2col is vector
// copies of output rows (8 wide: one masked write each), per image in
// parallel, not a generic.
// TILES-LABEL: func @grad_filter
// TILES-NOT: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x3x3x2x8x8xf32>)
// TILES: scf.forall {{.*}} shared_outs(%{{.*}} = %{{.*}}) -> (tensor<3x3x3x2x8x8xf32>)
// TILES: vector.transfer_read {{[^{]*}} : tensor<2x3x10x10xf32>, vector<16xf32>
// TILES: vector.transfer_write {{[^{]*}} : vector<16xf32>, tensor<3x3x3x1x8x8xf32>
// TILES: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// TILES: llvm.inline_asm "vdpbf16ps
// TILES-NOT: linalg.matmul
// ROUND-LABEL: func @grad_filter
// ROUND-COUNT-2: arith.bitcast {{.*}} : i32 to f32
// ROUND: linalg.matmul
func.func @grad_filter(%x: tensor<2x3x10x10xf32>, %dy: tensor<2x8x8x8xf32>) -> tensor<8x3x3x3xf32> {
  %dw = anvil.conv2d_grad_filter %x, %dy {bf16, kernel = array<i64: 3, 3>} : tensor<2x3x10x10xf32>, tensor<2x8x8x8xf32>
  return %dw : tensor<8x3x3x3xf32>
}

// -----

// The input gradient: W^T (transpose_a: W's rows interleaved in pairs) by
// dY, then col2im.
// TILES-LABEL: func @grad_input
// TILES: llvm.inline_asm "vdpbf16ps
// TILES-NOT: linalg.matmul
// TILES: scf.forall
// ROUND-LABEL: func @grad_input
// ROUND-COUNT-2: arith.bitcast {{.*}} : i32 to f32
// ROUND: linalg.matmul
func.func @grad_input(%dy: tensor<2x8x8x8xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x3x10x10xf32> {
  %dx = anvil.conv2d_grad_input %dy, %w {bf16, input_size = array<i64: 10, 10>} : tensor<2x8x8x8xf32>, tensor<8x3x3x3xf32>
  return %dx : tensor<2x3x10x10xf32>
}

// -----

// Unmarked, or grouped: the f32 lowering, nothing rounded.
// TILES-LABEL: func @unmarked
// TILES-NOT: truncf
// TILES-NOT: vdpbf16ps
// TILES: linalg.matmul
// TILES: linalg.conv_2d_ngchw_gfchw
// TILES-NOT: truncf
// ROUND-LABEL: func @unmarked
// ROUND-NOT: truncf
// ROUND-NOT: arith.bitcast
func.func @unmarked(%x: tensor<2x4x6x6xf32>, %w: tensor<4x4x3x3xf32>, %g: tensor<4x2x3x3xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %y = anvil.conv2d %x, %w : tensor<2x4x6x6xf32>, tensor<4x4x3x3xf32>
  %z = anvil.conv2d %x, %g {groups = 2 : i64} : tensor<2x4x6x6xf32>, tensor<4x2x3x3xf32>
  return %y, %z : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}
