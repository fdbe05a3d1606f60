//===- Weights.h - weights files and checkpoints ----------------*- C++ -*-===//
//
// A model compiled with `anvilc --weights-file=FILE` keeps its parameter
// values in FILE instead of its code, and a trainer's checkpoint is the same
// kind of file: named tensors, each with its element type and shape. The
// format (version 2), all little-endian:
//
//   8 bytes  magic "ANVILWTS"
//   u32      version (2)
//   u32      number of tensors
//   per tensor:
//     u32    name length, then the name (UTF-8)
//     u8     element type: 0 f32, 1 f64, 2 i64, 3 i32, 4 i8, 5 u8, 6 bool
//            (DType.h: checkpointCode)
//     u8     rank, then rank x u64 dimensions
//     the data: dense, row-major, product(dimensions) x element size bytes
//   u64      FNV-1a 64 of every byte before it
//
// Reading checks all of it and throws anvil::Error naming the file; writing
// is atomic (temporary file, then rename). Version 1 files (no types or
// shapes) are refused with an error saying how to write them again.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_WEIGHTS_H
#define ANVIL_RUNTIME_WEIGHTS_H

#include "runtime/Npy.h"

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

/// One tensor of a weights file: its spec and data. `bytes` holds exactly
/// byteSize() bytes.
struct NamedTensor : TensorSpec {
  std::vector<char> bytes;
};

/// A rank-0 tensor holding `value` (checkpoint metadata such as the epoch).
NamedTensor scalarTensor(const std::string &name, int64_t value);
NamedTensor scalarTensor(const std::string &name, double value);

/// Writes `tensors` to `path` atomically; throws anvil::Error if a tensor's
/// byte count does not match its type or the file cannot be written.
void writeWeights(const std::string &path,
                  const std::vector<NamedTensor> &tensors);
/// Reads every tensor of `path`; throws anvil::Error naming the file.
std::vector<NamedTensor> readWeights(const std::string &path);

} // namespace anvil

#endif // ANVIL_RUNTIME_WEIGHTS_H
