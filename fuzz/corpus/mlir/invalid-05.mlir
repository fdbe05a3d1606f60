func.func @empty_param_name() {
  %0 = anvil.param "" init = "zeros" : tensor<3xf32>
  return
}
