//===- NpyTest.cpp - unit tests of the .npy reader and writer -------------===//
//
// Round-trips every DType at ranks 0, 1 and 3 through writeNpy/readNpy,
// reads hand-built files the way numpy writes them, and checks that
// malformed files (bad magic, truncated or oversized data, unsupported
// dtype, Fortran order) raise anvil::Error naming the file, and that writes
// leave no temporary file behind.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

using namespace anvil;
namespace fs = std::filesystem;

namespace {

/// Every element type: the rows of runtime/DType.h's table, so that a
/// dtype added there is tested here without being listed again.
std::vector<DType> allDTypes() {
  std::vector<DType> all;
  for (const DTypeInfo &info : kDTypes)
    all.push_back(info.dtype);
  return all;
}

template <typename T> void append(std::vector<char> &bytes, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  bytes.insert(bytes.end(), raw, raw + sizeof(T));
}

/// An array of `dtype` and `shape` with distinct, type-specific values
/// (negative numbers, large magnitudes, fractions where the type has them).
NpyArray sample(DType dtype, const std::vector<int64_t> &shape) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = shape;
  for (int64_t i = 0; i < a.numElements(); ++i) {
    switch (dtype) {
    case DType::F32:
      append<float>(a.bytes, 0.5f * static_cast<float>(i) - 3.25f);
      break;
    case DType::F64:
      append<double>(a.bytes, 1e300 / (static_cast<double>(i) + 0.1) - 0.1);
      break;
    case DType::I64:
      append<int64_t>(a.bytes, (i % 2 ? -1 : 1) * (int64_t(1) << 40) + i);
      break;
    case DType::I32:
      append<int32_t>(a.bytes, static_cast<int32_t>(-1000000 * i + 7));
      break;
    case DType::I8:
      append<int8_t>(a.bytes, static_cast<int8_t>((i * 37) % 256 - 128));
      break;
    case DType::U8:
      append<uint8_t>(a.bytes, static_cast<uint8_t>((i * 53 + 200) % 256));
      break;
    case DType::Bool:
      append<uint8_t>(a.bytes, i % 3 == 0 ? 1 : 0);
      break;
    }
  }
  return a;
}

/// A version-1 .npy file with the header dict `dict` (padded as numpy pads
/// it) followed by `data`.
std::string npyFile(const std::string &dict, const std::string &data) {
  std::string header = dict;
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

/// The same as a version-2 file (4-byte header length).
std::string npyFileV2(const std::string &dict, const std::string &data) {
  std::string header = dict;
  size_t total = 12 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string f32Bytes(const std::vector<float> &values) {
  std::string s(values.size() * sizeof(float), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

class NpyTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir = fs::path(::testing::TempDir()) /
          ("anvil-npy-" + std::string(info->name()) + "-" +
           std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string path(const std::string &name) const {
    return (dir / name).string();
  }

  std::string writeRaw(const std::string &name, const std::string &bytes) {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << "cannot write " << p;
    return p;
  }

  std::string readRaw(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  }

  /// Expects readNpy(p) to throw anvil::Error whose message names `p` and
  /// contains `fragment`.
  void expectReadError(const std::string &p, const std::string &fragment) {
    try {
      readNpy(p);
      ADD_FAILURE() << "readNpy(" << p << ") did not throw";
    } catch (const anvil::Error &e) {
      std::string what = e.what();
      EXPECT_NE(what.find(p), std::string::npos)
          << "message does not name the file: " << what;
      EXPECT_NE(what.find(fragment), std::string::npos)
          << "message lacks '" << fragment << "': " << what;
    }
  }

  fs::path dir;
};

} // namespace

TEST(NpyDTypeTest, SizesAndNames) {
  EXPECT_EQ(dtypeSize(DType::F32), 4u);
  EXPECT_EQ(dtypeSize(DType::F64), 8u);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_EQ(dtypeSize(DType::I32), 4u);
  EXPECT_EQ(dtypeSize(DType::I8), 1u);
  EXPECT_EQ(dtypeSize(DType::U8), 1u);
  EXPECT_EQ(dtypeSize(DType::Bool), 1u);
  EXPECT_STREQ(dtypeName(DType::F32), "f32");
  EXPECT_STREQ(dtypeName(DType::I64), "i64");
  EXPECT_STREQ(dtypeName(DType::Bool), "bool");
}

TEST_F(NpyTest, RoundTripEveryDTypeAndRank) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 3, 4}};
  for (DType dtype : allDTypes()) {
    for (const std::vector<int64_t> &shape : shapes) {
      SCOPED_TRACE(std::string(dtypeName(dtype)) + " rank " +
                   std::to_string(shape.size()));
      NpyArray a = sample(dtype, shape);
      ASSERT_EQ(a.bytes.size(), a.numElements() * dtypeSize(dtype));
      std::string p = path(std::string(dtypeName(dtype)) + "_r" +
                           std::to_string(shape.size()) + ".npy");
      writeNpy(p, a);
      NpyArray b = readNpy(p);
      EXPECT_EQ(b.dtype, dtype);
      EXPECT_EQ(b.shape, shape);
      EXPECT_EQ(b.bytes, a.bytes);
    }
  }
}

TEST_F(NpyTest, RoundTripEmptyArray) {
  NpyArray a = sample(DType::F32, {0, 3});
  std::string p = path("empty.npy");
  writeNpy(p, a);
  NpyArray b = readNpy(p);
  EXPECT_EQ(b.dtype, DType::F32);
  EXPECT_EQ(b.shape, std::vector<int64_t>({0, 3}));
  EXPECT_TRUE(b.bytes.empty());
}

TEST_F(NpyTest, WrittenHeaderIsNumpyV1) {
  std::string p = path("header.npy");
  writeNpy(p, sample(DType::F32, {5}));
  std::string raw = readRaw(p);
  ASSERT_GE(raw.size(), 10u);
  EXPECT_EQ(raw.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)), 0);
  size_t headerLen = static_cast<unsigned char>(raw[8]) |
                     static_cast<unsigned char>(raw[9]) << 8;
  // The data starts on a 64-byte boundary and the header ends in '\n'.
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  ASSERT_EQ(raw.size(), 10 + headerLen + 5 * 4);
  std::string header = raw.substr(10, headerLen);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (5,)"), std::string::npos) << header;

  writeNpy(p, sample(DType::I64, {}));
  std::string scalar = readRaw(p);
  EXPECT_NE(scalar.find("'descr': '<i8'"), std::string::npos);
  EXPECT_NE(scalar.find("'shape': ()"), std::string::npos);
}

TEST_F(NpyTest, ReadsHandBuiltFiles) {
  // As numpy.save writes int32 [[1, 2], [3, 4]].
  std::string data(16, '\0');
  int32_t values[] = {1, 2, 3, 4};
  std::memcpy(data.data(), values, 16);
  std::string p = writeRaw(
      "i4.npy",
      npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
              data));
  NpyArray a = readNpy(p);
  EXPECT_EQ(a.dtype, DType::I32);
  EXPECT_EQ(a.shape, std::vector<int64_t>({2, 2}));
  EXPECT_EQ(std::string(a.bytes.begin(), a.bytes.end()), data);

  // Version 2 (4-byte header length), bool written as '|b1'.
  std::string q = writeRaw(
      "b1v2.npy",
      npyFileV2("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                std::string("\x01\x00\x01", 3)));
  NpyArray b = readNpy(q);
  EXPECT_EQ(b.dtype, DType::Bool);
  EXPECT_EQ(b.shape, std::vector<int64_t>({3}));
  EXPECT_EQ(std::string(b.bytes.begin(), b.bytes.end()),
            std::string("\x01\x00\x01", 3));

  // One-byte types are also accepted with '<'.
  std::string r = writeRaw(
      "u1.npy",
      npyFile("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }",
              std::string("\xff\x07", 2)));
  EXPECT_EQ(readNpy(r).dtype, DType::U8);
}

TEST_F(NpyTest, MissingFile) {
  expectReadError(path("does-not-exist.npy"), "cannot open");
}

TEST_F(NpyTest, Directory) {
  // Not std::__ios_failure: one message saying what to give instead.
  expectReadError(dir.string(), "is a directory, not a .npy file");
}

TEST_F(NpyTest, ShapeOverflow) {
  // Shapes whose byte count overflows 64 bits (2^62 x 4 x 4 bytes, 2^80
  // elements) are corrupt, not arrays of a few bytes.
  for (const char *shape :
       {"(4611686018427387904, 4)", "(1099511627776, 1099511627776)",
        "(99999999999999999999,)"})
    expectReadError(
        writeRaw("huge.npy",
                 npyFile(std::string("{'descr': '<f4', 'fortran_order': "
                                     "False, 'shape': ") +
                             shape + ", }",
                         f32Bytes({1, 2}))),
        "describes more data than any file can hold");
  // Large but representable: more than the file holds.
  expectReadError(
      writeRaw("large.npy",
               npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(1000000000, 1000), }",
                       f32Bytes({1, 2}))),
      "truncated: the header promises 4000000000000 bytes of data");
}

TEST_F(NpyTest, BadMagic) {
  // A zip file's signature followed by enough bytes to pass the size check.
  std::string p =
      writeRaw("zip.npy", std::string("PK\x03\x04", 4) + std::string(60, 'x'));
  expectReadError(p, "bad magic");
  // A file shorter than the fixed preamble.
  expectReadError(writeRaw("short.npy", "\x93NUM"), "bad magic");
  // Almost the magic: "NUMPY" without the 0x93 byte.
  std::string q =
      writeRaw("nomagic.npy",
               "XNUMPY" + npyFile("{'descr': '<f4', 'fortran_order': False, "
                                  "'shape': (1,), }",
                                  f32Bytes({1}))
                              .substr(6));
  expectReadError(q, "bad magic");
}

TEST_F(NpyTest, TruncatedHeader) {
  std::string full =
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "");
  std::string p = writeRaw("trunc-header.npy", full.substr(0, 30));
  expectReadError(p, "truncated");
}

TEST_F(NpyTest, TruncatedData) {
  // The header promises 4 floats (16 bytes); 12 are there.
  std::string p = writeRaw(
      "trunc.npy",
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
              f32Bytes({1, 2, 3})));
  expectReadError(p, "truncated");
}

TEST_F(NpyTest, ExtraTrailingBytes) {
  // 16 bytes of data plus 3 stray bytes.
  std::string p = writeRaw(
      "trailing.npy",
      npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
              f32Bytes({1, 2, 3, 4}) + "abc"));
  expectReadError(p, "3 bytes follow");
}

TEST_F(NpyTest, UnsupportedDType) {
  // complex64: 8 bytes per element.
  std::string p = writeRaw(
      "c8.npy",
      npyFile("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
              std::string(16, '\0')));
  expectReadError(p, "'<c8'");
  // Big-endian float32 is not handled either.
  std::string q = writeRaw(
      "be.npy",
      npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
              std::string(8, '\0')));
  expectReadError(q, "not supported");
}

TEST_F(NpyTest, FortranOrder) {
  std::string p = writeRaw(
      "fortran.npy",
      npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
              f32Bytes({1, 2, 3, 4})));
  expectReadError(p, "Fortran");
}

TEST_F(NpyTest, WriteLeavesNoTempFile) {
  for (DType dtype : allDTypes())
    writeNpy(path(std::string(dtypeName(dtype)) + ".npy"),
             sample(dtype, {2, 3}));
  // Overwriting an existing file also goes through a temp file.
  writeNpy(path("f32.npy"), sample(DType::F32, {4}));
  EXPECT_EQ(readNpy(path("f32.npy")).shape, std::vector<int64_t>({4}));
  size_t files = 0;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir)) {
    ++files;
    std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".tmp."), std::string::npos)
        << "leftover temp file " << name;
  }
  EXPECT_EQ(files, allDTypes().size());
}

TEST_F(NpyTest, WriteToMissingDirectoryThrows) {
  std::string p = path("no-such-dir/out.npy");
  try {
    writeNpy(p, sample(DType::F32, {2}));
    ADD_FAILURE() << "writeNpy did not throw";
  } catch (const anvil::Error &e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "no-such-dir"));
}
