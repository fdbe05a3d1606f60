//===- AnvilFolders.cpp - folders of the anvil ops ------------------------===//
//
// The `fold` method of every anvil op that has one, so that the canonicalizer
// (the graph and optimize phases, `anvil-opt --canonicalize`) folds constant
// subgraphs and drops no-op shape changes. Three kinds of fold:
//  - constant operands: elementwise arithmetic, neg/abs/relu, compare,
//    select, cast, and the data movement of reshape, flatten, transpose,
//    slice, concat and gather are computed on DenseElementsAttr, in the element
//    type of the result (f32 arithmetic in f32, integers wrapping, as compiled
//    code computes); results over kMaxFoldElements elements stay ops;
//  - identities that are exact for every input: x + 0, x - 0, x * 1, x / 1
//    (only when the other operand keeps its type, i.e. is not broadcast),
//    a cast to the same type, a reshape to the same type, a select whose
//    constant condition picks one unbroadcast side everywhere, an identity
//    transpose or full slice, a concat of one tensor;
//  - chains: a reshape of a reshape (or flatten) reads the first one's input,
//    a transpose of a transpose becomes one transpose.
// Anything undefined at run time (integer division by zero, a float out of
// an integer's range, an index out of range) is left unfolded, so that the
// op's own checks still report it.
//
//===----------------------------------------------------------------------===//

#include "dialects/AnvilOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

using namespace mlir;
using namespace mlir::anvil;

/// The most elements a folder computes: beyond this a fold would cost more
/// compile time and memory (a DenseElementsAttr lives as long as the
/// context) than the run-time op it saves. Reshapes of constants share the
/// data and are not bounded.
static constexpr int64_t kMaxFoldElements = int64_t(1) << 22;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Calls `fn` with a value of the C++ type that stores elements of `type`
/// (f32, f64, i32, i64); a null attribute for any other type.
template <typename Fn> static Attribute dispatchNumeric(Type type, Fn &&fn) {
  if (type.isF32())
    return fn(float{});
  if (type.isF64())
    return fn(double{});
  if (type.isInteger(32))
    return fn(int32_t{});
  if (type.isInteger(64))
    return fn(int64_t{});
  return {};
}

/// As dispatchNumeric, also for i1 (bool) and i8: every element type of
/// Anvil_AnyTensor.
template <typename Fn> static Attribute dispatchAny(Type type, Fn &&fn) {
  if (type.isInteger(1))
    return fn(bool{});
  if (type.isInteger(8))
    return fn(int8_t{});
  return dispatchNumeric(type, std::forward<Fn>(fn));
}

/// The constant `attr` as dense elements if it is small enough to compute
/// with, else null.
static DenseElementsAttr denseOf(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldElements)
    return {};
  return dense;
}

/// Whether `type` is a static tensor small enough for a folder to compute.
static bool foldable(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  return shaped && shaped.hasStaticShape() &&
         shaped.getNumElements() <= kMaxFoldElements;
}

/// A tensor of `type` whose elements are `values` (one value: a splat).
template <typename T>
static Attribute denseOfValues(Type type, ArrayRef<T> values) {
  return DenseElementsAttr::get(cast<ShapedType>(type), values);
}

/// Row-major strides (in elements) of `shape`.
static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The flat offsets into a source tensor read at each position of a
/// row-major `shape`, where one step along dimension d moves `strides[d]`
/// elements in the source (0 for a broadcast dimension, negative for a
/// reversed slice), starting from `base`.
static SmallVector<int64_t> walkOffsets(ArrayRef<int64_t> shape,
                                        ArrayRef<int64_t> strides,
                                        int64_t base = 0) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  SmallVector<int64_t> offsets;
  offsets.reserve(count);
  SmallVector<int64_t> index(shape.size(), 0);
  int64_t offset = base;
  for (int64_t i = 0; i < count; ++i) {
    offsets.push_back(offset);
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < shape[d])
        break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return offsets;
}

/// The elements of `source` at `offsets`, as a tensor of `type` (which has
/// the source's element type).
static Attribute pick(DenseElementsAttr source, ArrayRef<int64_t> offsets,
                      Type type) {
  return dispatchAny(source.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    if (source.isSplat())
      return denseOfValues<T>(type, source.getSplatValue<T>());
    auto values = source.getValues<T>();
    SmallVector<T> out;
    out.reserve(offsets.size());
    for (int64_t offset : offsets)
      out.push_back(values[offset]);
    return denseOfValues<T>(type, out);
  });
}

/// The flat offset into `operand` read at each position of `result`, with
/// numpy broadcasting (a stride of 0 where the operand has size 1 or lacks
/// the leading dimension).
static SmallVector<int64_t> broadcastOffsets(DenseElementsAttr operand,
                                             RankedTensorType result) {
  ArrayRef<int64_t> shape = operand.getType().getShape();
  SmallVector<int64_t> own = rowMajorStrides(shape);
  SmallVector<int64_t> strides(result.getRank(), 0);
  int64_t lead = result.getRank() - int64_t(shape.size());
  for (auto [d, size] : llvm::enumerate(shape))
    if (size != 1)
      strides[lead + d] = own[d];
  return walkOffsets(result.getShape(), strides);
}

/// Applies `fn` (T -> std::optional<R>) to every element of `input`, giving
/// a tensor of `type`; null if `fn` refuses an element.
template <typename T, typename R, typename Fn>
static Attribute mapElements(DenseElementsAttr input, Type type, Fn &&fn) {
  if (input.isSplat()) {
    std::optional<R> r = fn(input.getSplatValue<T>());
    return r ? denseOfValues<R>(type, *r) : Attribute();
  }
  SmallVector<R> out;
  out.reserve(input.getNumElements());
  for (T value : input.getValues<T>()) {
    std::optional<R> r = fn(value);
    if (!r)
      return {};
    out.push_back(*r);
  }
  return denseOfValues<R>(type, out);
}

/// Folds a unary op of a constant: `fn` is a generic (T -> std::optional<T>)
/// callable, instantiated for the element types `dispatch` covers.
template <typename Fn>
static Attribute foldUnary(Attribute input, Type type, Fn &&fn) {
  DenseElementsAttr dense = denseOf(input);
  if (!dense || dense.getType() != type)
    return {};
  return dispatchNumeric(dense.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    return mapElements<T, T>(dense, type, fn);
  });
}

/// Folds a binary op of two constants with numpy broadcasting: `fn` is a
/// generic (T, T -> std::optional<T>) callable.
template <typename Fn>
static Attribute foldBinary(Attribute lhsAttr, Attribute rhsAttr, Type type,
                            Fn &&fn) {
  DenseElementsAttr lhs = denseOf(lhsAttr), rhs = denseOf(rhsAttr);
  if (!lhs || !rhs || !foldable(type))
    return {};
  auto result = cast<RankedTensorType>(type);
  return dispatchNumeric(result.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    if (lhs.isSplat() && rhs.isSplat()) {
      std::optional<T> r = fn(lhs.getSplatValue<T>(), rhs.getSplatValue<T>());
      return r ? denseOfValues<T>(type, *r) : Attribute();
    }
    SmallVector<int64_t> lhsAt = broadcastOffsets(lhs, result),
                         rhsAt = broadcastOffsets(rhs, result);
    auto a = lhs.getValues<T>(), b = rhs.getValues<T>();
    SmallVector<T> out;
    out.reserve(lhsAt.size());
    for (auto [i, j] : llvm::zip_equal(lhsAt, rhsAt)) {
      std::optional<T> r = fn(a[i], b[j]);
      if (!r)
        return {};
      out.push_back(*r);
    }
    return denseOfValues<T>(type, out);
  });
}

/// Whether `attr` is a constant whose every element is `value`; for floats
/// the sign of a zero counts (x + -0.0 is x for every x, x + 0.0 is not:
/// -0.0 + 0.0 is 0.0).
static bool isSplatOf(Attribute attr, double value) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  Type element = dense.getElementType();
  if (isa<FloatType>(element)) {
    double v = dense.getSplatValue<APFloat>().convertToDouble();
    return v == value && std::signbit(v) == std::signbit(value);
  }
  return element.isInteger(32) || element.isInteger(64)
             ? dense.getSplatValue<APInt>().getSExtValue() == int64_t(value)
             : false;
}

/// The operand of a binary op that the op leaves unchanged when the other
/// one is the constant `identity` (both sides for commutative ops), provided
/// that it already has the result's type; null otherwise.
template <typename Op>
static Value binaryIdentity(Op op, typename Op::FoldAdaptor adaptor,
                            double floatIdentity, double intIdentity,
                            bool commutative) {
  bool isFloat = isa<FloatType>(op.getType().getElementType());
  double identity = isFloat ? floatIdentity : intIdentity;
  if (isSplatOf(adaptor.getRhs(), identity) &&
      op.getLhs().getType() == op.getType())
    return op.getLhs();
  if (commutative && isSplatOf(adaptor.getLhs(), identity) &&
      op.getRhs().getType() == op.getType())
    return op.getRhs();
  return {};
}

/// Integer arithmetic wraps around as in compiled code (arith.addi), without
/// signed overflow in C++.
template <typename T> static T wrap(T a, T b, char kind) {
  using U = std::make_unsigned_t<T>;
  U x = static_cast<U>(a), y = static_cast<U>(b);
  return static_cast<T>(kind == '+' ? x + y : kind == '-' ? x - y : x * y);
}

/// max and min as arith.maximumf/minimumf (a NaN wins, +0 > -0) and as
/// arith.maxsi/minsi.
template <typename T> static T maximum(T a, T b, bool isMax) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b))
      return std::numeric_limits<T>::quiet_NaN();
    if (a == b)
      return std::signbit(a) == isMax ? b : a;
  }
  return (a > b) == isMax ? a : b;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (Value same = binaryIdentity(*this, adaptor, -0.0, 0, true))
    return same;
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      if constexpr (std::is_integral_v<decltype(a)>)
                        return wrap(a, b, '+');
                      else
                        return a + b;
                    });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (Value same = binaryIdentity(*this, adaptor, 0.0, 0, false))
    return same;
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      if constexpr (std::is_integral_v<decltype(a)>)
                        return wrap(a, b, '-');
                      else
                        return a - b;
                    });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (Value same = binaryIdentity(*this, adaptor, 1.0, 1, true))
    return same;
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      if constexpr (std::is_integral_v<decltype(a)>)
                        return wrap(a, b, '*');
                      else
                        return a * b;
                    });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (Value same = binaryIdentity(*this, adaptor, 1.0, 1, false))
    return same;
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      using T = decltype(a);
                      if constexpr (std::is_integral_v<T>) {
                        // Undefined at run time: leave it to the op.
                        if (b == 0 ||
                            (a == std::numeric_limits<T>::min() && b == -1))
                          return std::nullopt;
                      }
                      return a / b;
                    });
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      using T = decltype(a);
                      if constexpr (std::is_integral_v<T>)
                        return std::nullopt; // pow takes floats only
                      else
                        return std::pow(a, b);
                    });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      return maximum(a, b, true);
                    });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                    [](auto a, auto b) -> std::optional<decltype(a)> {
                      return maximum(a, b, false);
                    });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldUnary(adaptor.getInput(), getType(),
                   [](auto a) -> std::optional<decltype(a)> {
                     using T = decltype(a);
                     if constexpr (std::is_integral_v<T>)
                       return wrap(T(0), a, '-');
                     else
                       return -a;
                   });
}

OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  return foldUnary(adaptor.getInput(), getType(),
                   [](auto a) -> std::optional<decltype(a)> {
                     using T = decltype(a);
                     if constexpr (std::is_integral_v<T>)
                       return a < 0 ? wrap(T(0), a, '-') : a;
                     else
                       return std::fabs(a);
                   });
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  return foldUnary(adaptor.getInput(), getType(),
                   [](auto a) -> std::optional<decltype(a)> {
                     return maximum(a, decltype(a)(0), true);
                   });
}

/// One element converted as anvil.cast's lowering does; nullopt where the
/// result is undefined (a NaN or out-of-range float to an integer).
template <typename To, typename From>
static std::optional<To> castElement(From x) {
  if constexpr (std::is_same_v<To, bool>) {
    return x != From(0);
  } else if constexpr (std::is_floating_point_v<From> &&
                       std::is_integral_v<To>) {
    double t = std::trunc(double(x));
    if (std::isnan(t) || t < double(std::numeric_limits<To>::min()) ||
        t >= -2.0 * double(std::numeric_limits<To>::min()))
      return std::nullopt;
    return static_cast<To>(x);
  } else {
    // Integers truncate or sign-extend (booleans are 0 or 1), floats round
    // to nearest.
    return static_cast<To>(x);
  }
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr input = denseOf(adaptor.getInput());
  if (!input)
    return {};
  Type type = getType();
  return dispatchAny(input.getElementType(), [&](auto fromTag) -> Attribute {
    using From = decltype(fromTag);
    return dispatchAny(getTo(), [&](auto toTag) -> Attribute {
      using To = decltype(toTag);
      return mapElements<From, To>(input, type, castElement<To, From>);
    });
  });
}

/// `a <predicate> b` as anvil.compare's lowering computes it: ordered float
/// comparisons (false with a NaN, except `ne`), signed integers.
template <typename T>
static bool compareElements(ComparePredicate predicate, T a, T b) {
  switch (predicate) {
  case ComparePredicate::eq:
    return a == b;
  case ComparePredicate::ne:
    return a != b;
  case ComparePredicate::lt:
    return a < b;
  case ComparePredicate::le:
    return a <= b;
  case ComparePredicate::gt:
    return a > b;
  case ComparePredicate::ge:
    return a >= b;
  }
  llvm_unreachable("unknown comparison predicate");
}

OpFoldResult CompareOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr lhs = denseOf(adaptor.getLhs()),
                    rhs = denseOf(adaptor.getRhs());
  if (!lhs || !rhs || !foldable(getType()))
    return {};
  auto result = cast<RankedTensorType>(getType());
  ComparePredicate predicate = getPredicate();
  return dispatchNumeric(lhs.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    if (lhs.isSplat() && rhs.isSplat())
      return denseOfValues<bool>(
          result, compareElements(predicate, lhs.getSplatValue<T>(),
                                  rhs.getSplatValue<T>()));
    SmallVector<int64_t> lhsAt = broadcastOffsets(lhs, result),
                         rhsAt = broadcastOffsets(rhs, result);
    auto a = lhs.getValues<T>(), b = rhs.getValues<T>();
    SmallVector<bool> out;
    out.reserve(lhsAt.size());
    for (auto [i, j] : llvm::zip_equal(lhsAt, rhsAt))
      out.push_back(compareElements(predicate, a[i], b[j]));
    return denseOfValues<bool>(result, out);
  });
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  // A constant condition that picks one side everywhere: that side, if it
  // already has the result's type (is not broadcast).
  if (auto condition =
          dyn_cast_or_null<DenseElementsAttr>(adaptor.getCondition());
      condition && condition.isSplat()) {
    Value side = condition.getSplatValue<bool>() ? getLhs() : getRhs();
    if (side.getType() == getType())
      return side;
  }
  DenseElementsAttr condition = denseOf(adaptor.getCondition()),
                    lhs = denseOf(adaptor.getLhs()),
                    rhs = denseOf(adaptor.getRhs());
  if (!condition || !lhs || !rhs || !foldable(getType()))
    return {};
  auto result = cast<RankedTensorType>(getType());
  return dispatchAny(result.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    SmallVector<int64_t> conditionAt = broadcastOffsets(condition, result),
                         lhsAt = broadcastOffsets(lhs, result),
                         rhsAt = broadcastOffsets(rhs, result);
    auto c = condition.getValues<bool>();
    auto a = lhs.getValues<T>(), b = rhs.getValues<T>();
    SmallVector<T> out;
    out.reserve(lhsAt.size());
    for (auto [k, i, j] : llvm::zip_equal(conditionAt, lhsAt, rhsAt))
      out.push_back(c[k] ? a[i] : b[j]);
    return denseOfValues<T>(result, out);
  });
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  // Only the element order matters: skip an earlier reshape or flatten.
  Operation *producer = getInput().getDefiningOp();
  if (isa_and_nonnull<ReshapeOp, FlattenOp>(producer)) {
    getOperation()->setOperand(0, producer->getOperand(0));
    return getResult();
  }
  return {};
}

OpFoldResult FlattenOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  auto isIdentity = [](ArrayRef<int64_t> p) {
    return llvm::equal(p, llvm::seq<int64_t>(0, p.size()));
  };
  if (isIdentity(perm))
    return getInput();
  // Two transposes are one: result dim i is inner input dim inner[perm[i]].
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(inner.getPerm()[p]);
    if (isIdentity(composed))
      return inner.getInput();
    getOperation()->setOperand(0, inner.getInput());
    setPerm(composed);
    return getResult();
  }
  DenseElementsAttr dense = denseOf(adaptor.getInput());
  if (!dense || !foldable(getType()))
    return {};
  SmallVector<int64_t> source = rowMajorStrides(dense.getType().getShape());
  SmallVector<int64_t> strides;
  for (int64_t p : perm)
    strides.push_back(source[p]);
  return pick(dense, walkOffsets(getType().getShape(), strides), getType());
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> inShape = getInput().getType().getShape();
  // Every element in place: a unit step over the whole dimension (or a
  // dimension of one, whatever the step).
  if (getInput().getType() == getType() &&
      llvm::all_of(llvm::seq<size_t>(0, inShape.size()), [&](size_t d) {
        return getSteps()[d] == 1 || inShape[d] == 1;
      }))
    return getInput();
  DenseElementsAttr dense = denseOf(adaptor.getInput());
  if (!dense || !foldable(getType()))
    return {};
  SmallVector<int64_t> source = rowMajorStrides(inShape), strides;
  int64_t base = 0;
  for (size_t d = 0; d < inShape.size(); ++d) {
    base += getStarts()[d] * source[d];
    strides.push_back(getSteps()[d] * source[d]);
  }
  return pick(dense, walkOffsets(getType().getShape(), strides, base),
              getType());
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  if (!foldable(getType()))
    return {};
  SmallVector<DenseElementsAttr> inputs;
  for (Attribute attr : adaptor.getInputs()) {
    inputs.push_back(denseOf(attr));
    if (!inputs.back())
      return {};
  }
  auto type = cast<RankedTensorType>(getType());
  int64_t axis = normalizeAxis(getAxis(), type.getRank());
  if (axis < 0)
    return {};
  // Row-major: each input contributes one contiguous chunk per index of
  // the dimensions before `axis`.
  int64_t outer = 1;
  for (int64_t d : type.getShape().take_front(axis))
    outer *= d;
  return dispatchAny(type.getElementType(), [&](auto tag) -> Attribute {
    using T = decltype(tag);
    SmallVector<T> out;
    out.reserve(type.getNumElements());
    for (int64_t o = 0; o < outer; ++o)
      for (DenseElementsAttr input : inputs) {
        int64_t chunk = outer == 0 ? 0 : input.getNumElements() / outer;
        auto values = input.getValues<T>();
        for (int64_t i = 0; i < chunk; ++i)
          out.push_back(values[o * chunk + i]);
      }
    return denseOfValues<T>(type, out);
  });
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = denseOf(adaptor.getInput());
  DenseElementsAttr indices = denseOf(adaptor.getIndices());
  if (!data || !indices || !foldable(getType()))
    return {};
  ArrayRef<int64_t> shape = data.getType().getShape();
  int64_t axis = normalizeAxis(getAxis(), shape.size());
  if (axis < 0)
    return {};
  int64_t outer = 1, inner = 1, size = shape[axis];
  for (int64_t d : shape.take_front(axis))
    outer *= d;
  for (int64_t d : shape.drop_front(axis + 1))
    inner *= d;
  SmallVector<int64_t> picks;
  for (const APInt &index : indices.getValues<APInt>()) {
    int64_t i = index.getSExtValue();
    if (i < -size || i >= size)
      return {}; // the op's own range check reports it
    picks.push_back(i < 0 ? i + size : i);
  }
  SmallVector<int64_t> offsets;
  offsets.reserve(getType().getNumElements());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : picks)
      for (int64_t k = 0; k < inner; ++k)
        offsets.push_back((o * size + i) * inner + k);
  return pick(data, offsets, getType());
}
