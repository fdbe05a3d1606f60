// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="pack-im2col=false" | FileCheck %s --check-prefix=OFF
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="deinterleave-stride2=false" | FileCheck %s --check-prefix=GATHER
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="im2col-blend=false" | FileCheck %s --check-prefix=MASKED
// RUN: anvil-opt %s -split-input-file -anvil-tile-and-vectorize="window-k-blocks=false" | FileCheck %s --check-prefix=DIVIDED

#im2col = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1, d5 + d2)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// A 3x3 convolution's B is the im2col matrix of its padded image (the form
// Conv.cpp lowers to). Each packed 32-column sliver is read straight from
// the image, flattened: 32 pixels of 28-pixel output rows lie on at most 3
// rows (segments); the im2col copy is gone. Where every read of the
// sliver stays inside the image (checked once per sliver), each segment is
// one plain read per filter tap and its lanes are selected by the
// segment's mask (im2col-blend); else each is a masked read. The taps are
// walked channel by channel (8), kernel row by kernel row (3), each row's
// 3 taps at constant offsets (window-k-blocks). Without pack-im2col, the
// copy stays and the packing copies its matrix.
// CHECK-LABEL: func @conv3x3_from_image
// CHECK-NOT: scf.if
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : tensor<1x8x30x30xf32> into tensor<7200xf32>
// CHECK: arith.cmpi sle, %{{.*}}, %c7200 : index
// CHECK: scf.if %{{.*}} -> (tensor<72x32xf32>)
// CHECK-NEXT: scf.for {{.*}} to %c8 step %c1 {{.*}} -> (tensor<72x32xf32>)
// CHECK: scf.for {{.*}} to %c3 step %c1 {{.*}} -> (tensor<72x32xf32>)
// CHECK-NOT: arith.divui
// CHECK: %[[R0:.*]] = vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<7200xf32>, vector<32xf32>
// CHECK: %[[R1:.*]] = vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<7200xf32>, vector<32xf32>
// CHECK: arith.select %{{.*}}, %[[R1]], %[[R0]] : vector<32xi1>, vector<32xf32>
// CHECK: } else {
// CHECK: scf.for {{.*}} -> (tensor<72x32xf32>)
// CHECK-COUNT-3: vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}} : tensor<7200xf32>, vector<32xf32>
// CHECK: vector.transfer_write {{.*}} : vector<32xf32>, tensor<72x32xf32>
// CHECK: scf.for {{.*}} -> (vector<8x32xf32>)
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.copy
// With im2col-blend=false, the 32-column slivers only read masked (the
// 16-column tail sliver, pixels 768-783, lies on the last row: plain).
// MASKED-LABEL: func @conv3x3_from_image
// MASKED-NOT: scf.if
// MASKED-NOT: {in_bounds = [true]} : tensor<7200xf32>, vector<32xf32>
// MASKED: vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}}, %{{.*}} : tensor<7200xf32>, vector<32xf32>
// MASKED-NOT: scf.if
// MASKED-NOT: {in_bounds = [true]} : tensor<7200xf32>, vector<32xf32>
// MASKED-LABEL: func @conv3x3_wide_rows
// OFF-LABEL: func @conv3x3_from_image
// OFF: linalg.generic
// OFF-NOT: tensor<7200xf32>
func.func @conv3x3_from_image(%image: tensor<1x8x28x28xf32>, %w: tensor<32x72xf32>) -> tensor<32x784xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<1x8x30x30xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x8x30x30xf32>) -> tensor<1x8x30x30xf32>
  %padded = tensor.insert_slice %image into %1[0, 0, 1, 1] [1, 8, 28, 28] [1, 1, 1, 1] : tensor<1x8x28x28xf32> into tensor<1x8x30x30xf32>
  %2 = tensor.empty() : tensor<8x3x3x1x28x28xf32>
  %3 = linalg.generic {indexing_maps = [#im2col, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%padded : tensor<1x8x30x30xf32>) outs(%2 : tensor<8x3x3x1x28x28xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x3x3x1x28x28xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x28x28xf32> into tensor<72x784xf32>
  %4 = tensor.empty() : tensor<32x784xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x784xf32>) -> tensor<32x784xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x72xf32>, tensor<72x784xf32>) outs(%5 : tensor<32x784xf32>) -> tensor<32x784xf32>
  return %6 : tensor<32x784xf32>
}

// -----

// Rows of 40 output pixels: a 32-lane sliver lies on one row unless it
// crosses a row's end (x0 + 32 > 40). Such a sliver's taps are one plain
// contiguous read each, no masks; a crossing one takes the masked
// segments (2 here). Rows narrower than the sliver (above) have no plain
// path.
// CHECK-LABEL: func @conv3x3_wide_rows
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : tensor<1x4x42x42xf32> into tensor<7056xf32>
// CHECK: scf.if %{{.*}} -> (tensor<36x32xf32>)
// CHECK: scf.for {{.*}} -> (tensor<36x32xf32>)
// CHECK-NOT: vector.transfer_read {{.*}}, %{{.*}}, %{{.*}} : tensor<7056xf32>
// CHECK: vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<7056xf32>, vector<32xf32>
// CHECK: } else {
// CHECK: scf.for {{.*}} -> (tensor<36x32xf32>)
// CHECK-COUNT-2: vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}} : tensor<7056xf32>, vector<32xf32>
#im2col_w = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1, d5 + d2)>
#id6_w = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @conv3x3_wide_rows(%image: tensor<1x4x40x40xf32>, %w: tensor<32x36xf32>) -> tensor<32x1600xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<1x4x42x42xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x4x42x42xf32>) -> tensor<1x4x42x42xf32>
  %padded = tensor.insert_slice %image into %1[0, 0, 1, 1] [1, 4, 40, 40] [1, 1, 1, 1] : tensor<1x4x40x40xf32> into tensor<1x4x42x42xf32>
  %2 = tensor.empty() : tensor<4x3x3x1x40x40xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_w, #id6_w], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%padded : tensor<1x4x42x42xf32>) outs(%2 : tensor<4x3x3x1x40x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x3x3x1x40x40xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<4x3x3x1x40x40xf32> into tensor<36x1600xf32>
  %4 = tensor.empty() : tensor<32x1600xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x1600xf32>) -> tensor<32x1600xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x36xf32>, tensor<36x1600xf32>) outs(%5 : tensor<32x1600xf32>) -> tensor<32x1600xf32>
  return %6 : tensor<32x1600xf32>
}

// -----

// The stem's shape (7x7, stride 2, pads 3) on 64x64 images: 32-pixel
// rows. The one-row path reads each tap twice as wide with no mask (its
// last lane, one past the last pixel at the last tap, is inside the padded
// 70-wide row) and keeps the even lanes.
// CHECK-LABEL: func @stem_wide_rows
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : tensor<1x3x70x70xf32> into tensor<14700xf32>
// CHECK: scf.if %{{.*}} -> (tensor<147x32xf32>)
// CHECK: scf.for {{.*}} -> (tensor<147x32xf32>)
// CHECK: %[[PLAIN:.*]] = vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<14700xf32>, vector<64xf32>
// CHECK: vector.shuffle %[[PLAIN]], %[[PLAIN]] [0, 2, 4
// CHECK: } else {
// CHECK: vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}} : tensor<14700xf32>, vector<64xf32>
#im2col_st = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
#id6_st = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @stem_wide_rows(%image: tensor<1x3x64x64xf32>, %w: tensor<32x147xf32>) -> tensor<32x1024xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<1x3x70x70xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x3x70x70xf32>) -> tensor<1x3x70x70xf32>
  %padded = tensor.insert_slice %image into %1[0, 0, 3, 3] [1, 3, 64, 64] [1, 1, 1, 1] : tensor<1x3x64x64xf32> into tensor<1x3x70x70xf32>
  %2 = tensor.empty() : tensor<3x7x7x1x32x32xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_st, #id6_st], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%padded : tensor<1x3x70x70xf32>) outs(%2 : tensor<3x7x7x1x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x7x7x1x32x32xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<3x7x7x1x32x32xf32> into tensor<147x1024xf32>
  %4 = tensor.empty() : tensor<32x1024xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x1024xf32>) -> tensor<32x1024xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x147xf32>, tensor<147x1024xf32>) outs(%5 : tensor<32x1024xf32>) -> tensor<32x1024xf32>
  return %6 : tensor<32x1024xf32>
}

// -----

#im2col_s2 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// Stride 2 along the row: every other pixel. Each segment is one masked
// contiguous read twice as wide (64 lanes) whose even lanes are kept, not a
// gather; without pack-im2col the im2col copy stays.
// CHECK-LABEL: func @conv_stride2_deinterleaves
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : tensor<1x8x34x34xf32> into tensor<9248xf32>
// CHECK: scf.for {{.*}} -> (tensor<72x32xf32>)
// CHECK: %[[WIDE:.*]] = vector.transfer_read %[[FLAT]][%{{.*}}], %{{.*}}, %{{.*}} : tensor<9248xf32>, vector<64xf32>
// CHECK: vector.shuffle %[[WIDE]], %[[WIDE]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62] : vector<64xf32>, vector<64xf32>
// CHECK: vector.transfer_write {{.*}} : vector<32xf32>, tensor<72x32xf32>
// CHECK-NOT: vector.gather
// CHECK-NOT: linalg.generic
// OFF-LABEL: func @conv_stride2_deinterleaves
// OFF: linalg.generic
// OFF-NOT: vector.shuffle
// OFF-NOT: tensor<9248xf32>
// With deinterleave-stride2=false, stride 2 gathers like stride 3.
// GATHER-LABEL: func @conv_stride2_deinterleaves
// GATHER: vector.gather {{.*}} : tensor<9248xf32>, vector<32xi32>, vector<32xi1>, vector<32xf32> into vector<32xf32>
// GATHER-NOT: vector.shuffle
func.func @conv_stride2_deinterleaves(%image: tensor<1x8x34x34xf32>, %w: tensor<32x72xf32>) -> tensor<32x256xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %2 = tensor.empty() : tensor<8x3x3x1x16x16xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_s2, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%image : tensor<1x8x34x34xf32>) outs(%2 : tensor<8x3x3x1x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x3x3x1x16x16xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x16x16xf32> into tensor<72x256xf32>
  %4 = tensor.empty() : tensor<32x256xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x256xf32>) -> tensor<32x256xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x72xf32>, tensor<72x256xf32>) outs(%5 : tensor<32x256xf32>) -> tensor<32x256xf32>
  return %6 : tensor<32x256xf32>
}

// -----

#im2col_s3 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 3 + d1, d5 * 3 + d2)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// Stride 3: only stride 2 is read wide and deinterleaved; a masked gather
// per segment.
// CHECK-LABEL: func @conv_stride3_gathers
// CHECK: vector.gather {{.*}} : tensor<{{.*}}xf32>, vector<32xi32>, vector<32xi1>, vector<32xf32> into vector<32xf32>
// CHECK-NOT: vector.shuffle
// CHECK-NOT: linalg.generic
func.func @conv_stride3_gathers(%image: tensor<1x8x50x50xf32>, %w: tensor<32x72xf32>) -> tensor<32x256xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %2 = tensor.empty() : tensor<8x3x3x1x16x16xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_s3, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%image : tensor<1x8x50x50xf32>) outs(%2 : tensor<8x3x3x1x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x3x3x1x16x16xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x16x16xf32> into tensor<72x256xf32>
  %4 = tensor.empty() : tensor<32x256xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x256xf32>) -> tensor<32x256xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x72xf32>, tensor<72x256xf32>) outs(%5 : tensor<32x256xf32>) -> tensor<32x256xf32>
  return %6 : tensor<32x256xf32>
}

// -----

#im2col_s2 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// Output rows of 14 pixels: a sliver spans up to 4 of them, more reads per
// tap than the im2col copy costs. The copy stays.
// CHECK-LABEL: func @conv_short_rows
// CHECK: linalg.generic
// CHECK-NOT: vector.gather
func.func @conv_short_rows(%image: tensor<1x8x30x30xf32>, %w: tensor<32x72xf32>) -> tensor<32x196xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %2 = tensor.empty() : tensor<8x3x3x1x14x14xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_s2, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%image : tensor<1x8x30x30xf32>) outs(%2 : tensor<8x3x3x1x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x3x3x1x14x14xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x14x14xf32> into tensor<72x196xf32>
  %4 = tensor.empty() : tensor<32x196xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x196xf32>) -> tensor<32x196xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x72xf32>, tensor<72x196xf32>) outs(%5 : tensor<32x196xf32>) -> tensor<32x196xf32>
  return %6 : tensor<32x196xf32>
}

// -----

#swapped = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d4 + d1, d5 + d2)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>

// Not an im2col (image and channel swapped in the read): B is copied into
// the packed buffers as it is.
// CHECK-LABEL: func @not_im2col
// CHECK: linalg.generic
// CHECK-NOT: vector.gather
// CHECK-NOT: tensor<7200xf32>
func.func @not_im2col(%image: tensor<8x1x30x30xf32>, %w: tensor<32x72xf32>) -> tensor<32x784xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %2 = tensor.empty() : tensor<8x3x3x1x28x28xf32>
  %3 = linalg.generic {indexing_maps = [#swapped, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%image : tensor<8x1x30x30xf32>) outs(%2 : tensor<8x3x3x1x28x28xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<8x3x3x1x28x28xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x28x28xf32> into tensor<72x784xf32>
  %4 = tensor.empty() : tensor<32x784xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x784xf32>) -> tensor<32x784xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x72xf32>, tensor<72x784xf32>) outs(%5 : tensor<32x784xf32>) -> tensor<32x784xf32>
  return %6 : tensor<32x784xf32>
}

// -----

// K = 576 (64 channels x 3x3): k blocks of whole windows, 144 rows (16
// channels), each sliver's rows walked by channel and kernel row with no
// division; with window-k-blocks=false, blocks of 192 rows whose taps are
// found by division per row.
// CHECK-LABEL: func @conv3x3_window_blocks
// CHECK: tensor.empty() : tensor<144x32xf32>
// CHECK: scf.for {{.*}} to %c16 step %c1 {{.*}} -> (tensor<144x32xf32>)
// CHECK: scf.for {{.*}} to %c3 step %c1 {{.*}} -> (tensor<144x32xf32>)
// CHECK-NOT: tensor<192x32xf32>
// DIVIDED-LABEL: func @conv3x3_window_blocks
// DIVIDED: tensor.empty() : tensor<192x32xf32>
// DIVIDED: scf.for {{.*}} to %c192 step %c1 {{.*}} -> (tensor<192x32xf32>)
// DIVIDED: arith.divui %{{.*}}, %c9 : index
// DIVIDED-NOT: tensor<144x32xf32>
#im2col_k = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 + d1, d5 + d2)>
#id6_k = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @conv3x3_window_blocks(%image: tensor<1x64x16x16xf32>, %w: tensor<32x576xf32>) -> tensor<32x256xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<1x64x18x18xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x64x18x18xf32>) -> tensor<1x64x18x18xf32>
  %padded = tensor.insert_slice %image into %1[0, 0, 1, 1] [1, 64, 16, 16] [1, 1, 1, 1] : tensor<1x64x16x16xf32> into tensor<1x64x18x18xf32>
  %2 = tensor.empty() : tensor<64x3x3x1x16x16xf32>
  %3 = linalg.generic {indexing_maps = [#im2col_k, #id6_k], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%padded : tensor<1x64x18x18xf32>) outs(%2 : tensor<64x3x3x1x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<64x3x3x1x16x16xf32>
  %cols = tensor.collapse_shape %3 [[0, 1, 2], [3, 4, 5]] : tensor<64x3x3x1x16x16xf32> into tensor<576x256xf32>
  %4 = tensor.empty() : tensor<32x256xf32>
  %5 = linalg.fill ins(%cst : f32) outs(%4 : tensor<32x256xf32>) -> tensor<32x256xf32>
  %6 = linalg.matmul ins(%w, %cols : tensor<32x576xf32>, tensor<576x256xf32>) outs(%5 : tensor<32x256xf32>) -> tensor<32x256xf32>
  return %6 : tensor<32x256xf32>
}
