//===- CsvFuzzer.cpp - libFuzzer harness for CSV datasets -----------------===//
//
// Feeds arbitrary bytes to anvil::loadCsvDataset (plain or gzipped: zlib
// tells them apart by content). Any input must give a dataset whose sizes
// agree, or anvil::Error; anything else is a bug.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzFile.h"
#include "runtime/Dataset.h"
#include "runtime/Error.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = anvil::fuzz::writeFuzzFile("input.csv", data, size);
  try {
    anvil::Dataset d = anvil::loadCsvDataset(path);
    if (d.count < 0 || d.features < 0 ||
        d.values.size() != static_cast<size_t>(d.count * d.features) ||
        d.labels.size() != static_cast<size_t>(d.count))
      std::abort(); // the loader promised consistent sizes
    for (int64_t label : d.labels)
      if (label < 0)
        std::abort(); // Dataset.h: each label >= 0
  } catch (const anvil::Error &) {
    // A clear message about a bad file: the expected outcome.
  }
  return 0;
}
