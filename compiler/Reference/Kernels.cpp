//===- Kernels.cpp - naive reference kernels of every anvil op ------------===//
//
// Straight loops over multi-indices; see Kernels.h. Shape errors here are
// internal errors (the dialect verifies shapes before anything runs); value
// errors (an index or label out of range) are user errors.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Kernels.h"
#include "dialects/Bf16.h"
#include "dialects/ParamInit.h"
#include "dialects/QuantParams.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace anvil;
using namespace anvil::ref;
using mlir::anvil::ComparePredicate;
using mlir::anvil::LossReduction;

static void require(bool condition, const std::string &what) {
  if (!condition)
    throw Error("internal error in a reference kernel: " + what);
}

static int64_t normAxis(int64_t axis, int64_t rank) {
  require(axis >= -rank && axis < rank, "axis out of range");
  return axis < 0 ? axis + rank : axis;
}

/// max that propagates NaN, as PyTorch and ONNX do.
static double nanMax(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
}

static bool isFloat(DType t) { return dtypeInfo(t).isFloat; }

/// Rounds `v` to what an element of type `t` can hold.
static double roundTo(DType t, double v) {
  char element[8];
  storeElement(t, element, 0, v);
  return loadElement(t, element, 0);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Maps an index of the broadcast result to the flat offset in `t`.
static int64_t broadcastOffset(const Tensor &t, const Shape &outIndex) {
  int64_t offset = 0, lead = outIndex.size() - t.shape.size();
  for (size_t d = 0; d < t.shape.size(); ++d)
    offset = offset * t.shape[d] + (t.shape[d] == 1 ? 0 : outIndex[lead + d]);
  return offset;
}

static Shape broadcastShape(const Shape &a, const Shape &b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    require(da == db || da == 1 || db == 1, "shapes do not broadcast");
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

Tensor ref::binary(BinaryKind kind, const Tensor &lhs, const Tensor &rhs) {
  Tensor out(lhs.dtype, broadcastShape(lhs.shape, rhs.shape));
  bool integer = !isFloat(lhs.dtype);
  int64_t flat = 0;
  forEachIndex(out.shape, [&](const Shape &index) {
    double a = lhs.data[broadcastOffset(lhs, index)];
    double b = rhs.data[broadcastOffset(rhs, index)];
    double r = 0;
    switch (kind) {
    case BinaryKind::Add:
      r = a + b;
      break;
    case BinaryKind::Sub:
      r = a - b;
      break;
    case BinaryKind::Mul:
      r = a * b;
      break;
    case BinaryKind::Div:
      if (integer && b == 0)
        throw Error("integer division by zero");
      r = integer ? std::trunc(a / b) : a / b;
      break;
    case BinaryKind::Pow:
      r = std::pow(a, b);
      break;
    case BinaryKind::Max:
      r = nanMax(a, b);
      break;
    case BinaryKind::Min:
      r = std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
      break;
    }
    out.data[flat++] = integer ? roundTo(out.dtype, r) : r;
  });
  return out;
}

Tensor ref::compare(mlir::anvil::ComparePredicate predicate, const Tensor &lhs,
                    const Tensor &rhs) {
  Tensor out(DType::Bool, broadcastShape(lhs.shape, rhs.shape));
  int64_t flat = 0;
  forEachIndex(out.shape, [&](const Shape &index) {
    double a = lhs.data[broadcastOffset(lhs, index)];
    double b = rhs.data[broadcastOffset(rhs, index)];
    bool r = false;
    switch (predicate) {
    case ComparePredicate::eq:
      r = a == b;
      break;
    case ComparePredicate::ne:
      r = a != b;
      break;
    case ComparePredicate::lt:
      r = a < b;
      break;
    case ComparePredicate::le:
      r = a <= b;
      break;
    case ComparePredicate::gt:
      r = a > b;
      break;
    case ComparePredicate::ge:
      r = a >= b;
      break;
    }
    out.data[flat++] = r ? 1.0 : 0.0;
  });
  return out;
}

Tensor ref::where(const Tensor &condition, const Tensor &lhs,
                  const Tensor &rhs) {
  Tensor out(lhs.dtype, broadcastShape(condition.shape,
                                       broadcastShape(lhs.shape, rhs.shape)));
  int64_t flat = 0;
  forEachIndex(out.shape, [&](const Shape &index) {
    out.data[flat++] = condition.data[broadcastOffset(condition, index)] != 0
                           ? lhs.data[broadcastOffset(lhs, index)]
                           : rhs.data[broadcastOffset(rhs, index)];
  });
  return out;
}

static Tensor map(const Tensor &x, const std::function<double(double)> &fn) {
  Tensor out(x.dtype, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i)
    out.data[i] = fn(x.data[i]);
  return out;
}

Tensor ref::unary(UnaryKind kind, const Tensor &x) {
  switch (kind) {
  case UnaryKind::Neg:
    return map(x, [](double v) { return -v; });
  case UnaryKind::Abs:
    return map(x, [](double v) { return std::fabs(v); });
  case UnaryKind::Exp:
    return map(x, [](double v) { return std::exp(v); });
  case UnaryKind::Log:
    return map(x, [](double v) { return std::log(v); });
  case UnaryKind::Sqrt:
    return map(x, [](double v) { return std::sqrt(v); });
  case UnaryKind::Rsqrt:
    return map(x, [](double v) { return 1.0 / std::sqrt(v); });
  case UnaryKind::Relu:
    return map(x, [](double v) { return v > 0 || std::isnan(v) ? v : 0.0; });
  case UnaryKind::Sigmoid:
    return map(x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  case UnaryKind::Tanh:
    return map(x, [](double v) { return std::tanh(v); });
  case UnaryKind::Erf:
    return map(x, [](double v) { return std::erf(v); });
  case UnaryKind::Gelu:
    return map(x, [](double v) {
      return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    });
  case UnaryKind::GeluTanh:
    return map(x, [](double v) {
      double inner = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
      return 0.5 * v * (1.0 + std::tanh(inner));
    });
  }
  require(false, "unknown unary kind");
  return x;
}

Tensor ref::leakyRelu(const Tensor &x, double alpha) {
  return map(x, [alpha](double v) { return v >= 0 ? v : alpha * v; });
}

Tensor ref::clip(const Tensor &x, std::optional<double> lo,
                 std::optional<double> hi) {
  return map(x, [&](double v) {
    if (lo && v < *lo)
      v = *lo;
    if (hi && v > *hi)
      v = *hi;
    return v;
  });
}

Tensor ref::oneHot(const Tensor &labels, int64_t classes, DType dtype) {
  Shape shape = labels.shape;
  shape.push_back(classes);
  Tensor out(dtype, shape);
  for (int64_t i = 0; i < labels.numElements(); ++i) {
    double label = labels.data[i];
    if (label >= 0 && label < classes)
      out.data[i * classes + static_cast<int64_t>(label)] = 1.0;
  }
  return out;
}

Tensor ref::reluGrad(const Tensor &input, const Tensor &grad) {
  Tensor out(grad.dtype, grad.shape);
  for (int64_t i = 0; i < grad.numElements(); ++i)
    out.data[i] = input.data[i] > 0 ? grad.data[i] : 0.0;
  return out;
}

Tensor ref::castTo(const Tensor &x, DType to) {
  Tensor out(to, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i)
    out.data[i] = roundTo(to, x.data[i]);
  return out;
}

//===----------------------------------------------------------------------===//
// Linear algebra, softmax, reductions
//===----------------------------------------------------------------------===//

Tensor ref::matmul(const Tensor &a, const Tensor &b, bool transposeA,
                   bool transposeB) {
  require(a.rank() >= 2 && b.rank() >= 2, "matmul needs rank >= 2");
  int64_t ra = a.rank(), rb = b.rank();
  int64_t m = a.shape[ra - 2], k = a.shape[ra - 1];
  int64_t kb = b.shape[rb - 2], n = b.shape[rb - 1];
  if (transposeA)
    std::swap(m, k);
  if (transposeB)
    std::swap(kb, n);
  require(k == kb, "matmul contraction dimensions differ");
  Shape batchA(a.shape.begin(), a.shape.end() - 2);
  Shape batchB(b.shape.begin(), b.shape.end() - 2);
  Shape outShape = broadcastShape(batchA, batchB);
  size_t batchRank = outShape.size();
  outShape.push_back(m);
  outShape.push_back(n);
  Tensor out(a.dtype, outShape);
  forEachIndex(outShape, [&](const Shape &index) {
    int64_t i = index[batchRank], j = index[batchRank + 1];
    Shape ia(index.end() - 2 - batchA.size(), index.end()),
        ib(index.end() - 2 - batchB.size(), index.end());
    // Broadcast batch dimensions of size 1.
    for (size_t d = 0; d < batchA.size(); ++d)
      if (batchA[d] == 1)
        ia[d] = 0;
    for (size_t d = 0; d < batchB.size(); ++d)
      if (batchB[d] == 1)
        ib[d] = 0;
    double sum = 0;
    for (int64_t p = 0; p < k; ++p) {
      ia[ia.size() - 2] = transposeA ? p : i;
      ia[ia.size() - 1] = transposeA ? i : p;
      ib[ib.size() - 2] = transposeB ? j : p;
      ib[ib.size() - 1] = transposeB ? p : j;
      sum += a.at(ia) * b.at(ib);
    }
    out.at(index) = sum;
  });
  return out;
}

Tensor ref::roundedToBf16(const Tensor &x) {
  Tensor out = x;
  for (double &v : out.data)
    v = mlir::anvil::roundToBf16(static_cast<float>(v));
  return out;
}

/// Calls `fn(lane)` for every 1-D lane of a tensor of `shape` along `axis`;
/// `lane` lists the flat offsets of the lane's elements.
static void forEachLane(const Shape &shape, int64_t axis,
                        const std::function<void(const Shape &)> &fn) {
  Shape outer = shape;
  outer[axis] = 1;
  Shape strides = stridesOf(shape);
  int64_t stride = strides[axis];
  forEachIndex(outer, [&](const Shape &index) {
    int64_t base = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      base += index[d] * strides[d];
    Shape lane(shape[axis]);
    for (int64_t i = 0; i < shape[axis]; ++i)
      lane[i] = base + i * stride;
    fn(lane);
  });
}

static Tensor softmaxImpl(const Tensor &x, int64_t axis, bool log) {
  Tensor out(x.dtype, x.shape);
  forEachLane(x.shape, normAxis(axis, x.rank()), [&](const Shape &lane) {
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t i : lane)
      max = std::max(max, x.data[i]);
    double sum = 0;
    for (int64_t i : lane)
      sum += std::exp(x.data[i] - max);
    for (int64_t i : lane)
      out.data[i] = log ? x.data[i] - max - std::log(sum)
                        : std::exp(x.data[i] - max) / sum;
  });
  return out;
}

Tensor ref::softmax(const Tensor &x, int64_t axis) {
  return softmaxImpl(x, axis, false);
}
Tensor ref::logSoftmax(const Tensor &x, int64_t axis) {
  return softmaxImpl(x, axis, true);
}

Tensor ref::reduce(ReduceKind kind, const Tensor &x, const Shape &axes,
                   bool keepdims) {
  std::vector<bool> reduced(x.rank(), false);
  for (int64_t a : axes)
    reduced[normAxis(a, x.rank())] = true;
  Shape kept = x.shape; // the result with keepdims
  int64_t count = 1;
  for (int64_t d = 0; d < x.rank(); ++d)
    if (reduced[d]) {
      count *= x.shape[d];
      kept[d] = 1;
    }
  double init =
      kind == ReduceKind::Max ? -std::numeric_limits<double>::infinity() : 0.0;
  Tensor out(x.dtype, kept, init);
  forEachIndex(x.shape, [&](const Shape &index) {
    Shape o = index;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (reduced[d])
        o[d] = 0;
    double &acc = out.at(o);
    acc =
        kind == ReduceKind::Max ? nanMax(acc, x.at(index)) : acc + x.at(index);
  });
  if (kind == ReduceKind::Mean)
    for (double &v : out.data)
      v /= count;
  if (!keepdims) {
    Shape dropped;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (!reduced[d])
        dropped.push_back(x.shape[d]);
    out.shape = dropped;
  }
  return out;
}

Tensor ref::argmax(const Tensor &x, int64_t axis) {
  int64_t a = normAxis(axis, x.rank());
  Shape shape = x.shape;
  shape.erase(shape.begin() + a);
  std::vector<double> out;
  // Lanes come in row-major order of the other dimensions: the result's.
  forEachLane(x.shape, a, [&](const Shape &lane) {
    int64_t best = 0;
    for (int64_t i = 1; i < static_cast<int64_t>(lane.size()); ++i) {
      double v = x.data[lane[i]], m = x.data[lane[best]];
      if (!std::isnan(m) && (v > m || std::isnan(v)))
        best = i;
    }
    out.push_back(static_cast<double>(best));
  });
  return Tensor(DType::I64, shape, out);
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

Tensor ref::reshape(const Tensor &x, const Shape &shape) {
  require(numElements(shape) == x.numElements(), "reshape changes the size");
  return Tensor(x.dtype, shape, x.data);
}

Tensor ref::transpose(const Tensor &x, const Shape &perm) {
  Shape shape;
  for (int64_t p : perm)
    shape.push_back(x.shape[p]);
  Tensor out(x.dtype, shape);
  forEachIndex(shape, [&](const Shape &index) {
    Shape in(x.rank());
    for (size_t i = 0; i < perm.size(); ++i)
      in[perm[i]] = index[i];
    out.at(index) = x.at(in);
  });
  return out;
}

Tensor ref::flatten(const Tensor &x, int64_t axis) {
  if (axis < 0)
    axis += x.rank();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.rank(); ++d)
    (d < axis ? outer : inner) *= x.shape[d];
  return Tensor(x.dtype, {outer, inner}, x.data);
}

Tensor ref::concat(const std::vector<Tensor> &inputs, int64_t axis) {
  require(!inputs.empty(), "concat of nothing");
  axis = normAxis(axis, inputs[0].rank());
  Shape shape = inputs[0].shape;
  shape[axis] = 0;
  for (const Tensor &t : inputs)
    shape[axis] += t.shape[axis];
  Tensor out(inputs[0].dtype, shape);
  int64_t offset = 0;
  for (const Tensor &t : inputs) {
    forEachIndex(t.shape, [&](const Shape &index) {
      Shape o = index;
      o[axis] += offset;
      out.at(o) = t.at(index);
    });
    offset += t.shape[axis];
  }
  return out;
}

Tensor ref::slice(const Tensor &x, const Shape &starts, const Shape &ends,
                  const Shape &steps) {
  Shape shape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    int64_t span = steps[d] > 0 ? ends[d] - starts[d] : starts[d] - ends[d];
    int64_t stride = std::abs(steps[d]);
    shape.push_back(std::max<int64_t>(0, (span + stride - 1) / stride));
  }
  Tensor out(x.dtype, shape);
  forEachIndex(shape, [&](const Shape &index) {
    Shape in(x.rank());
    for (int64_t d = 0; d < x.rank(); ++d)
      in[d] = starts[d] + index[d] * steps[d];
    out.at(index) = x.at(in);
  });
  return out;
}

Tensor ref::gather(const Tensor &x, const Tensor &indices, int64_t axis) {
  axis = normAxis(axis, x.rank());
  Shape shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  Tensor out(x.dtype, shape);
  int64_t dim = x.shape[axis];
  forEachIndex(shape, [&](const Shape &index) {
    Shape idx(index.begin() + axis, index.begin() + axis + indices.rank());
    int64_t i = static_cast<int64_t>(indices.at(idx));
    if (i < -dim || i >= dim)
      throw Error("gather index " + std::to_string(i) +
                  " is out of range for a dimension of size " +
                  std::to_string(dim));
    Shape in(index.begin(), index.begin() + axis);
    in.push_back(i < 0 ? i + dim : i);
    in.insert(in.end(), index.begin() + axis + indices.rank(), index.end());
    out.at(index) = x.at(in);
  });
  return out;
}

Tensor ref::gatherElements(const Tensor &x, const Tensor &indices,
                           int64_t axis) {
  axis = normAxis(axis, x.rank());
  Tensor out(x.dtype, indices.shape);
  int64_t dim = x.shape[axis];
  forEachIndex(indices.shape, [&](const Shape &index) {
    int64_t i = static_cast<int64_t>(indices.at(index));
    if (i < -dim || i >= dim)
      throw Error("gather_elements index " + std::to_string(i) +
                  " is out of range for a dimension of size " +
                  std::to_string(dim));
    Shape in = index;
    in[axis] = i < 0 ? i + dim : i;
    out.at(index) = x.at(in);
  });
  return out;
}

Tensor ref::sliceGrad(const Tensor &grad, const Shape &shape,
                      const Shape &starts, const Shape &steps) {
  Tensor dx(grad.dtype, shape);
  forEachIndex(grad.shape, [&](const Shape &index) {
    Shape in(shape.size());
    for (size_t d = 0; d < shape.size(); ++d)
      in[d] = starts[d] + index[d] * steps[d];
    dx.at(in) = grad.at(index);
  });
  return dx;
}

Tensor ref::gatherGrad(const Tensor &grad, const Tensor &indices, int64_t axis,
                       int64_t axisSize) {
  int64_t rank = grad.rank() - indices.rank() + 1;
  axis = normAxis(axis, rank);
  Shape shape(grad.shape.begin(), grad.shape.begin() + axis);
  shape.push_back(axisSize);
  shape.insert(shape.end(), grad.shape.begin() + axis + indices.rank(),
               grad.shape.end());
  Tensor dx(grad.dtype, shape);
  forEachIndex(grad.shape, [&](const Shape &index) {
    Shape idx(index.begin() + axis, index.begin() + axis + indices.rank());
    int64_t i = static_cast<int64_t>(indices.at(idx));
    if (i < -axisSize || i >= axisSize)
      throw Error("gather index " + std::to_string(i) +
                  " is out of range for a dimension of size " +
                  std::to_string(axisSize));
    Shape out(index.begin(), index.begin() + axis);
    out.push_back(i < 0 ? i + axisSize : i);
    out.insert(out.end(), index.begin() + axis + indices.rank(), index.end());
    dx.at(out) += grad.at(index);
  });
  return dx;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Output size of one spatial axis; see the dialect's windowOutputSize.
static int64_t windowOut(int64_t in, int64_t padBegin, int64_t padEnd,
                         int64_t kernel, int64_t stride, int64_t dilation,
                         bool ceilMode) {
  int64_t span = in + padBegin + padEnd - dilation * (kernel - 1) - 1;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

Tensor ref::conv2d(const Tensor &x, const Tensor &w, const Tensor *bias,
                   const Shape &strides, const Shape &pads,
                   const Shape &dilations, int64_t groups) {
  int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  int64_t o = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  require(cg * groups == c, "conv2d channels do not match groups");
  int64_t oh =
      windowOut(h, pads[0], pads[2], kh, strides[0], dilations[0], false);
  int64_t ow =
      windowOut(wd, pads[1], pads[3], kw, strides[1], dilations[1], false);
  Tensor out(x.dtype, {n, o, oh, ow});
  int64_t og = o / groups;
  // Row-major offsets by hand (Tensor::at per term made ResNet-sized
  // calibration minutes long); the terms are summed in the same order.
  double *result = out.data.data();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc) {
      int64_t g = oc / og;
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          double sum = bias ? bias->data[oc] : 0.0;
          for (int64_t ic = 0; ic < cg; ++ic) {
            const double *image =
                x.data.data() + (b * c + g * cg + ic) * h * wd;
            const double *filter = w.data.data() + (oc * cg + ic) * kh * kw;
            for (int64_t i = 0; i < kh; ++i) {
              int64_t iy = y * strides[0] - pads[0] + i * dilations[0];
              if (iy < 0 || iy >= h)
                continue; // zero padding
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ix = xo * strides[1] - pads[1] + j * dilations[1];
                if (ix >= 0 && ix < wd)
                  sum += image[iy * wd + ix] * filter[i * kw + j];
              }
            }
          }
          *result++ = sum;
        }
    }
  return out;
}

/// Visits the in-bounds cells of each pooling window; `fn(index, cells,
/// windowCells)` gets the output index, the in-bounds input values and the
/// number of cells the window covers inside the padded input.
static Tensor
pool(const Tensor &x, const Shape &kernel, const Shape &strides,
     const Shape &pads, const Shape &dilations, bool ceilMode,
     const std::function<double(const std::vector<double> &, int64_t)> &fn) {
  int64_t h = x.shape[2], wd = x.shape[3];
  int64_t oh = windowOut(h, pads[0], pads[2], kernel[0], strides[0],
                         dilations[0], ceilMode);
  int64_t ow = windowOut(wd, pads[1], pads[3], kernel[1], strides[1],
                         dilations[1], ceilMode);
  Tensor out(x.dtype, {x.shape[0], x.shape[1], oh, ow});
  std::vector<double> cells;
  forEachIndex(out.shape, [&](const Shape &index) {
    cells.clear();
    int64_t padded = 0;
    for (int64_t i = 0; i < kernel[0]; ++i)
      for (int64_t j = 0; j < kernel[1]; ++j) {
        int64_t iy = index[2] * strides[0] - pads[0] + i * dilations[0];
        int64_t ix = index[3] * strides[1] - pads[1] + j * dilations[1];
        // Cells past the padded input (ceil mode) never count.
        if (iy >= h + pads[2] || ix >= wd + pads[3])
          continue;
        ++padded;
        if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
          cells.push_back(x.at({index[0], index[1], iy, ix}));
      }
    out.at(index) = fn(cells, padded);
  });
  return out;
}

Tensor ref::maxPool2d(const Tensor &x, const Shape &kernel,
                      const Shape &strides, const Shape &pads,
                      const Shape &dilations, bool ceilMode) {
  return pool(x, kernel, strides, pads, dilations, ceilMode,
              [](const std::vector<double> &cells, int64_t) {
                require(!cells.empty(), "a pooling window holds no cell");
                double max = -INFINITY;
                for (double v : cells)
                  max = nanMax(max, v);
                return max;
              });
}

Tensor ref::avgPool2d(const Tensor &x, const Shape &kernel,
                      const Shape &strides, const Shape &pads, bool ceilMode,
                      bool countIncludePad) {
  return pool(x, kernel, strides, pads, {1, 1}, ceilMode,
              [&](const std::vector<double> &cells, int64_t padded) {
                double sum = 0;
                for (double v : cells)
                  sum += v;
                return sum / (countIncludePad ? padded : cells.size());
              });
}

/// Visits every (output index, input index) term of a convolution sum.
static void forEachConvTerm(
    const Shape &outShape, const Shape &inShape, const Shape &wShape,
    const Shape &strides, const Shape &pads, const Shape &dilations,
    int64_t groups,
    const std::function<void(const Shape &, const Shape &, const Shape &)>
        &fn) {
  int64_t cg = wShape[1], og = wShape[0] / groups;
  forEachIndex(outShape, [&](const Shape &o) {
    int64_t g = o[1] / og;
    for (int64_t ic = 0; ic < cg; ++ic)
      for (int64_t i = 0; i < wShape[2]; ++i)
        for (int64_t j = 0; j < wShape[3]; ++j) {
          int64_t iy = o[2] * strides[0] - pads[0] + i * dilations[0];
          int64_t ix = o[3] * strides[1] - pads[1] + j * dilations[1];
          if (iy < 0 || iy >= inShape[2] || ix < 0 || ix >= inShape[3])
            continue;
          fn(o, {o[0], g * cg + ic, iy, ix}, {o[1], ic, i, j});
        }
  });
}

Tensor ref::conv2dGradInput(const Tensor &grad, const Tensor &w,
                            const Shape &inputSize, const Shape &strides,
                            const Shape &pads, const Shape &dilations,
                            int64_t groups) {
  Tensor dx(grad.dtype,
            {grad.shape[0], w.shape[1] * groups, inputSize[0], inputSize[1]});
  forEachConvTerm(grad.shape, dx.shape, w.shape, strides, pads, dilations,
                  groups, [&](const Shape &o, const Shape &in, const Shape &k) {
                    dx.at(in) += grad.at(o) * w.at(k);
                  });
  return dx;
}

Tensor ref::conv2dGradFilter(const Tensor &x, const Tensor &grad,
                             const Shape &kernel, const Shape &strides,
                             const Shape &pads, const Shape &dilations,
                             int64_t groups) {
  Tensor dw(x.dtype,
            {grad.shape[1], x.shape[1] / groups, kernel[0], kernel[1]});
  forEachConvTerm(grad.shape, x.shape, dw.shape, strides, pads, dilations,
                  groups, [&](const Shape &o, const Shape &in, const Shape &k) {
                    dw.at(k) += grad.at(o) * x.at(in);
                  });
  return dw;
}

Tensor ref::maxPool2dGrad(const Tensor &x, const Tensor &grad,
                          const Shape &kernel, const Shape &strides,
                          const Shape &pads, const Shape &dilations) {
  Tensor dx(x.dtype, x.shape);
  int64_t h = x.shape[2], wd = x.shape[3];
  forEachIndex(grad.shape, [&](const Shape &o) {
    Shape best;
    double max = -INFINITY;
    for (int64_t i = 0; i < kernel[0]; ++i)
      for (int64_t j = 0; j < kernel[1]; ++j) {
        int64_t iy = o[2] * strides[0] - pads[0] + i * dilations[0];
        int64_t ix = o[3] * strides[1] - pads[1] + j * dilations[1];
        if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
          continue;
        double v = x.at({o[0], o[1], iy, ix});
        if (best.empty() || v > max) {
          max = v;
          best = {o[0], o[1], iy, ix};
        }
      }
    dx.at(best) += grad.at(o);
  });
  return dx;
}

Tensor ref::avgPool2dGrad(const Tensor &grad, const Shape &inputSize,
                          const Shape &kernel, const Shape &strides,
                          const Shape &pads, bool ceilMode,
                          bool countIncludePad) {
  int64_t h = inputSize[0], wd = inputSize[1];
  require(grad.shape[2] == windowOut(h, pads[0], pads[2], kernel[0], strides[0],
                                     1, ceilMode) &&
              grad.shape[3] == windowOut(wd, pads[1], pads[3], kernel[1],
                                         strides[1], 1, ceilMode),
          "avg_pool2d_grad sizes do not match");
  Tensor dx(grad.dtype, {grad.shape[0], grad.shape[1], h, wd});
  forEachIndex(grad.shape, [&](const Shape &o) {
    // The window's cells and its divisor, counted as avgPool2d counts them.
    std::vector<Shape> cells;
    int64_t padded = 0;
    for (int64_t i = 0; i < kernel[0]; ++i)
      for (int64_t j = 0; j < kernel[1]; ++j) {
        int64_t iy = o[2] * strides[0] - pads[0] + i;
        int64_t ix = o[3] * strides[1] - pads[1] + j;
        if (iy >= h + pads[2] || ix >= wd + pads[3])
          continue;
        ++padded;
        if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
          cells.push_back({o[0], o[1], iy, ix});
      }
    double share = grad.at(o) /
                   static_cast<double>(countIncludePad ? padded : cells.size());
    for (const Shape &cell : cells)
      dx.at(cell) += share;
  });
  return dx;
}

Tensor ref::globalAvgPool(const Tensor &x) {
  Shape axes;
  for (int64_t d = 2; d < x.rank(); ++d)
    axes.push_back(d);
  return reduce(ReduceKind::Mean, x, axes, /*keepdims=*/true);
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

Tensor ref::batchNorm(const Tensor &x, const Tensor &scale, const Tensor &bias,
                      const Tensor &mean, const Tensor &var, double epsilon) {
  Tensor out(x.dtype, x.shape);
  int64_t flat = 0;
  forEachIndex(x.shape, [&](const Shape &index) {
    int64_t c = index[1];
    out.data[flat] = (x.data[flat] - mean.data[c]) /
                         std::sqrt(var.data[c] + epsilon) * scale.data[c] +
                     bias.data[c];
    ++flat;
  });
  return out;
}

std::vector<Tensor> ref::batchNormTrain(const Tensor &x, const Tensor &scale,
                                        const Tensor &bias, double epsilon) {
  Shape axes = {0};
  for (int64_t d = 2; d < x.rank(); ++d)
    axes.push_back(d);
  Tensor mean = reduce(ReduceKind::Mean, x, axes, false);
  Tensor centered = x;
  forEachIndex(x.shape, [&](const Shape &index) {
    centered.at(index) -= mean.data[index[1]];
  });
  Tensor var = reduce(ReduceKind::Mean,
                      binary(BinaryKind::Mul, centered, centered), axes, false);
  return {batchNorm(x, scale, bias, mean, var, epsilon), mean, var};
}

Tensor ref::layerNorm(const Tensor &x, const Tensor &scale, const Tensor &bias,
                      int64_t axis, double epsilon) {
  axis = normAxis(axis, x.rank());
  int64_t inner = 1;
  for (int64_t d = axis; d < x.rank(); ++d)
    inner *= x.shape[d];
  Tensor out(x.dtype, x.shape);
  for (int64_t base = 0; base < x.numElements(); base += inner) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i)
      mean += x.data[base + i];
    mean /= inner;
    for (int64_t i = 0; i < inner; ++i)
      var += (x.data[base + i] - mean) * (x.data[base + i] - mean);
    var /= inner;
    for (int64_t i = 0; i < inner; ++i)
      out.data[base + i] =
          (x.data[base + i] - mean) / std::sqrt(var + epsilon) * scale.data[i] +
          bias.data[i];
  }
  return out;
}

std::vector<Tensor> ref::dropout(const Tensor &x, double ratio, bool training,
                                 uint64_t seed) {
  Tensor mask(DType::Bool, x.shape, 1.0);
  if (!training || ratio == 0.0)
    return {x, mask};
  Tensor out(x.dtype, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    bool keep = mlir::anvil::dropoutUniform(seed, i) >= ratio;
    mask.data[i] = keep;
    out.data[i] = keep ? x.data[i] / (1.0 - ratio) : 0.0;
  }
  return {out, mask};
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// The index along `axis` (normalized) of each element of a tensor of
/// `shape`: its channel.
static std::vector<int64_t> channelsAlong(const Shape &shape, int64_t axis) {
  std::vector<int64_t> channel(numElements(shape), 0);
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (size_t i = 0; i < channel.size(); ++i)
    channel[i] = (static_cast<int64_t>(i) / inner) % shape[axis];
  return channel;
}

/// The index into per-tensor (rank 0) or per-channel (rank 1, along `axis`)
/// quantization parameters of each element of a tensor of `shape`.
static std::vector<int64_t> quantChannels(const Shape &shape,
                                          const Tensor &scale,
                                          const Tensor &zeroPoint,
                                          int64_t axis) {
  require(scale.shape == zeroPoint.shape && scale.rank() <= 1,
          "quantization parameters of different shapes");
  if (scale.numElements() == 1) // rank 0, or [1]: per tensor
    return std::vector<int64_t>(numElements(shape), 0);
  axis = normAxis(axis, static_cast<int64_t>(shape.size()));
  require(scale.shape[0] == shape[axis], "per-channel size mismatch");
  return channelsAlong(shape, axis);
}

Tensor ref::quantize(const Tensor &x, const Tensor &scale,
                     const Tensor &zeroPoint, int64_t axis) {
  DType to = zeroPoint.dtype;
  require(to == DType::I8 || to == DType::U8, "quantize to i8 or u8 only");
  double lo = to == DType::I8 ? -128 : 0, hi = to == DType::I8 ? 127 : 255;
  std::vector<int64_t> channel = quantChannels(x.shape, scale, zeroPoint, axis);
  Tensor out(to, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    // f32 division, as ONNX's reference and runtimes do: a quotient that
    // rounds to a tie in f32 must round to even from there.
    float q = static_cast<float>(x.data[i]) /
              static_cast<float>(scale.data[channel[i]]);
    double v = std::nearbyint(q) + zeroPoint.data[channel[i]];
    // fmax/fmin return the number when the other is NaN: NaN saturates low.
    out.data[i] = std::fmin(std::fmax(v, lo), hi);
  }
  return out;
}

Tensor ref::dequantize(const Tensor &q, const Tensor &scale,
                       const Tensor &zeroPoint, int64_t axis) {
  require(q.dtype == zeroPoint.dtype || zeroPoint.dtype == DType::I32,
          "zero point of another dtype");
  std::vector<int64_t> channel = quantChannels(q.shape, scale, zeroPoint, axis);
  Tensor out(DType::F32, q.shape);
  for (int64_t i = 0; i < q.numElements(); ++i) {
    float difference =
        static_cast<float>(q.data[i] - zeroPoint.data[channel[i]]);
    out.data[i] = difference * static_cast<float>(scale.data[channel[i]]);
  }
  return out;
}

/// The u8 scale and zero point of a fake quantization's range.
static std::pair<float, int64_t> rangeParams(const Tensor &range) {
  require(range.numElements() == 2, "fake_quantize range of two values");
  // The range is f32 in the IR: its values as f32 first.
  return mlir::anvil::activationParams(static_cast<float>(range.data[0]),
                                       static_cast<float>(range.data[1]));
}

/// roundeven(x / scale) + zp as fake_quantize computes it (f32 division).
static double quantized(double x, float scale, int64_t zero) {
  float q = static_cast<float>(x) / scale;
  return std::nearbyint(q) + static_cast<double>(zero);
}

Tensor ref::fakeQuantize(const Tensor &x, const Tensor &range) {
  auto [scale, zero] = rangeParams(range);
  Tensor out(DType::F32, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    double v =
        std::fmin(std::fmax(quantized(x.data[i], scale, zero), 0.0), 255.0);
    out.data[i] = static_cast<float>(v - static_cast<double>(zero)) * scale;
  }
  return out;
}

Tensor ref::fakeQuantizeGrad(const Tensor &x, const Tensor &range,
                             const Tensor &grad) {
  require(x.shape == grad.shape, "fake_quantize_grad shapes differ");
  auto [scale, zero] = rangeParams(range);
  Tensor out(DType::F32, x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    double v = quantized(x.data[i], scale, zero);
    out.data[i] = v >= 0.0 && v <= 255.0 ? grad.data[i] : 0.0;
  }
  return out;
}

Tensor ref::fakeQuantizeWeights(const Tensor &w, std::optional<int64_t> axis) {
  // Channel of each element (0 for all: per tensor).
  std::vector<int64_t> channel(w.numElements(), 0);
  int64_t channels = 1;
  if (axis) {
    int64_t a = normAxis(*axis, w.rank());
    channels = w.shape[a];
    channel = channelsAlong(w.shape, a);
  }
  std::vector<double> amax(channels, 0.0);
  for (int64_t i = 0; i < w.numElements(); ++i)
    amax[channel[i]] = std::max(amax[channel[i]], std::abs(w.data[i]));
  Tensor out(DType::F32, w.shape);
  for (int64_t i = 0; i < w.numElements(); ++i) {
    float scale = mlir::anvil::weightScale(amax[channel[i]]);
    out.data[i] = static_cast<float>(
                      mlir::anvil::quantizeValue(w.data[i], scale, -127, 127)) *
                  scale;
  }
  return out;
}

Tensor ref::qmatmul(const Tensor &a, const Tensor &b, const Tensor &aZero,
                    const Tensor &bZero) {
  require(a.rank() >= 2 && b.rank() >= 2, "qmatmul operands need rank >= 2");
  int64_t m = a.shape[a.rank() - 2], k = a.shape.back(), n = b.shape.back();
  require(b.shape[b.rank() - 2] == k, "qmatmul contraction mismatch");
  require(aZero.numElements() == 1, "qmatmul lhs zero point of one value");
  require(bZero.numElements() == 1 || bZero.numElements() == n,
          "qmatmul rhs zero point per tensor or per column");
  int64_t batches = a.numElements() / (m * k);
  bool sharedB = b.rank() == 2;
  require(sharedB || b.numElements() == batches * k * n,
          "qmatmul batch mismatch");
  Shape shape(a.shape.begin(), a.shape.end() - 1);
  shape.push_back(n);
  Tensor out(DType::I32, shape);
  // Exact integer products and sums (int64 here); the result wraps to i32
  // as ONNX's int32 accumulator does.
  auto za = static_cast<int64_t>(aZero.data[0]);
  for (int64_t batch = 0; batch < batches; ++batch) {
    const double *pa = a.data.data() + batch * m * k;
    const double *pb = b.data.data() + (sharedB ? 0 : batch * k * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        auto zb =
            static_cast<int64_t>(bZero.data[bZero.numElements() == 1 ? 0 : j]);
        int64_t sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += (static_cast<int64_t>(pa[i * k + p]) - za) *
                 (static_cast<int64_t>(pb[p * n + j]) - zb);
        out.data[(batch * m + i) * n + j] =
            static_cast<int32_t>(static_cast<uint32_t>(sum));
      }
  }
  return out;
}

Tensor ref::qconv2d(const Tensor &x, const Tensor &w, const Tensor &xZero,
                    const Tensor &wZero, const Shape &strides,
                    const Shape &pads, const Shape &dilations) {
  int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  int64_t o = w.shape[0], kh = w.shape[2], kw = w.shape[3];
  require(w.shape[1] == c, "qconv2d channels do not match");
  require(xZero.numElements() == 1, "qconv2d input zero point of one value");
  require(wZero.numElements() == 1 || wZero.numElements() == o,
          "qconv2d weight zero point per tensor or per output channel");
  int64_t oh =
      windowOut(h, pads[0], pads[2], kh, strides[0], dilations[0], false);
  int64_t ow =
      windowOut(wd, pads[1], pads[3], kw, strides[1], dilations[1], false);
  Tensor out(DType::I32, {n, o, oh, ow});
  auto zx = static_cast<int64_t>(xZero.data[0]);
  // Exact integer sums (int64 here), wrapped to i32; cells in the padding
  // are xZero, so they are skipped.
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc) {
      auto zw =
          static_cast<int64_t>(wZero.data[wZero.numElements() == 1 ? 0 : oc]);
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          int64_t sum = 0;
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t i = 0; i < kh; ++i) {
              int64_t iy = y * strides[0] - pads[0] + i * dilations[0];
              if (iy < 0 || iy >= h)
                continue;
              const double *row = x.data.data() + ((b * c + ic) * h + iy) * wd;
              const double *filter =
                  w.data.data() + ((oc * c + ic) * kh + i) * kw;
              for (int64_t j = 0; j < kw; ++j) {
                int64_t ix = xo * strides[1] - pads[1] + j * dilations[1];
                if (ix >= 0 && ix < wd)
                  sum += (static_cast<int64_t>(row[ix]) - zx) *
                         (static_cast<int64_t>(filter[j]) - zw);
              }
            }
          out.data[((b * o + oc) * oh + y) * ow + xo] =
              static_cast<int32_t>(static_cast<uint32_t>(sum));
        }
    }
  return out;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Applies `reduction` to per-sample losses.
static Tensor reduceLoss(Tensor losses, LossReduction reduction) {
  if (reduction == LossReduction::None)
    return losses;
  double sum = 0;
  for (double v : losses.data)
    sum += v;
  if (reduction == LossReduction::Mean && losses.numElements() > 0)
    sum /= losses.numElements();
  return Tensor(losses.dtype, {}, {sum});
}

static int64_t checkedLabel(const Tensor &labels, int64_t row,
                            int64_t classes) {
  double label = labels.data[row];
  if (label < 0 || label >= classes)
    throw Error("label " + std::to_string(static_cast<int64_t>(label)) +
                " of sample " + std::to_string(row) + " is out of range for " +
                std::to_string(classes) + " classes");
  return static_cast<int64_t>(label);
}

Tensor ref::softmaxCrossEntropy(const Tensor &logits, const Tensor &labels,
                                LossReduction reduction) {
  Tensor logp = logSoftmax(logits, 1);
  return nllLoss(logp, labels, reduction);
}

Tensor ref::nllLoss(const Tensor &logProbs, const Tensor &labels,
                    LossReduction reduction) {
  int64_t n = logProbs.shape[0], c = logProbs.shape[1];
  Tensor losses(logProbs.dtype, {n});
  for (int64_t i = 0; i < n; ++i)
    losses.data[i] = -logProbs.at({i, checkedLabel(labels, i, c)});
  return reduceLoss(losses, reduction);
}

Tensor ref::mseLoss(const Tensor &input, const Tensor &target,
                    LossReduction reduction) {
  Tensor diff = binary(BinaryKind::Sub, input, target);
  return reduceLoss(binary(BinaryKind::Mul, diff, diff), reduction);
}
