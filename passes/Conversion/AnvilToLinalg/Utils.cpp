//===- Utils.cpp - shared pieces of the anvil -> linalg conversion --------===//

#include "passes/Conversion/AnvilToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::anvil;

Value mlir::anvil::emptyTensor(OpBuilder &b, Location loc,
                               RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value mlir::anvil::scalarConstant(OpBuilder &b, Location loc, Type type,
                                  double value) {
  if (auto f = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, value));
  return b.create<arith::ConstantOp>(
      loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value mlir::anvil::reinterpretBits(OpBuilder &b, Location loc, Value value,
                                   Type type) {
  if (value.getType() == type)
    return value;
  return b.create<UnrealizedConversionCastOp>(loc, type, value).getResult(0);
}

Value mlir::anvil::clampTo(OpBuilder &b, Location loc, Value x, Value bound,
                           bool lower) {
  Value beyond = b.create<arith::CmpFOp>(
      loc, lower ? arith::CmpFPredicate::OLT : arith::CmpFPredicate::OGT, x,
      bound);
  return b.create<arith::SelectOp>(loc, beyond, bound, x);
}

Value mlir::anvil::clampLikeMaxnum(OpBuilder &b, Location loc, Value v,
                                   double lo, double hi) {
  auto bound = [&](double value) -> Value {
    Type type = v.getType();
    if (auto vector = dyn_cast<VectorType>(type))
      return b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(
                   vector, b.getFloatAttr(vector.getElementType(), value)));
    return scalarConstant(b, loc, type, value);
  };
  Value low = bound(lo), high = bound(hi);
  Value above = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, low);
  v = b.create<arith::SelectOp>(loc, above, v, low);
  Value below =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, v, high);
  return b.create<arith::SelectOp>(loc, below, v, high);
}

Value mlir::anvil::filledTensor(OpBuilder &b, Location loc,
                                RankedTensorType type, double value) {
  Value scalar = scalarConstant(b, loc, type.getElementType(), value);
  return b.create<linalg::FillOp>(loc, scalar, emptyTensor(b, loc, type))
      .getResult(0);
}

Value mlir::anvil::forallSlices(OpBuilder &b, Location loc, int64_t count,
                                Value init,
                                function_ref<SlicePlace(Value)> place,
                                function_ref<Value(Value, Value)> body) {
  auto forall = b.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(count)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, ValueRange{init},
      /*mapping=*/std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value i = forall.getInductionVar(0);
  Value shared = forall.getRegionIterArgs()[0];
  SlicePlace at = place(i);
  SmallVector<OpFoldResult> strides(at.offsets.size(), b.getIndexAttr(1));
  Value slice = b.create<tensor::ExtractSliceOp>(loc, shared, at.offsets,
                                                 at.sizes, strides);
  Value updated = body(i, slice);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  b.create<tensor::ParallelInsertSliceOp>(loc, updated, shared, at.offsets,
                                          at.sizes, strides);
  return forall.getResult(0);
}

AffineMap mlir::anvil::broadcastMap(MLIRContext *context,
                                    ArrayRef<int64_t> operandShape,
                                    ArrayRef<int64_t> resultShape) {
  size_t lead = resultShape.size() - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandShape)) {
    bool stretched = size == 1 && resultShape[lead + i] != 1;
    exprs.push_back(stretched ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(lead + i, context));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, context);
}

Value mlir::anvil::buildElementwise(OpBuilder &b, Location loc,
                                    RankedTensorType resultType,
                                    ValueRange inputs, ScalarFn body) {
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(
        context, cast<RankedTensorType>(input.getType()).getShape(),
        resultType.getShape()));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, inputs, emptyTensor(b, loc, resultType), maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args.drop_back()));
      });
  return generic.getResult(0);
}

SmallVector<int64_t> mlir::anvil::normalizeAxes(ArrayRef<int64_t> axes,
                                                int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t a : axes)
    result.push_back(a < 0 ? a + rank : a);
  llvm::sort(result);
  return result;
}

RankedTensorType mlir::anvil::keepDims(RankedTensorType type,
                                       ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t a : axes)
    shape[a] = 1;
  return type.clone(shape);
}

Value mlir::anvil::buildReduction(OpBuilder &b, Location loc, Value input,
                                  ArrayRef<int64_t> axes,
                                  ReduceCombiner combiner) {
  auto type = cast<RankedTensorType>(input.getType());
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> kept;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (!reduced) {
      shape.push_back(type.getDimSize(d));
      kept.push_back(getAffineDimExpr(d, context));
    }
  }
  auto resultType = type.clone(shape);
  double init = combiner == ReduceCombiner::Sum
                    ? 0.0
                    : -std::numeric_limits<double>::infinity();
  Value acc = filledTensor(b, loc, resultType, init);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(type.getRank()),
      AffineMap::get(type.getRank(), 0, kept, context)};
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, input, acc, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        // Sums may be reassociated, so that LLVM vectorizes them with
        // partial sums (results change in the last bits only).
        auto reassoc = arith::FastMathFlagsAttr::get(
            nb.getContext(), arith::FastMathFlags::reassoc);
        Value r =
            combiner == ReduceCombiner::Sum
                ? nb.create<arith::AddFOp>(nloc, args[0], args[1], reassoc)
                      .getResult()
                : nb.create<arith::MaximumFOp>(nloc, args[0], args[1])
                      .getResult();
        nb.create<linalg::YieldOp>(nloc, r);
      });
  return generic.getResult(0);
}

Value mlir::anvil::reshapeTo(OpBuilder &b, Location loc, Value value,
                             RankedTensorType type) {
  auto source = cast<RankedTensorType>(value.getType());
  if (source == type)
    return value;
  // Through a rank-1 (or rank-0 for single elements) intermediate: any
  // static reshape is a full collapse followed by a full expand.
  auto all = [](int64_t rank) {
    SmallVector<ReassociationIndices> r(1);
    for (int64_t d = 0; d < rank; ++d)
      r[0].push_back(d);
    if (rank == 0)
      r.clear();
    return r;
  };
  auto flat = source.clone({source.getNumElements()});
  Value v = value;
  if (source.getRank() == 0)
    v = b.create<tensor::ExpandShapeOp>(loc, flat, v, all(0));
  else if (source.getRank() != 1)
    v = b.create<tensor::CollapseShapeOp>(loc, flat, v, all(source.getRank()));
  if (type.getRank() == 1)
    return v;
  if (type.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, type, v, all(0));
  return b.create<tensor::ExpandShapeOp>(loc, type, v, all(type.getRank()));
}

Value mlir::anvil::padSpatial(OpBuilder &b, Location loc, Value input,
                              ArrayRef<int64_t> pads, double value,
                              int64_t extraH, int64_t extraW) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }) && extraH == 0 &&
      extraW == 0)
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  return padSpatial(b, loc, input, pads,
                    scalarConstant(b, loc, type.getElementType(), value),
                    extraH, extraW);
}

Value mlir::anvil::padSpatial(OpBuilder &b, Location loc, Value input,
                              ArrayRef<int64_t> pads, Value padValue,
                              int64_t extraH, int64_t extraW) {
  int64_t extra[] = {extraH, extraW};
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }) && extraH == 0 &&
      extraW == 0)
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                   b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[1])};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(0),
                                    b.getIndexAttr(pads[2] + extra[0]),
                                    b.getIndexAttr(pads[3] + extra[1])};
  SmallVector<int64_t> shape(type.getShape());
  shape[2] += pads[0] + pads[2] + extra[0];
  shape[3] += pads[1] + pads[3] + extra[1];
  return b.create<tensor::PadOp>(loc, type.clone(shape), input, low, high,
                                 padValue);
}

Value mlir::anvil::buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                               Value acc) {
  auto l = cast<RankedTensorType>(lhs.getType());
  auto r = cast<RankedTensorType>(rhs.getType());
  auto type = l.clone({l.getDimSize(0), r.getDimSize(1)});
  if (!acc)
    acc = filledTensor(b, loc, type, 0.0);
  return b.create<linalg::MatmulOp>(loc, type, ValueRange{lhs, rhs}, acc)
      .getResult(0);
}

Value mlir::anvil::transpose2D(OpBuilder &b, Location loc, Value value) {
  auto t = cast<RankedTensorType>(value.getType());
  auto to = t.clone({t.getDimSize(1), t.getDimSize(0)});
  return b
      .create<linalg::TransposeOp>(loc, value, emptyTensor(b, loc, to),
                                   ArrayRef<int64_t>{1, 0})
      .getResult()[0];
}

/// See Utils.h. The rounding is dialects/Bf16.h's, in integer arithmetic:
/// `arith.truncf` to bf16 is one instruction with AVX512_BF16 but, without
/// it, a call to libgcc's __truncsfbf2, which GCC 12 (Debian 12's) lacks.
Value mlir::anvil::roundedToBf16(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return buildElementwise(
      b, loc, type, v, [&](OpBuilder &nb, Location l, ValueRange args) {
        Type f32 = nb.getF32Type(), i32 = nb.getI32Type();
        auto c = [&](uint32_t x) {
          return nb.create<arith::ConstantOp>(
              l, nb.getIntegerAttr(i32, static_cast<int32_t>(x)));
        };
        Value x = args[0];
        if (x.getType() != f32) // (the reference rounds to f32 first)
          x = nb.create<arith::TruncFOp>(l, f32, x);
        Value bits = nb.create<arith::BitcastOp>(l, i32, x);
        // A NaN keeps its upper half, made quiet.
        Value isNan = nb.create<arith::CmpIOp>(
            l, arith::CmpIPredicate::ugt,
            nb.create<arith::AndIOp>(l, bits, c(0x7fffffffu)), c(0x7f800000u));
        Value quiet = nb.create<arith::OrIOp>(l, bits, c(0x00400000u));
        // Else + 0x7fff + the kept lowest bit: to nearest, ties to even.
        Value odd = nb.create<arith::AndIOp>(
            l, nb.create<arith::ShRUIOp>(l, bits, c(16)), c(1));
        Value rounded = nb.create<arith::AddIOp>(
            l, bits, nb.create<arith::AddIOp>(l, odd, c(0x7fffu)));
        Value kept = nb.create<arith::AndIOp>(
            l, nb.create<arith::SelectOp>(l, isNan, quiet, rounded),
            c(0xffff0000u));
        Value y = nb.create<arith::BitcastOp>(l, f32, kept);
        if (type.getElementType() != f32)
          y = nb.create<arith::ExtFOp>(l, type.getElementType(), y);
        return y;
      });
}
