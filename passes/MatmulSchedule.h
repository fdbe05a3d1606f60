//===- MatmulSchedule.h - decisions of the matmul schedule ------*- C++ -*-===//
//
// The decisions of anvil-tile-and-vectorize that other parts of the compiler
// must predict, in one place: the fusion report (compiler/FusionReport.cpp)
// says a matmul's epilogue is fused exactly when the schedule will run it in
// the matmul's parallel blocks, and whether in its register tiles.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_MATMULSCHEDULE_H
#define ANVIL_PASSES_MATMULSCHEDULE_H

#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>

namespace mlir::anvil {

/// The fewest independent accumulators that keep both FMA pipes busy: an
/// FMA's latency (4 cycles on Zen 3 to 5 and Skylake) times its two pipes.
/// A register tile of no more waits on its own sums at every hiccup.
constexpr int64_t kFmaChains = 8;

/// Whether anvil-tile-and-vectorize splits one static `linalg.matmul` of
/// M x K times K x N into parallel cache blocks (an scf.forall, later
/// OpenMP), into which it fuses the matmul's epilogue. Below ~8 MFLOP a
/// fork/join costs more than it saves: the product is one block and its
/// epilogue stays a separate loop. For a convolution the matmul is one
/// image's (M = output channels, N = output pixels, K = input channels x
/// kernel window), not the whole batch's.
inline bool matmulRunsInParallelBlocks(int64_t m, int64_t n, int64_t k) {
  return 2.0 * double(m) * double(n) * double(k) >= 8e6;
}

/// The largest divisor of `n` that is at most `limit` and a multiple of
/// `step` (which divides n), so that every tile is full.
inline int64_t matmulTileSize(int64_t n, int64_t limit, int64_t step = 1) {
  for (int64_t t = std::min(n, limit) / step * step; t >= step; t -= step)
    if (n % t == 0)
      return t;
  return step;
}

/// The target's vector registers, which size the register tile: `lanes`
/// f32 lanes per register; tiles of up to `rows` rows by two registers'
/// lanes. AVX-512 (32 registers of 16 lanes): 8 x 32, 16 accumulators.
/// AVX2 (16 registers of 8 lanes): 6 x 16, 12 accumulators, which leave
/// room for B's two vectors and a broadcast (8 x 32 there is 32
/// accumulators in 16 registers: spilled on every k step).
struct MatmulRegisters {
  int64_t lanes, rows;
  int64_t tile() const { return 2 * lanes; }
};

inline MatmulRegisters matmulRegistersFor(int64_t vectorBits) {
  if (vectorBits <= 256)
    return {8, 6};
  return {16, 8};
}

/// The rows of a packed block's register tiles (`full-height-tiles`):
/// the registers' full height (matmulRowTiles: a shorter tile or two for
/// the block's last rows) where M's largest divisor up to that height,
/// `mr`, gives tiles of at most kFmaChains accumulators (ResNet's 64 to
/// 2048 channels have 4 on AVX2, not 6: 8 accumulators, which two FMA
/// pipes of 4 cycles' latency keep just busy, against 12), M is at least
/// 256 and K at least 128. Measured on a 2-core Zen 3, ResNet-50's 1x1
/// convolutions at batch 8, 1 thread: with K of 512 to 2048, 3-6% faster
/// on 6-row tiles; with K = 64 (64 -> 256 channels) 3.5% slower, and with
/// M = 64 or 128 (K = 256) 1-2% slower. Otherwise, and where the full
/// height would leave a one-row tile, `mr`.
inline int64_t matmulRowTileHeight(int64_t m, int64_t k, int64_t mc, int64_t mr,
                                   const MatmulRegisters &regs, bool full) {
  if (!full || 2 * mr > kFmaChains || m < 256 || k < 128 || mc < regs.rows ||
      mc % regs.rows == 1)
    return mr;
  return regs.rows;
}

/// A block of `mc` rows in row tiles of `tileRows`: returns the rows the
/// whole tiles cover, the last rows' tiles in `last`. A remainder under half
/// a tile takes one whole tile with it, the two split evenly (128 rows in
/// tiles of 6: 20 tiles and two of 4, not 21 and one of 2, whose 4
/// accumulators wait on their sums).
inline int64_t matmulRowTiles(int64_t mc, int64_t tileRows,
                              llvm::SmallVectorImpl<int64_t> &last) {
  int64_t rest = mc % tileRows, whole = mc - rest;
  if (rest == 0)
    return whole;
  if (2 * rest < tileRows && whole >= tileRows) {
    whole -= tileRows;
    rest += tileRows;
    last.push_back((rest + 1) / 2);
    last.push_back(rest / 2);
    return whole;
  }
  last.push_back(rest);
  return whole;
}

/// Whether the schedule packs B's slivers (with its `pack` option): a
/// block with at least one whole two-register panel and two row tiles that
/// reuse it; with `constantB` (B a constant the schedule reads from panels
/// made at compile time, `pack-constant-b`), one row tile is enough: its
/// panels cost no copy, and each is one contiguous stream instead of kc
/// rows N floats apart (a classifier's 8 x 1000 x 1280 product read its
/// weights one 4 KB page per k step).
inline bool matmulPacksB(int64_t m, int64_t n, const MatmulRegisters &regs,
                         bool constantB = false) {
  return n >= regs.tile() &&
         (constantB || m >= 2 * matmulTileSize(m, regs.rows));
}

/// The k block of a product of depth `k`: the largest divisor up to 256;
/// packed, one block when that divisor is under 32 (a prime), and with
/// `kStep` > 1 (a convolution's filter window, kh * kw) whole windows.
inline int64_t matmulKBlock(int64_t k, bool packed, int64_t kStep = 1) {
  int64_t kc = matmulTileSize(k, 256);
  if (packed && kc < 32)
    kc = k;
  if (packed && kStep > 1 && k % kStep == 0) {
    int64_t whole = matmulTileSize(k, 256, kStep);
    if (whole == k || (whole >= 32 && whole <= 256))
      kc = whole;
  }
  return kc;
}

/// Whether a matmul's fused epilogue can run in each register tile, before
/// the tile is stored (anvil-tile-and-vectorize's `epilogue-in-tiles`),
/// rather than over a finished cache block: B packed and the whole K one k
/// block, so that a tile's product is final. Parallel blocks or not: a
/// product too small for them is then one block with the epilogue in its
/// tiles, instead of a product followed by a loop over it that reads and
/// writes all of C once more (SqueezeNet's 1x1 convolutions, 1-7 MFLOP
/// per image).
inline bool matmulEpilogueInTiles(int64_t m, int64_t n, int64_t k,
                                  int64_t vectorBits, int64_t kStep = 1,
                                  bool constantB = false) {
  return matmulPacksB(m, n, matmulRegistersFor(vectorBits), constantB) &&
         matmulKBlock(k, /*packed=*/true, kStep) == k;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_MATMULSCHEDULE_H
