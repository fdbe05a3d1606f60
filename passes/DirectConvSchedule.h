//===- DirectConvSchedule.h - which convolutions run direct -----*- C++ -*-===//
//
// The decision of anvil-direct-conv that the fusion report must predict, in
// one place: which f32 convolutions run as direct register tiles (no im2col,
// no packing at run time) and with what tile, or why not.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_DIRECTCONVSCHEDULE_H
#define ANVIL_PASSES_DIRECTCONVSCHEDULE_H

#include "dialects/AnvilOps.h"

#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace mlir::anvil {

/// A direct convolution's register tile: `rows` consecutive output
/// positions by 16 output channels (`rows` f32x16 accumulators). Either a
/// segment of one output row (an output row in `segments` tiles, the last one
/// `lastRows` wide), or, for maps at most half a tile wide, `outRows` whole
/// output rows (`segments` 1).
struct DirectConvTile {
  int64_t rows = 0, segments = 0, lastRows = 0, outRows = 1;
};

/// The largest filter panel (C * kh * kw * 16 f32 weights per block, the
/// weights one tile streams through its k loop) a direct convolution takes:
/// half of a 1 MiB L2. Larger filters keep the im2col matmul, whose k
/// blocks keep their panel in cache.
constexpr int64_t kDirectConvPanelBytes = 512 * 1024;

/// A direct tile is 16 channels (one block) by up to 16 positions: 16
/// accumulators, each broadcast the memory operand of one FMA, and the
/// unrolled taps of a filter row share the broadcasts of overlapping
/// windows. Measured on Zen 5 (1 thread): a 3x3 64 -> 64 convolution on
/// 56 x 56 at 229 GFLOP/s in the kernel; ResNet-18 at batch 8 141-150 ms
/// with one block, 146-156 with the most accumulators up to 16 over 1, 2
/// or 4 blocks (8 x 2, 4 x 4: a broadcast feeding several blocks stays in
/// a register, and more transposes per position), 157-165 ms on the im2col
/// matmul; 14 x 2 (28 accumulators) spilled.
constexpr int64_t kDirectConvRows = 16;

/// The tile of an f32 one-group convolution with O output channels, C input
/// channels, a kh x kw filter and OW output columns, or an empty tile
/// (`rows` 0) with the reason in `why`: one block of 16 channels by up to
/// kDirectConvRows positions, an output row split into equal segments, or
/// several whole rows where they fit.
inline DirectConvTile directConvTile(int64_t o, int64_t c, int64_t kh,
                                     int64_t kw, int64_t ow, std::string &why) {
  DirectConvTile t;
  if (kh * kw == 1) {
    why = "a 1x1 convolution is a plain matmul already (no im2col)";
    return t;
  }
  if (o % 16) {
    why = "its output channels are not a multiple of 16";
    return t;
  }
  if (c * kh * kw * 16 * 4 > kDirectConvPanelBytes) {
    why = "its filter panel (" + std::to_string(c * kh * kw * 64 / 1024) +
          " KiB per block of 16 channels) is larger than the cache the "
          "direct tiles stream it from";
    return t;
  }
  if (2 * ow <= kDirectConvRows) {
    t.outRows = kDirectConvRows / ow;
    t.rows = t.lastRows = t.outRows * ow;
    t.segments = 1;
  } else {
    t.segments = (ow + kDirectConvRows - 1) / kDirectConvRows;
    t.rows = (ow + t.segments - 1) / t.segments;
    t.lastRows = ow - (t.segments - 1) * t.rows;
  }
  return t;
}

/// The tile anvil-direct-conv gives `conv`, or an empty one with the
/// reason in `why`: an f32 one-group convolution, not marked bf16, of
/// static shapes whose filter is a constant (an inference model's), then
/// directConvTile's conditions.
inline DirectConvTile directConvTileOf(Conv2DOp conv, std::string &why) {
  auto in = dyn_cast<RankedTensorType>(conv.getInput().getType());
  auto out = dyn_cast<RankedTensorType>(conv.getResult().getType());
  DenseElementsAttr w;
  if (conv.getGroups() != 1) {
    why = "a grouped convolution";
    return {};
  }
  if (!in || !out || !in.hasStaticShape() || !out.hasStaticShape() ||
      !in.getElementType().isF32() || conv.getBf16()) {
    why = "not an f32 convolution of static shapes";
    return {};
  }
  if (!matchPattern(conv.getWeight(), m_Constant(&w)) ||
      !w.getElementType().isF32()) {
    why = "its filter is not a constant (the tiles pack it at compile time)";
    return {};
  }
  auto wt = cast<RankedTensorType>(w.getType());
  return directConvTile(wt.getDimSize(0), wt.getDimSize(1), wt.getDimSize(2),
                        wt.getDimSize(3), out.getDimSize(3), why);
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_DIRECTCONVSCHEDULE_H
