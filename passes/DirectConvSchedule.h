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
/// positions by `lanes` output channels (`rows` accumulators of `lanes` f32:
/// 16 on AVX-512, 8 on AVX2). Either a
/// segment of one output row (an output row in `segments` tiles, the last one
/// `lastRows` wide), or, for maps at most half a tile wide, `outRows` whole
/// output rows (`segments` 1).
struct DirectConvTile {
  int64_t rows = 0, segments = 0, lastRows = 0, outRows = 1, lanes = 16;
};

/// The largest filter panel (C * kh * kw * lanes f32 weights per block, the
/// weights one tile streams through its k loop) a direct convolution takes:
/// half of a 1 MiB L2. Larger filters keep the im2col matmul, whose k
/// blocks keep their panel in cache.
constexpr int64_t kDirectConvPanelBytes = 512 * 1024;

/// A direct tile is one block of channels by up to 16 positions: 16
/// accumulators, each broadcast the memory operand of one FMA, and the
/// unrolled taps of a filter row share the broadcasts of overlapping
/// windows. Measured on Zen 5 (1 thread): a 3x3 64 -> 64 convolution on
/// 56 x 56 at 229 GFLOP/s in the kernel; ResNet-18 at batch 8 141-150 ms
/// with one block, 146-156 with the most accumulators up to 16 over 1, 2
/// or 4 blocks (8 x 2, 4 x 4: a broadcast feeding several blocks stays in
/// a register, and more transposes per position), 157-165 ms on the im2col
/// matmul; 14 x 2 (28 accumulators) spilled.
constexpr int64_t kDirectConvRows = 16;

/// The most positions of a tile of `lanes` channels with a filter `kw`
/// wide: AVX-512 (32 registers) kDirectConvRows; AVX2 (16 registers of 8
/// lanes) what the filter row's kw weights and one broadcast leave, so
/// that nothing spills (3x3: 12, 7x7: 8).
inline int64_t directConvMaxRows(int64_t lanes, int64_t kw) {
  int64_t registers = lanes == 16 ? 32 : 16;
  return std::max<int64_t>(1, std::min(kDirectConvRows, registers - kw - 1));
}

/// The tile of an f32 one-group convolution with O output channels, C input
/// channels, a kh x kw filter and OW output columns, on vectors of `lanes`
/// f32 (16 or 8), or an empty tile (`rows` 0) with the reason in `why`: one
/// block of `lanes` channels by up to directConvMaxRows positions, an output
/// row split into equal segments, or several whole rows where they fit.
inline DirectConvTile directConvTile(int64_t o, int64_t c, int64_t kh,
                                     int64_t kw, int64_t ow, int64_t lanes,
                                     std::string &why) {
  DirectConvTile t;
  t.lanes = lanes;
  if (kh * kw == 1) {
    why = "a 1x1 convolution is a plain matmul already (no im2col)";
    return t;
  }
  if (o % lanes) {
    why = "its output channels are not a multiple of " + std::to_string(lanes);
    return t;
  }
  if (c * kh * kw * lanes * 4 > kDirectConvPanelBytes) {
    why = "its filter panel (" +
          std::to_string(c * kh * kw * lanes * 4 / 1024) +
          " KiB per block of " + std::to_string(lanes) +
          " channels) is larger than the cache the direct tiles stream it "
          "from";
    return t;
  }
  int64_t most = directConvMaxRows(lanes, kw);
  if (2 * ow <= most) {
    t.outRows = most / ow;
    t.rows = t.lastRows = t.outRows * ow;
    t.segments = 1;
  } else {
    t.segments = (ow + most - 1) / most;
    t.rows = (ow + t.segments - 1) / t.segments;
    t.lastRows = ow - (t.segments - 1) * t.rows;
  }
  return t;
}

/// The tile anvil-direct-conv gives `conv` on vectors of `lanes` f32, or an
/// empty one with the reason in `why`: an f32 one-group convolution, not
/// marked bf16, of static shapes whose filter is a constant (an inference
/// model's), then directConvTile's conditions.
inline DirectConvTile directConvTileOf(Conv2DOp conv, int64_t lanes,
                                       std::string &why) {
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
                        wt.getDimSize(3), out.getDimSize(3), lanes, why);
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_DIRECTCONVSCHEDULE_H
