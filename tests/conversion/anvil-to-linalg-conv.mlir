// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-convert-to-linalg=vector-col2im=false | FileCheck %s --check-prefix=GATHER

// A 1x1 stride-1 convolution of one image needs no im2col: the input
// [1, C, H, W] is the [C, H*W] matrix, and the product [O, H*W] is already
// NCHW.
// CHECK-LABEL: func @conv_pointwise
// CHECK-NOT: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x8x7x7xf32>)
// CHECK: %[[COLS:.*]] = tensor.expand_shape {{.*}} : tensor<392xf32> into tensor<8x49xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%{{.*}}, %[[COLS]] : tensor<16x8xf32>, tensor<8x49xf32>) outs(%{{.*}} : tensor<16x49xf32>)
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[P]]
// CHECK: %[[R:.*]] = tensor.expand_shape %[[F]] {{.*}} into tensor<1x16x7x7xf32>
// CHECK-NOT: linalg.transpose
// CHECK: return %[[R]]
func.func @conv_pointwise(%x: tensor<1x8x7x7xf32>, %w: tensor<16x8x1x1xf32>, %b: tensor<16xf32>) -> tensor<1x16x7x7xf32> {
  %0 = anvil.conv2d %x, %w, %b : tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>, tensor<16xf32>
  return %0 : tensor<1x16x7x7xf32>
}

// -----

// Padding keeps it a reshape, of the padded image: zeros, with the image
// inserted into their interior.
// CHECK-LABEL: func @conv_pointwise_padded
// CHECK-NOT: tensor.pad
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<1x8x9x9xf32>
// CHECK: %[[PAD:.*]] = tensor.insert_slice %{{.*}} into %[[Z]][0, 0, 1, 1] [1, 8, 7, 7] [1, 1, 1, 1]
// CHECK: tensor.collapse_shape %[[PAD]] {{.*}} : tensor<1x8x9x9xf32> into tensor<648xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x81xf32>)
// CHECK-NOT: linalg.transpose
func.func @conv_pointwise_padded(%x: tensor<1x8x7x7xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<1x16x9x9xf32> {
  %0 = anvil.conv2d %x, %w {pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x7x7xf32>, tensor<16x8x1x1xf32>
  return %0 : tensor<1x16x9x9xf32>
}

// -----

// A batch is convolved one image at a time: a loop carrying the result and
// the padded image (zero border filled once, before the loop; each image is
// inserted into its interior), writing one image's im2col matrix into a
// tensor made before the loop (one buffer). Each image's product
// [O, OH*OW] goes straight into its NCHW result: no transpose, no padded
// copy of the batch.
// CHECK-LABEL: func @conv_batch
// CHECK-NOT: tensor.pad
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<1x8x10x10xf32>
// CHECK: %[[COLS:.*]] = tensor.empty() : tensor<8x3x3x1x8x8xf32>
// CHECK: %[[OUT0:.*]] = tensor.empty() : tensor<2x16x8x8xf32>
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[OUT:.*]] = %[[OUT0]], %[[PADDED:.*]] = %[[Z]])
// CHECK:   %[[IMAGE:.*]] = tensor.extract_slice %{{.*}}[%[[N]], 0, 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<2x8x8x8xf32> to tensor<1x8x8x8xf32>
// CHECK:   %[[SLOT:.*]] = tensor.extract_slice %[[OUT]][%[[N]], 0, 0, 0] [1, 16, 8, 8]
// CHECK:   %[[P:.*]] = tensor.insert_slice %[[IMAGE]] into %[[PADDED]][0, 0, 1, 1] [1, 8, 8, 8] [1, 1, 1, 1]
// CHECK:   %[[IM2COL:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<1x8x10x10xf32>) outs(%[[COLS]] : tensor<8x3x3x1x8x8xf32>)
// CHECK:   tensor.collapse_shape %[[IM2COL]]
// CHECK:   %[[C2:.*]] = tensor.expand_shape {{.*}} into tensor<72x64xf32>
// CHECK:   tensor.collapse_shape %[[SLOT]]
// CHECK:   %[[ACC:.*]] = tensor.expand_shape {{.*}} into tensor<16x64xf32>
// CHECK:   %[[BIAS:.*]] = linalg.broadcast ins(%{{.*}} : tensor<16xf32>) outs(%[[ACC]] : tensor<16x64xf32>) dimensions = [1]
// CHECK:   %[[PROD:.*]] = linalg.matmul ins(%{{.*}}, %[[C2]] : tensor<16x72xf32>, tensor<72x64xf32>) outs(%[[BIAS]] : tensor<16x64xf32>)
// CHECK:   %[[R:.*]] = tensor.insert_slice %{{.*}} into %[[OUT]][%[[N]], 0, 0, 0] [1, 16, 8, 8]
// CHECK:   scf.yield %[[R]], %[[P]]
// CHECK-NOT: linalg.transpose
func.func @conv_batch(%x: tensor<2x8x8x8xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<2x16x8x8xf32> {
  %0 = anvil.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>} : tensor<2x8x8x8xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>
  return %0 : tensor<2x16x8x8xf32>
}

// -----

// A 1x1 stride-1 convolution of a batch needs no im2col either: each image
// is its own [C, H*W] matrix. (No bias: the product starts from zeros.)
// CHECK-LABEL: func @conv_pointwise_batch
// CHECK: scf.for %[[N:.*]] = %{{.*}} iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<3x16x8x8xf32>)
// CHECK:   %[[IMAGE:.*]] = tensor.extract_slice %{{.*}}[%[[N]], 0, 0, 0] [1, 8, 8, 8]
// CHECK-NOT: linalg.generic
// CHECK:   %[[F:.*]] = tensor.collapse_shape %[[IMAGE]] {{.*}} : tensor<1x8x8x8xf32> into tensor<512xf32>
// CHECK:   %[[COLS:.*]] = tensor.expand_shape %[[F]] {{.*}} into tensor<8x64xf32>
// CHECK:   %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<16x64xf32>
// CHECK:   linalg.matmul ins(%{{.*}}, %[[COLS]] : tensor<16x8xf32>, tensor<8x64xf32>) outs(%[[ZERO]] : tensor<16x64xf32>)
// CHECK-NOT: linalg.transpose
func.func @conv_pointwise_batch(%x: tensor<3x8x8x8xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<3x16x8x8xf32> {
  %0 = anvil.conv2d %x, %w : tensor<3x8x8x8xf32>, tensor<16x8x1x1xf32>
  return %0 : tensor<3x16x8x8xf32>
}

// -----

// Negative: images of fewer than 64 output pixels (here 7x7) are
// convolved all at once, so that the N*OH*OW columns fill the matmul's
// vector registers: im2col of the padded batch, one matmul, a transpose
// back to NCHW (even for a 1x1 stride-1 convolution).
// CHECK-LABEL: func @conv_small_images_batched
// CHECK-NOT: scf.for
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x8x7x7xf32>) outs(%{{.*}} : tensor<8x1x1x2x7x7xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<8x98xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<16x2x7x7xf32>) outs(%{{.*}} : tensor<2x16x7x7xf32>) permutation = [1, 0, 2, 3]
func.func @conv_small_images_batched(%x: tensor<2x8x7x7xf32>, %w: tensor<16x8x1x1xf32>) -> tensor<2x16x7x7xf32> {
  %0 = anvil.conv2d %x, %w : tensor<2x8x7x7xf32>, tensor<16x8x1x1xf32>
  return %0 : tensor<2x16x7x7xf32>
}

// -----

// The input gradient's col2im (one group, stride 1 along the rows) as
// vector code, per image an scf.forall iteration. A padded row of 8 fits a
// vector: per channel and padded row, its sum in a register over the taps
// whose output row reads it (an scf.if per filter row), each tap's OW (6)
// values of dcols, viewed [C*kh*kw, N, OH, OW], shifted right by j, written
// once.
// CHECK-LABEL: func @col2im_vector
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs
// CHECK: tensor.extract_slice {{.*}} to tensor<1x3x8x8xf32>
// CHECK: scf.if {{.*}} -> (vector<16xf32>)
// CHECK: vector.transfer_read {{[^{]*}} : tensor<27x2x6x6xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: vector.shuffle {{.*}} [16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
// CHECK: vector.shuffle {{.*}} [16, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
// CHECK: vector.transfer_write {{[^{]*}} : vector<16xf32>, tensor<1x3x8x8xf32>
// CHECK: tensor.parallel_insert_slice
// GATHER-LABEL: func @col2im_vector
// GATHER-NOT: scf.forall
// GATHER: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// GATHER: tensor.extract
func.func @col2im_vector(%gy: tensor<2x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32> {
  %r = anvil.conv2d_grad_input %gy, %w {input_size = array<i64: 8, 8>} : tensor<2x4x6x6xf32>, tensor<4x3x3x3xf32>
  return %r : tensor<2x3x8x8xf32>
}

// -----

// Padded rows of 20: per channel, tap and output row, the row's OW (18)
// values added to the padded row 16 at a time (the second masked), as
// read-modify-writes.
// CHECK-LABEL: func @col2im_wide
// CHECK: scf.forall
// CHECK: vector.transfer_read {{[^{]*}} : tensor<27x1x4x18xf32>, vector<16xf32>
// CHECK: vector.transfer_read {{[^{]*}} : tensor<1x3x6x20xf32>, vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: vector.transfer_write {{[^{]*}} : vector<16xf32>, tensor<1x3x6x20xf32>
func.func @col2im_wide(%gy: tensor<1x4x4x18xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x3x6x20xf32> {
  %r = anvil.conv2d_grad_input %gy, %w {input_size = array<i64: 6, 20>} : tensor<1x4x4x18xf32>, tensor<4x3x3x3xf32>
  return %r : tensor<1x3x6x20xf32>
}
