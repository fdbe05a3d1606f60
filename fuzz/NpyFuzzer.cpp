//===- NpyFuzzer.cpp - libFuzzer harness for the .npy reader --------------===//
//
// Feeds arbitrary bytes to anvil::readNpy as a .npy file. Any input must give
// an array whose byte count matches its dtype and shape, or anvil::Error;
// anything else (a crash, a sanitizer report, another exception) is a bug.
//
//===----------------------------------------------------------------------===//

#include "fuzz/ByteCount.h"
#include "fuzz/FuzzFile.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = anvil::fuzz::writeFuzzFile("input.npy", data, size);
  try {
    anvil::NpyArray array = anvil::readNpy(path);
    anvil::fuzz::checkByteCount(array.dtype, array.shape, array.bytes.size());
  } catch (const anvil::Error &) {
    // A clear message about a bad file: the expected outcome.
  }
  return 0;
}
