// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="narrow=false direct-runs=false" | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="vnni=false small-weights=false" | FileCheck %s --check-prefix=PORTABLE
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul=vnni=false | FileCheck %s --check-prefix=BYTES
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="parallel=false narrow=false" | FileCheck %s --check-prefix=SERIAL
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="conv=false narrow=false" | FileCheck %s --check-prefix=NOCONV
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="direct-conv=false narrow=false" | FileCheck %s --check-prefix=IM2COL
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="vector-rows=false narrow=false direct-runs=false" | FileCheck %s --check-prefix=GENERIC
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul="direct-runs=false pairs=false" | FileCheck %s --check-prefix=NARROW
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul | FileCheck %s --check-prefix=EPI
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul=epilogue=false | FileCheck %s --check-prefix=NOEPI
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul=row-aligned=false | FileCheck %s --check-prefix=NOROW
// RUN: anvil-opt %s -split-input-file -anvil-int8-matmul=direct-runs=false | FileCheck %s --check-prefix=NORUNS
// (The prefixes but NARROW check the 8 x 2-block tile; NARROW the one-block
// tiles of 16 rows that products at most 16 columns wide get by default.
// CHECK, GENERIC and NARROW check the im2col of channels that 4 does not
// divide, which are direct by filter-row runs by default, and NARROW one
// position per accumulator, where at most 8 channels pair them by default:
// EPI checks those.)
// ui8 activations by constant i8 weights with zero point 0 become register
// tiles on weights packed at compile time (Int8Matmul.cpp); numeric truth is
// tests/e2e/test_quant.py (both paths against numpy and the reference).

// K = 5 (one whole group of 4 and a masked tail), N = 3 (two blocks of 16
// columns, zero padded). Packed: [2 blocks, 2 groups, 16 lanes x 4 bytes];
// column 0 is k = 0..4 -> 1, 2, 3, 4 | 5, 0, 0, 0; column 1 all -1 (sum -5),
// column 2 all 0.
// CHECK-LABEL: func @vnni
// CHECK-NOT: scf.forall
// (printed as hex bytes: group 0 of block 0, then its group 1)
// CHECK-DAG: arith.constant dense<"0x01020304FFFFFFFF{{0+}}05000000FF{{0+}}"> : tensor<2x2x64xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}15, -5, 0, 0,
// M = 3, no whole tile of 8 rows: in the column loop, one tile of 3 rows
// (3 x 2 accumulators).
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<2x2x64xi8>, vector<64xi8>
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<3x5xui8>, vector<4xui8>
// CHECK: vector.bitcast {{.*}} : vector<4xui8> to vector<1xi32>
// CHECK: llvm.inline_asm "vpdpbusd $3, $2, $0", "=v,0,v,v" {{.*}} : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
// The tail group: a masked read (no in_bounds: printed only when true).
// CHECK: vector.transfer_read {{[^{]*}} : tensor<3x5xui8>, vector<4xui8>
// CHECK: llvm.inline_asm "vpdpbusd
// The zero point times the column sums, subtracted.
// CHECK: arith.muli
// CHECK: arith.subi
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<3x3xi32>
// CHECK-NOT: anvil.qmatmul
// vnni=false: AVX2's tile, 6 rows by 2 blocks of 8 columns. The
// activations zero-extended to i16 first; the weights packed as i16 pairs,
// the tile's 2 blocks in one line: [1 column group, 3 k pairs, 2 blocks x
// 8 lanes x 2]; column 0 is (1, 2) | (3, 4) | (5, 0), column 1 all -1.
// PORTABLE-NOT: vpdpbusd
// PORTABLE-LABEL: func @vnni
// PORTABLE: %[[WIDE:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<3x5xui8>) outs(%{{.*}} : tensor<3x5xi16>)
// PORTABLE: arith.extui {{.*}} : i8 to i16
// PORTABLE-DAG: %[[PACKED:.*]] = arith.constant dense<{{\[\[\[}}1, 2, -1, -1, 0, {{.*}}], [3, 4, -1, -1, 0, {{.*}}], [5, 0, -1, 0, 0, {{.*}}]]]> : tensor<1x3x32xi16>
// PORTABLE-DAG: arith.constant dense<{{\[\[}}15, -5, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x8xi32>
// PORTABLE: scf.for
// PORTABLE-NOT: scf.for
// PORTABLE: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// PORTABLE: vector.transfer_read %[[PACKED]]{{.*}} {in_bounds = [true]} : tensor<1x3x32xi16>, vector<16xi16>
// PORTABLE: vector.transfer_read %[[PACKED]]{{.*}} {in_bounds = [true]} : tensor<1x3x32xi16>, vector<16xi16>
// PORTABLE: vector.transfer_read %[[WIDE]]{{.*}} {in_bounds = [true]} : tensor<3x5xi16>, vector<2xi16>
// PORTABLE: vector.bitcast {{.*}} : vector<2xi16> to vector<1xi32>
// PORTABLE: vector.broadcast {{.*}} : vector<1xi32> to vector<8xi32>
// PORTABLE: vector.bitcast {{.*}} : vector<16xi16> to vector<8xi32>
// PORTABLE: %[[P:.*]] = llvm.inline_asm "vpmaddwd $2, $1, $0", "=x,x,x" {{.*}} : (vector<8xi32>, vector<8xi32>) -> vector<8xi32>
// PORTABLE: arith.addi %{{.*}}, %[[P]] : vector<8xi32>
// The odd K's last pair: a masked read.
// PORTABLE: vector.transfer_read %[[WIDE]]{{[^{]*}} : tensor<3x5xi16>, vector<2xi16>
// PORTABLE: llvm.inline_asm "vpmaddwd
// PORTABLE: arith.muli
// PORTABLE: arith.subi
// PORTABLE: vector.transfer_write {{.*}} : vector<8xi32>, tensor<3x3xi32>
// PORTABLE-NOT: anvil.qmatmul
// vnni=false with weights all within [-64, 64] (small-weights): the
// vpmaddubsw tile, 5 rows by 2 blocks of 8 columns, no widening; bytes
// packed as for vpdpbusd, 8 lanes, the 2 blocks in one line: [1 column
// group, 2 groups, 2 x 8 x 4].
// BYTES-LABEL: func @vnni
// BYTES-NOT: linalg.generic
// BYTES-DAG: %[[PACKED:.*]] = arith.constant dense<"0x01020304FFFFFFFF{{0+}}05000000FF{{0+}}"> : tensor<1x2x64xi8>
// BYTES: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// BYTES: vector.transfer_read %[[PACKED]]{{.*}} {in_bounds = [true]} : tensor<1x2x64xi8>, vector<32xi8>
// BYTES: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<3x5xui8>, vector<4xui8>
// BYTES: %[[ONES:.*]] = arith.constant dense<65537> : vector<8xi32>
// BYTES: %[[PAIRS:.*]] = llvm.inline_asm "vpmaddubsw $2, $1, $0", "=x,x,x" {{.*}} : (vector<8xi32>, vector<8xi32>) -> vector<8xi32>
// BYTES: %[[SUMS:.*]] = llvm.inline_asm "vpmaddwd $2, $1, $0", "=x,x,x" %[[PAIRS]], %[[ONES]]
// BYTES: arith.addi %{{.*}}, %[[SUMS]] : vector<8xi32>
// BYTES: vector.transfer_write {{.*}} : vector<8xi32>, tensor<3x3xi32>
func.func @vnni(%a: tensor<3x5xui8>, %za: tensor<ui8>) -> tensor<3x3xi32> {
  %w = anvil.constant dense<[[1, -1, 0], [2, -1, 0], [3, -1, 0], [4, -1, 0], [5, -1, 0]]> : tensor<5x3xi8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<3x5xui8>, tensor<5x3xi8>, tensor<ui8>, tensor<i8>
  return %0 : tensor<3x3xi32>
}

// -----

// Batch dimensions fold into the rows and back.
// CHECK-LABEL: func @batched
// PORTABLE-LABEL: func @batched
// CHECK: tensor.collapse_shape {{.*}} tensor<2x3x8xui8> into tensor<6x8xui8>
// CHECK: llvm.inline_asm "vpdpbusd
// CHECK: tensor.expand_shape {{.*}} tensor<6x4xi32> into tensor<2x3x4xi32>
// PORTABLE: tensor.collapse_shape {{.*}} tensor<2x3x8xui8> into tensor<6x8xui8>
// PORTABLE: linalg.generic {{.*}} outs(%{{.*}} : tensor<6x8xi16>)
// PORTABLE: llvm.inline_asm "vpmaddwd
// PORTABLE: tensor.expand_shape {{.*}} tensor<6x4xi32> into tensor<2x3x4xi32>
func.func @batched(%a: tensor<2x3x8xui8>, %za: tensor<1xui8>) -> tensor<2x3x4xi32> {
  %w = anvil.constant dense<1> : tensor<8x4xi8>
  %zw = anvil.constant dense<0> : tensor<4xi8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<2x3x8xui8>, tensor<8x4xi8>, tensor<1xui8>, tensor<4xi8>
  return %0 : tensor<2x3x4xi32>
}

// -----

// A product the f32 schedule would split for threads (64x256x256, 8.4
// MFLOP): its 8 column pairs are an scf.forall, each writing a slice of
// the result (32 columns, or what is left of N = 250), no accumulator
// shared between iterations; AVX2's 16 groups of 16 columns likewise.
// parallel=false: the serial loop.
// CHECK-LABEL: func @parallel
// CHECK: %[[E:.*]] = tensor.empty() : tensor<64x250xi32>
// CHECK: scf.forall (%[[P:.*]]) in (8) shared_outs(%[[OUT:.*]] = %[[E]]) -> (tensor<64x250xi32>)
// CHECK: %[[W:.*]] = arith.minsi
// CHECK: %[[S:.*]] = tensor.extract_slice %[[OUT]][0, %{{.*}}] [64, %[[W]]] [1, 1] : tensor<64x250xi32> to tensor<64x?xi32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[S]]) -> (tensor<64x?xi32>)
// CHECK: llvm.inline_asm "vpdpbusd
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<64x?xi32>
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice {{.*}} into %[[OUT]][0, %{{.*}}] [64, %[[W]]] [1, 1]
// PORTABLE-LABEL: func @parallel
// PORTABLE: %[[E:.*]] = tensor.empty() : tensor<64x250xi32>
// PORTABLE: scf.forall (%{{.*}}) in (16) shared_outs(%[[OUT:.*]] = %[[E]]) -> (tensor<64x250xi32>)
// PORTABLE: %[[W:.*]] = arith.minsi
// PORTABLE: tensor.extract_slice %[[OUT]][0, %{{.*}}] [64, %[[W]]] [1, 1] : tensor<64x250xi32> to tensor<64x?xi32>
// 64 rows: 10 whole tiles of 6 rows (12 accumulators), then one of 4 (8).
// PORTABLE: scf.for %{{.*}} = %{{.*}} to %c60 step %c6 iter_args(%{{.*}}) -> (tensor<64x?xi32>)
// PORTABLE: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// PORTABLE: llvm.inline_asm "vpmaddwd
// PORTABLE: vector.transfer_write {{.*}} : vector<8xi32>, tensor<64x?xi32>
// PORTABLE: scf.for {{.*}} -> (vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>, vector<8xi32>) {
// PORTABLE: llvm.inline_asm "vpmaddwd
// PORTABLE: vector.transfer_write {{.*}} : vector<8xi32>, tensor<64x?xi32>
// PORTABLE: tensor.parallel_insert_slice {{.*}} into %[[OUT]][0, %{{.*}}] [64, %[[W]]] [1, 1]
// SERIAL-LABEL: func @parallel
// SERIAL-NOT: scf.forall
// SERIAL: scf.for
func.func @parallel(%a: tensor<64x256xui8>, %za: tensor<ui8>) -> tensor<64x250xi32> {
  %w = anvil.constant dense<1> : tensor<256x250xi8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<64x256xui8>, tensor<256x250xi8>, tensor<ui8>, tensor<i8>
  return %0 : tensor<64x250xi32>
}

// -----

// Not rewritten: weights computed at run time, a nonzero weight zero point,
// i8 activations. They keep the portable generic of anvil-convert-to-linalg.
// CHECK-NOT: vpdpbusd
// CHECK-LABEL: func @kept
// CHECK-NOT: vpdpbusd
// CHECK-COUNT-3: anvil.qmatmul
// PORTABLE-LABEL: func @kept
// PORTABLE-NOT: vpmaddwd
// PORTABLE-COUNT-3: anvil.qmatmul
func.func @kept(%a: tensor<3x5xui8>, %za: tensor<ui8>, %w: tensor<5x3xi8>, %s: tensor<3x5xi8>, %zs: tensor<i8>) -> (tensor<3x3xi32>, tensor<3x3xi32>, tensor<3x3xi32>) {
  %zw = anvil.constant dense<0> : tensor<i8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<3x5xui8>, tensor<5x3xi8>, tensor<ui8>, tensor<i8>
  %c = anvil.constant dense<1> : tensor<5x3xi8>
  %z1 = anvil.constant dense<1> : tensor<i8>
  %1 = anvil.qmatmul %a, %c, %za, %z1 : tensor<3x5xui8>, tensor<5x3xi8>, tensor<ui8>, tensor<i8>
  %2 = anvil.qmatmul %s, %c, %zs, %zw : tensor<3x5xi8>, tensor<5x3xi8>, tensor<i8>, tensor<i8>
  return %0, %1, %2 : tensor<3x3xi32>, tensor<3x3xi32>, tensor<3x3xi32>
}

// -----

// small-weights: 64 and -64 are the largest magnitudes vpmaddubsw sums
// exactly (2 x 255 x 64 = 32640); one -65 leaves the whole matrix to
// vpmaddwd.
// BYTES-LABEL: func @edge64
// BYTES: vpmaddubsw
// BYTES-LABEL: func @over64
// BYTES-NOT: vpmaddubsw
// BYTES: vpmaddwd
// BYTES-NOT: vpmaddubsw
func.func @edge64(%a: tensor<4x2xui8>, %za: tensor<ui8>) -> tensor<4x2xi32> {
  %w = anvil.constant dense<[[64, -64], [-64, 64]]> : tensor<2x2xi8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<4x2xui8>, tensor<2x2xi8>, tensor<ui8>, tensor<i8>
  return %0 : tensor<4x2xi32>
}
func.func @over64(%a: tensor<4x2xui8>, %za: tensor<ui8>) -> tensor<4x2xi32> {
  %w = anvil.constant dense<[[64, -64], [-65, 1]]> : tensor<2x2xi8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %0 = anvil.qmatmul %a, %w, %za, %zw : tensor<4x2xui8>, tensor<2x2xi8>, tensor<ui8>, tensor<i8>
  return %0 : tensor<4x2xi32>
}

// -----

// A qconv2d: the input padded with its zero point (7, as a ui8 through an
// i8 constant), im2col'd with the output positions as rows ([2*3*2, 1*2*2]
// = [12, 4]), the OIHW filter packed as the [4, 2] matrix (column o is
// filter o: 1, 2, 3, 4 and -1, 0, 0, 1; sums 10 and 0), the tiles, and the
// [12, 2] product transposed to NCHW. The AVX2 tiles widen the input to
// i16 before padding it (with an i16 7).
// By default the im2col is vector copies of window rows (vector-rows):
// the input padded by 8 more columns on the right, and per position and
// filter row one 8-byte read written at its k (0, then 2) of a [12, 4 + 8]
// matrix, whose 8 extra columns take the last copy's spill. GENERIC
// (vector-rows=false): the generic copy into [12, 4].
// CHECK-LABEL: func @conv
// CHECK: %[[Z:.*]] = arith.constant 7 : i8
// CHECK: %[[ZU:.*]] = builtin.unrealized_conversion_cast %[[Z]] : i8 to ui8
// CHECK: tensor.pad %arg0 low[0, 0, 1, 0] high[0, 0, 1, 8]
// CHECK: tensor.yield %[[ZU]] : ui8
// CHECK-NOT: linalg.generic
// CHECK: vector.transfer_read %{{.*}} : tensor<2x1x7x13xui8>, vector<8xui8>
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %c0{{.*}}] {in_bounds = [true]} : vector<8xui8>, tensor<12x12xui8>
// CHECK: vector.transfer_read %{{.*}} : tensor<2x1x7x13xui8>, vector<8xui8>
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %c2{{.*}}] {in_bounds = [true]} : vector<8xui8>, tensor<12x12xui8>
// CHECK-DAG: arith.constant dense<"0x01020304FF000001{{0+}}"> : tensor<2x1x64xi8>
// GENERIC-LABEL: func @conv
// GENERIC: tensor.pad %arg0 low[0, 0, 1, 0] high[0, 0, 1, 0]
// GENERIC: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x1x7x5xui8>) outs(%{{.*}} : tensor<2x3x2x1x2x2xui8>)
// GENERIC: into tensor<12x4xui8>
// GENERIC: llvm.inline_asm "vpdpbusd
// CHECK-DAG: arith.constant dense<{{\[\[}}10, 0, 0,
// CHECK: llvm.inline_asm "vpdpbusd
// CHECK: tensor.expand_shape {{.*}} : tensor<12x2xi32> into tensor<2x3x2x2xi32>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x2x2xi32>) outs(%{{.*}} : tensor<2x2x3x2xi32>) permutation = [0, 3, 1, 2]
// CHECK-NOT: anvil.qconv2d
// PORTABLE-LABEL: func @conv
// PORTABLE: linalg.generic {{.*}} ins(%arg0 : tensor<2x1x5x5xui8>) outs(%{{.*}} : tensor<2x1x5x5xi16>)
// PORTABLE: %[[Z:.*]] = arith.constant 7 : i16
// PORTABLE: tensor.pad
// PORTABLE: tensor.yield %[[Z]] : i16
// PORTABLE: vector.transfer_write %{{.*}} : vector<8xi16>, tensor<12x12xi16>
// PORTABLE: llvm.inline_asm "vpmaddwd
// PORTABLE: linalg.transpose
// Its weights are within [-64, 64]: without VNNI, vpmaddubsw on the ui8
// im2col.
// BYTES-LABEL: func @conv
// BYTES: tensor.yield %{{.*}} : ui8
// BYTES: vpmaddubsw
// NOCONV-LABEL: func @conv
// NOCONV: anvil.qconv2d
// NOCONV-NOT: inline_asm
// By default (O = 2 <= 16): one block of 16 columns packed, no second;
// each image's 3 x 2 positions one tile of 6 rows (tiles do not span
// images), transposed in registers and written as O = 2 runs of 6
// positions into [N, O, OH*OW]: NCHW, no transpose after.
// By default (O = 2 <= 8, `pairs`): two positions to an accumulator, the
// first's group broadcast to lanes 0-7 and the second's to 8-15 (a shuffle
// of two broadcasts), the 2 weights packed twice: 3 accumulators for the 6
// positions, whose upper halves are moved down as the odd positions before
// the transpose (here direct by filter-row runs: 2 rows of 1 group).
// EPI-LABEL: func @conv(
// EPI: arith.constant dense<"0x01020000FF000000{{0+}}01020000FF000000{{0+}}03040000000100{{0+}}03040000000100{{0+}}"> : tensor<1x2x64xi8>
// EPI: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// EPI: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi32>, vector<16xi32>
// EPI: llvm.inline_asm "vpdpbusd
// EPI: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi32>, vector<16xi32>
// EPI: llvm.inline_asm "vpdpbusd
// EPI: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi32>, vector<16xi32>
// EPI: llvm.inline_asm "vpdpbusd
// EPI-NOT: llvm.inline_asm "vpdpbusd
// EPI-COUNT-3: vector.shuffle {{.*}} [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7] : vector<16xi32>, vector<16xi32>
// EPI-COUNT-2: vector.transfer_write {{.*}} : vector<6xi32>, tensor<2x2x6xi32>
// NARROW-LABEL: func @conv
// NARROW: arith.constant dense<{{.*}}> : tensor<1x1x64xi8>
// NARROW: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>) {
// NARROW-COUNT-6: llvm.inline_asm "vpdpbusd
// NARROW-NOT: llvm.inline_asm "vpdpbusd
// NARROW-COUNT-64: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// NARROW-COUNT-2: vector.transfer_write {{.*}} : vector<6xi32>, tensor<2x2x6xi32>
// NARROW-NOT: vector.transfer_write {{.*}} tensor<2x2x6xi32>
// NARROW-NOT: linalg.transpose
// NARROW: tensor.expand_shape {{.*}} : tensor<2x2x6xi32> into tensor<2x2x3x2xi32>
func.func @conv(%x: tensor<2x1x5x5xui8>) -> tensor<2x2x3x2xi32> {
  %w = anvil.constant dense<[[[[1, 2], [3, 4]]], [[[-1, 0], [0, 1]]]]> : tensor<2x1x2x2xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %y = anvil.qconv2d %x, %w, %zx, %zw {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 0>} : tensor<2x1x5x5xui8>, tensor<2x1x2x2xi8>, tensor<ui8>, tensor<i8>
  return %y : tensor<2x2x3x2xi32>
}

// -----

// A direct convolution (VNNI, 4 channels, 32 output channels): the input
// padded with its zero point, transposed once to NHWC and flattened (no
// im2col); the tiles loop over the taps, then the channel groups, reading
// 4 bytes per row at its window; each image's 6 positions are one shorter
// tile, whose 6 x 16 blocks are transposed in registers and written as runs
// of positions into [N, O, OH*OW], which is NCHW as is: no linalg.transpose
// after. direct-conv=false: the im2col (vector copies of window rows into
// [12, 16 + 8]), whose rows are output positions too: the same NCHW writes.
// CHECK-LABEL: func @conv_direct
// CHECK: tensor.pad %arg0 low[0, 0, 1, 0] high[0, 0, 1, 0]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x4x7x5xui8>) outs(%{{.*}} : tensor<2x7x5x4xui8>) permutation = [0, 2, 3, 1]
// CHECK: tensor.collapse_shape {{.*}} : tensor<2x7x5x4xui8> into tensor<280xui8>
// CHECK-NOT: linalg.generic
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} : tensor<280xui8>, vector<4xui8>
// CHECK: llvm.inline_asm "vpdpbusd
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [6], strides = [1]} : vector<16xi32> to vector<6xi32>
// CHECK: vector.transfer_write {{.*}} : vector<6xi32>, tensor<2x32x6xi32>
// CHECK: tensor.expand_shape {{.*}} : tensor<2x32x6xi32> into tensor<2x32x3x2xi32>
// CHECK-NOT: linalg.transpose
// CHECK-NOT: anvil.qconv2d
// IM2COL-LABEL: func @conv_direct
// IM2COL: vector.transfer_write %{{.*}} : vector<8xui8>, tensor<12x24xui8>
// IM2COL: llvm.inline_asm "vpdpbusd
// IM2COL: vector.transfer_write {{.*}} : vector<6xi32>, tensor<2x32x6xi32>
// IM2COL-NOT: linalg.transpose
func.func @conv_direct(%x: tensor<2x4x5x5xui8>) -> tensor<2x32x3x2xi32> {
  %w = anvil.constant dense<1> : tensor<32x4x2x2xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %y = anvil.qconv2d %x, %w, %zx, %zw {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 0>} : tensor<2x4x5x5xui8>, tensor<32x4x2x2xi8>, tensor<ui8>, tensor<i8>
  return %y : tensor<2x32x3x2xi32>
}

// -----

// A direct convolution of 16 channels: its NHWC input copied by blocks of
// 16 channels x 16 positions (the images in parallel), 16 reads of 16
// bytes transposed in registers by 64 byte shuffles, straight from the
// unpadded input into the padded image, whose border is filled with the
// zero point first: no tensor.pad. The 3 x 3 = 9 positions are one block
// (masked reads), written as 9 positions of the 5 x 5 padded image.
// vector-rows=false: tensor.pad, then linalg.transpose.
// NARROW-LABEL: func @conv_direct_nhwc
// NARROW-NOT: tensor.pad
// NARROW: tensor.collapse_shape %arg0 {{.*}} into tensor<2x16x9xui8>
// NARROW: scf.forall
// NARROW: linalg.fill ins(%{{.*}} : ui8) outs(%{{.*}} : tensor<1x25x16xui8>)
// NARROW: scf.for {{.*}} to %c16{{.*}} step %c16
// NARROW-COUNT-16: vector.transfer_read {{[^{]*}} : tensor<2x16x9xui8>, vector<16xui8>
// NARROW-COUNT-64: vector.shuffle {{.*}} : vector<16xui8>, vector<16xui8>
// NARROW-COUNT-9: vector.transfer_write {{.*}} : vector<16xui8>, tensor<1x25x16xui8>
// NARROW-NOT: vector.transfer_write {{.*}} : vector<16xui8>, tensor<1x25x16xui8>
// NARROW: llvm.inline_asm "vpdpbusd
// GENERIC-LABEL: func @conv_direct_nhwc
// GENERIC: tensor.pad
// GENERIC: linalg.transpose {{.*}} permutation = [0, 2, 3, 1]
func.func @conv_direct_nhwc(%x: tensor<2x16x3x3xui8>) -> tensor<2x16x3x3xi32> {
  %w = anvil.constant dense<1> : tensor<16x16x3x3xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %y = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>} : tensor<2x16x3x3xui8>, tensor<16x16x3x3xi8>, tensor<ui8>, tensor<i8>
  return %y : tensor<2x16x3x3xi32>
}

// -----

// Negative: a qconv2d whose input zero point is computed at run time (its
// padding value unknown) keeps the portable generic.
// CHECK-LABEL: func @conv_runtime_zero
// CHECK: anvil.qconv2d
// CHECK-NOT: inline_asm
func.func @conv_runtime_zero(%x: tensor<1x1x3x3xui8>, %zx: tensor<ui8>) -> tensor<1x1x1x1xi32> {
  %w = anvil.constant dense<1> : tensor<1x1x3x3xi8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %y = anvil.qconv2d %x, %w, %zx, %zw : tensor<1x1x3x3xui8>, tensor<1x1x3x3xi8>, tensor<ui8>, tensor<i8>
  return %y : tensor<1x1x1x1xi32>
}

// -----

// The epilogue: a direct convolution's dequantize (per channel), shift
// ([1, O, 1, 1]), residual add, relu and quantize (per tensor, ui8) are
// computed on each channel's run of positions between the transpose and
// the store, op for op as their own loops would (relu as a select below 0,
// the quantize's division, roundeven, zero point and clamp), and the tiles
// store ui8: none of the anvil ops is left. The 6-wide output rows are
// row-aligned tiles of 2 rows (12 positions), each row's window the
// first's plus a constant. epilogue=false: the i32 product is stored and
// the anvil ops stay; row-aligned=false: runs of 16 positions across rows.
// CHECK-LABEL: func @conv_epilogue
// EPI-LABEL: func @conv_epilogue
// EPI: llvm.inline_asm "vpdpbusd
// EPI-COUNT-64: vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// EPI: vector.extract_strided_slice {{.*}} sizes = [12]{{.*}} : vector<16xi32> to vector<12xi32>
// EPI: arith.subi {{.*}} : vector<12xi32>
// EPI: arith.sitofp {{.*}} : vector<12xi32> to vector<12xf32>
// EPI: arith.mulf {{.*}} : vector<12xf32>
// EPI: arith.addf {{.*}} : vector<12xf32>
// EPI: vector.transfer_read {{.*}} : tensor<1x16x36xf32>, vector<12xf32>
// EPI: arith.addf {{.*}} : vector<12xf32>
// EPI: arith.cmpf olt, {{.*}} : vector<12xf32>
// EPI: arith.select {{.*}} : vector<12xi1>, vector<12xf32>
// EPI: arith.divf {{.*}} : vector<12xf32>
// EPI: math.roundeven {{.*}} : vector<12xf32>
// EPI: arith.cmpf ogt, {{.*}} : vector<12xf32>
// EPI: arith.select {{.*}} : vector<12xi1>, vector<12xf32>
// EPI: arith.cmpf olt, {{.*}} : vector<12xf32>
// EPI: arith.select {{.*}} : vector<12xi1>, vector<12xf32>
// EPI: arith.fptosi {{.*}} : vector<12xf32> to vector<12xi32>
// EPI: arith.trunci {{.*}} : vector<12xi32> to vector<12xi8>
// EPI: builtin.unrealized_conversion_cast {{.*}} : vector<12xi8> to vector<12xui8>
// EPI: vector.transfer_write {{.*}} : vector<12xui8>, tensor<1x16x36xui8>
// EPI: tensor.expand_shape {{.*}} : tensor<1x16x36xui8> into tensor<1x16x6x6xui8>
// EPI-NOT: anvil.{{qconv2d|dequantize|add|relu|quantize}}
// EPI: return
// NOEPI-LABEL: func @conv_epilogue
// NOEPI: vector.transfer_write {{.*}} : vector<12xi32>, tensor<1x16x36xi32>
// NOEPI: anvil.dequantize
// NOEPI: anvil.add
// NOEPI: anvil.add
// NOEPI: anvil.relu
// NOEPI: anvil.quantize
// NOROW-LABEL: func @conv_epilogue
// NOROW: vector.transfer_write {{.*}} : vector<16xui8>, tensor<1x16x36xui8>
// NOROW: vector.transfer_write {{.*}} : vector<4xui8>, tensor<1x16x36xui8>
func.func @conv_epilogue(%x: tensor<1x4x6x6xui8>, %r: tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xui8> {
  %w = anvil.constant dense<1> : tensor<16x4x3x3xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %acc = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x6x6xui8>, tensor<16x4x3x3xi8>, tensor<ui8>, tensor<i8>
  %s = anvil.constant dense<0.5> : tensor<16xf32>
  %z = anvil.constant dense<0> : tensor<16xi32>
  %y = anvil.dequantize %acc, %s, %z : tensor<1x16x6x6xi32>, tensor<16xf32>, tensor<16xi32>
  %b = anvil.constant dense<0.25> : tensor<1x16x1x1xf32>
  %y1 = anvil.add %y, %b : tensor<1x16x6x6xf32>, tensor<1x16x1x1xf32>
  %y2 = anvil.add %y1, %r : tensor<1x16x6x6xf32>, tensor<1x16x6x6xf32>
  %y3 = anvil.relu %y2 : tensor<1x16x6x6xf32>
  %qs = anvil.constant dense<0.1> : tensor<f32>
  %qz = anvil.constant dense<3> : tensor<ui8>
  %q = anvil.quantize %y3, %qs, %qz : tensor<1x16x6x6xf32>, tensor<f32>, tensor<ui8>
  return %q : tensor<1x16x6x6xui8>
}

// -----

// The relu's result has two users (the quantize and the return): the
// tiles store it as f32, and the quantize stays its own op.
// EPI-LABEL: func @conv_epilogue_f32
// EPI: arith.select {{.*}} : vector<12xi1>, vector<12xf32>
// EPI-NOT: math.roundeven
// EPI: vector.transfer_write {{.*}} : vector<12xf32>, tensor<1x16x36xf32>
// EPI: anvil.quantize
func.func @conv_epilogue_f32(%x: tensor<1x4x6x6xui8>) -> (tensor<1x16x6x6xf32>, tensor<1x16x6x6xui8>) {
  %w = anvil.constant dense<1> : tensor<16x4x3x3xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %acc = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x6x6xui8>, tensor<16x4x3x3xi8>, tensor<ui8>, tensor<i8>
  %s = anvil.constant dense<0.5> : tensor<f32>
  %z = anvil.constant dense<0> : tensor<i32>
  %y = anvil.dequantize %acc, %s, %z : tensor<1x16x6x6xi32>, tensor<f32>, tensor<i32>
  %y3 = anvil.relu %y : tensor<1x16x6x6xf32>
  %qs = anvil.constant dense<0.1> : tensor<f32>
  %qz = anvil.constant dense<3> : tensor<ui8>
  %q = anvil.quantize %y3, %qs, %qz : tensor<1x16x6x6xf32>, tensor<f32>, tensor<ui8>
  return %y3, %q : tensor<1x16x6x6xf32>, tensor<1x16x6x6xui8>
}

// -----

// Direct by filter-row runs: 3 channels (which 4 does not divide) of a 3x3
// filter are a run of 9 bytes per filter row of the NHWC input, read as 3
// groups of 4 (the 12th byte's weights are zero); the input padded by one
// more pixel on the right for the last window's overreach (5 + 2 + 1 = 8
// columns), transposed to NHWC and flattened; the k loops are the 3 filter
// rows by the 3 groups of a run. direct-runs=false: the im2col.
// EPI-LABEL: func @conv_direct_runs
// EPI: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 2]
// EPI: linalg.transpose ins(%{{.*}} : tensor<1x3x7x8xui8>) outs(%{{.*}} : tensor<1x7x8x3xui8>) permutation = [0, 2, 3, 1]
// EPI: tensor.collapse_shape {{.*}} : tensor<1x7x8x3xui8> into tensor<168xui8>
// EPI: scf.for {{.*}} = %c0{{.*}} to %c3{{.*}} step %c1
// EPI: scf.for {{.*}} = %c0{{.*}} to %c3{{.*}} step %c1
// EPI: vector.transfer_read {{.*}} : tensor<168xui8>, vector<4xui8>
// EPI: llvm.inline_asm "vpdpbusd
// NORUNS-LABEL: func @conv_direct_runs
// NORUNS-NOT: linalg.transpose
// NORUNS: vector.transfer_write %{{.*}} : vector<8xui8>, tensor<25x35xui8>
// NORUNS: llvm.inline_asm "vpdpbusd
func.func @conv_direct_runs(%x: tensor<1x3x5x5xui8>) -> tensor<1x16x5x5xi32> {
  %w = anvil.constant dense<1> : tensor<16x3x3x3xi8>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %zw = anvil.constant dense<0> : tensor<i8>
  %y = anvil.qconv2d %x, %w, %zx, %zw {pads = array<i64: 1, 1, 1, 1>} : tensor<1x3x5x5xui8>, tensor<16x3x3x3xi8>, tensor<ui8>, tensor<i8>
  return %y : tensor<1x16x5x5xi32>
}
