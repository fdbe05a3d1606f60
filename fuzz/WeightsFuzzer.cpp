//===- WeightsFuzzer.cpp - libFuzzer harness for weights files ------------===//
//
// Feeds arbitrary bytes to anvil::readWeights as a weights file or trainer
// checkpoint. Any input must give tensors whose byte counts match their
// types, or anvil::Error; anything else is a bug.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzFile.h"
#include "runtime/Error.h"
#include "runtime/Weights.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = anvil::fuzz::writeFuzzFile("input.weights", data, size);
  try {
    for (const anvil::NamedTensor &tensor : anvil::readWeights(path)) {
      size_t elements = 1;
      for (int64_t dim : tensor.shape) {
        if (dim < 0)
          std::abort(); // a negative dimension got through
        elements *= static_cast<size_t>(dim);
      }
      if (elements * anvil::dtypeSize(tensor.dtype) != tensor.bytes.size())
        std::abort(); // the reader promised consistent tensors
    }
  } catch (const anvil::Error &) {
    // A clear message about a bad file: the expected outcome.
  }
  return 0;
}
