//===- Dataset.h - image classification datasets ----------------*- C++ -*-===//
//
// Loads the IDX files of MNIST-style datasets (Debian's
// dataset-fashion-mnist: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte,
// gzipped or not) into memory: images as floats scaled to [0, 1], labels as
// int64. Malformed, truncated or mismatched files throw anvil::Error naming
// the file.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_DATASET_H
#define ANVIL_RUNTIME_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

struct Dataset {
  int64_t count = 0;
  int64_t pixels = 0;          // per image
  std::vector<float> images;   // count * pixels, in [0, 1]
  std::vector<int64_t> labels; // count
};

/// Loads `split` ("train" or "t10k") from `dir`.
Dataset loadIdxDataset(const std::string &dir, const std::string &split);

} // namespace anvil

#endif // ANVIL_RUNTIME_DATASET_H
