//===- Dataset.cpp - image classification datasets ------------------------===//
//
// IDX: a big-endian u32 magic (0x803 for u8 images with 3 dimensions, 0x801
// for u8 labels with 1), the dimensions as big-endian u32s, then the bytes.
// zlib's gzread reads gzipped and plain files alike.
//
//===----------------------------------------------------------------------===//

#include "runtime/Dataset.h"
#include "runtime/Error.h"

#include <sys/stat.h>
#include <zlib.h>

using namespace anvil;

namespace {

std::string findFile(const std::string &dir, const std::string &name) {
  struct stat st;
  for (const std::string &candidate :
       {dir + "/" + name, dir + "/" + name + ".gz"})
    if (stat(candidate.c_str(), &st) == 0)
      return candidate;
  throw Error(dir + ": has no " + name + " (nor " + name +
              ".gz); point --data at an MNIST-style dataset directory such "
              "as /usr/share/datasets/fashion-mnist");
}

/// The dimensions and bytes of an IDX file of unsigned bytes.
std::vector<uint8_t> readIdx(const std::string &path, uint32_t magic,
                             std::vector<int64_t> &dims) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw Error(path + ": cannot open");
  std::vector<uint8_t> data;
  uint8_t buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    data.insert(data.end(), buffer, buffer + n);
  bool failed = n < 0;
  gzclose(file);
  if (failed)
    throw Error(path + ": corrupt (gzip stream broken)");
  auto u32 = [&](size_t at) {
    if (at + 4 > data.size())
      throw Error(path + ": truncated IDX header");
    return uint32_t(data[at]) << 24 | uint32_t(data[at + 1]) << 16 |
           uint32_t(data[at + 2]) << 8 | uint32_t(data[at + 3]);
  };
  if (u32(0) != magic)
    throw Error(path + ": not an IDX file of the expected kind (magic " +
                std::to_string(u32(0)) + ", expected " + std::to_string(magic) +
                ")");
  size_t rank = magic & 0xff, offset = 4 + 4 * rank;
  int64_t count = 1;
  dims.clear();
  for (size_t d = 0; d < rank; ++d) {
    dims.push_back(u32(4 + 4 * d));
    count *= dims.back();
  }
  if (data.size() != offset + static_cast<size_t>(count))
    throw Error(path + ": truncated or corrupt: the header promises " +
                std::to_string(count) + " bytes of data, the file holds " +
                std::to_string(data.size() - std::min(data.size(), offset)));
  return std::vector<uint8_t>(data.begin() + offset, data.end());
}

} // namespace

Dataset anvil::loadIdxDataset(const std::string &dir,
                              const std::string &split) {
  std::string imagesPath = findFile(dir, split + "-images-idx3-ubyte");
  std::string labelsPath = findFile(dir, split + "-labels-idx1-ubyte");
  std::vector<int64_t> imageDims, labelDims;
  std::vector<uint8_t> images = readIdx(imagesPath, 0x803, imageDims);
  std::vector<uint8_t> labels = readIdx(labelsPath, 0x801, labelDims);
  if (imageDims[0] != labelDims[0])
    throw Error(imagesPath + " holds " + std::to_string(imageDims[0]) +
                " images but " + labelsPath + " holds " +
                std::to_string(labelDims[0]) + " labels");
  Dataset d;
  d.count = imageDims[0];
  d.pixels = imageDims[1] * imageDims[2];
  d.images.resize(images.size());
  for (size_t i = 0; i < images.size(); ++i)
    d.images[i] = images[i] / 255.0f;
  d.labels.assign(labels.begin(), labels.end());
  return d;
}
