//===- ChunksTest.cpp - covering samples with batch variants --------------===//
//
// planChunks: the mixes a model compiled with --batch 1,64 runs for a few
// sample counts under the costs measured on the 2-core host, and, for
// random costs and batches, that every plan covers its samples with only the
// last chunk short and costs what the cheapest cover costs (an exhaustive
// search over the counts of each variant).
//
//===----------------------------------------------------------------------===//

#include "runtime/Chunks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

using namespace anvil;

namespace {

/// The batches of `plan`'s chunks.
std::vector<int64_t> sizes(const std::vector<size_t> &plan,
                           const std::vector<int64_t> &batches) {
  std::vector<int64_t> s;
  for (size_t i : plan)
    s.push_back(batches[i]);
  return s;
}

TEST(ChunksTest, OneAndSixtyFour) {
  // Batch 1 costs 1, batch 64 costs 20 (a third of the time per sample).
  std::vector<int64_t> b{1, 64};
  std::vector<double> c{1.0, 20.0};
  EXPECT_TRUE(planChunks(0, b, c).empty());
  EXPECT_EQ(sizes(planChunks(1, b, c), b), (std::vector<int64_t>{1}));
  EXPECT_EQ(sizes(planChunks(8, b, c), b), std::vector<int64_t>(8, 1));
  // 21 calls of batch 1 cost more than one padded call of 64.
  EXPECT_EQ(sizes(planChunks(21, b, c), b), (std::vector<int64_t>{64}));
  EXPECT_EQ(sizes(planChunks(64, b, c), b), (std::vector<int64_t>{64}));
  EXPECT_EQ(sizes(planChunks(65, b, c), b), (std::vector<int64_t>{64, 1}));
  EXPECT_EQ(sizes(planChunks(150, b, c), b),
            (std::vector<int64_t>{64, 64, 64}));
  EXPECT_EQ(sizes(planChunks(140, b, c), b),
            (std::vector<int64_t>{64, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(describePlan(planChunks(140, b, c), b), "2x64 + 12x1");
  EXPECT_EQ(describePlan({}, b), "no calls");
}

TEST(ChunksTest, OneVariant) {
  std::vector<int64_t> b{8};
  std::vector<double> c{3.0};
  EXPECT_EQ(sizes(planChunks(17, b, c), b), (std::vector<int64_t>{8, 8, 8}));
  EXPECT_EQ(sizes(planChunks(8, b, c), b), (std::vector<int64_t>{8}));
}

TEST(ChunksTest, EqualCostsPreferTheLargerChunk) {
  // Batch 8 costs what batch 1 does: equal covers take the larger chunk.
  std::vector<int64_t> b{1, 8};
  std::vector<double> c{1.0, 1.0};
  EXPECT_EQ(sizes(planChunks(1, b, c), b), (std::vector<int64_t>{8}));
  EXPECT_EQ(sizes(planChunks(9, b, c), b), (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(sizes(planChunks(2, b, c), b), (std::vector<int64_t>{8}));
}

/// The least cost of covering `samples` with chunks of `batches`, by trying
/// every count of each variant.
double cheapest(int64_t samples, const std::vector<int64_t> &batches,
                const std::vector<double> &costs) {
  double best = std::numeric_limits<double>::infinity();
  std::function<void(size_t, int64_t, double)> go =
      [&](size_t i, int64_t covered, double cost) {
        if (covered >= samples) {
          best = std::min(best, cost);
          return;
        }
        if (i == batches.size())
          return;
        int64_t most = (samples - covered + batches[i] - 1) / batches[i];
        for (int64_t n = 0; n <= most; ++n)
          go(i + 1, covered + n * batches[i], cost + n * costs[i]);
      };
  go(0, 0, 0.0);
  return samples <= 0 ? 0.0 : best;
}

TEST(ChunksTest, CheapestCoverForRandomCosts) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int64_t> size(1, 12), count(1, 3);
  std::uniform_real_distribution<double> cost(0.1, 10.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int64_t> b;
    for (int64_t k = count(rng); static_cast<int64_t>(b.size()) < k;) {
      int64_t s = size(rng);
      if (std::find(b.begin(), b.end(), s) == b.end())
        b.push_back(s);
    }
    std::sort(b.begin(), b.end());
    std::vector<double> c;
    for (size_t i = 0; i < b.size(); ++i)
      c.push_back(cost(rng));
    for (int64_t samples = 0; samples <= 30; ++samples) {
      std::vector<size_t> plan = planChunks(samples, b, c);
      int64_t total = 0;
      double spent = 0;
      for (size_t i : plan) {
        total += b[i];
        spent += c[i];
      }
      ASSERT_GE(total, samples);
      if (!plan.empty()) {
        ASSERT_LT(total - b[plan.back()], samples) << "an idle last chunk";
      }
      for (size_t j = 1; j < plan.size(); ++j)
        ASSERT_GE(b[plan[j - 1]], b[plan[j]]) << "largest first";
      ASSERT_NEAR(spent, cheapest(samples, b, c), 1e-9)
          << "samples " << samples << ", plan " << describePlan(plan, b);
    }
  }
}

TEST(ChunksTest, ManySamplesTakeWholeChunksOfTheCheapestPerSample) {
  std::vector<int64_t> b{1, 64};
  std::vector<double> c{1.0, 20.0};
  int64_t samples = kExactSamples * 3 + 5;
  std::vector<size_t> plan = planChunks(samples, b, c);
  int64_t total = 0;
  for (size_t i : plan)
    total += b[i];
  EXPECT_GE(total, samples);
  EXPECT_LT(total - b[plan.back()], samples);
  EXPECT_EQ(b[plan.front()], 64);
}

} // namespace
