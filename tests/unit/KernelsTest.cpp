//===- KernelsTest.cpp - unit tests of the reference kernels --------------===//
//
// Checks every kernel of compiler/Reference/Kernels.h against values worked
// out by hand on tiny inputs (the arithmetic is in the comments). Expected
// values are literals: no test computes its expectation with another kernel.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Kernels.h"
#include "dialects/ParamInit.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace anvil;
using namespace anvil::ref;
using mlir::anvil::ComparePredicate;
using mlir::anvil::LossReduction;

namespace {

/// A tensor of `dtype` with the given values.
Tensor make(DType dtype, Shape shape, std::vector<double> values) {
  return Tensor(dtype, std::move(shape), std::move(values));
}

/// An f64 tensor with the given values.
Tensor f64(Shape shape, std::vector<double> values) {
  return make(DType::F64, std::move(shape), std::move(values));
}

/// An i64 tensor with the given values.
Tensor i64(Shape shape, std::vector<double> values) {
  return make(DType::I64, std::move(shape), std::move(values));
}

/// An f64 tensor holding start, start + 1, ... in row-major order.
Tensor iota(Shape shape, double start = 0.0) {
  Tensor t(DType::F64, std::move(shape));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = start + static_cast<double>(i);
  return t;
}

void expectTensor(const Tensor &actual, const Shape &shape,
                  const std::vector<double> &expected, double tol) {
  ASSERT_EQ(actual.shape, shape);
  ASSERT_EQ(actual.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data[i], expected[i], tol) << "at flat index " << i;
}

} // namespace

/// Expects `actual` to have `shape` and, element by element, the `values`
/// within `tol`; failures name the line of the call.
#define EXPECT_TENSOR_NEAR(actual, shape, values, tol)                         \
  do {                                                                         \
    SCOPED_TRACE(#actual);                                                     \
    expectTensor((actual), Shape shape, std::vector<double> values, (tol));    \
  } while (false)
#define EXPECT_TENSOR(actual, shape, values)                                   \
  EXPECT_TENSOR_NEAR(actual, shape, values, 1e-9)

//===----------------------------------------------------------------------===//
// Binary elementwise
//===----------------------------------------------------------------------===//

TEST(GatherElementsTest, PicksAlongTheAxis) {
  Tensor x = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor idx(DType::I64, {2, 2}, std::vector<double>{2, 0, -1, 1});
  EXPECT_TENSOR(gatherElements(x, idx, 1), ({2, 2}), ({3, 1, 6, 5}));
  Tensor rows(DType::I64, {1, 3}, std::vector<double>{1, 0, 1});
  EXPECT_TENSOR(gatherElements(x, rows, 0), ({1, 3}), ({4, 2, 6}));
  Tensor bad(DType::I64, {1, 1}, std::vector<double>{3});
  EXPECT_THROW(gatherElements(x, bad, 1), Error);
}

TEST(BinaryTest, CompareBroadcastsAndNaNIsUnordered) {
  Tensor a = f64({2, 2}, {1, 2, NAN, 4});
  Tensor b = f64({2}, {2, 2});
  EXPECT_TENSOR(compare(ComparePredicate::lt, a, b), ({2, 2}), ({1, 0, 0, 0}));
  EXPECT_TENSOR(compare(ComparePredicate::ge, a, b), ({2, 2}), ({0, 1, 0, 1}));
  EXPECT_TENSOR(compare(ComparePredicate::eq, a, b), ({2, 2}), ({0, 1, 0, 0}));
  EXPECT_TENSOR(compare(ComparePredicate::ne, a, b), ({2, 2}), ({1, 0, 1, 1}));
  EXPECT_EQ(compare(ComparePredicate::eq, a, b).dtype, DType::Bool);
}

TEST(BinaryTest, WherePicksPerElement) {
  Tensor c(DType::Bool, {2, 1}, std::vector<double>{1, 0});
  Tensor a = f64({3}, {1, 2, 3});
  Tensor b = f64({}, {-1});
  EXPECT_TENSOR(where(c, a, b), ({2, 3}), ({1, 2, 3, -1, -1, -1}));
}

TEST(BinaryTest, Add) {
  Tensor a = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f64({2, 3}, {10, 20, 30, 40, 50, 60});
  EXPECT_TENSOR(binary(BinaryKind::Add, a, b), ({2, 3}),
                ({11, 22, 33, 44, 55, 66}));
}

TEST(BinaryTest, Sub) {
  Tensor a = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f64({2, 3}, {10, 20, 30, 40, 50, 60});
  EXPECT_TENSOR(binary(BinaryKind::Sub, a, b), ({2, 3}),
                ({-9, -18, -27, -36, -45, -54}));
}

TEST(BinaryTest, Mul) {
  Tensor a = f64({3}, {1, -2, 3});
  Tensor b = f64({3}, {4, 5, 0.5});
  EXPECT_TENSOR(binary(BinaryKind::Mul, a, b), ({3}), ({4, -10, 1.5}));
}

TEST(BinaryTest, DivFloat) {
  Tensor a = f64({3}, {1, -3, 7});
  Tensor b = f64({3}, {4, 2, -2});
  EXPECT_TENSOR(binary(BinaryKind::Div, a, b), ({3}), ({0.25, -1.5, -3.5}));
}

TEST(BinaryTest, DivIntegerTruncatesTowardZero) {
  // 7/2 = 3.5 -> 3, -7/2 = -3.5 -> -3, 7/-2 -> -3, -7/-2 -> 3, 1/3 -> 0,
  // -1/3 -> 0 (C semantics, not floor division).
  Tensor a = i64({6}, {7, -7, 7, -7, 1, -1});
  Tensor b = i64({6}, {2, 2, -2, -2, 3, 3});
  Tensor out = binary(BinaryKind::Div, a, b);
  EXPECT_EQ(out.dtype, DType::I64);
  EXPECT_TENSOR(out, ({6}), ({3, -3, -3, 3, 0, 0}));
}

TEST(BinaryTest, IntegerDivisionByZeroThrows) {
  Tensor a = i64({2}, {1, 2});
  Tensor b = i64({2}, {1, 0});
  EXPECT_THROW(binary(BinaryKind::Div, a, b), anvil::Error);
}

TEST(BinaryTest, Pow) {
  // 2^3 = 8, 9^0.5 = 3, 4^-1 = 0.25, (-2)^2 = 4, 5^0 = 1.
  Tensor a = f64({5}, {2, 9, 4, -2, 5});
  Tensor b = f64({5}, {3, 0.5, -1, 2, 0});
  EXPECT_TENSOR(binary(BinaryKind::Pow, a, b), ({5}), ({8, 3, 0.25, 4, 1}));
}

TEST(BinaryTest, MaxAndMin) {
  Tensor a = f64({4}, {1, 5, -3, 2});
  Tensor b = f64({4}, {2, 4, -4, 2});
  EXPECT_TENSOR(binary(BinaryKind::Max, a, b), ({4}), ({2, 5, -3, 2}));
  EXPECT_TENSOR(binary(BinaryKind::Min, a, b), ({4}), ({1, 4, -4, 2}));
}

TEST(BinaryTest, ResultHasLhsDType) {
  Tensor a = make(DType::F32, {2}, {1, 2});
  Tensor b = make(DType::F32, {2}, {3, 4});
  EXPECT_EQ(binary(BinaryKind::Add, a, b).dtype, DType::F32);
}

TEST(BinaryTest, BroadcastScalarRank0) {
  Tensor s = f64({}, {10});
  Tensor t = f64({2, 2}, {1, 2, 3, 4});
  // tensor - scalar and scalar - tensor.
  EXPECT_TENSOR(binary(BinaryKind::Sub, t, s), ({2, 2}), ({-9, -8, -7, -6}));
  EXPECT_TENSOR(binary(BinaryKind::Sub, s, t), ({2, 2}), ({9, 8, 7, 6}));
  // scalar op scalar stays rank 0.
  EXPECT_TENSOR(binary(BinaryKind::Mul, s, f64({}, {-3})), ({}), ({-30}));
}

TEST(BinaryTest, BroadcastColumnTimesRow) {
  // [3,1] + [1,4] -> [3,4]: out[i][j] = a[i] + b[j].
  Tensor a = f64({3, 1}, {1, 2, 3});
  Tensor b = f64({1, 4}, {10, 20, 30, 40});
  EXPECT_TENSOR(binary(BinaryKind::Add, a, b), ({3, 4}),
                ({11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
  // And with the operands swapped (a - b is not symmetric).
  EXPECT_TENSOR(binary(BinaryKind::Sub, b, a), ({3, 4}),
                ({9, 19, 29, 39, 8, 18, 28, 38, 7, 17, 27, 37}));
}

TEST(BinaryTest, BroadcastLowerRankOnEitherSide) {
  Tensor row = f64({4}, {1, 2, 3, 4});
  Tensor mat = f64({2, 4}, {10, 20, 30, 40, 50, 60, 70, 80});
  // [2,4] - [4]
  EXPECT_TENSOR(binary(BinaryKind::Sub, mat, row), ({2, 4}),
                ({9, 18, 27, 36, 49, 58, 67, 76}));
  // [4] - [2,4]
  EXPECT_TENSOR(binary(BinaryKind::Sub, row, mat), ({2, 4}),
                ({-9, -18, -27, -36, -49, -58, -67, -76}));
}

TEST(BinaryTest, BroadcastSizeOneDimsOnBothSides) {
  // [2,1,3] + [1,2,1] -> [2,2,3]: out[i][j][k] = a[i][0][k] + b[0][j][0].
  // a[0] = {1,2,3}, a[1] = {4,5,6}; b = {10, 20}.
  Tensor a = f64({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f64({1, 2, 1}, {10, 20});
  EXPECT_TENSOR(binary(BinaryKind::Add, a, b), ({2, 2, 3}),
                ({11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26}));
}

TEST(BinaryTest, BroadcastSizeOneAgainstLowerRank) {
  // [2,1] * [3] -> [2,3]: out[i][j] = a[i] * b[j].
  Tensor a = f64({2, 1}, {2, -1});
  Tensor b = f64({3}, {1, 2, 3});
  EXPECT_TENSOR(binary(BinaryKind::Mul, a, b), ({2, 3}),
                ({2, 4, 6, -1, -2, -3}));
}

//===----------------------------------------------------------------------===//
// Unary elementwise
//===----------------------------------------------------------------------===//

TEST(UnaryTest, NegAbs) {
  Tensor x = f64({3}, {-2, 0, 3.5});
  EXPECT_TENSOR(unary(UnaryKind::Neg, x), ({3}), ({2, 0, -3.5}));
  EXPECT_TENSOR(unary(UnaryKind::Abs, x), ({3}), ({2, 0, 3.5}));
}

TEST(UnaryTest, ExpLog) {
  // e = 2.718281828459045, 1/e = 0.36787944117144233, ln 0.5 = -ln 2.
  EXPECT_TENSOR(unary(UnaryKind::Exp, f64({3}, {0, 1, -1})), ({3}),
                ({1, 2.718281828459045, 0.36787944117144233}));
  EXPECT_TENSOR(unary(UnaryKind::Log, f64({3}, {1, 2.718281828459045, 0.5})),
                ({3}), ({0, 1, -0.6931471805599453}));
}

TEST(UnaryTest, SqrtRsqrt) {
  EXPECT_TENSOR(unary(UnaryKind::Sqrt, f64({3}, {0, 4, 2})), ({3}),
                ({0, 2, 1.4142135623730951}));
  // 1/sqrt(4) = 0.5, 1/sqrt(0.25) = 2, 1/sqrt(2) = 0.7071067811865475.
  EXPECT_TENSOR(unary(UnaryKind::Rsqrt, f64({3}, {4, 0.25, 2})), ({3}),
                ({0.5, 2, 0.7071067811865475}));
}

TEST(UnaryTest, Relu) {
  EXPECT_TENSOR(unary(UnaryKind::Relu, f64({4}, {-1, 0, 2.5, -0.001})), ({4}),
                ({0, 0, 2.5, 0}));
}

TEST(UnaryTest, Sigmoid) {
  // 1/(1+e^-1) = 0.7310585786300049, 1/(1+e) = 0.2689414213699951.
  EXPECT_TENSOR(unary(UnaryKind::Sigmoid, f64({3}, {0, 1, -1})), ({3}),
                ({0.5, 0.7310585786300049, 0.2689414213699951}));
}

TEST(UnaryTest, Tanh) {
  EXPECT_TENSOR(unary(UnaryKind::Tanh, f64({3}, {0, 1, -0.5})), ({3}),
                ({0, 0.7615941559557649, -0.46211715726000974}));
}

TEST(UnaryTest, Erf) {
  EXPECT_TENSOR(unary(UnaryKind::Erf, f64({3}, {0, 1, -0.5})), ({3}),
                ({0, 0.8427007929497149, -0.5204998778130465}));
}

TEST(UnaryTest, Gelu) {
  // gelu(x) = x * Phi(x): Phi(1) = 0.8413447460685429,
  // -1 * Phi(-1) = -0.15865525393145707, 2 * Phi(2) = 2 * 0.9772498680518208.
  EXPECT_TENSOR(
      unary(UnaryKind::Gelu, f64({4}, {0, 1, -1, 2})), ({4}),
      ({0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416}));
}

TEST(UnaryTest, GeluTanh) {
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); at 1 the inner value is
  // 0.7978845608 * 1.044715 = 0.8335565, tanh of it 0.7111585, half of
  // 1.7111585... = 0.8411919906082768 (close to, not equal to, exact gelu).
  EXPECT_TENSOR(
      unary(UnaryKind::GeluTanh, f64({4}, {0, 1, -1, 2})), ({4}),
      ({0, 0.8411919906082768, -0.15880800939172324, 1.954597694087775}));
}

TEST(UnaryTest, KeepsShapeAndDType) {
  Tensor x = make(DType::F32, {2, 1}, {-1, 1});
  Tensor y = unary(UnaryKind::Neg, x);
  EXPECT_EQ(y.dtype, DType::F32);
  EXPECT_TENSOR(y, ({2, 1}), ({1, -1}));
}

TEST(LeakyReluTest, ScalesNegativesOnly) {
  EXPECT_TENSOR(leakyRelu(f64({4}, {-2, 0, 3, -0.5}), 0.1), ({4}),
                ({-0.2, 0, 3, -0.05}));
}

TEST(ClipTest, BothBounds) {
  Tensor x = f64({5}, {-3, -1, 0, 2, 5});
  EXPECT_TENSOR(clip(x, -1.0, 2.0), ({5}), ({-1, -1, 0, 2, 2}));
}

TEST(ClipTest, OneBound) {
  Tensor x = f64({5}, {-3, -1, 0, 2, 5});
  EXPECT_TENSOR(clip(x, 0.0, std::nullopt), ({5}), ({0, 0, 0, 2, 5}));
  EXPECT_TENSOR(clip(x, std::nullopt, 1.0), ({5}), ({-3, -1, 0, 1, 1}));
  EXPECT_TENSOR(clip(x, std::nullopt, std::nullopt), ({5}),
                ({-3, -1, 0, 2, 5}));
}

//===----------------------------------------------------------------------===//
// Casts
//===----------------------------------------------------------------------===//

TEST(CastTest, FloatToI64TruncatesTowardZero) {
  Tensor x = make(DType::F32, {6}, {-2.7, -0.5, 0.5, 2.9, 3, -3});
  Tensor y = castTo(x, DType::I64);
  EXPECT_EQ(y.dtype, DType::I64);
  EXPECT_TENSOR(y, ({6}), ({-2, 0, 0, 2, 3, -3}));
}

TEST(CastTest, FloatToI32AndI8) {
  Tensor x = f64({3}, {-1.9, 2.1, 100.7});
  EXPECT_TENSOR(castTo(x, DType::I32), ({3}), ({-1, 2, 100}));
  EXPECT_EQ(castTo(x, DType::I8).dtype, DType::I8);
  EXPECT_TENSOR(castTo(x, DType::I8), ({3}), ({-1, 2, 100}));
}

TEST(CastTest, ToBoolIsNonZero) {
  Tensor x = f64({5}, {0, -0.0, 0.1, -3, 2});
  Tensor y = castTo(x, DType::Bool);
  EXPECT_EQ(y.dtype, DType::Bool);
  EXPECT_TENSOR(y, ({5}), ({0, 0, 1, 1, 1}));
}

TEST(CastTest, F64ToF32Rounds) {
  // Nearest floats: 0.1f = 0.100000001490116119384765625,
  // (1/3)f = 0.3333333432674407958984375, 2^24 + 1 rounds (to even) to 2^24.
  Tensor x = f64({4}, {0.1, 1.0 / 3.0, 16777217.0, -0.25});
  Tensor y = castTo(x, DType::F32);
  EXPECT_EQ(y.dtype, DType::F32);
  ASSERT_EQ(y.shape, Shape({4}));
  EXPECT_EQ(y.data[0], 0.100000001490116119384765625);
  EXPECT_EQ(y.data[1], 0.3333333432674407958984375);
  EXPECT_EQ(y.data[2], 16777216.0);
  EXPECT_EQ(y.data[3], -0.25);
}

TEST(CastTest, IntToFloatIsExact) {
  Tensor y = castTo(i64({3}, {-5, 0, 123456}), DType::F64);
  EXPECT_EQ(y.dtype, DType::F64);
  EXPECT_TENSOR(y, ({3}), ({-5, 0, 123456}));
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

// A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]];
// A B = [[1*7+2*9+3*11, 1*8+2*10+3*12], [4*7+5*9+6*11, 4*8+5*10+6*12]]
//     = [[58, 64], [139, 154]].

TEST(MatmulTest, TwoD) {
  Tensor a = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f64({3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_TENSOR(matmul(a, b, false, false), ({2, 2}), ({58, 64, 139, 154}));
}

TEST(MatmulTest, TransposeA) {
  Tensor at = f64({3, 2}, {1, 4, 2, 5, 3, 6}); // A transposed
  Tensor b = f64({3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_TENSOR(matmul(at, b, true, false), ({2, 2}), ({58, 64, 139, 154}));
}

TEST(MatmulTest, TransposeB) {
  Tensor a = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor bt = f64({2, 3}, {7, 9, 11, 8, 10, 12}); // B transposed
  EXPECT_TENSOR(matmul(a, bt, false, true), ({2, 2}), ({58, 64, 139, 154}));
}

TEST(MatmulTest, TransposeBoth) {
  Tensor at = f64({3, 2}, {1, 4, 2, 5, 3, 6});
  Tensor bt = f64({2, 3}, {7, 9, 11, 8, 10, 12});
  EXPECT_TENSOR(matmul(at, bt, true, true), ({2, 2}), ({58, 64, 139, 154}));
}

TEST(MatmulTest, MatrixVector) {
  // [[1,2,3],[4,5,6]] x [1,0,-1]^T = [1-3, 4-6] = [-2, -2].
  Tensor a = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor v = f64({3, 1}, {1, 0, -1});
  EXPECT_TENSOR(matmul(a, v, false, false), ({2, 1}), ({-2, -2}));
}

TEST(MatmulTest, Batched3D) {
  // Batch 0: [[1,2],[3,4]] x [[2,0],[1,1]] = [[4,2],[10,4]].
  // Batch 1: [[5,6],[7,8]] x [[1,1],[0,2]] = [[5,17],[7,23]].
  Tensor a = f64({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor b = f64({2, 2, 2}, {2, 0, 1, 1, 1, 1, 0, 2});
  EXPECT_TENSOR(matmul(a, b, false, false), ({2, 2, 2}),
                ({4, 2, 10, 4, 5, 17, 7, 23}));
}

TEST(MatmulTest, Batched3DTransposeB) {
  // Same as Batched3D with each B stored transposed.
  Tensor a = f64({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor bt = f64({2, 2, 2}, {2, 1, 0, 1, 1, 0, 1, 2});
  EXPECT_TENSOR(matmul(a, bt, false, true), ({2, 2, 2}),
                ({4, 2, 10, 4, 5, 17, 7, 23}));
}

TEST(MatmulTest, Broadcast2DRhsAgainst3DLhs) {
  // Each batch of A times [[2,0],[1,1]]:
  // [[1,2],[3,4]] -> [[4,2],[10,4]]; [[5,6],[7,8]] -> [[16,6],[22,8]].
  Tensor a = f64({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor b = f64({2, 2}, {2, 0, 1, 1});
  EXPECT_TENSOR(matmul(a, b, false, false), ({2, 2, 2}),
                ({4, 2, 10, 4, 16, 6, 22, 8}));
}

TEST(MatmulTest, BatchDimOfOneBroadcasts) {
  // [1,2,2] x [3,2,2]: A = [[1,2],[3,4]] against
  // I -> [[1,2],[3,4]]; [[2,0],[1,1]] -> [[4,2],[10,4]];
  // [[0,1],[1,0]] -> [[2,1],[4,3]].
  Tensor a = f64({1, 2, 2}, {1, 2, 3, 4});
  Tensor b = f64({3, 2, 2}, {1, 0, 0, 1, 2, 0, 1, 1, 0, 1, 1, 0});
  EXPECT_TENSOR(matmul(a, b, false, false), ({3, 2, 2}),
                ({1, 2, 3, 4, 4, 2, 10, 4, 2, 1, 4, 3}));
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

// softmax([1,2,3]) = e^i / (e + e^2 + e^3)
//   = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
// logsumexp([1,2,3]) = 3 + ln(1 + e^-1 + e^-2) = 3.4076059644443806.

TEST(SoftmaxTest, LastAxis) {
  Tensor x = f64({2, 3}, {1, 2, 3, 0, 0, 0});
  EXPECT_TENSOR(softmax(x, 1), ({2, 3}),
                ({0.09003057317038046, 0.24472847105479767, 0.6652409557748219,
                  1.0 / 3, 1.0 / 3, 1.0 / 3}));
}

TEST(SoftmaxTest, LargeLogitsAreStable) {
  // Shift-invariant: the same as softmax([0,1,2]) = softmax([1,2,3]).
  Tensor y = softmax(f64({3}, {1000, 1001, 1002}), 0);
  for (double v : y.data)
    EXPECT_TRUE(std::isfinite(v));
  EXPECT_TENSOR(
      y, ({3}),
      ({0.09003057317038046, 0.24472847105479767, 0.6652409557748219}));
}

TEST(SoftmaxTest, NegativeAxis) {
  // axis -2 of a [2,2] is the columns: column 0 = [0, ln 3] -> [1/4, 3/4];
  // column 1 = [1, 1] -> [1/2, 1/2].
  Tensor x = f64({2, 2}, {0, 1, 1.0986122886681098, 1});
  EXPECT_TENSOR(softmax(x, -2), ({2, 2}), ({0.25, 0.5, 0.75, 0.5}));
}

TEST(SoftmaxTest, MiddleAxisOf3D) {
  // [1,2,2], axis 1 (= -2): lanes {0, ln 3} and {2, 2}.
  Tensor x = f64({1, 2, 2}, {0, 2, 1.0986122886681098, 2});
  EXPECT_TENSOR(softmax(x, 1), ({1, 2, 2}), ({0.25, 0.5, 0.75, 0.5}));
}

TEST(LogSoftmaxTest, LastAxis) {
  // x - logsumexp(x) = [1,2,3] - 3.4076059644443806.
  Tensor x = f64({1, 3}, {1, 2, 3});
  EXPECT_TENSOR(
      logSoftmax(x, 1), ({1, 3}),
      ({-2.4076059644443806, -1.4076059644443806, -0.4076059644443806}));
}

TEST(LogSoftmaxTest, LargeLogitsAreStable) {
  Tensor y = logSoftmax(f64({3}, {1000, 1001, 1002}), -1);
  for (double v : y.data)
    EXPECT_TRUE(std::isfinite(v));
  EXPECT_TENSOR(
      y, ({3}),
      ({-2.4076059644443806, -1.4076059644443806, -0.4076059644443806}));
}

TEST(LogSoftmaxTest, NegativeAxis) {
  // Columns of [[0, 5], [0, 5]]: each column is two equal values -> ln(1/2).
  Tensor x = f64({2, 2}, {0, 5, 0, 5});
  EXPECT_TENSOR(logSoftmax(x, -2), ({2, 2}),
                ({-0.6931471805599453, -0.6931471805599453, -0.6931471805599453,
                  -0.6931471805599453}));
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// x = iota([2,3,4]): x[i][j][k] = 12 i + 4 j + k.

TEST(ReduceTest, SumTwoAxes) {
  // Sum over i and k: sum_i 12 i * 4 = 48, sum_k k * 2 = 12, plus 8 * 4 j
  // -> 60 + 32 j = [60, 92, 124] (total 276 = 0 + ... + 23).
  EXPECT_TENSOR(reduce(ReduceKind::Sum, iota({2, 3, 4}), {0, 2}, false), ({3}),
                ({60, 92, 124}));
  EXPECT_TENSOR(reduce(ReduceKind::Sum, iota({2, 3, 4}), {0, 2}, true),
                ({1, 3, 1}), ({60, 92, 124}));
}

TEST(ReduceTest, SumNegativeAxes) {
  // Axes {-3, -1} are {0, 2}.
  EXPECT_TENSOR(reduce(ReduceKind::Sum, iota({2, 3, 4}), {-1, -3}, false),
                ({3}), ({60, 92, 124}));
}

TEST(ReduceTest, MeanLastAxis) {
  // mean_k (12 i + 4 j + k) = 12 i + 4 j + 1.5.
  EXPECT_TENSOR(reduce(ReduceKind::Mean, iota({2, 3, 4}), {-1}, false),
                ({2, 3}), ({1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_TENSOR(reduce(ReduceKind::Mean, iota({2, 3, 4}), {2}, true),
                ({2, 3, 1}), ({1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
}

TEST(ReduceTest, MeanAllAxes) {
  // (0 + ... + 23) / 24 = 11.5.
  EXPECT_TENSOR(reduce(ReduceKind::Mean, iota({2, 3, 4}), {0, 1, 2}, false),
                ({}), ({11.5}));
  EXPECT_TENSOR(reduce(ReduceKind::Mean, iota({2, 3, 4}), {0, 1, 2}, true),
                ({1, 1, 1}), ({11.5}));
}

TEST(ReduceTest, MaxMiddleAxis) {
  // max_j (12 i + 4 j + k) = 12 i + 8 + k.
  EXPECT_TENSOR(reduce(ReduceKind::Max, iota({2, 3, 4}), {1}, true),
                ({2, 1, 4}), ({8, 9, 10, 11, 20, 21, 22, 23}));
}

TEST(ReduceTest, MaxTwoNegativeAxes) {
  // max over i and k: 12 + 4 j + 3 = [15, 19, 23].
  EXPECT_TENSOR(reduce(ReduceKind::Max, iota({2, 3, 4}), {-3, -1}, false),
                ({3}), ({15, 19, 23}));
}

TEST(ReduceTest, MaxOfNegativeValues) {
  // The maximum of all-negative rows is negative, not 0.
  Tensor x = f64({2, 2}, {-5, -3, -7, -1});
  EXPECT_TENSOR(reduce(ReduceKind::Max, x, {-1}, false), ({2}), ({-3, -1}));
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

TEST(ReshapeTest, KeepsDataChangesShape) {
  Tensor x = make(DType::I32, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = reshape(x, {3, 2});
  EXPECT_EQ(y.dtype, DType::I32);
  EXPECT_TENSOR(y, ({3, 2}), ({1, 2, 3, 4, 5, 6}));
  EXPECT_TENSOR(reshape(x, {6}), ({6}), ({1, 2, 3, 4, 5, 6}));
  EXPECT_TENSOR(reshape(f64({1}, {7}), {}), ({}), ({7}));
}

TEST(TransposeTest, TwoD) {
  EXPECT_TENSOR(transpose(f64({2, 3}, {1, 2, 3, 4, 5, 6}), {1, 0}), ({3, 2}),
                ({1, 4, 2, 5, 3, 6}));
}

TEST(TransposeTest, ThreeDPermutation) {
  // perm {2,0,1}: out[a][b][c] = x[b][c][a] = 12 b + 4 c + a, shape [4,2,3].
  EXPECT_TENSOR(transpose(iota({2, 3, 4}), {2, 0, 1}), ({4, 2, 3}),
                ({0, 4, 8,  12, 16, 20, 1, 5, 9,  13, 17, 21,
                  2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23}));
}

TEST(TransposeTest, ThreeDSwapLastTwo) {
  // perm {0,2,1}: out[i][k][j] = x[i][j][k] on a [2,2,3].
  // x[0] = [[0,1,2],[3,4,5]] -> [[0,3],[1,4],[2,5]], likewise x[1] + 6.
  EXPECT_TENSOR(transpose(iota({2, 2, 3}), {0, 2, 1}), ({2, 3, 2}),
                ({0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}));
}

TEST(FlattenTest, Axes) {
  Tensor x = iota({2, 3, 4});
  std::vector<double> values(x.data);
  Tensor a0 = flatten(x, 0);
  EXPECT_EQ(a0.shape, Shape({1, 24}));
  EXPECT_EQ(a0.data, values);
  Tensor a1 = flatten(x, 1);
  EXPECT_EQ(a1.shape, Shape({2, 12}));
  EXPECT_EQ(a1.data, values);
  Tensor a2 = flatten(x, 2);
  EXPECT_EQ(a2.shape, Shape({6, 4}));
  Tensor aRank = flatten(x, 3);
  EXPECT_EQ(aRank.shape, Shape({24, 1}));
  EXPECT_EQ(aRank.data, values);
  Tensor aNeg = flatten(x, -1);
  EXPECT_EQ(aNeg.shape, Shape({6, 4}));
}

TEST(ConcatTest, ThreeInputsAxis1) {
  // [2,1] ++ [2,2] ++ [2,3] along axis 1 -> [2,6].
  Tensor a = f64({2, 1}, {1, 2});
  Tensor b = f64({2, 2}, {3, 4, 5, 6});
  Tensor c = f64({2, 3}, {7, 8, 9, 10, 11, 12});
  EXPECT_TENSOR(concat({a, b, c}, 1), ({2, 6}),
                ({1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12}));
  EXPECT_TENSOR(concat({a, b, c}, -1), ({2, 6}),
                ({1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12}));
}

TEST(ConcatTest, Axis0) {
  Tensor a = f64({1, 2}, {1, 2});
  Tensor b = f64({2, 2}, {3, 4, 5, 6});
  EXPECT_TENSOR(concat({a, b}, 0), ({3, 2}), ({1, 2, 3, 4, 5, 6}));
}

// x = iota([3,4]): x[i][j] = 4 i + j.

TEST(SliceTest, PositiveSteps) {
  // rows 0..1, cols 1..2.
  EXPECT_TENSOR(slice(iota({3, 4}), {0, 1}, {2, 3}, {1, 1}), ({2, 2}),
                ({1, 2, 5, 6}));
}

TEST(SliceTest, StepTwo) {
  // rows 0, 2; cols 0, 2.
  EXPECT_TENSOR(slice(iota({3, 4}), {0, 0}, {3, 4}, {2, 2}), ({2, 2}),
                ({0, 2, 8, 10}));
  // cols 1, 3 (start 1, end 4, step 2); all rows.
  EXPECT_TENSOR(slice(iota({3, 4}), {0, 1}, {3, 4}, {1, 2}), ({3, 2}),
                ({1, 3, 5, 7, 9, 11}));
  // step 3 over 4 columns: cols 0, 3.
  EXPECT_TENSOR(slice(iota({3, 4}), {0, 0}, {3, 4}, {1, 3}), ({3, 2}),
                ({0, 3, 4, 7, 8, 11}));
}

TEST(SliceTest, NegativeStep) {
  // Full reversal of both axes: end -1 means "through index 0".
  EXPECT_TENSOR(slice(iota({3, 4}), {2, 3}, {-1, -1}, {-1, -1}), ({3, 4}),
                ({11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  // rows 2, 1, 0; cols 3, 1 (start 3, end 0, step -2).
  EXPECT_TENSOR(slice(iota({3, 4}), {2, 3}, {-1, 0}, {-1, -2}), ({3, 2}),
                ({11, 9, 7, 5, 3, 1}));
  // rows 2, 1 (end 0 excluded); col 2 only.
  EXPECT_TENSOR(slice(iota({3, 4}), {2, 2}, {0, 1}, {-1, -1}), ({2, 1}),
                ({10, 6}));
}

TEST(SliceTest, EmptyResult) {
  Tensor y = slice(iota({3, 4}), {1, 0}, {1, 4}, {1, 1});
  EXPECT_EQ(y.shape, Shape({0, 4}));
  EXPECT_TRUE(y.data.empty());
}

TEST(GatherTest, Axis0) {
  // x rows: [1,2], [3,4], [5,6]; pick rows 2, 0.
  Tensor x = f64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(x, i64({2}, {2, 0}), 0), ({2, 2}), ({5, 6, 1, 2}));
}

TEST(GatherTest, Axis1WithNegativeIndex) {
  // x = [[1,2,3],[4,5,6]]; columns 2, -1 (= 2), 0, -3 (= 0).
  Tensor x = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(x, i64({4}, {2, -1, 0, -3}), 1), ({2, 4}),
                ({3, 3, 1, 1, 6, 6, 4, 4}));
  EXPECT_TENSOR(gather(x, i64({1}, {1}), -1), ({2, 1}), ({2, 5}));
}

TEST(GatherTest, NegativeIndexAxis0) {
  Tensor x = f64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(x, i64({2}, {-1, -3}), 0), ({2, 2}), ({5, 6, 1, 2}));
}

TEST(GatherTest, TwoDIndices) {
  // Axis 0: shape [2,2] + [2]; rows [[0,1],[2,0]].
  Tensor x = f64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(x, i64({2, 2}, {0, 1, 2, 0}), 0), ({2, 2, 2}),
                ({1, 2, 3, 4, 5, 6, 1, 2}));
  // Axis 1: shape [2] + [2,2]; out[r][i][j] = x[r][idx[i][j]].
  Tensor y = f64({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(y, i64({2, 2}, {0, 2, 1, 1}), 1), ({2, 2, 2}),
                ({1, 3, 2, 2, 4, 6, 5, 5}));
}

TEST(GatherTest, ScalarIndexDropsAxis) {
  Tensor x = f64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_TENSOR(gather(x, i64({}, {1}), 0), ({2}), ({3, 4}));
}

TEST(GatherTest, OutOfRangeThrows) {
  Tensor x = f64({3, 2}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(gather(x, i64({2}, {0, 3}), 0), anvil::Error);
  EXPECT_THROW(gather(x, i64({1}, {-4}), 0), anvil::Error);
  EXPECT_THROW(gather(x, i64({1}, {2}), 1), anvil::Error);
}

TEST(SliceGradTest, StepsPutTheGradientBack) {
  // [4, 6] sliced rows 0, 2 (step 2) and columns 5, 3, 1 (start 5, end 0,
  // step -2): grad [[1,2,3],[4,5,6]] lands at (0,5) (0,3) (0,1) (2,5) (2,3)
  // (2,1); everything else is 0.
  EXPECT_TENSOR(
      sliceGrad(f64({2, 3}, {1, 2, 3, 4, 5, 6}), {4, 6}, {0, 5}, {2, -2}),
      ({4, 6}), ({0, 3, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0,
                  0, 6, 0, 5, 0, 4, 0, 0, 0, 0, 0, 0}));
  // A plain box: rows 1..2, column 1 of [3, 2].
  EXPECT_TENSOR(sliceGrad(f64({2, 1}, {7, 8}), {3, 2}, {1, 1}, {1, 1}),
                ({3, 2}), ({0, 0, 0, 7, 0, 8}));
}

TEST(GatherGradTest, RepeatedIndicesAccumulate) {
  // Data [3, 2], axis 0, indices 2, 0, 2, -1 (= 2); grad rows [1,2] [3,4]
  // [5,6] [7,8]: row 0 gets [3,4], row 1 nothing, row 2 [1+5+7, 2+6+8].
  EXPECT_TENSOR(gatherGrad(f64({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
                           i64({4}, {2, 0, 2, -1}), 0, 3),
                ({3, 2}), ({3, 4, 0, 0, 13, 16}));
}

TEST(GatherGradTest, TwoDIndicesOnAxis1) {
  // Data [2, 3], axis 1, indices [[1, -1], [1, 0]]: grad [2, 2, 2] = 1..8,
  // grad[n][i][j] goes to column idx[i][j] of row n.
  // Row 0: col 1 gets 1 + 3, col 2 gets 2, col 0 gets 4 -> [4, 4, 2].
  // Row 1: col 1 gets 5 + 7, col 2 gets 6, col 0 gets 8 -> [8, 12, 6].
  EXPECT_TENSOR(
      gatherGrad(iota({2, 2, 2}, 1), i64({2, 2}, {1, -1, 1, 0}), 1, 3),
      ({2, 3}), ({4, 4, 2, 8, 12, 6}));
  // A negative axis counts in the data's rank (2).
  EXPECT_TENSOR(
      gatherGrad(iota({2, 2, 2}, 1), i64({2, 2}, {1, -1, 1, 0}), -1, 3),
      ({2, 3}), ({4, 4, 2, 8, 12, 6}));
}

TEST(GatherGradTest, OutOfRangeThrows) {
  EXPECT_THROW(gatherGrad(f64({1, 2}, {1, 2}), i64({1}, {3}), 0, 3),
               anvil::Error);
  EXPECT_THROW(gatherGrad(f64({1, 2}, {1, 2}), i64({1}, {-4}), 0, 3),
               anvil::Error);
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

// x = [[1,2,3],[4,5,6],[7,8,9]] as 1x1x3x3 unless said otherwise.

TEST(Conv2dTest, NoPaddingWithAndWithoutBias) {
  // w = [[1,2],[3,4]]:
  // (0,0): 1*1 + 2*2 + 4*3 + 5*4 = 37    (0,1): 2 + 6 + 15 + 24 = 47
  // (1,0): 4 + 10 + 21 + 32 = 67         (1,1): 5 + 12 + 24 + 36 = 77
  Tensor x = iota({1, 1, 3, 3}, 1);
  Tensor w = f64({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1),
                ({1, 1, 2, 2}), ({37, 47, 67, 77}));
  Tensor b = f64({1}, {10});
  EXPECT_TENSOR(conv2d(x, w, &b, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1),
                ({1, 1, 2, 2}), ({47, 57, 77, 87}));
}

TEST(Conv2dTest, SymmetricPaddingOnesKernel) {
  // 3x3 ones, pad 1: each output is the sum of the zero-padded 3x3
  // neighbourhood: corners 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24,
  // 5+6+8+9 = 28; edges 1+..+6 = 21, 1+2+4+5+7+8 = 27, 2+3+5+6+8+9 = 33,
  // 4+..+9 = 39; centre 45.
  Tensor x = iota({1, 1, 3, 3}, 1);
  Tensor w(DType::F64, {1, 1, 3, 3}, 1.0);
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1),
                ({1, 1, 3, 3}), ({12, 21, 16, 27, 45, 33, 24, 39, 28}));
}

TEST(Conv2dTest, AsymmetricPadding) {
  // pads [top=1, left=1, bottom=0, right=0], w = [[1,2],[3,4]]:
  // out[y][x] = sum w[i][j] * x[y-1+i][x-1+j] -> 3x3.
  // (0,0): 1*4 = 4; (0,1): 1*3 + 2*4 = 11; (0,2): 2*3 + 3*4 = 18;
  // (1,0): 1*2 + 4*4 = 18; (2,0): 4*2 + 7*4 = 36; the rest as unpadded.
  Tensor x = iota({1, 1, 3, 3}, 1);
  Tensor w = f64({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {1, 1, 0, 0}, {1, 1}, 1),
                ({1, 1, 3, 3}), ({4, 11, 18, 18, 37, 47, 36, 67, 77}));
}

TEST(Conv2dTest, StrideTwo) {
  // 3x3 ones, pad 1, stride 2: (3 + 2 - 3) / 2 + 1 = 2 per axis; the
  // windows centred on the corners: 12, 16, 24, 28.
  Tensor x = iota({1, 1, 3, 3}, 1);
  Tensor w(DType::F64, {1, 1, 3, 3}, 1.0);
  EXPECT_TENSOR(conv2d(x, w, nullptr, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1),
                ({1, 1, 2, 2}), ({12, 16, 24, 28}));
}

TEST(Conv2dTest, DilationTwo) {
  // x = iota 1..16 as 4x4 (x[r][c] = 4r + c + 1), w = [[1,2],[3,4]],
  // dilation 2: the taps are x[y][x], x[y][x+2], x[y+2][x], x[y+2][x+2].
  // (0,0): 1 + 2*3 + 3*9 + 4*11 = 78; each column step adds 1+2+3+4 = 10,
  // each row step 4*10 = 40.
  Tensor x = iota({1, 1, 4, 4}, 1);
  Tensor w = f64({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {0, 0, 0, 0}, {2, 2}, 1),
                ({1, 1, 2, 2}), ({78, 88, 118, 128}));
  // On the 3x3 input only one window fits: 1*1 + 3*2 + 7*3 + 9*4 = 64.
  EXPECT_TENSOR(conv2d(iota({1, 1, 3, 3}, 1), w, nullptr, {1, 1}, {0, 0, 0, 0},
                       {2, 2}, 1),
                ({1, 1, 1, 1}), ({64}));
}

TEST(Conv2dTest, SumsOverInputChannels) {
  // 1x1 filter [1, 10] over channels x0 = 1..9, x1 = 9..1:
  // out = x0 + 10 x1 = [91, 82, 73, 64, 55, 46, 37, 28, 19].
  Tensor x =
      f64({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  Tensor w = f64({1, 2, 1, 1}, {1, 10});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1),
                ({1, 1, 3, 3}), ({91, 82, 73, 64, 55, 46, 37, 28, 19}));
}

TEST(Conv2dTest, DepthwiseGroups) {
  // groups = 2, one filter per channel.
  // Channel 0 (1..9) with [[1,2],[3,4]] -> 37, 47, 67, 77.
  // Channel 1 ([[9,8,7],[6,5,4],[3,2,1]]) with [[0,1],[2,0]]:
  // out = x1[y][x+1] + 2 x1[y+1][x]: 8+12 = 20, 7+10 = 17, 5+6 = 11, 4+4 = 8.
  Tensor x =
      f64({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  Tensor w = f64({2, 1, 2, 2}, {1, 2, 3, 4, 0, 1, 2, 0});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
                ({1, 2, 2, 2}), ({37, 47, 67, 77, 20, 17, 11, 8}));
  Tensor b = f64({2}, {1, -1});
  EXPECT_TENSOR(conv2d(x, w, &b, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
                ({1, 2, 2, 2}), ({38, 48, 68, 78, 19, 16, 10, 7}));
}

TEST(Conv2dTest, GroupsWithTwoOutputsPerGroup) {
  // groups = 2, C = 2, O = 4, 1x1 filters [1, 2, 3, 4]: outputs 0, 1 read
  // channel 0 ([1, 2]), outputs 2, 3 read channel 1 ([3, 4]).
  Tensor x = f64({1, 2, 1, 2}, {1, 2, 3, 4});
  Tensor w = f64({4, 1, 1, 1}, {1, 2, 3, 4});
  EXPECT_TENSOR(conv2d(x, w, nullptr, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
                ({1, 4, 1, 2}), ({1, 2, 2, 4, 9, 12, 12, 16}));
}

TEST(Conv2dGradTest, GroupsWithTwoOutputsPerGroup) {
  // The convolution of GroupsWithTwoOutputsPerGroup (C = 2, O = 4, groups 2,
  // 1x1 filters [1, 2, 3, 4], x = [1, 2 | 3, 4]) with dY = 1..8 per output
  // channel pair [1,2] [3,4] [5,6] [7,8].
  // dX channel 0 (outputs 0, 1): 1 dY0 + 2 dY1 = [7, 10];
  // dX channel 1 (outputs 2, 3): 3 dY2 + 4 dY3 = [43, 50].
  Tensor dy = iota({1, 4, 1, 2}, 1);
  Tensor w = f64({4, 1, 1, 1}, {1, 2, 3, 4});
  EXPECT_TENSOR(conv2dGradInput(dy, w, {1, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
                ({1, 2, 1, 2}), ({7, 10, 43, 50}));
  // dW[o] = sum dY[o] * x[group channel]: 1+4 = 5, 3+8 = 11, 15+24 = 39,
  // 21+32 = 53.
  Tensor x = f64({1, 2, 1, 2}, {1, 2, 3, 4});
  EXPECT_TENSOR(
      conv2dGradFilter(x, dy, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
      ({4, 1, 1, 1}), ({5, 11, 39, 53}));
}

TEST(Conv2dGradTest, Depthwise) {
  // The convolution of DepthwiseGroups (channel 0 = 1..9, channel 1 =
  // 9..1, filters [[1,2],[3,4]] and [[0,1],[2,0]]), dY all ones [1,2,2,2].
  Tensor x =
      f64({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  Tensor w = f64({2, 1, 2, 2}, {1, 2, 3, 4, 0, 1, 2, 0});
  Tensor dy(DType::F64, {1, 2, 2, 2}, 1.0);
  // dW[c][i][j] = the sum of the 2x2 block of channel c at (i, j):
  // channel 0: 12, 16, 24, 28; channel 1: 28, 24, 16, 12.
  EXPECT_TENSOR(
      conv2dGradFilter(x, dy, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
      ({2, 1, 2, 2}), ({12, 16, 24, 28, 28, 24, 16, 12}));
  // dX[c][r][q] = the sum of the taps of filter c that reach (r, q):
  // channel 0: 1, 1+2, 2 / 1+3, 10, 2+4 / 3, 3+4, 4;
  // channel 1: 0, 1, 1 / 2, 3, 1 / 2, 2, 0.
  EXPECT_TENSOR(conv2dGradInput(dy, w, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2),
                ({1, 2, 3, 3}),
                ({1, 3, 2, 4, 10, 6, 3, 7, 4, 0, 1, 1, 2, 3, 1, 2, 2, 0}));
}

TEST(Conv2dTest, BatchOfTwo) {
  // 1x1 filter 2 with bias 1: 2 x + 1 on both samples.
  Tensor x = iota({2, 1, 2, 2}, 1);
  Tensor w = f64({1, 1, 1, 1}, {2});
  Tensor b = f64({1}, {1});
  EXPECT_TENSOR(conv2d(x, w, &b, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1),
                ({2, 1, 2, 2}), ({3, 5, 7, 9, 11, 13, 15, 17}));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(MaxPoolTest, KernelTwoStrideTwo) {
  // x = 1..16 as 4x4: maxima of the 2x2 blocks.
  EXPECT_TENSOR(maxPool2d(iota({1, 1, 4, 4}, 1), {2, 2}, {2, 2}, {0, 0, 0, 0},
                          {1, 1}, false),
                ({1, 1, 2, 2}), ({6, 8, 14, 16}));
}

TEST(MaxPoolTest, PaddingIsSkippedNotZero) {
  // x = -(1..16) as 4x4, kernel 2, stride 2, pad 1: (4 + 2 - 2)/2 + 1 = 3.
  // Row windows {-1,0}, {1,2}, {3,4} -> rows {0}, {1,2}, {3}; same for cols.
  // Maxima (the least negative): (0,0) -1; (0,1) max(-2,-3) = -2; (0,2) -4;
  // (1,0) max(-5,-9) = -5; (1,1) -6; (1,2) max(-8,-12) = -8; (2,0) -13;
  // (2,1) -14; (2,2) -16.
  Tensor x = iota({1, 1, 4, 4}, 1);
  for (double &v : x.data)
    v = -v;
  EXPECT_TENSOR(maxPool2d(x, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false),
                ({1, 1, 3, 3}), ({-1, -2, -4, -5, -6, -8, -13, -14, -16}));
}

TEST(MaxPoolTest, CeilMode) {
  // 3x3 input, kernel 2, stride 2: floor -> 1x1, ceil -> 2x2 with partial
  // windows: max(1,2,4,5) = 5, max(3,6) = 6, max(7,8) = 8, 9.
  Tensor x = iota({1, 1, 3, 3}, 1);
  EXPECT_TENSOR(maxPool2d(x, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, false),
                ({1, 1, 1, 1}), ({5}));
  EXPECT_TENSOR(maxPool2d(x, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true),
                ({1, 1, 2, 2}), ({5, 6, 8, 9}));
}

TEST(MaxPoolTest, CeilModeDropsWindowStartingInRightPadding) {
  // 5x5 input (x[r][c] = 5r + c + 1), kernel 2, stride 2, pad 1: ceil gives
  // ceil(5/2) + 1 = 4, but window 3 would start at 3*2 - 1 = 5, in the right
  // padding, so 3 remain. Row/col windows {0}, {1,2}, {3,4}.
  // (0,*): 1, 3, 5; (1,*): 11, 13, 15; (2,*): 21, 23, 25.
  Tensor x = iota({1, 1, 5, 5}, 1);
  EXPECT_TENSOR(maxPool2d(x, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true),
                ({1, 1, 3, 3}), ({1, 3, 5, 11, 13, 15, 21, 23, 25}));
}

TEST(MaxPoolTest, Dilation) {
  // 4x4 (1..16), kernel 2, stride 1, dilation 2: (4 - 2 - 1)/1 + 1 = 2;
  // taps x[y][x], x[y][x+2], x[y+2][x], x[y+2][x+2]; max is the last.
  EXPECT_TENSOR(maxPool2d(iota({1, 1, 4, 4}, 1), {2, 2}, {1, 1}, {0, 0, 0, 0},
                          {2, 2}, false),
                ({1, 1, 2, 2}), ({11, 12, 15, 16}));
}

TEST(MaxPoolTest, ChannelsAndBatchAreIndependent) {
  // [2,2,2,2] -> kernel 2 over each 2x2 plane: maxima 4, 8, 12, 16.
  EXPECT_TENSOR(maxPool2d(iota({2, 2, 2, 2}, 1), {2, 2}, {2, 2}, {0, 0, 0, 0},
                          {1, 1}, false),
                ({2, 2, 1, 1}), ({4, 8, 12, 16}));
}

TEST(AvgPoolTest, NoPadding) {
  // 3x3 (1..9), kernel 2, stride 1: (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4,
  // (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7.
  EXPECT_TENSOR(avgPool2d(iota({1, 1, 3, 3}, 1), {2, 2}, {1, 1}, {0, 0, 0, 0},
                          false, false),
                ({1, 1, 2, 2}), ({3, 4, 6, 7}));
}

TEST(AvgPoolTest, PaddingCountIncludePad) {
  // 3x3 (1..9), kernel 2, stride 2, pad 1 -> 2x2; row/col windows {-1,0}
  // and {1,2}. Sums: (0,0) 1; (0,1) 2+3 = 5; (1,0) 4+7 = 11;
  // (1,1) 5+6+8+9 = 28. With count_include_pad every divisor is 4.
  Tensor x = iota({1, 1, 3, 3}, 1);
  EXPECT_TENSOR(avgPool2d(x, {2, 2}, {2, 2}, {1, 1, 1, 1}, false, true),
                ({1, 1, 2, 2}), ({0.25, 1.25, 2.75, 7}));
}

TEST(AvgPoolTest, PaddingExcludePad) {
  // Same windows, divisors = in-bounds cells: 1, 2, 2, 4.
  Tensor x = iota({1, 1, 3, 3}, 1);
  EXPECT_TENSOR(avgPool2d(x, {2, 2}, {2, 2}, {1, 1, 1, 1}, false, false),
                ({1, 1, 2, 2}), ({1, 2.5, 5.5, 7}));
}

TEST(AvgPoolTest, CeilModeWindowsPastInputNeverCount) {
  // 3x3, kernel 2, stride 2, no pad, ceil -> 2x2; the partial windows hold
  // only the cells inside the input: (1+2+4+5)/4 = 3, (3+6)/2 = 4.5,
  // (7+8)/2 = 7.5, 9/1 = 9, with or without count_include_pad.
  Tensor x = iota({1, 1, 3, 3}, 1);
  EXPECT_TENSOR(avgPool2d(x, {2, 2}, {2, 2}, {0, 0, 0, 0}, true, true),
                ({1, 1, 2, 2}), ({3, 4.5, 7.5, 9}));
  EXPECT_TENSOR(avgPool2d(x, {2, 2}, {2, 2}, {0, 0, 0, 0}, true, false),
                ({1, 1, 2, 2}), ({3, 4.5, 7.5, 9}));
}

TEST(AvgPoolTest, CeilModeWithPaddingDivisors) {
  // 4x4 (x[r][c] = 4r + c + 1), kernel 3, stride 2, pad 1, ceil:
  // span 4 + 2 - 3 = 3, ceil(3/2) + 1 = 3 (the last window starts at 3,
  // inside the input). Row windows: {-1,0,1} (3 padded cells, real rows 0,1),
  // {1,2,3} (3, all real), {3,4,5}: row 5 is past the padded input (4 + 1),
  // so 2 padded cells, real row 3. Same for columns.
  // Sums:  (0,0) 1+2+5+6 = 14       (0,1) 2+3+4+6+7+8 = 30   (0,2) 4+8 = 12
  //        (1,0) 5+6+9+10+13+14 = 57 (1,1) 99               (1,2) 8+12+16 = 36
  //        (2,0) 13+14 = 27          (2,1) 14+15+16 = 45    (2,2) 16
  // count_include_pad divisors: 9 9 6 / 9 9 6 / 6 6 4
  // -> 14/9, 30/9, 2, 57/9, 11, 6, 4.5, 7.5, 4 (corner: 16/4, not 16/9).
  Tensor x = iota({1, 1, 4, 4}, 1);
  EXPECT_TENSOR(avgPool2d(x, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, true),
                ({1, 1, 3, 3}),
                ({1.5555555555555556, 3.3333333333333335, 2, 6.333333333333333,
                  11, 6, 4.5, 7.5, 4}));
  // Without: divisors are the real cells 4 6 2 / 6 9 3 / 2 3 1.
  EXPECT_TENSOR(avgPool2d(x, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, false),
                ({1, 1, 3, 3}), ({3.5, 5, 6, 9.5, 11, 12, 13.5, 15, 16}));
}

TEST(AvgPoolGradTest, OverlappingWindows) {
  // 3x3 input, kernel 2, stride 1: four windows of 4 cells; dY = 1..4 gives
  // shares 0.25, 0.5, 0.75, 1. The centre is in all four windows (2.5),
  // edge cells in two, corners in one.
  EXPECT_TENSOR(avgPool2dGrad(iota({1, 1, 2, 2}, 1), {3, 3}, {2, 2}, {1, 1},
                              {0, 0, 0, 0}, false, false),
                ({1, 1, 3, 3}),
                ({0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1}));
}

TEST(AvgPoolGradTest, PaddingWithAndWithoutCountIncludePad) {
  // 3x3, kernel 2, stride 2, pad 1 -> 2x2 windows over rows/cols {-1,0} and
  // {1,2}; dY = [4, 8, 12, 16]. Window (0,0) holds cell (0,0); (0,1) cells
  // (0,1) (0,2); (1,0) cells (1,0) (2,0); (1,1) the bottom-right 2x2.
  // count_include_pad: every divisor 4, shares 1, 2, 3, 4.
  Tensor dy = f64({1, 1, 2, 2}, {4, 8, 12, 16});
  EXPECT_TENSOR(
      avgPool2dGrad(dy, {3, 3}, {2, 2}, {2, 2}, {1, 1, 1, 1}, false, true),
      ({1, 1, 3, 3}), ({1, 2, 2, 3, 4, 4, 3, 4, 4}));
  // Without: divisors 1, 2, 2, 4, shares 4, 4, 6, 4.
  EXPECT_TENSOR(
      avgPool2dGrad(dy, {3, 3}, {2, 2}, {2, 2}, {1, 1, 1, 1}, false, false),
      ({1, 1, 3, 3}), ({4, 4, 4, 6, 4, 4, 6, 4, 4}));
}

TEST(AvgPoolGradTest, CeilModeWithPaddingDivisors) {
  // The pooling of AvgPoolTest.CeilModeWithPaddingDivisors (4x4, kernel 3,
  // stride 2, pad 1, ceil -> 3x3) with dY all 36. Row (and column) r is in
  // windows {0}, {0,1}, {1}, {1,2} for r = 0..3.
  // count_include_pad divisors 9 9 6 / 9 9 6 / 6 6 4 -> shares S =
  // 4 4 6 / 4 4 6 / 6 6 9; dX[r][q] sums S over the windows of r and q:
  // row 0: 4, 4+4, 4, 4+6; row 1: 8, 16, 8, 20; row 2 = row 0;
  // row 3: 4+6, 4+4+6+6, 4+6, 4+6+6+9.
  Tensor dy(DType::F64, {1, 1, 3, 3}, 36.0);
  EXPECT_TENSOR(
      avgPool2dGrad(dy, {4, 4}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, true),
      ({1, 1, 4, 4}),
      ({4, 8, 4, 10, 8, 16, 8, 20, 4, 8, 4, 10, 10, 20, 10, 25}));
  // Without: divisors 4 6 2 / 6 9 3 / 2 3 1 -> S = 9 6 18 / 6 4 12 /
  // 18 12 36 (each window hands out all of its 36).
  EXPECT_TENSOR(
      avgPool2dGrad(dy, {4, 4}, {3, 3}, {2, 2}, {1, 1, 1, 1}, true, false),
      ({1, 1, 4, 4}),
      ({9, 15, 6, 24, 15, 25, 10, 40, 6, 10, 4, 16, 24, 40, 16, 64}));
}

TEST(GlobalAvgPoolTest, AveragesEachPlane) {
  // [2,2,2,2]: planes 1..4, 5..8, 9..12, 13..16 -> 2.5, 6.5, 10.5, 14.5.
  EXPECT_TENSOR(globalAvgPool(iota({2, 2, 2, 2}, 1)), ({2, 2, 1, 1}),
                ({2.5, 6.5, 10.5, 14.5}));
  // Non-square plane: [1,1,1,3] = [1, 2, 6] -> 3.
  EXPECT_TENSOR(globalAvgPool(f64({1, 1, 1, 3}, {1, 2, 6})), ({1, 1, 1, 1}),
                ({3}));
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

TEST(BatchNormTest, InferenceUsesRunningStats) {
  // Channel 0: mean 2, var 3, eps 1 -> sqrt(4) = 2, scale 2, bias 1:
  //   (1-2)/2*2+1 = 0, (3-2)/2*2+1 = 2.
  // Channel 1: mean 15, var 24, eps 1 -> sqrt(25) = 5, scale 0.5, bias -1:
  //   (10-15)/5*0.5-1 = -1.5, (20-15)/5*0.5-1 = -0.5.
  Tensor x = f64({1, 2, 1, 2}, {1, 3, 10, 20});
  Tensor scale = f64({2}, {2, 0.5}), bias = f64({2}, {1, -1});
  Tensor mean = f64({2}, {2, 15}), var = f64({2}, {3, 24});
  EXPECT_TENSOR(batchNorm(x, scale, bias, mean, var, 1.0), ({1, 2, 1, 2}),
                ({0, 2, -1.5, -0.5}));
}

TEST(BatchNormTest, ChannelIsAxis1WithBatch) {
  // [2,2,1,1]: sample 0 = (1, 10), sample 1 = (3, 20); same stats as above.
  Tensor x = f64({2, 2, 1, 1}, {1, 10, 3, 20});
  Tensor scale = f64({2}, {2, 0.5}), bias = f64({2}, {1, -1});
  Tensor mean = f64({2}, {2, 15}), var = f64({2}, {3, 24});
  EXPECT_TENSOR(batchNorm(x, scale, bias, mean, var, 1.0), ({2, 2, 1, 1}),
                ({0, -1.5, 2, -0.5}));
}

TEST(BatchNormTrainTest, BatchStatistics) {
  // [N=2, C=2, H=1, W=2]. Channel 0 holds 1, 2 (n0) and 3, 6 (n1): mean 3,
  // deviations -2 -1 0 3, biased var (4+1+0+9)/4 = 3.5. Channel 1 holds
  // 27, 13 and 20, 20: mean 20, deviations 7 -7 0 0, var 98/4 = 24.5.
  // eps 0.5 -> std 2 and 5. scale (1, 2), bias (0, 1):
  // ch0: (v-3)/2 -> -1, -0.5, 0, 1.5; ch1: (v-20)/5*2+1 -> 3.8, -1.8, 1, 1.
  Tensor x = f64({2, 2, 1, 2}, {1, 2, 27, 13, 3, 6, 20, 20});
  Tensor scale = f64({2}, {1, 2}), bias = f64({2}, {0, 1});
  std::vector<Tensor> r = batchNormTrain(x, scale, bias, 0.5);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TENSOR(r[0], ({2, 2, 1, 2}), ({-1, -0.5, 3.8, -1.8, 0, 1.5, 1, 1}));
  EXPECT_TENSOR(r[1], ({2}), ({3, 20}));
  EXPECT_TENSOR(r[2], ({2}), ({3.5, 24.5}));
}

TEST(LayerNormTest, LastAxis) {
  // Row [1,2,3]: mean 2, var 2/3, (x-mean)/sqrt(2/3) = [-sqrt(1.5), 0,
  // sqrt(1.5)], sqrt(1.5) = 1.224744871391589. Row [2,4,6]: mean 4, var 8/3,
  // the same normalized values. scale (1,2,3), bias 0.5:
  // [0.5 - 1.2247.., 0.5, 0.5 + 3*1.2247..].
  Tensor x = f64({2, 3}, {1, 2, 3, 2, 4, 6});
  Tensor scale = f64({3}, {1, 2, 3}), bias = f64({3}, {0.5, 0.5, 0.5});
  EXPECT_TENSOR(layerNorm(x, scale, bias, -1, 0.0), ({2, 3}),
                ({-0.7247448713915889, 0.5, 4.174234614174766,
                  -0.7247448713915889, 0.5, 4.174234614174766}));
}

TEST(LayerNormTest, TrailingTwoAxesWithEpsilon) {
  // [2,2,2], axis 1: normalize each sample's 4 values. Sample 0 = 0 0 0 4:
  // mean 1, deviations -1 -1 -1 3, var 12/4 = 3, +eps 1 -> std 2 ->
  // -0.5 -0.5 -0.5 1.5. Sample 1 = 1 5 1 1: mean 2, -1 3 -1 -1, var 3 ->
  // -0.5 1.5 -0.5 -0.5. scale [[1,2],[3,4]], bias [[0,0],[0,1]]:
  // sample 0: -0.5 -1 -1.5 7; sample 1: -0.5 3 -1.5 -1.
  Tensor x = f64({2, 2, 2}, {0, 0, 0, 4, 1, 5, 1, 1});
  Tensor scale = f64({2, 2}, {1, 2, 3, 4}), bias = f64({2, 2}, {0, 0, 0, 1});
  EXPECT_TENSOR(layerNorm(x, scale, bias, 1, 1.0), ({2, 2, 2}),
                ({-0.5, -1, -1.5, 7, -0.5, 3, -1.5, -1}));
}

TEST(DropoutTest, NotTrainingIsIdentity) {
  Tensor x = f64({2, 2}, {1, -2, 3, 0});
  std::vector<Tensor> r = dropout(x, 0.5, false, 7);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TENSOR(r[0], ({2, 2}), ({1, -2, 3, 0}));
  EXPECT_EQ(r[1].dtype, DType::Bool);
  EXPECT_TENSOR(r[1], ({2, 2}), ({1, 1, 1, 1}));
}

TEST(DropoutTest, TrainingWithRatioZeroIsIdentity) {
  Tensor x = f64({3}, {1, 2, 3});
  std::vector<Tensor> r = dropout(x, 0.0, true, 7);
  EXPECT_TENSOR(r[0], ({3}), ({1, 2, 3}));
  EXPECT_TENSOR(r[1], ({3}), ({1, 1, 1}));
}

TEST(DropoutTest, TrainingZeroesOrScales) {
  Tensor x = iota({1000}, 1); // all non-zero
  std::vector<Tensor> r = dropout(x, 0.5, true, 123);
  ASSERT_EQ(r.size(), 2u);
  const Tensor &out = r[0], &mask = r[1];
  EXPECT_EQ(out.shape, Shape({1000}));
  EXPECT_EQ(mask.shape, Shape({1000}));
  EXPECT_EQ(mask.dtype, DType::Bool);
  int kept = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    double v = x.data[i];
    if (mask.data[i] == 1.0) {
      EXPECT_EQ(out.data[i], 2 * v) << "at " << i;
      ++kept;
    } else {
      EXPECT_EQ(mask.data[i], 0.0) << "at " << i;
      EXPECT_EQ(out.data[i], 0.0) << "at " << i;
    }
  }
  // Binomial(1000, 0.5): mean 500, standard deviation ~16.
  EXPECT_GT(kept, 400);
  EXPECT_LT(kept, 600);
}

TEST(DropoutTest, SeedFixesTheMask) {
  Tensor x(DType::F64, {256}, 1.0);
  std::vector<Tensor> a = dropout(x, 0.5, true, 1);
  std::vector<Tensor> b = dropout(x, 0.5, true, 1);
  std::vector<Tensor> c = dropout(x, 0.5, true, 2);
  EXPECT_EQ(a[1].data, b[1].data);
  EXPECT_EQ(a[0].data, b[0].data);
  EXPECT_NE(a[1].data, c[1].data);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

// Row [1,2,3] with label 2: -log softmax = 3.4076059644443806 - 3
//   = 0.4076059644443806.
// Row [0,0,0] with label 0: ln 3 = 1.0986122886681098.
// Sum 1.5062182531124904, mean 0.7531091265562452.

TEST(SoftmaxCrossEntropyTest, Reductions) {
  Tensor logits = f64({2, 3}, {1, 2, 3, 0, 0, 0});
  Tensor labels = i64({2}, {2, 0});
  EXPECT_TENSOR(softmaxCrossEntropy(logits, labels, LossReduction::None), ({2}),
                ({0.4076059644443806, 1.0986122886681098}));
  EXPECT_TENSOR(softmaxCrossEntropy(logits, labels, LossReduction::Sum), ({}),
                ({1.5062182531124904}));
  EXPECT_TENSOR(softmaxCrossEntropy(logits, labels, LossReduction::Mean), ({}),
                ({0.7531091265562452}));
}

TEST(SoftmaxCrossEntropyTest, LargeLogitsAreStable) {
  // -log softmax([1000, 0])[1] = 1000 + ln(1 + e^-1000) = 1000.
  Tensor loss = softmaxCrossEntropy(f64({1, 2}, {1000, 0}), i64({1}, {1}),
                                    LossReduction::Mean);
  ASSERT_EQ(loss.data.size(), 1u);
  EXPECT_TRUE(std::isfinite(loss.data[0]));
  EXPECT_NEAR(loss.data[0], 1000.0, 1e-9);
  // And the right label costs nothing.
  EXPECT_NEAR(softmaxCrossEntropy(f64({1, 2}, {1000, 0}), i64({1}, {0}),
                                  LossReduction::Sum)
                  .data[0],
              0.0, 1e-9);
}

TEST(SoftmaxCrossEntropyTest, LabelOutOfRangeThrows) {
  Tensor logits = f64({2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(
      softmaxCrossEntropy(logits, i64({2}, {0, 2}), LossReduction::Mean),
      anvil::Error);
  EXPECT_THROW(
      softmaxCrossEntropy(logits, i64({2}, {-1, 0}), LossReduction::Mean),
      anvil::Error);
}

TEST(NllLossTest, Reductions) {
  // Picks -logp[0][1] = 2.3 and -logp[1][0] = 1.2.
  Tensor logp = f64({2, 2}, {-0.1, -2.3, -1.2, -0.4});
  Tensor labels = i64({2}, {1, 0});
  EXPECT_TENSOR(nllLoss(logp, labels, LossReduction::None), ({2}),
                ({2.3, 1.2}));
  EXPECT_TENSOR(nllLoss(logp, labels, LossReduction::Sum), ({}), ({3.5}));
  EXPECT_TENSOR(nllLoss(logp, labels, LossReduction::Mean), ({}), ({1.75}));
}

TEST(NllLossTest, LabelOutOfRangeThrows) {
  Tensor logp = f64({1, 2}, {-0.1, -2.3});
  EXPECT_THROW(nllLoss(logp, i64({1}, {5}), LossReduction::Mean), anvil::Error);
}

TEST(MseLossTest, Reductions) {
  // Differences 0, 2, -2, -0.5 -> squares 0, 4, 4, 0.25; sum 8.25,
  // mean 2.0625.
  Tensor input = f64({2, 2}, {1, 2, 3, 4});
  Tensor target = f64({2, 2}, {1, 0, 5, 4.5});
  EXPECT_TENSOR(mseLoss(input, target, LossReduction::None), ({2, 2}),
                ({0, 4, 4, 0.25}));
  EXPECT_TENSOR(mseLoss(input, target, LossReduction::Sum), ({}), ({8.25}));
  EXPECT_TENSOR(mseLoss(input, target, LossReduction::Mean), ({}), ({2.0625}));
}

namespace {

// NaN propagates through relu, max, min and reduce_max, as in PyTorch and
// ONNX, so that compiled code and the reference agree on bad values.
TEST(NanTest, Propagates) {
  Tensor x = f64({3}, {NAN, -1.0, 2.0});
  Tensor relu = unary(UnaryKind::Relu, x);
  EXPECT_TRUE(std::isnan(relu.data[0]));
  EXPECT_EQ(relu.data[1], 0.0);
  Tensor y = f64({3}, {1.0, NAN, 0.0});
  Tensor max = binary(BinaryKind::Max, x, y);
  Tensor min = binary(BinaryKind::Min, x, y);
  EXPECT_TRUE(std::isnan(max.data[0]) && std::isnan(max.data[1]));
  EXPECT_TRUE(std::isnan(min.data[0]) && std::isnan(min.data[1]));
  EXPECT_EQ(max.data[2], 2.0);
  EXPECT_EQ(min.data[2], 0.0);
  EXPECT_TRUE(std::isnan(reduce(ReduceKind::Max, x, {0}, false).data[0]));
  // argmax takes the first NaN as the largest, as PyTorch does.
  EXPECT_EQ(argmax(f64({4}, {1.0, NAN, 5.0, NAN}), 0).data,
            (std::vector<double>{1}));
}

TEST(FlattenTest, EmptyLeadingDimension) {
  Tensor x(DType::F64, {0, 3, 2});
  EXPECT_EQ(flatten(x, 1).shape, (Shape{0, 6}));
}

TEST(DropoutTest, CounterBasedMask) {
  // Element i is kept exactly when dropoutUniform(seed, i) >= ratio.
  Tensor x(DType::F64, {64}, 1.0);
  std::vector<Tensor> r = dropout(x, 0.25, true, 42);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(r[1].data[i],
              mlir::anvil::dropoutUniform(42, i) >= 0.25 ? 1.0 : 0.0);
}

} // namespace

namespace {

TEST(OneHotTest, HandValues) {
  // Labels 2, 0, 5 (out of range) and -1 (out of range) over 3 classes.
  Tensor out = oneHot(i64({2, 2}, {2, 0, 5, -1}), 3, DType::F32);
  EXPECT_EQ(out.shape, (Shape{2, 2, 3}));
  EXPECT_EQ(out.data,
            (std::vector<double>{0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(ArgmaxTest, HandValues) {
  // Rows [3 1 3] (a tie: the first wins) and [-2 4 5]; columns [3 -2],
  // [1 4], [3 5].
  Tensor x = f64({2, 3}, {3, 1, 3, -2, 4, 5});
  Tensor rows = argmax(x, -1);
  EXPECT_EQ(rows.dtype, DType::I64);
  EXPECT_EQ(rows.shape, (Shape{2}));
  EXPECT_EQ(rows.data, (std::vector<double>{0, 2}));
  Tensor columns = argmax(x, 0);
  EXPECT_EQ(columns.shape, (Shape{3}));
  EXPECT_EQ(columns.data, (std::vector<double>{0, 1, 1}));
  // All -inf: the first position.
  EXPECT_EQ(argmax(f64({2}, {-INFINITY, -INFINITY}), 0).data,
            (std::vector<double>{0}));
}

TEST(ReluGradTest, HandValues) {
  // The gradient passes where the input is positive (not at 0).
  Tensor out = reluGrad(f64({4}, {-1, 0, 0.5, 3}), f64({4}, {10, 20, 30, 40}));
  EXPECT_EQ(out.data, (std::vector<double>{0, 0, 30, 40}));
}

} // namespace

//===--- Quantization -----------------------------------------------------===//

namespace {
Tensor f32(Shape shape, std::vector<double> values) {
  return make(DType::F32, std::move(shape), std::move(values));
}
} // namespace

TEST(QuantizeTest, TiesRoundToEven) {
  // scale 1, zero point 0: x itself rounded half to even.
  Tensor x = f32({8}, {2.5, -2.5, 1.5, -1.5, 0.5, -0.5, 3.5, 2.4});
  Tensor q = quantize(x, f32({}, {1}), make(DType::I8, {}, {0}), 1);
  EXPECT_EQ(q.dtype, DType::I8);
  EXPECT_EQ(q.data, (std::vector<double>{2, -2, 2, -2, 0, 0, 4, 2}));
}

TEST(QuantizeTest, ScaleAndZeroPointThenSaturateI8) {
  // x / 0.5 = 2x, + zero point 1: 1 -> 3; 100 -> 201 -> 127; -100 -> -199
  // -> -128; 63 -> 127; -64.5 -> -129 + 1 = -128; NaN -> -128.
  Tensor x = f32({6}, {1, 100, -100, 63, -64.5, NAN});
  Tensor q = quantize(x, f32({}, {0.5}), make(DType::I8, {}, {1}), 1);
  EXPECT_EQ(q.data, (std::vector<double>{3, 127, -128, 127, -128, -128}));
}

TEST(QuantizeTest, SaturatesU8AtBothEnds) {
  // zero point 128, scale 2: -300 -> -150 + 128 = -22 -> 0; 300 -> 278 ->
  // 255; 5 -> 2.5 -> 2 (even) + 128 = 130; -257 -> -128.5 -> -128 -> 0;
  // 254 -> 127 + 128 = 255.
  Tensor x = f32({5}, {-300, 300, 5, -257, 254});
  Tensor q = quantize(x, f32({}, {2}), make(DType::U8, {}, {128}), 1);
  EXPECT_EQ(q.dtype, DType::U8);
  EXPECT_EQ(q.data, (std::vector<double>{0, 255, 130, 0, 255}));
}

TEST(QuantizeTest, DividesInF32) {
  // 4.1113262f / 0.91362804f is 4.50000003 exactly (f64 rounds it to 5),
  // but 4.5 in f32, which rounds half to even to 4, as ONNX's numpy
  // reference (f32 division) and runtimes do.
  Tensor x = f32({1}, {4.111326217651367f});
  Tensor q =
      quantize(x, f32({}, {0.9136280417442322f}), make(DType::U8, {}, {0}), 0);
  EXPECT_EQ(q.data, (std::vector<double>{4}));
}

TEST(QuantizeTest, PerChannelAlongAxis) {
  // [2, 3] along axis 1: scales 1, 2, 4, zero points 0, 10, -10.
  Tensor x = f32({2, 3}, {4, 4, 4, -8, -8, -8});
  Tensor q =
      quantize(x, f32({3}, {1, 2, 4}), make(DType::I8, {3}, {0, 10, -10}), 1);
  EXPECT_EQ(q.data, (std::vector<double>{4, 12, -9, -8, 6, -12}));
  // Along axis 0 (one scale per row; the weights' per-output-channel form):
  // row 0 scale 2, row 1 scale 8, symmetric (zero points 0).
  Tensor w = quantize(x, f32({2}, {2, 8}), make(DType::I8, {2}, {0, 0}), 0);
  EXPECT_EQ(w.data, (std::vector<double>{2, 2, 2, -1, -1, -1}));
}

TEST(DequantizeTest, PerTensorAndPerChannel) {
  // (q - zp) * scale: (0 - 128) * 0.5 = -64, (255 - 128) * 0.5 = 63.5.
  Tensor q = make(DType::U8, {3}, {0, 128, 255});
  Tensor x = dequantize(q, f32({}, {0.5}), make(DType::U8, {}, {128}), 0);
  EXPECT_EQ(x.dtype, DType::F32);
  EXPECT_EQ(x.data, (std::vector<double>{-64, 0, 63.5}));
  // Per channel along axis 0 of [2, 2]: row scales 1 and 0.25, zero points
  // -1 and 2: (-128 + 1) * 1, (127 + 1) * 1, (-128 - 2) / 4, (127 - 2) / 4.
  Tensor w = make(DType::I8, {2, 2}, {-128, 127, -128, 127});
  Tensor y =
      dequantize(w, f32({2}, {1, 0.25}), make(DType::I8, {2}, {-1, 2}), 0);
  EXPECT_EQ(y.data, (std::vector<double>{-127, 128, -32.5, 31.25}));
}

TEST(QuantizeTest, OneElementParametersArePerTensor) {
  // ONNX's [1]-shaped scale 2 and zero point 1 apply to every element
  // whatever the axis: 3 / 2 = 1.5 -> 2, + 1 = 3; -3 / 2 -> -2 + 1 = -1.
  Tensor x = f32({2, 2}, {3, -3, 3, -3});
  Tensor q = quantize(x, f32({1}, {2}), make(DType::I8, {1}, {1}), 0);
  EXPECT_EQ(q.data, (std::vector<double>{3, -1, 3, -1}));
  // And an i32 zero point dequantizes any input: (255 - 0) * 2.
  Tensor u = make(DType::U8, {1}, {255});
  Tensor y = dequantize(u, f32({1}, {2}), make(DType::I32, {1}, {0}), 0);
  EXPECT_EQ(y.data, (std::vector<double>{510}));
}

TEST(DequantizeTest, I32AccumulatorRoundsOnceToF32) {
  // 2^24 + 1 is not an f32: the difference rounds (to even, 2^24) before
  // the product; 3 * 0.1f is rounded once to f32.
  Tensor acc = make(DType::I32, {2}, {16777217, 3});
  Tensor x = dequantize(acc, f32({}, {0.1f}), make(DType::I32, {}, {0}), 0);
  EXPECT_EQ(x.data[0], static_cast<double>(16777216.0f * 0.1f));
  EXPECT_EQ(x.data[1], static_cast<double>(3.0f * 0.1f));
}

TEST(QMatmulTest, ZeroPointsOfBothOperands) {
  // a [2, 3] u8 with zero point 128, b [3, 2] i8 with zero points 1 and -2
  // per column: row 0 of a - 128 is (-128, 0, 127), row 1 (127, -1, 0); the
  // columns of b - zb are (-2, 4, 126) and (129, -126, 2).
  Tensor a = make(DType::U8, {2, 3}, {0, 128, 255, 255, 127, 128});
  Tensor b = make(DType::I8, {3, 2}, {-1, 127, 5, -128, 127, 0});
  Tensor y =
      qmatmul(a, b, make(DType::U8, {}, {128}), make(DType::I8, {2}, {1, -2}));
  EXPECT_EQ(y.dtype, DType::I32);
  EXPECT_EQ(y.shape, (Shape{2, 2}));
  // 256 + 0 + 16002; -16512 + 0 + 254; -254 - 4 + 0; 16383 + 126 + 0.
  EXPECT_EQ(y.data, (std::vector<double>{16258, -16258, -258, 16509}));
}

TEST(QMatmulTest, LongContractionIsExact) {
  // K = 1001 > 258 (f32 sums would round): 255 * 127 * 1001 = 32417385, an
  // odd number above 2^24, which f32 cannot hold.
  Tensor a = make(DType::U8, {1, 1001}, std::vector<double>(1001, 255));
  Tensor b = make(DType::I8, {1001, 1}, std::vector<double>(1001, 127));
  Tensor y = qmatmul(a, b, make(DType::U8, {}, {0}), make(DType::I8, {}, {0}));
  EXPECT_EQ(y.data, (std::vector<double>{32417385}));
}

TEST(QMatmulTest, BatchedAndSharedWeights) {
  // a [2, 1, 2]; b [2, 2] shared, or [2, 2, 1] per batch.
  Tensor a = make(DType::I8, {2, 1, 2}, {1, 2, -3, 4});
  Tensor shared = make(DType::I8, {2, 2}, {1, 0, 0, 1});
  Tensor zero = make(DType::I8, {}, {0});
  EXPECT_EQ(qmatmul(a, shared, zero, zero).data,
            (std::vector<double>{1, 2, -3, 4}));
  Tensor perBatch = make(DType::I8, {2, 2, 1}, {1, 1, 2, 1});
  Tensor y = qmatmul(a, perBatch, zero, zero);
  EXPECT_EQ(y.shape, (Shape{2, 1, 1}));
  EXPECT_EQ(y.data, (std::vector<double>{3, -2}));
}

TEST(QMatmulTest, SumWrapsLikeInt32) {
  // 70000 products of 255 * 127 = 2266950000 > 2^31 - 1: wraps to
  // 2266950000 - 2^32 = -2028017296, as ONNX's int32 accumulator does.
  Tensor a = make(DType::U8, {1, 70000}, std::vector<double>(70000, 255));
  Tensor b = make(DType::I8, {70000, 1}, std::vector<double>(70000, 127));
  Tensor y = qmatmul(a, b, make(DType::U8, {}, {0}), make(DType::I8, {}, {0}));
  EXPECT_EQ(y.data, (std::vector<double>{-2028017296}));
}
