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
#include "passes/MatmulSchedule.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace mlir::anvil {

/// A direct convolution's register tiles: runs of consecutive output
/// positions (in NCHW order) by `lanes` output channels, each run's
/// positions one accumulator of `lanes` f32 apiece (16 on AVX-512, 8 on
/// AVX2). The output rows go by periods of `periodRows` rows whose
/// periodRows * OW positions are cut into `tiles` (their lengths, in
/// order); the last oh % periodRows rows, if any, into `restTiles`. With one
/// row per period the tiles are segments of a row, all `tiles[0]` long but
/// the last; with more, a tile may run across a row's end into the next
/// row (its windows then start on other input rows: offsets all the same),
/// and the period's tiles are unrolled.
struct DirectConvTile {
  int64_t lanes = 16, periodRows = 0;
  llvm::SmallVector<int64_t> tiles, restTiles;
  /// Each image block of channels by block (every period of the block's
  /// tiles), not period by period (every block in each): where the padded
  /// image is small enough to stay in cache while the blocks' filter panels
  /// stream through once each (directConvBlocksOuter).
  bool blocksOuter = false;
  bool direct() const { return periodRows > 0; }
  /// The longest tile: the most accumulators.
  int64_t positions() const {
    int64_t most = 0;
    for (int64_t t : tiles)
      most = std::max(most, t);
    for (int64_t t : restTiles)
      most = std::max(most, t);
    return most;
  }
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

/// The fewest independent accumulators that keep both FMA pipes busy
/// (kFmaChains). A tile of fewer positions waits on its own sums: 7-position
/// tiles (a 7 x 7 map, or a 14-wide row in two) ran a 3x3 256 -> 256
/// convolution on 14 x 14 at 75 GFLOP/s in the kernel against 85 for
/// 12-position tiles on a 2-core Zen 3 (7/8 of it).
constexpr int64_t kDirectConvMinChains = kFmaChains;

/// The most tiles one period unrolls (their code is repeated).
constexpr int64_t kDirectConvPeriodTiles = 4;

/// `positions` cut into as few tiles of at most `most` as possible, equal
/// but the last (which may be shorter).
inline llvm::SmallVector<int64_t> directConvCut(int64_t positions,
                                                int64_t most) {
  int64_t count = (positions + most - 1) / most;
  int64_t length = (positions + count - 1) / count;
  llvm::SmallVector<int64_t> tiles(count - 1, length);
  tiles.push_back(positions - (count - 1) * length);
  return tiles;
}

/// The positions' worth of FMA slots that tiles of these lengths occupy: a
/// tile shorter than kDirectConvMinChains still takes that many.
inline int64_t directConvSlots(llvm::ArrayRef<int64_t> tiles) {
  int64_t slots = 0;
  for (int64_t t : tiles)
    slots += std::max(t, kDirectConvMinChains);
  return slots;
}

/// The tiles of an OH x OW output map, each of at most `most` positions:
/// segments of one row where every segment keeps kDirectConvMinChains
/// accumulators; else the period of rows (up to kDirectConvPeriodTiles
/// tiles) that wastes the fewest FMA slots over the whole map, the fewest
/// rows among equals (less code).
inline DirectConvTile directConvPeriods(int64_t oh, int64_t ow, int64_t most,
                                        int64_t lanes, bool periods = true) {
  DirectConvTile best;
  best.lanes = lanes;
  int64_t bestSlots = 0;
  for (int64_t rows = 1; rows <= oh; ++rows) {
    llvm::SmallVector<int64_t> tiles = directConvCut(rows * ow, most);
    if (rows > 1 &&
        (!periods || int64_t(tiles.size()) > kDirectConvPeriodTiles))
      break;
    llvm::SmallVector<int64_t> rest;
    if (oh % rows)
      rest = directConvCut((oh % rows) * ow, most);
    int64_t slots =
        (oh / rows) * directConvSlots(tiles) + directConvSlots(rest);
    if (!best.direct() || slots < bestSlots) {
      best.periodRows = rows;
      best.tiles = tiles;
      best.restTiles = rest;
      bestSlots = slots;
    }
    if (slots == oh * ow)
      break; // no slot wasted
  }
  return best;
}

/// The largest padded input image (C x Hp x Wp f32) whose channel blocks
/// go one by one over every period (DirectConvTile::blocksOuter): half of
/// a 512 KB L2. Period by period, every block's filter panel streams from
/// L3 or memory once per period; ResNet's 3x3 512 -> 512 convolution on
/// 7 x 7 (a 166 KB image, 9.4 MB of filters, two periods) took 23.3 ms at
/// batch 8 on a 2-core Zen 3 that way, 22.4 ms block by block. A larger
/// image keeps the periods outer, so that the rows a period reads stay in
/// cache through all the blocks.
constexpr int64_t kDirectConvImageBytes = 256 * 1024;

/// The tiles of an f32 one-group convolution with O output channels, C
/// input channels, a kh x kw filter and an OH x OW output, on vectors of
/// `lanes` f32 (16 or 8), or no tiles (not direct()) with the reason in
/// `why`; without `periods`, segments of one row only.
inline DirectConvTile directConvTile(int64_t o, int64_t c, int64_t kh,
                                     int64_t kw, int64_t oh, int64_t ow,
                                     int64_t lanes, bool periods,
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
  return directConvPeriods(oh, ow, directConvMaxRows(lanes, kw), lanes,
                           periods);
}

/// The tile anvil-direct-conv gives `conv` on vectors of `lanes` f32, or an
/// empty one with the reason in `why`: an f32 one-group convolution, not
/// marked bf16, of static shapes whose filter is a constant (an inference
/// model's), then directConvTile's conditions; with `blocksOuter` (the
/// pass's option), blocks outer where the padded image is at most
/// kDirectConvImageBytes.
inline DirectConvTile directConvTileOf(Conv2DOp conv, int64_t lanes,
                                       bool periods, bool blocksOuter,
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
  DirectConvTile tile = directConvTile(
      wt.getDimSize(0), wt.getDimSize(1), wt.getDimSize(2), wt.getDimSize(3),
      out.getDimSize(2), out.getDimSize(3), lanes, periods, why);
  llvm::ArrayRef<int64_t> pads = conv.getPads();
  int64_t image = in.getDimSize(1) * (in.getDimSize(2) + pads[0] + pads[2]) *
                  (in.getDimSize(3) + pads[1] + pads[3]) * 4;
  tile.blocksOuter = blocksOuter && image <= kDirectConvImageBytes;
  return tile;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_DIRECTCONVSCHEDULE_H
