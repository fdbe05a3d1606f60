//===- HashTest.cpp - unit tests of runtime/Hash.h ------------------------===//
//
// FNV-1a 64 and splitmix64 against their published values: every checksum,
// default parameter seed and random stream depends on them.
//
//===----------------------------------------------------------------------===//

#include "runtime/Hash.h"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(HashTest, Fnv1aKnownValues) {
  // From the FNV reference test suite.
  EXPECT_EQ(anvil::fnv1a("", 0), 0xcbf29ce484222325ULL);
  EXPECT_EQ(anvil::fnv1a("a", 1), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(anvil::fnv1a("foobar", 6), 0x85944171f73967e8ULL);
}

TEST(HashTest, SplitMix64KnownSequence) {
  // The published splitmix64 outputs for seed 0.
  uint64_t state = 0;
  EXPECT_EQ(anvil::splitMix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(anvil::splitMix64(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(anvil::splitMix64(state), 0x06c45d188009454fULL);
}

} // namespace
