//===- Dataset.cpp - classification datasets ------------------------------===//
//
// IDX: a big-endian u32 magic (0x803 for u8 images with 3 dimensions, 0x801
// for u8 labels with 1), the dimensions as big-endian u32s, then the bytes.
// zlib's gzread reads gzipped and plain files alike (IDX and CSV).
//
//===----------------------------------------------------------------------===//

#include "runtime/Dataset.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

using namespace anvil;

namespace {

std::string findFile(const std::string &dir, const std::string &name) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(dir + ": is not a directory; point --data at an MNIST-style "
                      "dataset directory such as "
                      "/usr/share/datasets/fashion-mnist");
  for (const std::string &candidate :
       {dir + "/" + name, dir + "/" + name + ".gz"})
    if (stat(candidate.c_str(), &st) == 0)
      return candidate;
  throw Error(dir + ": has no " + name + " (nor " + name +
              ".gz); point --data at an MNIST-style dataset directory such "
              "as /usr/share/datasets/fashion-mnist");
}

/// The whole content of `path`, gunzipped if it is gzipped.
std::string readAll(const std::string &path) {
  int fd = openForReading(path, "dataset file");
  gzFile file = gzdopen(fd, "rb");
  if (!file) {
    close(fd);
    throw Error(path + ": cannot read: out of memory");
  }
  std::string data;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    data.append(buffer, n);
  bool failed = n < 0;
  gzclose(file);
  if (failed)
    throw Error(path + ": corrupt (gzip stream broken after " +
                std::to_string(data.size()) + " bytes)");
  return data;
}

/// The dimensions and bytes of an IDX file of unsigned bytes.
std::string readIdx(const std::string &path, uint32_t magic,
                    std::vector<int64_t> &dims) {
  std::string data = readAll(path);
  auto u32 = [&](size_t at) {
    if (at + 4 > data.size())
      throw Error(path + ": truncated IDX header (" +
                  std::to_string(data.size()) + " bytes)");
    auto byte = [&](size_t i) { return uint32_t(uint8_t(data[at + i])); };
    return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  };
  if (u32(0) != magic)
    throw Error(path + ": not an IDX file of the expected kind (magic " +
                std::to_string(u32(0)) + ", expected " + std::to_string(magic) +
                ")");
  size_t rank = magic & 0xff, offset = 4 + 4 * rank;
  dims.clear();
  for (size_t d = 0; d < rank; ++d)
    dims.push_back(u32(4 + 4 * d));
  int64_t count = byteCount(DType::U8, dims);
  if (count < 0)
    throw Error(path + ": corrupt: the header's dimensions describe more "
                       "data than any file can hold");
  if (data.size() != offset + static_cast<size_t>(count))
    throw Error(path + ": truncated or corrupt: the header promises " +
                std::to_string(count) + " bytes of data, the file holds " +
                std::to_string(data.size() - std::min(data.size(), offset)));
  return data.substr(offset);
}

/// Parses all of `text` (spaces around it allowed) as a number.
bool parseNumber(const std::string &text, double &value) {
  const char *begin = text.c_str();
  char *end = nullptr;
  value = std::strtod(begin, &end);
  if (end == begin)
    return false;
  while (*end == ' ' || *end == '\t')
    ++end;
  return *end == '\0';
}

/// The comma-separated fields of `line`.
std::vector<std::string> splitFields(const std::string &line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string::npos)
      return fields;
    start = comma + 1;
  }
}

/// Throws unless `value` is a whole number >= 0 (a class label).
int64_t label(double value, const std::string &where) {
  if (!(value >= 0) || value != std::floor(value) || value > 1e15)
    throw Error(where + ": the label " + std::to_string(value) +
                " is not a class number (an integer >= 0)");
  return static_cast<int64_t>(value);
}

/// What to do about a NaN or infinity among the features (they would
/// poison every normalization and every step).
const char *const kFiniteHint =
    " (as a 32-bit float); remove or replace the sample";

bool isEightBit(const std::vector<float> &values) {
  for (float v : values)
    if (!(v >= 0 && v <= 255 && v == std::floor(v)))
      return false;
  return true;
}

} // namespace

Dataset anvil::loadIdxDataset(const std::string &dir,
                              const std::string &split) {
  std::string imagesPath = findFile(dir, split + "-images-idx3-ubyte");
  std::string labelsPath = findFile(dir, split + "-labels-idx1-ubyte");
  std::vector<int64_t> imageDims, labelDims;
  std::string images = readIdx(imagesPath, 0x803, imageDims);
  std::string labels = readIdx(labelsPath, 0x801, labelDims);
  if (imageDims[0] != labelDims[0])
    throw Error(imagesPath + " holds " + std::to_string(imageDims[0]) +
                " images but " + labelsPath + " holds " +
                std::to_string(labelDims[0]) + " labels");
  Dataset d;
  d.source = imagesPath;
  d.count = imageDims[0];
  // With 0 images the file's size check passes whatever the image size
  // claims, so the pixels per image need their own overflow check.
  d.features = byteCount(DType::U8, {imageDims[1], imageDims[2]});
  if (d.features < 0)
    throw Error(imagesPath + ": corrupt: images of " +
                std::to_string(imageDims[1]) + " x " +
                std::to_string(imageDims[2]) +
                " pixels are more than any file can hold");
  d.eightBit = true;
  d.values.resize(images.size());
  for (size_t i = 0; i < images.size(); ++i)
    d.values[i] = static_cast<uint8_t>(images[i]);
  for (char l : labels)
    d.labels.push_back(static_cast<uint8_t>(l));
  return d;
}

Dataset anvil::loadCsvDataset(const std::string &path) {
  std::string text = readAll(path);
  Dataset d;
  d.source = path;
  // The first line that is not blank is a header when a field of it is
  // not a number; the first sample line fixes the number of fields.
  size_t fieldCount = 0, fieldLine = 0, headerCount = 0, headerLine = 0, at = 0;
  bool first = true;
  for (size_t lineNo = 1; at < text.size(); ++lineNo) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue; // blank lines, such as a last one
    std::string where = path + ":" + std::to_string(lineNo);
    std::vector<std::string> fields = splitFields(line);
    std::vector<double> numbers(fields.size());
    size_t bad = fields.size();
    for (size_t f = 0; f < fields.size() && bad == fields.size(); ++f)
      if (!parseNumber(fields[f], numbers[f]))
        bad = f;
    bool isFirst = first;
    first = false;
    if (bad != fields.size() && isFirst) {
      headerCount = fields.size();
      headerLine = lineNo;
      continue;
    }
    if (bad != fields.size())
      throw Error(where + ": field " + std::to_string(bad + 1) + " ('" +
                  fields[bad] + "') is not a number");
    for (size_t f = 1; f < fields.size(); ++f)
      if (!std::isfinite(static_cast<float>(numbers[f])))
        throw Error(where + ": field " + std::to_string(f + 1) + " ('" +
                    fields[f] + "') is not a finite number" + kFiniteHint);
    if (fields.size() < 2)
      throw Error(where + ": has one field; a sample needs the label, then "
                          "its features");
    if (fieldCount == 0) {
      fieldCount = fields.size();
      fieldLine = lineNo;
      if (headerLine != 0 && headerCount != fieldCount)
        throw Error(where + ": has " + std::to_string(fieldCount) +
                    " fields, but the header on line " +
                    std::to_string(headerLine) + " has " +
                    std::to_string(headerCount));
    }
    if (fields.size() != fieldCount)
      throw Error(where + ": has " + std::to_string(fields.size()) +
                  " fields, but line " + std::to_string(fieldLine) + " has " +
                  std::to_string(fieldCount) +
                  " (the label, then the same number of features on every "
                  "line)");
    d.labels.push_back(label(numbers[0], where));
    for (size_t f = 1; f < numbers.size(); ++f)
      d.values.push_back(static_cast<float>(numbers[f]));
    ++d.count;
  }
  if (d.count == 0)
    throw Error(path + ": holds no samples (one line per sample: the label, "
                       "then the features, comma-separated)");
  d.features = static_cast<int64_t>(fieldCount) - 1;
  d.eightBit = isEightBit(d.values);
  return d;
}

Dataset anvil::loadNpyDataset(const std::string &xPath,
                              const std::string &yPath) {
  NpyArray x = readNpy(xPath), y = readNpy(yPath);
  if (x.shape.empty())
    throw Error(xPath + ": holds a scalar; save the samples as an array "
                        "[samples, features...]");
  bool integerLabels = y.dtype == DType::I64 || y.dtype == DType::I32 ||
                       y.dtype == DType::I8 || y.dtype == DType::U8;
  bool column = y.shape.size() == 2 && y.shape[1] == 1;
  if (!integerLabels || (y.shape.size() != 1 && !column))
    throw Error(yPath + ": holds " + std::string(dtypeName(y.dtype)) +
                " labels of rank " + std::to_string(y.shape.size()) +
                "; save the labels as integers of shape [samples] "
                "(numpy.int64)");
  if (x.shape[0] != y.shape[0])
    throw Error(xPath + " holds " + std::to_string(x.shape[0]) +
                " samples but " + yPath + " holds " +
                std::to_string(y.shape[0]) + " labels");
  if (x.numElements() == 0)
    throw Error(xPath + ": holds no samples (its shape has a 0); save an "
                        "array [samples, features...]");
  Dataset d;
  d.source = xPath;
  d.count = x.shape[0];
  d.features = x.numElements() / d.count;
  auto element = [](const NpyArray &a, int64_t i) {
    return loadElement(a.dtype, a.bytes.data(), i);
  };
  d.values.resize(x.numElements());
  for (int64_t i = 0; i < x.numElements(); ++i) {
    d.values[i] = static_cast<float>(element(x, i));
    if (!std::isfinite(d.values[i]))
      throw Error(xPath + ": sample " + std::to_string(i / d.features) +
                  ", feature " + std::to_string(i % d.features) + " is " +
                  std::to_string(element(x, i)) + ", not a finite number" +
                  kFiniteHint);
  }
  for (int64_t i = 0; i < d.count; ++i)
    d.labels.push_back(
        label(element(y, i), yPath + ": label " + std::to_string(i)));
  d.eightBit = x.dtype == DType::U8;
  return d;
}

void anvil::meanAndStd(const Dataset &d, double &mean, double &std) {
  double sum = 0, squares = 0;
  for (float v : d.values)
    sum += v;
  double n = std::max<double>(d.values.size(), 1);
  mean = sum / n;
  for (float v : d.values)
    squares += (v - mean) * (v - mean);
  std = std::sqrt(squares / n);
}

void anvil::normalize(Dataset &d, Normalization how, double mean, double std) {
  if (how == Normalization::None)
    return;
  if (how == Normalization::Unit) {
    for (size_t i = 0; i < d.values.size(); ++i) {
      float v = d.values[i];
      if (!(v >= 0 && v <= 255))
        throw Error(d.source + ": sample " +
                    std::to_string(i / std::max<int64_t>(d.features, 1)) +
                    " holds " + std::to_string(v) +
                    "; --normalize unit divides 8-bit values (0..255) by "
                    "255; use --normalize mean-std or none");
      d.values[i] = v / 255.0f;
    }
    return;
  }
  if (!(std > 0))
    throw Error(d.source +
                ": mean-std normalization needs a positive "
                "standard deviation, got " +
                std::to_string(std) +
                " (are all values equal?); give --std or use --normalize "
                "none");
  for (float &v : d.values)
    v = static_cast<float>((v - mean) / std);
}
