//===- DirectConvScheduleTest.cpp - the direct convolution's tiles --------===//
//
// directConvPeriods: the tiles of the maps of ResNet-style networks on both
// tile widths, and, for every map up to 40 x 40 and tile limits 6 to 16,
// that the tiles cover each period and the rows left exactly, stay within
// the limit, unroll at most kDirectConvPeriodTiles tiles per period, and
// waste no more FMA slots than one row's segments would.
//
//===----------------------------------------------------------------------===//

#include "passes/DirectConvSchedule.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace mlir::anvil;

namespace {

using Tiles = llvm::SmallVector<int64_t>;

int64_t sum(llvm::ArrayRef<int64_t> tiles) {
  return std::accumulate(tiles.begin(), tiles.end(), int64_t(0));
}

TEST(DirectConvSchedule, SegmentsOfWideRows) {
  // AVX2, 3x3: at most 12 positions; a 56-wide row in 5 (12 x 4, 8).
  DirectConvTile t = directConvPeriods(56, 56, 12, 8);
  EXPECT_EQ(t.periodRows, 1);
  EXPECT_EQ(t.tiles, (Tiles{12, 12, 12, 12, 8}));
  EXPECT_TRUE(t.restTiles.empty());
  // 28 wide: 10, 10, 8. AVX-512: 14-wide rows whole.
  EXPECT_EQ(directConvPeriods(28, 28, 12, 8).tiles, (Tiles{10, 10, 8}));
  EXPECT_EQ(directConvPeriods(14, 14, 16, 16).tiles, (Tiles{14}));
}

TEST(DirectConvSchedule, PeriodsOfNarrowRows) {
  // A 14-wide row would be two tiles of 7: two rows make 10, 10, 8.
  DirectConvTile t = directConvPeriods(14, 14, 12, 8);
  EXPECT_EQ(t.periodRows, 2);
  EXPECT_EQ(t.tiles, (Tiles{10, 10, 8}));
  EXPECT_TRUE(t.restTiles.empty());
  EXPECT_EQ(t.positions(), 10);
  // 7 x 7: periods of 4 rows (10, 10, 8), the 3 rows left 11 and 10.
  t = directConvPeriods(7, 7, 12, 8);
  EXPECT_EQ(t.periodRows, 4);
  EXPECT_EQ(t.tiles, (Tiles{10, 10, 8}));
  EXPECT_EQ(t.restTiles, (Tiles{11, 10}));
  // AVX-512 on 7 x 7: 14 and 14 per 4 rows, then 11 and 10.
  t = directConvPeriods(7, 7, 16, 16);
  EXPECT_EQ(t.periodRows, 4);
  EXPECT_EQ(t.tiles, (Tiles{14, 14}));
  EXPECT_EQ(t.restTiles, (Tiles{11, 10}));
  // Without periods: one row's segments, however short.
  t = directConvPeriods(7, 7, 12, 8, /*periods=*/false);
  EXPECT_EQ(t.periodRows, 1);
  EXPECT_EQ(t.tiles, (Tiles{7}));
}

TEST(DirectConvSchedule, EveryMapCoveredWithinLimits) {
  for (int64_t most = 6; most <= 16; ++most)
    for (int64_t oh = 1; oh <= 40; ++oh)
      for (int64_t ow = 1; ow <= 40; ++ow) {
        SCOPED_TRACE(testing::Message()
                     << oh << " x " << ow << ", at most " << most);
        DirectConvTile t = directConvPeriods(oh, ow, most, 8);
        DirectConvTile rows = directConvPeriods(oh, ow, most, 8, false);
        ASSERT_TRUE(t.direct());
        ASSERT_LE(t.periodRows, oh);
        EXPECT_EQ(sum(t.tiles), t.periodRows * ow);
        EXPECT_EQ(sum(t.restTiles), (oh % t.periodRows) * ow);
        EXPECT_LE(t.positions(), most);
        EXPECT_GE(*std::min_element(t.tiles.begin(), t.tiles.end()), 1);
        if (t.periodRows > 1) {
          EXPECT_LE(int64_t(t.tiles.size()), kDirectConvPeriodTiles);
        }
        // A row's segments: equal but the last, which is not longer.
        for (size_t i = 0; i + 1 < rows.tiles.size(); ++i) {
          EXPECT_EQ(rows.tiles[i], rows.tiles.front());
        }
        EXPECT_LE(rows.tiles.back(), rows.tiles.front());
        int64_t slots = (oh / t.periodRows) * directConvSlots(t.tiles) +
                        directConvSlots(t.restTiles);
        EXPECT_LE(slots, oh * directConvSlots(rows.tiles));
      }
}

} // namespace
