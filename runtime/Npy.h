//===- Npy.h - numpy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes numpy's .npy format (versions 1-3, little-endian, C order)
// for the element types Anvil uses. Reading checks the magic, the header and
// the data size and throws anvil::Error naming the file on any problem;
// writing goes to a temporary file that is renamed into place, so a failed
// write never leaves a half-written output.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_NPY_H
#define ANVIL_RUNTIME_NPY_H

#include "runtime/DType.h"
#include "runtime/File.h"

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

/// A dense array as stored in a file: element type, shape and raw bytes in
/// C order, little-endian.
struct NpyArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<char> bytes;

  int64_t numElements() const;
};

/// Reads `path`; throws anvil::Error on a missing, malformed or truncated file
/// or an element type Anvil does not handle.
NpyArray readNpy(const std::string &path);

/// Writes `array` to `path` atomically (temp file + rename); throws
/// anvil::Error if the file cannot be written.
void writeNpy(const std::string &path, const NpyArray &array);

} // namespace anvil

#endif // ANVIL_RUNTIME_NPY_H
