// A tiny model for the tool tests: y = relu(x @ w + b) with given weights,
// and a loss over two labels.
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = anvil.param "w" init = "dense" {value = dense<[[1.0, -1.0], [2.0, 0.5], [-1.0, 1.0]]> : tensor<3x2xf32>} : tensor<3x2xf32>
  %b = anvil.param "b" init = "dense" {value = dense<[0.5, -0.5]> : tensor<2xf32>} : tensor<2xf32>
  %m = anvil.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32>
  %a = anvil.add %m, %b : tensor<2x2xf32>, tensor<2xf32>
  %y = anvil.relu %a : tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

func.func @loss(%logits: tensor<2x2xf32>, %labels: tensor<2xi64>) -> tensor<f32> {
  %l = anvil.softmax_cross_entropy %logits, %labels : tensor<2x2xf32>, tensor<2xi64>
  return %l : tensor<f32>
}
