//===- ImportElementwise.cpp - elementwise ONNX ops -----------------------===//
//
// Arithmetic, comparisons, activations, Clip, Softmax/LogSoftmax, Cast and
// Identity: one anvil op each where the dialect has it, short compositions
// otherwise (Reciprocal is 1 / x; integer Pow goes through f64; HardSigmoid
// is a clip of alpha * x + beta, HardSwish x times that). A Mul that
// completes an Erf-based GELU becomes one anvil.gelu.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include "mlir/Dialect/Traits.h"

#include <cmath>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

template <typename OpT> LogicalResult Importer::binary() {
  Value lhs = in(0), rhs = in(1);
  if (!lhs || !rhs)
    return failure();
  if (elementOf(lhs) != elementOf(rhs))
    return fail("operands of different element types");
  if (attrInt("broadcast", 0) && attr("axis"))
    return fail("legacy broadcasting along an axis is not supported");
  return out(0, make<OpT>({lhs, rhs}));
}

template <typename OpT> LogicalResult Importer::variadic() {
  Value result = in(0);
  for (int i = 1; result && i < node->input_size(); ++i) {
    Value next = in(i);
    if (!next)
      return failure();
    if (elementOf(next) != elementOf(result))
      return fail("operands of different element types");
    result = make<OpT>({result, next});
  }
  return out(0, result);
}

template <typename OpT> LogicalResult Importer::unary() {
  return out(0, make<OpT>({in(0)}));
}

LogicalResult Importer::pow() {
  Value base = in(0), exponent = in(1);
  if (!base || !exponent)
    return failure();
  Type element = elementOf(base);
  if (!isa<FloatType>(element)) {
    // Integer powers in double precision, exact for results below 2^53.
    Type f64 = builder.getF64Type();
    Value result = make<a::PowOp>(
        {make<a::CastOp>({base}, {named("to", TypeAttr::get(f64))}),
         make<a::CastOp>({exponent}, {named("to", TypeAttr::get(f64))})});
    return out(
        0, make<a::CastOp>({result}, {named("to", TypeAttr::get(element))}));
  }
  if (elementOf(exponent) != element)
    exponent = make<a::CastOp>({exponent},
                               {named("to", TypeAttr::get(elementOf(base)))});
  return out(0, make<a::PowOp>({base, exponent}));
}

LogicalResult Importer::compare(ComparePredicate predicate) {
  Value lhs = in(0), rhs = in(1);
  if (!lhs || !rhs)
    return failure();
  if (elementOf(lhs) != elementOf(rhs))
    return fail("operands of different element types");
  return out(0, make<a::CompareOp>({lhs, rhs}, {predicateAttr(predicate)}));
}

LogicalResult Importer::where() {
  return out(0, make<a::SelectOp>({in(0), in(1), in(2)}));
}

LogicalResult Importer::reciprocal() {
  Value x = in(0);
  if (!x)
    return failure();
  return out(0, make<a::DivOp>({scalar(1.0, elementOf(x)), x}));
}

LogicalResult Importer::leakyRelu() {
  return out(0, make<a::LeakyReluOp>({in(0)},
                                     {f64("alpha", attrFloat("alpha", 0.01))}));
}

LogicalResult Importer::clip() {
  Value x = in(0);
  if (!x)
    return failure();
  if (opset < 11) {
    SmallVector<NamedAttribute> attrs;
    if (attr("min"))
      attrs.push_back(f64("min", attrFloat("min", 0)));
    if (attr("max"))
      attrs.push_back(f64("max", attrFloat("max", 0)));
    return out(0, make<a::ClipOp>({x}, attrs));
  }
  // Bounds known at compile time become attributes; others are computed.
  const NpyArray *lo = constant(1), *hi = constant(2);
  if ((!has(1) || lo) && (!has(2) || hi) && isa<FloatType>(elementOf(x))) {
    SmallVector<NamedAttribute> attrs;
    if (lo)
      attrs.push_back(f64("min", valuesOf(*lo).at(0)));
    if (hi)
      attrs.push_back(f64("max", valuesOf(*hi).at(0)));
    return out(0, make<a::ClipOp>({x}, attrs));
  }
  Value y = x;
  if (has(1))
    y = make<a::MaxOp>({y, in(1)});
  if (has(2))
    y = make<a::MinOp>({y, in(2)});
  return out(0, y);
}

LogicalResult Importer::softmax() { return softmaxLike(false); }
LogicalResult Importer::logSoftmax() { return softmaxLike(true); }

LogicalResult Importer::softmaxLike(bool log) {
  Value x = in(0);
  if (!x)
    return failure();
  int64_t rank = shapeOf(x).size();
  auto axis = normalizeAxis(attrInt("axis", opset < 13 ? 1 : -1), rank);
  if (!axis)
    return fail("axis out of range");
  auto apply = [&](Value v, int64_t ax) {
    return log ? make<a::LogSoftmaxOp>({v}, {int64("axis", ax)})
               : make<a::SoftmaxOp>({v}, {int64("axis", ax)});
  };
  if (opset >= 13)
    return out(0, apply(x, *axis));
  // Before opset 13 the input is seen as 2-D around `axis`.
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> shape2 = {product(shape.take_front(*axis)),
                                 product(shape.drop_front(*axis))};
  SmallVector<int64_t> original(shape);
  return out(0, reshape(apply(reshape(x, shape2), 1), original));
}

LogicalResult Importer::identity() {
  Value x = in(0);
  if (!x)
    return failure();
  return out(0, x);
}

LogicalResult Importer::castOp() {
  Value x = in(0);
  if (!x)
    return failure();
  int to = static_cast<int>(attrInt("to", 0));
  std::optional<DType> dtype = dtypeOfOnnx(to);
  Type element = dtype ? mlirTypeOf(*dtype, context) : Type();
  if (!element)
    return fail("casting to " + onnxTypeName(to) + " is not supported");
  if (element == elementOf(x))
    return out(0, x);
  return out(0, make<a::CastOp>({x}, {named("to", TypeAttr::get(element))}));
}

Value Importer::hardSigmoid(Value x, double alpha, double beta) {
  if (!x)
    return {};
  Type element = elementOf(x);
  Value y = make<a::AddOp>(
      {make<a::MulOp>({x, scalar(alpha, element)}), scalar(beta, element)});
  return make<a::ClipOp>({y}, {f64("min", 0.0), f64("max", 1.0)});
}

LogicalResult Importer::hardSigmoidOp() {
  return out(
      0, hardSigmoid(in(0), attrFloat("alpha", 0.2), attrFloat("beta", 0.5)));
}

LogicalResult Importer::hardSwish() {
  Value x = in(0);
  return out(0, make<a::MulOp>({x, hardSigmoid(x, 1.0 / 6.0, 0.5)}));
}

/// The value of a one-element float anvil.constant (not a param: those are
/// trained, so their value is not fixed).
static std::optional<double> scalarConstant(Value v) {
  auto c = v.getDefiningOp<a::ConstantOp>();
  auto data = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
  if (!data || data.getNumElements() != 1 ||
      !isa<FloatType>(data.getElementType()))
    return std::nullopt;
  return (*data.getValues<APFloat>().begin()).convertToDouble();
}

static bool isNear(std::optional<double> v, double want) {
  return v && std::abs(*v - want) <= 1e-4 * std::abs(want);
}

/// The x of `erf(x / sqrt(2)) + 1` (or `erf(x * (1/sqrt(2))) + 1`), else null.
static Value erfGeluArgument(Value v) {
  auto add = v.getDefiningOp<a::AddOp>();
  if (!add)
    return {};
  Value e = add.getLhs(), one = add.getRhs();
  if (!e.getDefiningOp<a::ErfOp>())
    std::swap(e, one);
  auto erf = e.getDefiningOp<a::ErfOp>();
  if (!erf || !isNear(scalarConstant(one), 1.0))
    return {};
  Value z = erf.getInput();
  if (auto div = z.getDefiningOp<a::DivOp>())
    return isNear(scalarConstant(div.getRhs()), M_SQRT2) ? div.getLhs()
                                                         : Value();
  if (auto m = z.getDefiningOp<a::MulOp>()) {
    if (isNear(scalarConstant(m.getRhs()), M_SQRT1_2))
      return m.getLhs();
    if (isNear(scalarConstant(m.getLhs()), M_SQRT1_2))
      return m.getRhs();
  }
  return {};
}

Value Importer::matchErfGelu(Value lhs, Value rhs) {
  // lhs * rhs is the product of three factors, x, 0.5 and
  // 1 + erf(x / sqrt(2)), grouped either way; torch writes
  // (x * (1 + erf(x / sqrt(2)))) * 0.5.
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(shapeOf(lhs), shapeOf(rhs), shape))
    return {};
  for (auto [outer, inner] : {std::pair{lhs, rhs}, std::pair{rhs, lhs}}) {
    auto m = inner.getDefiningOp<a::MulOp>();
    if (!m)
      continue;
    Value f[3] = {outer, m.getLhs(), m.getRhs()};
    for (int half = 0; half < 3; ++half) {
      if (!isNear(scalarConstant(f[half]), 0.5))
        continue;
      Value p = f[(half + 1) % 3], q = f[(half + 2) % 3];
      for (auto [x, erfTerm] : {std::pair{p, q}, std::pair{q, p}})
        if (erfGeluArgument(erfTerm) == x && shapeOf(x) == ArrayRef(shape) &&
            isa<FloatType>(elementOf(x)))
          return make<a::GeluOp>({x});
    }
  }
  return {};
}

LogicalResult Importer::mul() {
  Value lhs = in(0), rhs = in(1);
  if (lhs && rhs)
    if (Value gelu = matchErfGelu(lhs, rhs))
      return out(0, gelu);
  return binary<a::MulOp>();
}

void Importer::addElementwiseHandlers(HandlerTable &table) {
  table["Abs"] = &Importer::unary<a::AbsOp>;
  table["Add"] = &Importer::binary<a::AddOp>;
  table["Cast"] = &Importer::castOp;
  table["Clip"] = &Importer::clip;
  table["Div"] = &Importer::binary<a::DivOp>;
  table["Equal"] = &Importer::equal;
  table["Erf"] = &Importer::unary<a::ErfOp>;
  table["Exp"] = &Importer::unary<a::ExpOp>;
  table["Greater"] = &Importer::greater;
  table["HardSigmoid"] = &Importer::hardSigmoidOp;
  table["HardSwish"] = &Importer::hardSwish;
  table["GreaterOrEqual"] = &Importer::greaterOrEqual;
  table["Identity"] = &Importer::identity;
  table["LeakyRelu"] = &Importer::leakyRelu;
  table["Less"] = &Importer::less;
  table["LessOrEqual"] = &Importer::lessOrEqual;
  table["Log"] = &Importer::unary<a::LogOp>;
  table["LogSoftmax"] = &Importer::logSoftmax;
  table["Max"] = &Importer::variadic<a::MaxOp>;
  table["Min"] = &Importer::variadic<a::MinOp>;
  table["Mul"] = &Importer::mul;
  table["Neg"] = &Importer::unary<a::NegOp>;
  table["Pow"] = &Importer::pow;
  table["Reciprocal"] = &Importer::reciprocal;
  table["Relu"] = &Importer::unary<a::ReluOp>;
  table["Sigmoid"] = &Importer::unary<a::SigmoidOp>;
  table["Softmax"] = &Importer::softmax;
  table["Sqrt"] = &Importer::unary<a::SqrtOp>;
  table["Sub"] = &Importer::binary<a::SubOp>;
  table["Tanh"] = &Importer::unary<a::TanhOp>;
  table["Where"] = &Importer::where;
}

} // namespace mlir::anvil::onnx_import
