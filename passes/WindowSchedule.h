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
/// The vector registers a block of rows may fill, in bits: AVX2's sixteen
/// 256-bit registers less two for the vectors being read.
constexpr int64_t kWindowRegisterBits = 14 * 256;
/// The accumulators a block of rows keeps at most, in bits: eight 256-bit
/// registers.
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
/// row-blocks computes together when they share reads; `broadcasts` is how
/// many values the body reads that do not vary along the row (a depthwise
/// convolution's taps of the filter, and its bias), one register each. A
/// row's widest vector is `lanes` outputs, or the row, a power of two with
/// masked tails. When those values and one row's accumulators fit in the
/// registers (a 3x3 filter), one row at a time already reads each filter
/// tap once per row; rows together then only save reads of the taps, and
/// may only add accumulators that still leave the filter its registers
/// (more spill the filter: MobileNetV2's 3x3 convolutions on 28-wide rows
/// were 10% slower with 4 rows of 16 lanes). When they do not (a 5x5
/// filter), the filter is read from memory anyway, once per row: rows
/// together read each tap once per block instead, up to kRowBlockBits of
/// accumulators. Two rows are not worth it (with a 3x3 filter they save a
/// third of the reads, which did not pay for the pressure on the registers:
/// neutral to 5% slower on 14- and 28-wide rows). Spread evenly over the
/// rows. 1: one row at a time.
inline int64_t windowRowBlock(int64_t width, int64_t height, int64_t bits,
                              int64_t lanes, bool maskedTails,
                              int64_t broadcasts) {
  int64_t widest = width >= lanes ? lanes
                   : maskedTails  ? windowPow2Ceil(width)
                                  : width;
  int64_t row = std::max<int64_t>(1, widest * bits);
  int64_t most = kRowBlockBits / row;
  int64_t held = broadcasts * 256;
  if (held + row <= kWindowRegisterBits)
    most = std::min(most, (kWindowRegisterBits - held) / row);
  if (most < 3 || height < 2)
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
