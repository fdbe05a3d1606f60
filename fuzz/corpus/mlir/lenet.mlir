// LeNet-5 for 28x28 single-channel images (Fashion-MNIST) at batch 64:
// conv5x5x6 (pad 2) - relu - maxpool2 - conv5x5x16 - relu - maxpool2 -
// fc120 - relu - fc84 - relu - fc10. @forward maps images to logits; @loss
// maps logits and integer labels to the mean softmax cross-entropy.
module {
  func.func @forward(%x: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> {
    %k1 = anvil.param "conv1.weight" init = "kaiming_uniform" : tensor<6x1x5x5xf32>
    %c1b = anvil.param "conv1.bias" init = "zeros" : tensor<6xf32>
    %c1 = anvil.conv2d %x, %k1, %c1b {pads = array<i64: 2, 2, 2, 2>} : tensor<64x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>
    %r1 = anvil.relu %c1 : tensor<64x6x28x28xf32>
    %p1 = anvil.max_pool2d %r1 {kernel = array<i64: 2, 2>} : tensor<64x6x28x28xf32>
    %k2 = anvil.param "conv2.weight" init = "kaiming_uniform" : tensor<16x6x5x5xf32>
    %c2b = anvil.param "conv2.bias" init = "zeros" : tensor<16xf32>
    %c2 = anvil.conv2d %p1, %k2, %c2b : tensor<64x6x14x14xf32>, tensor<16x6x5x5xf32>, tensor<16xf32>
    %r2 = anvil.relu %c2 : tensor<64x16x10x10xf32>
    %p2 = anvil.max_pool2d %r2 {kernel = array<i64: 2, 2>} : tensor<64x16x10x10xf32>
    %f = anvil.flatten %p2 : tensor<64x16x5x5xf32>
    %w3 = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<400x120xf32>
    %b3 = anvil.param "fc1.bias" init = "zeros" : tensor<120xf32>
    %m3 = anvil.matmul %f, %w3 : tensor<64x400xf32>, tensor<400x120xf32>
    %a3 = anvil.add %m3, %b3 : tensor<64x120xf32>, tensor<120xf32>
    %h3 = anvil.relu %a3 : tensor<64x120xf32>
    %w4 = anvil.param "fc2.weight" init = "kaiming_uniform" : tensor<120x84xf32>
    %b4 = anvil.param "fc2.bias" init = "zeros" : tensor<84xf32>
    %m4 = anvil.matmul %h3, %w4 : tensor<64x120xf32>, tensor<120x84xf32>
    %a4 = anvil.add %m4, %b4 : tensor<64x84xf32>, tensor<84xf32>
    %h4 = anvil.relu %a4 : tensor<64x84xf32>
    %w5 = anvil.param "fc3.weight" init = "xavier_uniform" : tensor<84x10xf32>
    %b5 = anvil.param "fc3.bias" init = "zeros" : tensor<10xf32>
    %m5 = anvil.matmul %h4, %w5 : tensor<64x84xf32>, tensor<84x10xf32>
    %logits = anvil.add %m5, %b5 : tensor<64x10xf32>, tensor<10xf32>
    return %logits : tensor<64x10xf32>
  }

  func.func @loss(%logits: tensor<64x10xf32>, %labels: tensor<64xi64>) -> tensor<f32> {
    %l = anvil.softmax_cross_entropy %logits, %labels : tensor<64x10xf32>, tensor<64xi64>
    return %l : tensor<f32>
  }
}
