//===- DatasetTest.cpp - the dataset loaders and normalization ------------===//
//
// CSV (with and without a header, CRLF, gzipped), NPY pairs and IDX files
// load to the values and labels written; normalization (unit, mean-std);
// and every malformed input gives an Error naming the file and the line,
// sample or byte count.
//
//===----------------------------------------------------------------------===//

#include "runtime/Dataset.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <zlib.h>

using namespace anvil;

namespace {

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/anvil-dataset-" + name;
}

std::string spit(const std::string &name, const std::string &bytes) {
  std::string path = tempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

/// Expects `load()` to throw an Error whose message has every one of `what`.
template <typename F>
void expectError(F load, std::initializer_list<std::string> what) {
  try {
    load();
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    for (const std::string &w : what)
      EXPECT_NE(std::string(e.what()).find(w), std::string::npos)
          << "'" << w << "' not in: " << e.what();
  }
}

template <typename T>
NpyArray array(DType dtype, std::vector<int64_t> shape, std::vector<T> v) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = shape;
  a.bytes.resize(v.size() * sizeof(T));
  std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  return a;
}

TEST(DatasetTest, CsvWithHeader) {
  std::string path =
      spit("header.csv", "label,a,b,c\r\n2,0,128,255\r\n0, 1 ,2,3\r\n\r\n");
  Dataset d = loadCsvDataset(path);
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.features, 3);
  EXPECT_EQ(d.labels, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(d.values, (std::vector<float>{0, 128, 255, 1, 2, 3}));
  EXPECT_TRUE(d.eightBit);
  EXPECT_EQ(d.source, path);
}

TEST(DatasetTest, CsvWithoutHeaderFloatsAndGzip) {
  std::string path = tempPath("plain.csv.gz");
  gzFile f = gzopen(path.c_str(), "wb");
  std::string text = "1,0.5,-2e3\n3,1.25,7\n";
  gzwrite(f, text.data(), text.size());
  gzclose(f);
  Dataset d = loadCsvDataset(path);
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.features, 2);
  EXPECT_EQ(d.labels, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(d.values, (std::vector<float>{0.5f, -2000.0f, 1.25f, 7.0f}));
  EXPECT_FALSE(d.eightBit);
}

TEST(DatasetTest, CsvErrorsNameTheLine) {
  std::string wrongCount = spit("count.csv", "h1,h2,h3\n1,2,3\n0,1\n");
  expectError([&] { loadCsvDataset(wrongCount); },
              {wrongCount + ":3: has 2 fields, but line 2 has 3"});
  std::string headerCount = spit("hcount.csv", "a,b\n1,2,3\n");
  expectError([&] { loadCsvDataset(headerCount); },
              {headerCount + ":2: has 3 fields, but the header on line 1 "
                             "has 2"});
  std::string text = spit("text.csv", "1,2,3\n0,x,3\n");
  expectError([&] { loadCsvDataset(text); },
              {text + ":2: field 2 ('x') is not a number"});
  std::string badLabel = spit("label.csv", "1,2\n-1,3\n");
  expectError([&] { loadCsvDataset(badLabel); },
              {badLabel + ":2: the label -1", "not a class number"});
  std::string fraction = spit("fraction.csv", "1.5,2\n");
  expectError([&] { loadCsvDataset(fraction); },
              {fraction + ":1: the label 1.5"});
  std::string single = spit("single.csv", "1\n");
  expectError([&] { loadCsvDataset(single); }, {single + ":1: has one field"});
  std::string empty = spit("empty.csv", "label,x\n\n");
  expectError([&] { loadCsvDataset(empty); }, {empty + ": holds no samples"});
  expectError([&] { loadCsvDataset(tempPath("absent.csv")); },
              {tempPath("absent.csv") + ": cannot open"});
}

TEST(DatasetTest, NpyPair) {
  std::string x = tempPath("x.npy"), y = tempPath("y.npy");
  writeNpy(x, array<uint8_t>(DType::U8, {3, 2, 2},
                             {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}));
  writeNpy(y, array<int32_t>(DType::I32, {3}, {9, 0, 4}));
  Dataset d = loadNpyDataset(x, y);
  EXPECT_EQ(d.count, 3);
  EXPECT_EQ(d.features, 4);
  EXPECT_EQ(d.labels, (std::vector<int64_t>{9, 0, 4}));
  EXPECT_EQ(d.values[11], 255.0f);
  EXPECT_TRUE(d.eightBit);
  // f64 samples and a [N, 1] column of i64 labels.
  writeNpy(x, array<double>(DType::F64, {2, 1}, {0.5, -1.5}));
  writeNpy(y, array<int64_t>(DType::I64, {2, 1}, {1, 2}));
  d = loadNpyDataset(x, y);
  EXPECT_EQ(d.features, 1);
  EXPECT_EQ(d.values, (std::vector<float>{0.5f, -1.5f}));
  EXPECT_FALSE(d.eightBit);
}

TEST(DatasetTest, NpyErrors) {
  std::string x = tempPath("ex.npy"), y = tempPath("ey.npy");
  writeNpy(x, array<float>(DType::F32, {2, 2}, {1, 2, 3, 4}));
  writeNpy(y, array<float>(DType::F32, {2}, {0, 1}));
  expectError([&] { loadNpyDataset(x, y); },
              {y + ": holds f32 labels", "numpy.int64"});
  writeNpy(y, array<int64_t>(DType::I64, {3}, {0, 1, 2}));
  expectError([&] { loadNpyDataset(x, y); },
              {x + " holds 2 samples but " + y + " holds 3 labels"});
  writeNpy(y, array<int64_t>(DType::I64, {2}, {0, -3}));
  expectError([&] { loadNpyDataset(x, y); }, {y + ": label 1: the label -3"});
  // A file cut short: the .npy reader names the byte counts.
  writeNpy(y, array<int64_t>(DType::I64, {2}, {0, 1}));
  std::ifstream in(x, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  std::string cut = spit("cut.npy", raw.substr(0, raw.size() - 5));
  expectError([&] { loadNpyDataset(cut, y); },
              {cut + ": truncated: the header promises 16 bytes of data, the "
                     "file holds 11"});
}

TEST(DatasetTest, IdxTruncated) {
  std::string dir = ::testing::TempDir() + "/anvil-dataset-idx";
  mkdir(dir.c_str(), 0755); // may exist already
  // Two 2x2 images, but only 7 of their 8 bytes; two labels.
  std::string images("\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02"
                     "\1\2\3\4\5\6\7",
                     23);
  std::string labels("\0\0\x08\x01\0\0\0\x02\1\0", 10);
  std::ofstream(dir + "/train-images-idx3-ubyte", std::ios::binary) << images;
  std::ofstream(dir + "/train-labels-idx1-ubyte", std::ios::binary) << labels;
  expectError([&] { loadIdxDataset(dir, "train"); },
              {dir + "/train-images-idx3-ubyte: truncated or corrupt: the "
                     "header promises 8 bytes of data, the file holds 7"});
  std::ofstream(dir + "/train-images-idx3-ubyte", std::ios::binary)
      << images << '\x08';
  Dataset d = loadIdxDataset(dir, "train");
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.features, 4);
  EXPECT_EQ(d.values, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(d.labels, (std::vector<int64_t>{1, 0}));
  EXPECT_TRUE(d.eightBit);
}

TEST(DatasetTest, IdxSizeOverflow) {
  // 2^32-1 images of 2^32-1 x 2^32-1 bytes: more than 64 bits can count.
  std::string dir = ::testing::TempDir() + "/anvil-dataset-idx-huge";
  mkdir(dir.c_str(), 0755); // may exist already
  std::ofstream(dir + "/train-images-idx3-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff"
                     "\xff\xff\xff\xff\1\2",
                     18);
  std::ofstream(dir + "/train-labels-idx1-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x01\0\0\0\x01\1", 9);
  expectError([&] { loadIdxDataset(dir, "train"); },
              {dir + "/train-images-idx3-ubyte: corrupt: the header's "
                     "dimensions describe more data than any file can hold"});
}

TEST(DatasetTest, IdxImageSizeOverflow) {
  // 0 images of 2^32-1 x 2^32-1 pixels: 0 bytes of data, as the header
  // promises, but the pixels per image overflow 64 bits (the fuzz-idx
  // reproducer features-overflow).
  std::string dir = ::testing::TempDir() + "/anvil-dataset-idx-empty-huge";
  mkdir(dir.c_str(), 0755); // may exist already
  std::ofstream(dir + "/train-images-idx3-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x03\0\0\0\0\xff\xff\xff\xff"
                     "\xff\xff\xff\xff",
                     16);
  std::ofstream(dir + "/train-labels-idx1-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x01\0\0\0\0", 8);
  expectError([&] { loadIdxDataset(dir, "train"); },
              {dir + "/train-images-idx3-ubyte: corrupt: images of "
                     "4294967295 x 4294967295 pixels are more than any file "
                     "can hold"});
}

TEST(DatasetTest, NonFiniteFeatures) {
  // One NaN or infinity would silently turn normalization off (or poison
  // the statistics): an error naming the file and the line or sample.
  std::string csv = spit("nan.csv", "1,2,3\n0,nan,4\n");
  expectError([&] { loadCsvDataset(csv); },
              {csv + ":2: field 2 ('nan') is not a finite number"});
  std::string big = spit("big.csv", "1,2,3\n0,4,5\n2,1e39,0\n");
  expectError([&] { loadCsvDataset(big); },
              {big + ":3: field 2 ('1e39') is not a finite number"});
  std::string x = tempPath("inf-x.npy"), y = tempPath("inf-y.npy");
  writeNpy(x, array<float>(DType::F32, {3, 2}, {1, 2, 3, 4, INFINITY, 6}));
  writeNpy(y, array<int64_t>(DType::I64, {3}, {0, 1, 0}));
  expectError([&] { loadNpyDataset(x, y); },
              {x + ": sample 2, feature 0 is inf", "not a finite number"});
}

TEST(DatasetTest, UnreadablePaths) {
  std::string dir = ::testing::TempDir();
  expectError([&] { loadCsvDataset(dir); },
              {dir + ": is a directory, not a dataset file"});
  std::string y = tempPath("labels-for-dir.npy");
  writeNpy(y, array<int64_t>(DType::I64, {1}, {0}));
  expectError([&] { loadNpyDataset(dir, y); },
              {dir + ": is a directory, not a .npy file"});
  expectError([&] { loadCsvDataset(tempPath("absent.csv.gz")); },
              {tempPath("absent.csv.gz") + ": cannot open the dataset file: "
                                           "No such file or directory"});
  expectError([&] { loadIdxDataset(tempPath("no-such-dir"), "train"); },
              {tempPath("no-such-dir") + ": is not a directory"});
}

TEST(DatasetTest, Normalization) {
  Dataset d;
  d.source = "mem";
  d.count = 2;
  d.features = 2;
  d.values = {0, 51, 255, 102};
  Dataset unit = d;
  normalize(unit, Normalization::Unit);
  EXPECT_EQ(unit.values, (std::vector<float>{0.0f, 0.2f, 1.0f, 0.4f}));
  // mean 102, population std sqrt((102^2 + 51^2 + 153^2 + 0) / 4).
  double mean, std;
  meanAndStd(d, mean, std);
  EXPECT_DOUBLE_EQ(mean, 102.0);
  EXPECT_DOUBLE_EQ(std, std::sqrt((102.0 * 102 + 51 * 51 + 153 * 153) / 4));
  Dataset ms = d;
  normalize(ms, Normalization::MeanStd, mean, std);
  EXPECT_FLOAT_EQ(ms.values[0], static_cast<float>(-102 / std));
  EXPECT_FLOAT_EQ(ms.values[3], 0.0f);
  Dataset none = d;
  normalize(none, Normalization::None);
  EXPECT_EQ(none.values, d.values);
  // Unit is for 8-bit values; mean-std needs spread.
  Dataset big = d;
  big.values[3] = 300;
  expectError([&] { normalize(big, Normalization::Unit); },
              {"mem: sample 1 holds 300", "--normalize mean-std or none"});
  expectError([&] { normalize(d, Normalization::MeanStd, 1.0, 0.0); },
              {"mem: mean-std normalization needs a positive standard "
               "deviation"});
}

} // namespace
