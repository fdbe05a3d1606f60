//===- WeightsFuzzer.cpp - libFuzzer harness for weights files ------------===//
//
// Feeds arbitrary bytes to anvil::readWeights as a weights file or trainer
// checkpoint. Any input must give tensors whose byte counts match their
// types, or anvil::Error; anything else is a bug. The file ends in an FNV-1a
// checksum that random mutations would almost never match, so the harness
// writes the right one over the input's last 8 bytes: the fuzzer explores
// the parser behind the checksum (a mismatch is a one-line check).
//
//===----------------------------------------------------------------------===//

#include "fuzz/ByteCount.h"
#include "fuzz/FuzzFile.h"
#include "runtime/Error.h"
#include "runtime/Weights.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  if (size >= 8) {
    // FNV-1a 64 of every byte before the checksum, as runtime/Weights.h says.
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size - 8; ++i)
      hash = (hash ^ file[i]) * 0x100000001b3ULL;
    for (size_t i = 0; i < 8; ++i)
      file[size - 8 + i] = static_cast<uint8_t>(hash >> (8 * i));
  }
  std::string path =
      anvil::fuzz::writeFuzzFile("input.weights", file.data(), size);
  try {
    for (const anvil::NamedTensor &tensor : anvil::readWeights(path))
      anvil::fuzz::checkByteCount(tensor.dtype, tensor.shape,
                                  tensor.bytes.size());
  } catch (const anvil::Error &) {
    // A clear message about a bad file: the expected outcome.
  }
  return 0;
}
