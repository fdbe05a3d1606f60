//===- OnnxOut.cpp - a trainer's model out to ONNX ------------------------===//

#include "runtime/OnnxOut.h"
#include "runtime/Error.h"

#include <algorithm>

using namespace anvil;

namespace {

void varint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

/// A length-delimited protobuf field.
void field(std::string &out, int number, const std::string &bytes) {
  varint(out, (static_cast<uint64_t>(number) << 3) | 2);
  varint(out, bytes.size());
  out += bytes;
}

std::string text(const NamedTensor &t) {
  return std::string(t.bytes.begin(), t.bytes.end());
}

} // namespace

std::string anvil::onnxModel(const std::vector<NamedTensor> &stored,
                             const std::vector<NamedTensor> &values) {
  const std::string prefix = "__onnx.init:";
  std::string model, graph;
  bool found = false;
  for (const NamedTensor &t : stored) {
    if (t.name == "__onnx.error")
      throw Error("this trainer's model has no ONNX form: " + text(t));
    if (t.name == "__onnx.model") {
      model = text(t);
      found = true;
    }
    if (t.name.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string name = t.name.substr(prefix.size());
    auto value =
        std::find_if(values.begin(), values.end(),
                     [&](const NamedTensor &v) { return v.name == name; });
    if (value == values.end())
      throw Error("the trainer holds no parameter '" + name + "' to export");
    std::string tensor = text(t);   // name, dtype, dims
    field(tensor, 9, text(*value)); // TensorProto.raw_data
    field(graph, 5, tensor);        // GraphProto.initializer
  }
  if (!found)
    throw Error("this trainer was compiled without an ONNX form of its "
                "model; compile it again with this anvilc");
  field(model, 7, graph); // ModelProto.graph, merged into the first
  return model;
}
