//===- WeightsTest.cpp - the weights file format --------------------------===//
//
// Round trips of runtime/Weights (names, element types, shapes, data) and
// its errors: a missing file, bad magic, a flipped byte (checksum),
// truncation, version 1 and unknown versions, a corrupt type code, and a
// tensor whose bytes do not match its type.
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

/// `body` (a file without its checksum) with a valid FNV-1a checksum.
std::string withChecksum(std::string body) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i)
    body += static_cast<char>((h >> (8 * i)) & 0xff);
  return body;
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
  std::vector<NamedTensor> tensors = {
      {"fc1.weight", DType::F32, {2, 1}, {1, 2, 3, 4, 5, 6, 7, 8}},
      {"fc1.bias", DType::F32, {0}, {}},
      {"b", DType::U8, {2}, {'\0', '\xff'}},
      scalarTensor("__epoch", int64_t(7)),
      scalarTensor("__lr", 0.25)};
  writeWeights(path, tensors);
  std::vector<NamedTensor> back = readWeights(path);
  ASSERT_EQ(back.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(back[i].name, tensors[i].name);
    EXPECT_EQ(back[i].dtype, tensors[i].dtype);
    EXPECT_EQ(back[i].shape, tensors[i].shape);
    EXPECT_EQ(back[i].bytes, tensors[i].bytes);
  }
  EXPECT_EQ(back[0].typeText(), "f32[2,1]");
  EXPECT_EQ(back[3].typeText(), "i64[]");
  EXPECT_EQ(back[4].typeText(), "f64[]");
  // The layout of Weights.h, byte by byte: magic, version 2, 5 tensors,
  // then "fc1.weight": name length 10, the name, type code 0 (f32), rank 2,
  // dimensions 2 and 1 (u64), 8 bytes of data.
  std::string raw = slurp(path);
  EXPECT_EQ(raw.substr(0, 8), "ANVILWTS");
  EXPECT_EQ(raw.substr(8, 8), std::string("\2\0\0\0\5\0\0\0", 8));
  EXPECT_EQ(raw.substr(16, 4), std::string("\12\0\0\0", 4));
  EXPECT_EQ(raw.substr(20, 10), "fc1.weight");
  EXPECT_EQ(raw.substr(30, 2), std::string("\0\2", 2));
  EXPECT_EQ(raw.substr(32, 16),
            std::string("\2\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0", 16));
  EXPECT_EQ(raw.substr(48, 8), std::string("\1\2\3\4\5\6\7\10", 8));
}

TEST(WeightsTest, WritingBytesThatDoNotMatchTheTypeThrows) {
  std::string path = tempPath("mismatch");
  EXPECT_THROW(writeWeights(path, {{"w", DType::F32, {3}, {1, 2, 3, 4}}}),
               Error);
}

TEST(WeightsTest, Errors) {
  std::string good = tempPath("good");
  writeWeights(good, {{"w", DType::F32, {1}, {1, 2, 3, 4}}});
  std::string raw = slurp(good);

  expectError(tempPath("missing"), "cannot open");
  expectError(::testing::TempDir(), "is a directory, not a weights file");

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

  // Versions this runtime does not read, with valid checksums: version 1
  // (no types or shapes) says how to write the file again.
  std::string body = raw.substr(0, raw.size() - 8);
  std::string v1 = tempPath("v1"), future = tempPath("future");
  body[8] = 1;
  spit(v1, withChecksum(body));
  expectError(v1, "version 1 weights file, which records no shapes");
  body[8] = 3;
  spit(future, withChecksum(body));
  expectError(future, "version 3 is not supported");

  // A type code past the table, and a shape that runs past the end.
  body[8] = 2;
  std::string badType = tempPath("badtype"), badShape = tempPath("badshape");
  std::string t = body;
  t[16 + 4 + 1] = 9; // after the name length and the name "w"
  spit(badType, withChecksum(t));
  expectError(badType, "tensor 'w' has element type code 9");
  std::string s = body;
  s[16 + 4 + 1 + 2] = 2; // dimension 0 is 2: 8 bytes, the file holds 4
  spit(badShape, withChecksum(s));
  expectError(badShape, "tensor 'w' of type f32[2] runs past the end");
}

} // namespace
