//===- WeightsTest.cpp - the weights file format --------------------------===//
//
// Round trips of runtime/Weights and its errors: a missing file, bad magic,
// a flipped byte (checksum), truncation, an unknown version.
//
//===----------------------------------------------------------------------===//

#include "runtime/Weights.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

using namespace anvil;

namespace {

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/anvil-weights-" + name;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void spit(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// Expects reading `path` to throw an Error whose message has `what` and
/// names the file.
void expectError(const std::string &path, const std::string &what) {
  try {
    readWeights(path);
    FAIL() << "no error for " << path;
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(WeightsTest, RoundTrip) {
  std::string path = tempPath("roundtrip");
  std::vector<NamedTensor> tensors = {{"fc1.weight", {1, 2, 3, 4, 5, 6, 7, 8}},
                                      {"fc1.bias", {}},
                                      {"b", {'\0', '\xff'}}};
  writeWeights(path, tensors);
  std::vector<NamedTensor> back = readWeights(path);
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back[i].name, tensors[i].name);
    EXPECT_EQ(back[i].bytes, tensors[i].bytes);
  }
  // Magic, version 1, 3 tensors.
  std::string raw = slurp(path);
  EXPECT_EQ(raw.substr(0, 8), "ANVILWTS");
  EXPECT_EQ(raw[8], 1);
  EXPECT_EQ(raw[12], 3);
}

TEST(WeightsTest, Errors) {
  std::string good = tempPath("good");
  writeWeights(good, {{"w", {1, 2, 3, 4}}});
  std::string raw = slurp(good);

  expectError(tempPath("missing"), "cannot open");

  std::string magic = tempPath("magic");
  spit(magic, "NOTANVIL" + raw.substr(8));
  expectError(magic, "bad magic");

  std::string flipped = tempPath("flipped");
  std::string f = raw;
  f[f.size() - 12] ^= 1; // a data byte
  spit(flipped, f);
  expectError(flipped, "checksum");

  std::string truncated = tempPath("truncated");
  spit(truncated, raw.substr(0, raw.size() - 3));
  expectError(truncated, "checksum");

  // A version this runtime does not know, with a valid checksum.
  std::string future = tempPath("future");
  writeWeights(future, {});
  std::string v = slurp(future).substr(0, 16);
  v[8] = 2;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : v) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i)
    v += static_cast<char>((h >> (8 * i)) & 0xff);
  spit(future, v);
  expectError(future, "version 2 is not supported");
}

} // namespace
