func.func @compare_predicate(%l: tensor<4xi64>) {
  %0 = anvil.compare "lg" %l, %l : tensor<4xi64>, tensor<4xi64>
  return
}
