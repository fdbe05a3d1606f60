//===- WindowSchedule.h - decisions of the window vectorizer ----*- C++ -*-===//
//
// The decisions of anvil-vectorize-windows that the fusion report
// (compiler/FusionReport.cpp) predicts, in one place: which rows of a
// window kernel (a depthwise convolution's, a pooling's) it vectorizes, and
// how many rows it computes together when their windows overlap.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_WINDOWSCHEDULE_H
#define ANVIL_PASSES_WINDOWSCHEDULE_H

#include <algorithm>
#include <cstdint>

namespace mlir::anvil {

/// The outputs per vector along a row (the pass's default `lanes`).
constexpr int64_t kWindowLanes = 16;
/// The shortest row `short-rows` vectorizes: narrower vectors save little.
constexpr int64_t kMinShortRow = 4;
/// The accumulators a block of rows keeps, in bits: eight 256-bit registers
/// (half of AVX2's, a quarter of AVX-512's), leaving the rest for the taps
/// read and the filter.
constexpr int64_t kRowBlockBits = 8 * 256;

/// The smallest power of two >= v.
inline int64_t windowPow2Ceil(int64_t v) {
  int64_t p = 1;
  while (p < v)
    p *= 2;
  return p;
}

/// Whether anvil-vectorize-windows rewrites a window generic whose rows are
/// `width` outputs wide: strided reads along them (which LLVM leaves
/// scalar), rows shorter than a vector (short-rows), or longer but not a
/// multiple of one (ragged-rows).
inline bool windowRowsVectorized(int64_t width, bool strided, int64_t lanes,
                                 bool shortRows, bool raggedRows) {
  return strided || (shortRows && width >= kMinShortRow && width < lanes) ||
         (raggedRows && width > lanes && width % lanes != 0);
}

/// How many of `height` rows `width` outputs wide, of `bits`-bit elements,
/// row-blocks computes together when they share reads: as many as
/// kRowBlockBits of accumulators hold (a row's widest vector: `lanes`
/// outputs, or the row, a power of two with masked tails), spread evenly
/// over the rows. 1: one row at a time.
inline int64_t windowRowBlock(int64_t width, int64_t height, int64_t bits,
                              int64_t lanes, bool maskedTails) {
  int64_t widest = width >= lanes ? lanes
                   : maskedTails  ? windowPow2Ceil(width)
                                  : width;
  int64_t most = kRowBlockBits / std::max<int64_t>(1, widest * bits);
  if (most < 2 || height < 2)
    return 1;
  int64_t blocks = (height + most - 1) / most;
  return (height + blocks - 1) / blocks;
}

/// Whether a window of `taps` taps along a dimension, `dilation` apart,
/// read at `stride` per output, reads in one output what it reads in the
/// next: tap i of output y + 1 is tap i + stride / dilation of output y.
inline bool windowTapsOverlap(int64_t taps, int64_t stride, int64_t dilation) {
  return stride % dilation == 0 && stride / dilation < taps;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_WINDOWSCHEDULE_H
