// A chain of elementwise ops with exp inside (sigmoid and exp), for the
// tests of the backend optimizations' flags (optimization-flags.test).
func.func @forward(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = anvil.sigmoid %x : tensor<4x8xf32>
  %n = anvil.neg %s : tensor<4x8xf32>
  %e = anvil.exp %n : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}
