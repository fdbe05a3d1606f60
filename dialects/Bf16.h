//===- Bf16.h - f32 to bf16 rounding ----------------------------*- C++ -*-===//
//
// How an f32 becomes a bf16 (its upper 16 bits, rounded to nearest, ties to
// even, as vcvtneps2bf16 and LLVM's fptrunc to bfloat round), in one place:
// the reference kernel of a `bf16` anvil.matmul and anvil-bf16-matmul's
// weights packed at compile time round the same way as the compiled code.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_BF16_H
#define ANVIL_DIALECTS_BF16_H

#include <cstdint>
#include <cstring>

namespace mlir::anvil {

/// The bf16 bits of `x`, rounded to nearest even; a NaN stays a (quiet)
/// NaN.
inline uint16_t bf16Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// `x` rounded to the nearest bf16, as an f32.
inline float roundToBf16(float x) {
  uint32_t bits = static_cast<uint32_t>(bf16Bits(x)) << 16;
  float y;
  std::memcpy(&y, &bits, sizeof y);
  return y;
}

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_BF16_H
