//===- Hash.h - the two bit mixers Anvil's formats depend on ----*- C++ -*-===//
//
// FNV-1a 64 (the checksum of weights files, the default seed of a parameter
// from its name) and one splitmix64 step (the random stream of parameter
// initializers, dropout masks and the trainer's shuffles). Written once here,
// header-only and free of MLIR, so that the runtime, the dialect and the
// compiler all draw exactly the same bits; changing a constant changes every
// checkpoint and every initial weight.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_HASH_H
#define ANVIL_RUNTIME_HASH_H

#include <cstddef>
#include <cstdint>

namespace anvil {

/// FNV-1a 64's offset basis (the hash of nothing).
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
/// FNV-1a 64's prime.
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

/// FNV-1a 64 of `size` bytes at `data`.
inline uint64_t fnv1a(const char *data, size_t size) {
  uint64_t h = kFnvOffsetBasis;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= kFnvPrime;
  }
  return h;
}

/// What splitmix64 adds to its state at each step (the golden ratio).
constexpr uint64_t kSplitMixGamma = 0x9e3779b97f4a7c15ULL;
/// splitmix64's output mix: z ^= z >> shift, then z *= multiplier, for each
/// {shift, multiplier}; the last step only shifts (multiplier 0).
constexpr uint64_t kSplitMixShifts[3] = {30, 27, 31};
constexpr uint64_t kSplitMixMultipliers[3] = {0xbf58476d1ce4e5b9ULL,
                                              0x94d049bb133111ebULL, 0};

/// splitmix64's output function for a state that was just advanced.
inline uint64_t splitMixOutput(uint64_t z) {
  for (int i = 0; i < 3; ++i) {
    z ^= z >> kSplitMixShifts[i];
    if (kSplitMixMultipliers[i])
      z *= kSplitMixMultipliers[i];
  }
  return z;
}

/// One splitmix64 step: advances `state` and returns the next output.
inline uint64_t splitMix64(uint64_t &state) {
  return splitMixOutput(state += kSplitMixGamma);
}

} // namespace anvil

#endif // ANVIL_RUNTIME_HASH_H
