//===- IdxFuzzer.cpp - libFuzzer harness for IDX datasets -----------------===//
//
// anvil::loadIdxDataset reads two files, DIR/train-images-idx3-ubyte and
// DIR/train-labels-idx1-ubyte (plain or gzipped). The input holds both: a
// little-endian u32 N, then N bytes of the images file, then the labels
// file (corpus/idx/ is in this form; see README.md). Any input must give a
// dataset whose sizes agree, or anvil::Error; anything else is a bug.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzFile.h"
#include "runtime/Dataset.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  size_t split = data[0] | data[1] << 8 | data[2] << 16 |
                 static_cast<size_t>(data[3]) << 24;
  split = std::min(split, size - 4);
  anvil::fuzz::writeFuzzFile("train-images-idx3-ubyte", data + 4, split);
  anvil::fuzz::writeFuzzFile("train-labels-idx1-ubyte", data + 4 + split,
                             size - 4 - split);
  try {
    anvil::Dataset d = anvil::loadIdxDataset(anvil::fuzz::fuzzDir(), "train");
    if (d.count < 0 || d.features < 0 ||
        d.values.size() != static_cast<size_t>(d.count * d.features) ||
        d.labels.size() != static_cast<size_t>(d.count))
      std::abort(); // the loader promised consistent sizes
  } catch (const anvil::Error &) {
    // A clear message about a bad file: the expected outcome.
  }
  return 0;
}
