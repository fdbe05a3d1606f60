//===- ParamInitTest.cpp - unit tests of dialects/ParamInit ---------------===//
//
// The random stream of initializers and dropout against splitmix64's
// published outputs, and each initializer's bounds, moments, fans, rounding
// and determinism.
//
//===----------------------------------------------------------------------===//

#include "dialects/ParamInit.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace mlir::anvil;
using ::anvil::DType;

namespace {

using Values = std::vector<double>;

//===----------------------------------------------------------------------===//
// Random
//===----------------------------------------------------------------------===//

TEST(RandomTest, SplitMix64KnownSequence) {
  // The published splitmix64 outputs for seed 0.
  Random rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.next(), 0x06c45d188009454fULL);
}

TEST(RandomTest, UniformInUnitInterval) {
  Random rng(42);
  for (int i = 0; i < 10000; ++i) {
    double u = rng.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

//===----------------------------------------------------------------------===//
// Parameter initialization
//===----------------------------------------------------------------------===//

/// The spec of initializer `init`, spelled as in .mlir ("kaiming_uniform").
ParamInit spec(const std::string &init, uint64_t seed = 0) {
  ParamInit s;
  std::optional<Initializer> kind = symbolizeInitializer(init);
  EXPECT_TRUE(kind.has_value()) << init;
  s.init = kind.value_or(Initializer::Zeros);
  s.seed = seed;
  return s;
}

double maxAbs(const Values &t) {
  double m = 0;
  for (double v : t)
    m = std::max(m, std::fabs(v));
  return m;
}

/// Sample mean and (population) standard deviation of `t`'s values.
std::pair<double, double> meanStd(const Values &t) {
  double sum = 0, sq = 0;
  for (double v : t)
    sum += v;
  double mean = sum / t.size();
  for (double v : t)
    sq += (v - mean) * (v - mean);
  return {mean, std::sqrt(sq / t.size())};
}

TEST(InitParamTest, ZerosAndOnes) {
  Values z = initParam(spec("zeros"), DType::F32, {2, 3});
  EXPECT_EQ(z, std::vector<double>(6, 0.0));
  Values o = initParam(spec("ones"), DType::F32, {4});
  EXPECT_EQ(o, std::vector<double>(4, 1.0));
}

TEST(InitParamTest, UniformWithinBounds) {
  ParamInit s = spec("uniform", 5);
  s.low = -2;
  s.high = 3;
  Values t = initParam(s, DType::F64, {100, 100});
  for (double v : t) {
    EXPECT_GE(v, -2.0);
    EXPECT_LT(v, 3.0);
  }
  // U(-2, 3): mean 0.5, std 5/sqrt(12) = 1.4433756729740645; the standard
  // error of the mean over 10000 samples is ~0.0144.
  auto [mean, std] = meanStd(t);
  EXPECT_NEAR(mean, 0.5, 0.06);
  EXPECT_NEAR(std, 1.4433756729740645, 0.03);
  // Spread over the whole interval.
  EXPECT_LT(*std::min_element(t.begin(), t.end()), -1.99);
  EXPECT_GT(*std::max_element(t.begin(), t.end()), 2.99);
}

TEST(InitParamTest, KaimingUniformMatrix) {
  // [784, 256] = [in, out]: fan_in 784, bound sqrt(6/784) =
  // 0.08748177652797065.
  Values t = initParam(spec("kaiming_uniform", 1), DType::F32, {784, 256});
  EXPECT_EQ(t.size(), 784u * 256u);
  const double bound = 0.08748177652797065;
  // f32 rounding may land exactly on the bound, never past it by more than
  // half an ulp.
  EXPECT_LE(maxAbs(t), bound * (1 + 1e-7));
  EXPECT_GT(maxAbs(t), 0.999 * bound);
}

TEST(InitParamTest, KaimingUniformFilter) {
  // [6, 1, 5, 5] = [O, I, kh, kw]: fan_in = 1*5*5 = 25, bound sqrt(6/25) =
  // 0.4898979485566356 (not sqrt(6/150) as a fan of O*kh*kw would give).
  Values t = initParam(spec("kaiming_uniform", 3), DType::F64, {6, 1, 5, 5});
  const double bound = 0.4898979485566356;
  EXPECT_LE(maxAbs(t), bound);
  // 150 samples: P(max |v| < 0.9 bound) = 0.9^150 ~ 1e-7.
  EXPECT_GT(maxAbs(t), 0.9 * bound);
}

TEST(InitParamTest, XavierUniformBound) {
  // [784, 256]: sqrt(6 / (784 + 256)) = 0.075955452531275.
  Values t = initParam(spec("xavier_uniform", 4), DType::F64, {784, 256});
  EXPECT_LE(maxAbs(t), 0.075955452531275);
  EXPECT_GT(maxAbs(t), 0.999 * 0.075955452531275);
}

TEST(InitParamTest, NormalMeanAndStd) {
  ParamInit s = spec("normal", 9);
  s.mean = 1.5;
  s.std = 2.0;
  Values t = initParam(s, DType::F64, {10000});
  auto [mean, std] = meanStd(t);
  // Standard error of the mean 2/100 = 0.02; of the std ~0.014.
  EXPECT_NEAR(mean, 1.5, 0.08);
  EXPECT_NEAR(std, 2.0, 0.06);
}

TEST(InitParamTest, KaimingAndXavierNormalStd) {
  // kaiming_normal on [784, 256]: std sqrt(2/784) = 0.050507627227610534.
  auto [km, ks] =
      meanStd(initParam(spec("kaiming_normal", 2), DType::F64, {784, 256}));
  EXPECT_NEAR(km, 0.0, 0.001);
  EXPECT_NEAR(ks, 0.050507627227610534, 0.001);
  // xavier_normal on [784, 256]: std sqrt(2/1040) = 0.04385290096535146.
  auto [xm, xs] =
      meanStd(initParam(spec("xavier_normal", 2), DType::F64, {784, 256}));
  EXPECT_NEAR(xm, 0.0, 0.001);
  EXPECT_NEAR(xs, 0.04385290096535146, 0.001);
}

TEST(InitParamTest, SeedDeterminesValues) {
  for (const char *init : {"uniform", "normal", "kaiming_uniform"}) {
    SCOPED_TRACE(init);
    Values a = initParam(spec(init, 11), DType::F32, {16, 8});
    Values b = initParam(spec(init, 11), DType::F32, {16, 8});
    Values c = initParam(spec(init, 12), DType::F32, {16, 8});
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
}

TEST(InitParamTest, F32ValuesAreRoundedToSinglePrecision) {
  Values t = initParam(spec("normal", 1), DType::F32, {64});
  for (double v : t)
    EXPECT_EQ(v, static_cast<double>(static_cast<float>(v)));
}

TEST(InitParamTest, DenseHasNoRule) {
  // A dense param's values are its `value` attribute (initialValues).
  EXPECT_THROW(initParam(spec("dense"), DType::F32, {2}), anvil::Error);
}

TEST(InitParamTest, EveryInitializerRoundTripsItsSpelling) {
  for (uint32_t i = 0; i <= getMaxEnumValForInitializer(); ++i) {
    std::optional<Initializer> kind = symbolizeInitializer(i);
    ASSERT_TRUE(kind.has_value());
    EXPECT_EQ(symbolizeInitializer(stringifyInitializer(*kind)), kind);
  }
  EXPECT_FALSE(symbolizeInitializer("glorot").has_value());
}

} // namespace
