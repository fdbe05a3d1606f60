//===- Tensor.cpp - the reference interpreter's tensor --------------------===//

#include "compiler/Reference/Tensor.h"
#include "runtime/Error.h"

using namespace anvil;
using namespace anvil::ref;

int64_t ref::numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Shape ref::stridesOf(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

void ref::forEachIndex(const Shape &shape,
                       const std::function<void(const Shape &)> &fn) {
  if (numElements(shape) == 0)
    return;
  Shape index(shape.size(), 0);
  while (true) {
    fn(index);
    int64_t d = static_cast<int64_t>(shape.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

std::string ref::shapeToString(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Tensor::Tensor(DType dtype, Shape shape, double fill)
    : dtype(dtype), shape(std::move(shape)),
      data(ref::numElements(this->shape), fill) {}

Tensor::Tensor(DType dtype, Shape shape, std::vector<double> values)
    : dtype(dtype), shape(std::move(shape)), data(std::move(values)) {
  if (static_cast<int64_t>(data.size()) != ref::numElements(this->shape))
    throw Error("internal error: " + std::to_string(data.size()) +
                " values for shape " + shapeToString(this->shape));
}

static int64_t flatIndex(const Shape &shape, const Shape &index) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + index[d];
  return flat;
}

double &Tensor::at(const Shape &index) { return data[flatIndex(shape, index)]; }
double Tensor::at(const Shape &index) const {
  return data[flatIndex(shape, index)];
}

Tensor ref::fromNpy(const NpyArray &array) {
  Tensor t(array.dtype, array.shape);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data[i] = loadElement(array.dtype, array.bytes.data(), i);
  return t;
}

NpyArray ref::toNpy(const Tensor &t) {
  NpyArray array;
  array.dtype = t.dtype;
  array.shape = t.shape;
  array.bytes.resize(t.numElements() * dtypeSize(t.dtype));
  for (int64_t i = 0; i < t.numElements(); ++i)
    storeElement(t.dtype, array.bytes.data(), i, t.data[i]);
  return array;
}
