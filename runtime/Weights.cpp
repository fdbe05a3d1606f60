//===- Weights.cpp - weights files and checkpoints ------------------------===//

#include "runtime/Weights.h"
#include "runtime/Error.h"
#include "runtime/Hash.h"

#include <cstring>
#include <iterator>

using namespace anvil;

namespace {

constexpr char kMagic[8] = {'A', 'N', 'V', 'I', 'L', 'W', 'T', 'S'};
constexpr uint32_t kVersion = 2;
constexpr uint8_t kMaxRank = 16;

template <typename T> void put(std::string &out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out += static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
}

/// Reads a little-endian T at `at`, or throws if the file ends first.
template <typename T>
T get(const std::string &path, const std::string &data, size_t &at) {
  if (at + sizeof(T) > data.size() - 8)
    throw Error(path + ": corrupt weights file (a tensor runs past the end)");
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(data[at + i]))
         << (8 * i);
  at += sizeof(T);
  return static_cast<T>(v);
}

} // namespace

NamedTensor anvil::scalarTensor(const std::string &name, int64_t value) {
  NamedTensor t{{name, DType::I64, {}}, std::vector<char>(sizeof(value))};
  std::memcpy(t.bytes.data(), &value, sizeof(value));
  return t;
}

NamedTensor anvil::scalarTensor(const std::string &name, double value) {
  NamedTensor t{{name, DType::F64, {}}, std::vector<char>(sizeof(value))};
  std::memcpy(t.bytes.data(), &value, sizeof(value));
  return t;
}

void anvil::writeWeights(const std::string &path,
                         const std::vector<NamedTensor> &tensors) {
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, tensors.size());
  for (const NamedTensor &t : tensors) {
    if (t.byteSize() != static_cast<int64_t>(t.bytes.size()) ||
        t.shape.size() > kMaxRank)
      throw Error(path + ": internal error: tensor '" + t.name + "' of type " +
                  t.typeText() + " holds " + std::to_string(t.bytes.size()) +
                  " bytes");
    put<uint32_t>(out, t.name.size());
    out += t.name;
    put<uint8_t>(out, dtypeInfo(t.dtype).checkpointCode);
    put<uint8_t>(out, t.shape.size());
    for (int64_t d : t.shape)
      put<uint64_t>(out, d);
    out.append(t.bytes.begin(), t.bytes.end());
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  writeFileAtomically(path, out);
}

std::vector<NamedTensor> anvil::readWeights(const std::string &path) {
  std::string data = readFile(path, "weights file");
  if (data.size() < sizeof(kMagic) + 16 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    throw Error(path + ": not an Anvil weights file (bad magic)");
  size_t at = data.size() - 8;
  uint64_t stored = 0;
  for (size_t i = 0; i < 8; ++i)
    stored |= uint64_t(static_cast<unsigned char>(data[at + i])) << (8 * i);
  if (stored != fnv1a(data.data(), data.size() - 8))
    throw Error(path + ": corrupt (checksum mismatch): the file was "
                       "damaged or cut short; use another copy");
  at = sizeof(kMagic);
  uint32_t version = get<uint32_t>(path, data, at);
  if (version == 1)
    throw Error(path + ": is a version 1 weights file, which records no "
                       "shapes or types; write it again with this Anvil "
                       "(recompile with --weights-file, or train and --save "
                       "a new checkpoint)");
  if (version != kVersion)
    throw Error(path + ": weights file version " + std::to_string(version) +
                " is not supported (this runtime reads version " +
                std::to_string(kVersion) + ")");
  uint32_t count = get<uint32_t>(path, data, at);
  std::vector<NamedTensor> tensors;
  for (uint32_t i = 0; i < count; ++i) {
    NamedTensor t;
    uint32_t nameLength = get<uint32_t>(path, data, at);
    if (nameLength > data.size() - 8 - at)
      throw Error(path + ": corrupt weights file (a name runs past the end)");
    t.name = data.substr(at, nameLength);
    at += nameLength;
    size_t where = at;
    uint8_t code = get<uint8_t>(path, data, at);
    uint8_t rank = get<uint8_t>(path, data, at);
    std::optional<DType> dtype = dtypeFromCheckpointCode(code);
    if (!dtype || rank > kMaxRank)
      throw Error(path + ": corrupt weights file (tensor '" + t.name +
                  "' has element type code " + std::to_string(code) +
                  " and rank " + std::to_string(rank) + " at byte offset " +
                  std::to_string(where) + ")");
    t.dtype = *dtype;
    for (uint8_t d = 0; d < rank; ++d)
      t.shape.push_back(static_cast<int64_t>(get<uint64_t>(path, data, at)));
    int64_t bytes = t.byteSize();
    if (bytes < 0 || static_cast<uint64_t>(bytes) > data.size() - 8 - at)
      throw Error(path + ": corrupt weights file (tensor '" + t.name +
                  "' of type " + t.typeText() + " runs past the end)");
    t.bytes.assign(data.begin() + at, data.begin() + at + bytes);
    at += bytes;
    tensors.push_back(std::move(t));
  }
  if (at != data.size() - 8)
    throw Error(path + ": corrupt weights file (unexpected trailing bytes)");
  return tensors;
}
