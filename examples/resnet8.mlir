// ResNet-8 for 28x28 single-channel images (Fashion-MNIST) at batch 64: a
// stem (conv3x3, 16 channels, batch norm, relu), three stages of one basic
// block each (16, 32, 64 channels; the 2nd and 3rd halve the map with
// stride 2 and take a 1x1 conv + batch norm projection as the shortcut),
// each block conv3x3-bn-relu-conv3x3-bn, shortcut add, relu; then global
// average pooling and a linear layer to 10 classes. Convolutions have no
// bias (the batch norm after each has one). The batch norms are written in
// their inference form, over `running_mean` / `running_var` parameters:
// `anvilc train` trains them with the batch's statistics and updates the
// running ones (PyTorch's rule, momentum 0.1); @eval_step, the exported
// model and `anvilc --weights` use the running statistics, and the compiler
// folds each batch norm into the convolution before it. @loss maps logits
// and integer labels to the mean softmax cross-entropy.
module {
  func.func @forward(%x: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> {
    // stem: 1 -> 16 channels
    %w1 = anvil.param "stem.conv.weight" init = "kaiming_uniform" : tensor<16x1x3x3xf32>
    %c2 = anvil.conv2d %x, %w1 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x1x28x28xf32>, tensor<16x1x3x3xf32>
    %g3 = anvil.param "stem.bn.weight" init = "ones" : tensor<16xf32>
    %g4 = anvil.param "stem.bn.bias" init = "zeros" : tensor<16xf32>
    %g5 = anvil.param "stem.bn.running_mean" init = "zeros" : tensor<16xf32>
    %g6 = anvil.param "stem.bn.running_var" init = "ones" : tensor<16xf32>
    %n7 = anvil.batch_norm %c2, %g3, %g4, %g5, %g6 : tensor<64x16x28x28xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
    %r8 = anvil.relu %n7 : tensor<64x16x28x28xf32>
    // layer1: 16 -> 16 channels
    %w9 = anvil.param "layer1.conv1.weight" init = "kaiming_uniform" : tensor<16x16x3x3xf32>
    %c10 = anvil.conv2d %r8, %w9 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x16x28x28xf32>, tensor<16x16x3x3xf32>
    %g11 = anvil.param "layer1.bn1.weight" init = "ones" : tensor<16xf32>
    %g12 = anvil.param "layer1.bn1.bias" init = "zeros" : tensor<16xf32>
    %g13 = anvil.param "layer1.bn1.running_mean" init = "zeros" : tensor<16xf32>
    %g14 = anvil.param "layer1.bn1.running_var" init = "ones" : tensor<16xf32>
    %n15 = anvil.batch_norm %c10, %g11, %g12, %g13, %g14 : tensor<64x16x28x28xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
    %r16 = anvil.relu %n15 : tensor<64x16x28x28xf32>
    %w17 = anvil.param "layer1.conv2.weight" init = "kaiming_uniform" : tensor<16x16x3x3xf32>
    %c18 = anvil.conv2d %r16, %w17 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x16x28x28xf32>, tensor<16x16x3x3xf32>
    %g19 = anvil.param "layer1.bn2.weight" init = "ones" : tensor<16xf32>
    %g20 = anvil.param "layer1.bn2.bias" init = "zeros" : tensor<16xf32>
    %g21 = anvil.param "layer1.bn2.running_mean" init = "zeros" : tensor<16xf32>
    %g22 = anvil.param "layer1.bn2.running_var" init = "ones" : tensor<16xf32>
    %n23 = anvil.batch_norm %c18, %g19, %g20, %g21, %g22 : tensor<64x16x28x28xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
    %s24 = anvil.add %n23, %r8 : tensor<64x16x28x28xf32>, tensor<64x16x28x28xf32>
    %r25 = anvil.relu %s24 : tensor<64x16x28x28xf32>
    // layer2: 16 -> 32 channels, stride 2
    %w26 = anvil.param "layer2.conv1.weight" init = "kaiming_uniform" : tensor<32x16x3x3xf32>
    %c27 = anvil.conv2d %r25, %w26 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<64x16x28x28xf32>, tensor<32x16x3x3xf32>
    %g28 = anvil.param "layer2.bn1.weight" init = "ones" : tensor<32xf32>
    %g29 = anvil.param "layer2.bn1.bias" init = "zeros" : tensor<32xf32>
    %g30 = anvil.param "layer2.bn1.running_mean" init = "zeros" : tensor<32xf32>
    %g31 = anvil.param "layer2.bn1.running_var" init = "ones" : tensor<32xf32>
    %n32 = anvil.batch_norm %c27, %g28, %g29, %g30, %g31 : tensor<64x32x14x14xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
    %r33 = anvil.relu %n32 : tensor<64x32x14x14xf32>
    %w34 = anvil.param "layer2.conv2.weight" init = "kaiming_uniform" : tensor<32x32x3x3xf32>
    %c35 = anvil.conv2d %r33, %w34 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x32x14x14xf32>, tensor<32x32x3x3xf32>
    %g36 = anvil.param "layer2.bn2.weight" init = "ones" : tensor<32xf32>
    %g37 = anvil.param "layer2.bn2.bias" init = "zeros" : tensor<32xf32>
    %g38 = anvil.param "layer2.bn2.running_mean" init = "zeros" : tensor<32xf32>
    %g39 = anvil.param "layer2.bn2.running_var" init = "ones" : tensor<32xf32>
    %n40 = anvil.batch_norm %c35, %g36, %g37, %g38, %g39 : tensor<64x32x14x14xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
    %w41 = anvil.param "layer2.shortcut.conv.weight" init = "kaiming_uniform" : tensor<32x16x1x1xf32>
    %c42 = anvil.conv2d %r25, %w41 {strides = array<i64: 2, 2>} : tensor<64x16x28x28xf32>, tensor<32x16x1x1xf32>
    %g43 = anvil.param "layer2.shortcut.bn.weight" init = "ones" : tensor<32xf32>
    %g44 = anvil.param "layer2.shortcut.bn.bias" init = "zeros" : tensor<32xf32>
    %g45 = anvil.param "layer2.shortcut.bn.running_mean" init = "zeros" : tensor<32xf32>
    %g46 = anvil.param "layer2.shortcut.bn.running_var" init = "ones" : tensor<32xf32>
    %n47 = anvil.batch_norm %c42, %g43, %g44, %g45, %g46 : tensor<64x32x14x14xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
    %s48 = anvil.add %n40, %n47 : tensor<64x32x14x14xf32>, tensor<64x32x14x14xf32>
    %r49 = anvil.relu %s48 : tensor<64x32x14x14xf32>
    // layer3: 32 -> 64 channels, stride 2
    %w50 = anvil.param "layer3.conv1.weight" init = "kaiming_uniform" : tensor<64x32x3x3xf32>
    %c51 = anvil.conv2d %r49, %w50 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : tensor<64x32x14x14xf32>, tensor<64x32x3x3xf32>
    %g52 = anvil.param "layer3.bn1.weight" init = "ones" : tensor<64xf32>
    %g53 = anvil.param "layer3.bn1.bias" init = "zeros" : tensor<64xf32>
    %g54 = anvil.param "layer3.bn1.running_mean" init = "zeros" : tensor<64xf32>
    %g55 = anvil.param "layer3.bn1.running_var" init = "ones" : tensor<64xf32>
    %n56 = anvil.batch_norm %c51, %g52, %g53, %g54, %g55 : tensor<64x64x7x7xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
    %r57 = anvil.relu %n56 : tensor<64x64x7x7xf32>
    %w58 = anvil.param "layer3.conv2.weight" init = "kaiming_uniform" : tensor<64x64x3x3xf32>
    %c59 = anvil.conv2d %r57, %w58 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x64x7x7xf32>, tensor<64x64x3x3xf32>
    %g60 = anvil.param "layer3.bn2.weight" init = "ones" : tensor<64xf32>
    %g61 = anvil.param "layer3.bn2.bias" init = "zeros" : tensor<64xf32>
    %g62 = anvil.param "layer3.bn2.running_mean" init = "zeros" : tensor<64xf32>
    %g63 = anvil.param "layer3.bn2.running_var" init = "ones" : tensor<64xf32>
    %n64 = anvil.batch_norm %c59, %g60, %g61, %g62, %g63 : tensor<64x64x7x7xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
    %w65 = anvil.param "layer3.shortcut.conv.weight" init = "kaiming_uniform" : tensor<64x32x1x1xf32>
    %c66 = anvil.conv2d %r49, %w65 {strides = array<i64: 2, 2>} : tensor<64x32x14x14xf32>, tensor<64x32x1x1xf32>
    %g67 = anvil.param "layer3.shortcut.bn.weight" init = "ones" : tensor<64xf32>
    %g68 = anvil.param "layer3.shortcut.bn.bias" init = "zeros" : tensor<64xf32>
    %g69 = anvil.param "layer3.shortcut.bn.running_mean" init = "zeros" : tensor<64xf32>
    %g70 = anvil.param "layer3.shortcut.bn.running_var" init = "ones" : tensor<64xf32>
    %n71 = anvil.batch_norm %c66, %g67, %g68, %g69, %g70 : tensor<64x64x7x7xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
    %s72 = anvil.add %n64, %n71 : tensor<64x64x7x7xf32>, tensor<64x64x7x7xf32>
    %r73 = anvil.relu %s72 : tensor<64x64x7x7xf32>
    // head: global average pool, linear to 10 classes
    %pool = anvil.global_avg_pool %r73 : tensor<64x64x7x7xf32>
    %flat = anvil.flatten %pool : tensor<64x64x1x1xf32>
    %fw = anvil.param "fc.weight" init = "xavier_uniform" : tensor<64x10xf32>
    %fb = anvil.param "fc.bias" init = "zeros" : tensor<10xf32>
    %fm = anvil.matmul %flat, %fw : tensor<64x64xf32>, tensor<64x10xf32>
    %logits = anvil.add %fm, %fb : tensor<64x10xf32>, tensor<10xf32>
    return %logits : tensor<64x10xf32>
  }

  func.func @loss(%logits: tensor<64x10xf32>, %labels: tensor<64xi64>) -> tensor<f32> {
    %l = anvil.softmax_cross_entropy %logits, %labels : tensor<64x10xf32>, tensor<64xi64>
    return %l : tensor<f32>
  }
}
