//===- Tensor.h - the reference interpreter's tensor ------------*- C++ -*-===//
//
// A dense, row-major tensor for the reference kernels. Values are held as
// doubles whatever the element type (exact for every f32, i32, i8 and bool,
// and for i64 up to 2^53), so the reference is at least as precise as any
// compiled kernel it judges. `dtype` records the element type the value has
// in the graph, and the conversion to a file rounds to it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_REFERENCE_TENSOR_H
#define ANVIL_COMPILER_REFERENCE_TENSOR_H

#include "runtime/Npy.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace anvil::ref {

using Shape = std::vector<int64_t>;

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<double> data;

  Tensor() = default;
  /// A tensor of `shape` filled with `fill`.
  Tensor(DType dtype, Shape shape, double fill = 0.0);
  /// A tensor with the given values (their count must match the shape).
  Tensor(DType dtype, Shape shape, std::vector<double> values);

  int64_t numElements() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// The element at a full multi-index.
  double &at(const Shape &index);
  double at(const Shape &index) const;
};

/// Number of elements of `shape`.
int64_t numElements(const Shape &shape);
/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape);
/// Calls `fn(index)` for every multi-index of `shape` in row-major order.
void forEachIndex(const Shape &shape,
                  const std::function<void(const Shape &)> &fn);
/// "[2, 3]"
std::string shapeToString(const Shape &shape);

/// Converts a file's array to a tensor (any supported dtype).
Tensor fromNpy(const NpyArray &array);
/// Converts to a file's array, rounding each value to the tensor's dtype.
NpyArray toNpy(const Tensor &tensor);

} // namespace anvil::ref

#endif // ANVIL_COMPILER_REFERENCE_TENSOR_H
