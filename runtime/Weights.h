//===- Weights.h - the weights file of a compiled model ---------*- C++ -*-===//
//
// A model compiled with `anvilc --weights-file=FILE` keeps its parameter
// values in FILE instead of its code. The format, all little-endian:
//
//   8 bytes  magic "ANVILWTS"
//   u32      version (1)
//   u32      number of tensors
//   per tensor: u32 name length, the name (UTF-8), u64 byte count, the
//               bytes (dense, row-major, the parameter's element type)
//   u64      FNV-1a 64 of every byte before it
//
// Reading checks all of it and throws anvil::Error naming the file; writing
// is atomic (temporary file, then rename).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_WEIGHTS_H
#define ANVIL_RUNTIME_WEIGHTS_H

#include <string>
#include <vector>

namespace anvil {

struct NamedTensor {
  std::string name;
  std::vector<char> bytes;
};

void writeWeights(const std::string &path,
                  const std::vector<NamedTensor> &tensors);
std::vector<NamedTensor> readWeights(const std::string &path);

} // namespace anvil

#endif // ANVIL_RUNTIME_WEIGHTS_H
