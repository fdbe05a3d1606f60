//===- Weights.cpp - the weights file of a compiled model -----------------===//

#include "runtime/Weights.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

using namespace anvil;

namespace {

constexpr char kMagic[8] = {'A', 'N', 'V', 'I', 'L', 'W', 'T', 'S'};
constexpr uint32_t kVersion = 1;

uint64_t fnv1a(const char *data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <typename T> void put(std::string &out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out += static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
}

/// Reads a little-endian T at `at`, or throws if the file ends first.
template <typename T>
T get(const std::string &path, const std::string &data, size_t &at) {
  if (at + sizeof(T) > data.size())
    throw Error(path + ": truncated weights file; recompile the model with "
                       "--weights-file to write it again");
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(data[at + i]))
         << (8 * i);
  at += sizeof(T);
  return static_cast<T>(v);
}

} // namespace

void anvil::writeWeights(const std::string &path,
                         const std::vector<NamedTensor> &tensors) {
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint32_t>(out, tensors.size());
  for (const NamedTensor &t : tensors) {
    put<uint32_t>(out, t.name.size());
    out += t.name;
    put<uint64_t>(out, t.bytes.size());
    out.append(t.bytes.begin(), t.bytes.end());
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  writeFileAtomically(path, out);
}

std::vector<NamedTensor> anvil::readWeights(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path +
                ": cannot open the weights file: " + std::strerror(errno) +
                " (pass --weights FILE, or recompile with --weights-file)");
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (data.size() < sizeof(kMagic) + 16 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    throw Error(path + ": not an Anvil weights file (bad magic)");
  size_t at = data.size() - 8;
  uint64_t stored = get<uint64_t>(path, data, at);
  if (stored != fnv1a(data.data(), data.size() - 8))
    throw Error(path + ": corrupt (checksum mismatch): the file was "
                       "damaged or cut short; use another copy");
  at = sizeof(kMagic);
  uint32_t version = get<uint32_t>(path, data, at);
  if (version != kVersion)
    throw Error(path + ": weights file version " + std::to_string(version) +
                " is not supported (this runtime reads version " +
                std::to_string(kVersion) + ")");
  uint32_t count = get<uint32_t>(path, data, at);
  std::vector<NamedTensor> tensors;
  for (uint32_t i = 0; i < count; ++i) {
    NamedTensor t;
    uint32_t nameLength = get<uint32_t>(path, data, at);
    if (at + nameLength > data.size() - 8)
      throw Error(path + ": truncated weights file");
    t.name = data.substr(at, nameLength);
    at += nameLength;
    uint64_t bytes = get<uint64_t>(path, data, at);
    if (bytes > data.size() - 8 - at)
      throw Error(path + ": truncated weights file");
    t.bytes.assign(data.begin() + at, data.begin() + at + bytes);
    at += bytes;
    tensors.push_back(std::move(t));
  }
  if (at != data.size() - 8)
    throw Error(path + ": corrupt weights file (unexpected trailing bytes)");
  return tensors;
}
