func.func @losses(%logits: tensor<4x10xf32>, %labels: tensor<4xi64>, %p: tensor<4x1xf32>) -> (tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<4x1xf32>) {
  %0 = anvil.softmax_cross_entropy %logits, %labels : tensor<4x10xf32>, tensor<4xi64>
  %1 = anvil.nll_loss %logits, %labels {reduction = "none"} : tensor<4x10xf32>, tensor<4xi64>
  %2 = anvil.mse_loss %p, %p {reduction = "sum"} : tensor<4x1xf32>, tensor<4x1xf32>
  %3 = anvil.mse_loss %p, %p {reduction = "none"} : tensor<4x1xf32>, tensor<4x1xf32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<4x1xf32>
}
