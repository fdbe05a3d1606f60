//===- ImportQuant.cpp - quantized ops ------------------------------------===//
//
// QuantizeLinear and DequantizeLinear become anvil.quantize and
// anvil.dequantize (a scale of one element is per tensor; a missing zero
// point is 0 of the output's type, a ui8 or i8 anvil.constant).
// MatMulInteger becomes anvil.qmatmul: i32 sums, exact at any K. ConvInteger
// is composed from the f32 ops, exactly: the zero points are subtracted by a
// dequantize by a scale of 1 (an 8-bit difference is exact in f32), the
// products summed in f32 (exact while every partial sum is an integer below
// 2^24, which the handler checks from the contraction length: 255 * 255 * K
// < 2^24, K <= 258), and the integral result cast to i32; longer ones are
// refused until the convolution has its integer form too. QLinearMatMul and
// QLinearConv requantize that accumulator as ONNX Runtime does: `acc *
// (a_scale * w_scale / y_scale)`, rounded half to even, plus the output zero
// point, saturated (anvil.quantize with a scale of 1).
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

/// The longest contraction whose f32 sums of 8-bit products stay exact: every
/// partial sum below 2^24 in magnitude, each product at most 255 * 255.
static constexpr int64_t kExactContraction = (int64_t{1} << 24) / (255 * 255);

/// Quantization parameters as the dialect takes them: ONNX's scalars and
/// one-element tensors are per tensor as they are; only a longer rank-1
/// parameter is per channel.
static bool perChannel(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return type.getRank() == 1 && type.getNumElements() > 1;
}

FailureOr<Importer::QuantParams> Importer::quantParams(int scaleInput,
                                                       int zeroInput,
                                                       Type zeroElement,
                                                       int64_t rank) {
  if (attrInt("block_size", 0) != 0)
    return fail("blocked quantization (block_size) is not supported");
  QuantParams p;
  p.scale = in(scaleInput);
  if (!p.scale)
    return failure();
  p.zeroPoint =
      has(zeroInput)
          ? in(zeroInput)
          : constantOf(shapeOf(p.scale), zeroElement,
                       SmallVector<double>(product(shapeOf(p.scale)), 0.0));
  if (!p.zeroPoint)
    return failure();
  if (perChannel(p.scale)) {
    std::optional<int64_t> axis = normalizeAxis(attrInt("axis", 1), rank);
    if (!axis)
      return fail("axis " + std::to_string(attrInt("axis", 1)) +
                  " is out of range for rank " + std::to_string(rank));
    p.attrs.push_back(int64("axis", *axis));
  }
  return p;
}

LogicalResult Importer::quantizeLinear() {
  Value x = in(0);
  if (!x)
    return failure();
  // Without a zero point the output is uint8, or output_dtype (opset 21).
  Type element = mlirTypeOf(DType::U8, context);
  if (int to = attrInt("output_dtype", 0)) {
    std::optional<DType> dtype = dtypeOfOnnx(to);
    if (dtype != DType::U8 && dtype != DType::I8)
      return fail("output_dtype " + onnxTypeName(to) +
                  " is not supported (uint8 and int8 are)");
    element = mlirTypeOf(*dtype, context);
  }
  FailureOr<QuantParams> p = quantParams(1, 2, element, shapeOf(x).size());
  if (failed(p))
    return failure();
  return out(0, make<a::QuantizeOp>({x, p->scale, p->zeroPoint}, p->attrs));
}

LogicalResult Importer::dequantizeLinear() {
  Value x = in(0);
  if (!x)
    return failure();
  FailureOr<QuantParams> p = quantParams(1, 2, elementOf(x), shapeOf(x).size());
  if (failed(p))
    return failure();
  return out(0, make<a::DequantizeOp>({x, p->scale, p->zeroPoint}, p->attrs));
}

Value Importer::minusZeroPoint(Value q, Value zeroPoint, int64_t axis) {
  if (!q)
    return {};
  // A missing zero point is an i32 0, which dequantize takes for any input
  // (a uint8 one would need a ui8 constant).
  if (!zeroPoint)
    zeroPoint = constantOf({}, builder.getI32Type(), {0});
  ArrayRef<int64_t> shape = shapeOf(zeroPoint);
  Value ones = constantOf(shape, builder.getF32Type(),
                          SmallVector<double>(product(shape), 1.0));
  SmallVector<NamedAttribute> attrs;
  if (perChannel(zeroPoint))
    attrs.push_back(int64("axis", axis));
  return make<a::DequantizeOp>({q, ones, zeroPoint}, attrs);
}

LogicalResult Importer::checkContraction(int64_t length) {
  if (length <= kExactContraction)
    return success();
  return fail("a contraction of " + std::to_string(length) +
              " products is longer than f32 sums hold exactly (" +
              std::to_string(kExactContraction) +
              "); the integer convolution is not implemented yet (the integer "
              "matmul is)");
}

Value Importer::zeroPointOf(Value q, int i) {
  if (!q)
    return {};
  if (has(i))
    return in(i);
  return constantOf({}, elementOf(q), {0});
}

Value Importer::integerMatmul(int aInput, int aZero, int bInput, int bZero) {
  Value A = in(aInput), B = in(bInput);
  if (!A || !B)
    return {};
  int64_t ra = shapeOf(A).size(), rb = shapeOf(B).size();
  if (ra < 2 || rb < 2) {
    (void)fail("1-D operands are not supported");
    return {};
  }
  Value aZeroPoint = zeroPointOf(A, aZero), bZeroPoint = zeroPointOf(B, bZero);
  if (!aZeroPoint || !bZeroPoint)
    return {};
  if (product(shapeOf(aZeroPoint)) != 1) {
    (void)fail("a per-row zero point of A is not supported (one value is)");
    return {};
  }
  // B's zero point is one value or one per column (the anvil.qmatmul
  // verifier says which shapes it takes); the sums are exact i32 at any K.
  return make<a::QMatmulOp>({A, B, aZeroPoint, bZeroPoint});
}

LogicalResult Importer::matMulInteger() {
  return out(0, integerMatmul(0, 2, 1, 3));
}

Value Importer::requantize(Value acc, int aScale, int wScale, int yScale,
                           int yZero, int64_t channelAxis) {
  Value multiplier =
      make<a::DivOp>({make<a::MulOp>({in(aScale), in(wScale)}), in(yScale)});
  if (!acc || !multiplier)
    return {};
  // A per-channel multiplier [C] broadcasts along the accumulator's
  // channel axis: the last for a matmul, 1 for a convolution ([C, 1, 1]).
  if (perChannel(multiplier) && channelAxis == 1) {
    int64_t c = shapeOf(multiplier)[0];
    multiplier = reshape(multiplier, {c, 1, 1});
  }
  Value real = make<a::MulOp>({acc, multiplier});
  Value zeroPoint = in(yZero);
  if (!real || !zeroPoint)
    return {};
  if (perChannel(zeroPoint)) {
    (void)fail("a per-channel output zero point is not supported");
    return {};
  }
  ArrayRef<int64_t> shape = shapeOf(zeroPoint);
  Value ones = constantOf(shape, builder.getF32Type(),
                          SmallVector<double>(product(shape), 1.0));
  return make<a::QuantizeOp>({real, ones, zeroPoint});
}

LogicalResult Importer::qlinearMatMul() {
  // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
  Value acc = integerMatmul(0, 2, 3, 5);
  if (!acc)
    return failure();
  acc = make<a::CastOp>({acc},
                        {named("to", TypeAttr::get(builder.getF32Type()))});
  return out(0, requantize(acc, 1, 4, 6, 7, /*channelAxis=*/-1));
}

Value Importer::integerConv(int xInput, int xZero, int wInput, int wZero) {
  Value x = in(xInput), w = in(wInput);
  if (!x || !w)
    return {};
  if (failed(checkContraction(product(shapeOf(w).drop_front()))))
    return {};
  // Padding the difference with zeros is padding x with its zero point (the
  // real value 0), as ONNX Runtime does. The weight's zero point is per
  // output channel (axis 0).
  return convOf(minusZeroPoint(x, in(xZero), 1),
                minusZeroPoint(w, in(wZero), 0), Value());
}

LogicalResult Importer::convInteger() {
  Value acc = integerConv(0, 2, 1, 3);
  return out(0, make<a::CastOp>(
                    {acc}, {named("to", TypeAttr::get(builder.getI32Type()))}));
}

LogicalResult Importer::qlinearConv() {
  // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
  // y_zero_point, B (i32, quantized with scale x_scale * w_scale, zero 0)
  Value acc = integerConv(0, 2, 3, 5);
  if (acc && has(8)) {
    Value bias = minusZeroPoint(in(8), Value(), 0);
    if (!bias)
      return failure();
    acc = make<a::AddOp>({acc, reshape(bias, {shapeOf(bias)[0], 1, 1})});
  }
  return out(0, requantize(acc, 1, 4, 6, 7, /*channelAxis=*/1));
}

bool Importer::takesUint8(const std::string &opType) {
  // (anvil.max_pool2d compares 8-bit integers too.)
  if (opType == "MaxPool")
    return true;
  HandlerTable table;
  addQuantHandlers(table);
  return table.count(opType);
}

void Importer::addQuantHandlers(HandlerTable &table) {
  table["ConvInteger"] = &Importer::convInteger;
  table["DequantizeLinear"] = &Importer::dequantizeLinear;
  table["MatMulInteger"] = &Importer::matMulInteger;
  table["QLinearConv"] = &Importer::qlinearConv;
  table["QLinearMatMul"] = &Importer::qlinearMatMul;
  table["QuantizeLinear"] = &Importer::quantizeLinear;
}

} // namespace mlir::anvil::onnx_import
