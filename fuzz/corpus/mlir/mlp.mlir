// A 784-256-128-10 multilayer perceptron with ReLU, for 28x28 images such as
// Fashion-MNIST, at batch 64. @forward maps images to logits; @loss maps
// logits and integer labels to the mean softmax cross-entropy.
module {
  func.func @forward(%x: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> {
    %flat = anvil.flatten %x : tensor<64x1x28x28xf32>
    %w1 = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<784x256xf32>
    %b1 = anvil.param "fc1.bias" init = "zeros" : tensor<256xf32>
    %m1 = anvil.matmul %flat, %w1 : tensor<64x784xf32>, tensor<784x256xf32>
    %a1 = anvil.add %m1, %b1 : tensor<64x256xf32>, tensor<256xf32>
    %h1 = anvil.relu %a1 : tensor<64x256xf32>
    %w2 = anvil.param "fc2.weight" init = "kaiming_uniform" : tensor<256x128xf32>
    %b2 = anvil.param "fc2.bias" init = "zeros" : tensor<128xf32>
    %m2 = anvil.matmul %h1, %w2 : tensor<64x256xf32>, tensor<256x128xf32>
    %a2 = anvil.add %m2, %b2 : tensor<64x128xf32>, tensor<128xf32>
    %h2 = anvil.relu %a2 : tensor<64x128xf32>
    %w3 = anvil.param "fc3.weight" init = "xavier_uniform" : tensor<128x10xf32>
    %b3 = anvil.param "fc3.bias" init = "zeros" : tensor<10xf32>
    %m3 = anvil.matmul %h2, %w3 : tensor<64x128xf32>, tensor<128x10xf32>
    %logits = anvil.add %m3, %b3 : tensor<64x10xf32>, tensor<10xf32>
    return %logits : tensor<64x10xf32>
  }

  func.func @loss(%logits: tensor<64x10xf32>, %labels: tensor<64xi64>) -> tensor<f32> {
    %l = anvil.softmax_cross_entropy %logits, %labels : tensor<64x10xf32>, tensor<64xi64>
    return %l : tensor<f32>
  }
}
