func.func @constant() -> tensor<2xi64> {
  %c = anvil.constant dense<[1, 2]> : tensor<2xi64>
  return %c : tensor<2xi64>
}
