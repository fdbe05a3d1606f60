//===- Dataset.h - classification datasets ----------------------*- C++ -*-===//
//
// Loads a labelled dataset into memory: each sample's features as floats
// (the values as stored, before normalization) and its label as int64.
// Three formats:
//
//   IDX  MNIST-style files, gzipped or not (Debian's dataset-fashion-mnist:
//        DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]);
//   CSV  one sample per line: the label, then the features, comma-separated;
//        an optional header line (any field not a number) is skipped;
//        gzipped or not;
//   NPY  a pair of .npy files: the samples [N, ...] (any numeric dtype) and
//        the labels [N] (an integer dtype).
//
// `normalize` then scales the features. Malformed, truncated or mismatched
// files throw anvil::Error naming the file and the line or byte offset.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_DATASET_H
#define ANVIL_RUNTIME_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

struct Dataset {
  std::string source;          // the file(s) it came from, for messages
  int64_t count = 0;           // samples
  int64_t features = 0;        // per sample
  std::vector<float> values;   // count * features, row-major
  std::vector<int64_t> labels; // count, each >= 0
  /// Whether every value is an integer in [0, 255] (pixel data): IDX and
  /// uint8 .npy files always, CSV files when their values are.
  bool eightBit = false;
};

/// Loads `split` ("train" or "t10k") of the IDX dataset in `dir`.
Dataset loadIdxDataset(const std::string &dir, const std::string &split);
/// Loads a CSV file (see above); `.gz` files are decompressed.
Dataset loadCsvDataset(const std::string &path);
/// Loads samples from `xPath` and labels from `yPath`, both .npy.
Dataset loadNpyDataset(const std::string &xPath, const std::string &yPath);

enum class Normalization {
  Unit,    // x / 255: 8-bit values to [0, 1]
  MeanStd, // (x - mean) / std
  None,
};

/// The mean and (population) standard deviation of all values of `d`.
void meanAndStd(const Dataset &d, double &mean, double &std);

/// Normalizes the values of `d` in place. Unit throws (naming the file and
/// sample) if a value lies outside [0, 255]; MeanStd throws if `std` is not
/// positive.
void normalize(Dataset &d, Normalization how, double mean = 0, double std = 1);

} // namespace anvil

#endif // ANVIL_RUNTIME_DATASET_H
