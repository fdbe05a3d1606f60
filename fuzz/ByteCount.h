//===- ByteCount.h - what a tensor's bytes must number ----------*- C++ -*-===//
//
// The readers promise arrays whose data is exactly product(shape) x element
// size bytes. A harness recomputes that without wrapping around (a reader
// that wraps accepts arrays that cannot exist) and checks it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_FUZZ_BYTECOUNT_H
#define ANVIL_FUZZ_BYTECOUNT_H

#include "runtime/Npy.h"

#include <cstdlib>
#include <vector>

namespace anvil::fuzz {

/// Aborts (a bug: the fuzzer reports it) unless `bytes` holds exactly the
/// data of a `dtype` tensor of `shape`, every dimension >= 0.
inline void checkByteCount(DType dtype, const std::vector<int64_t> &shape,
                           size_t bytes) {
  size_t expected = dtypeSize(dtype);
  bool overflow = false;
  for (int64_t dim : shape) {
    if (dim < 0)
      std::abort();
    overflow |=
        __builtin_mul_overflow(expected, static_cast<size_t>(dim), &expected);
  }
  // A zero dimension makes any product zero, overflowing or not.
  for (int64_t dim : shape)
    if (dim == 0)
      expected = 0, overflow = false;
  if (overflow || expected != bytes)
    std::abort();
}

} // namespace anvil::fuzz

#endif // ANVIL_FUZZ_BYTECOUNT_H
