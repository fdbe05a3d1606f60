//===- Npy.cpp - numpy .npy files -----------------------------------------===//
//
// The .npy layout: "\x93NUMPY", a major and minor version byte, a header
// length (2 bytes in v1, 4 bytes in v2/v3), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"
#include "runtime/Error.h"

#include <cstdio>
#include <cstring>
#include <sstream>

using namespace anvil;

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw Error(path + ": " + what);
}

/// Returns the text of the value after `'key':` in the header dict.
std::string headerField(const std::string &path, const std::string &header,
                        const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    fail(path, "not a valid .npy file: the header has no '" + key + "' field");
  at = header.find(':', at);
  if (at == std::string::npos)
    fail(path, "not a valid .npy file: malformed header");
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  size_t end = at;
  if (at < header.size() && header[at] == '(')
    end = header.find(')', at) + 1;
  else if (at < header.size() && header[at] == '\'')
    end = header.find('\'', at + 1) + 1;
  else
    end = header.find_first_of(",}", at);
  if (end == std::string::npos || end == 0 || end <= at)
    fail(path, "not a valid .npy file: malformed header");
  return header.substr(at, end - at);
}

} // namespace

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

NpyArray anvil::readNpy(const std::string &path) {
  std::string content = readFile(path, ".npy file");
  if (content.size() < 10 || content.compare(0, 6, "\x93NUMPY") != 0)
    fail(path, "not a .npy file (bad magic); write it with numpy.save");
  int major = static_cast<unsigned char>(content[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(content[8]) |
                static_cast<unsigned char>(content[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (content.size() < 12)
      fail(path, "truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |=
          static_cast<size_t>(static_cast<unsigned char>(content[8 + i]))
          << (8 * i);
    headerStart = 12;
  } else {
    fail(path, "unsupported .npy version " + std::to_string(major));
  }
  if (content.size() < headerStart + headerLen)
    fail(path, "truncated .npy header");
  std::string header = content.substr(headerStart, headerLen);

  NpyArray array;
  std::string descr = headerField(path, header, "descr");
  std::optional<DType> dtype;
  if (descr.size() > 2 && descr.front() == '\'' && descr.back() == '\'')
    dtype = dtypeFromNpy(descr.substr(1, descr.size() - 2));
  if (!dtype)
    fail(path, "element type " + descr +
                   " is not supported (use float32, float64, int64, int32, "
                   "int8, uint8 or bool, little-endian)");
  array.dtype = *dtype;
  if (headerField(path, header, "fortran_order") != "False")
    fail(path, "Fortran-order arrays are not supported; save a C-order array "
               "(numpy.ascontiguousarray)");
  std::string shape = headerField(path, header, "shape");
  std::stringstream dims(shape.substr(1, shape.size() - 2));
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    size_t first = dim.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    char *end = nullptr;
    long long value = std::strtoll(dim.c_str() + first, &end, 10);
    if (value < 0 || (*end != '\0' && *end != ' '))
      fail(path, "not a valid .npy file: bad shape " + shape);
    array.shape.push_back(value);
  }
  int64_t bytes = byteCount(array.dtype, array.shape);
  size_t dataStart = headerStart + headerLen;
  size_t found = content.size() - dataStart;
  if (bytes < 0)
    fail(path, "corrupt: the header's shape " + shape +
                   " describes more data than any file can hold");
  size_t expected = bytes;
  if (found < expected)
    fail(path, "truncated: the header promises " + std::to_string(expected) +
                   " bytes of data, the file holds " + std::to_string(found));
  if (found > expected)
    fail(path, "corrupt: " + std::to_string(found - expected) +
                   " bytes follow the data the header describes");
  array.bytes.assign(content.begin() + dataStart, content.end());
  return array;
}

void anvil::writeNpy(const std::string &path, const NpyArray &array) {
  if (array.bytes.size() != array.numElements() * dtypeSize(array.dtype))
    throw Error("internal error: array bytes do not match its shape");
  std::string dims;
  for (size_t i = 0; i < array.shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(array.shape[i]);
  if (array.shape.size() == 1)
    dims += ","; // python's one-element tuple
  std::string header = std::string("{'descr': '") +
                       dtypeInfo(array.dtype).npyDescr +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so that magic + version + length + header is a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(array.bytes.begin(), array.bytes.end());
  writeFileAtomically(path, out);
}
