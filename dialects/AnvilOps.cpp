//===- AnvilOps.cpp - the anvil graph dialect -----------------------------===//
//
// Shape inference, verifiers and folders of the `anvil` ops. Every shape rule
// lives in an op's `inferReturnTypes`, which runs both when an op is built or
// parsed (so the result type can be left out) and when it is verified. Those
// functions may see operands of any type (the parser infers before the ODS
// type constraints are checked), so each first asks for static tensors.
//
//===----------------------------------------------------------------------===//

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::anvil;

#include "dialects/AnvilOpsDialect.cpp.inc"

#include "dialects/AnvilEnums.cpp.inc"
#include "dialects/AnvilInterfaces.cpp.inc"

void AnvilDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/AnvilOps.cpp.inc"
      >();
}

Operation *AnvilDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}

std::string mlir::anvil::tensorSizeProblem(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return "";
  auto text = [&] {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << type;
    return s;
  };
  Type element = shaped.getElementType();
  uint64_t count = 1, bytes = element.isIntOrFloat()
                                  ? (element.getIntOrFloatBitWidth() + 7) / 8
                                  : 8;
  for (int64_t d : shaped.getShape())
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count) ||
        count > uint64_t(INT64_MAX))
      return text() + " has more elements than a 64-bit count holds";
  bool overflow = __builtin_mul_overflow(bytes, count, &bytes);
  if (overflow || bytes > uint64_t(kMaxTensorBytes))
    return text() + " holds " + std::to_string(count) + " elements (" +
           (overflow || bytes > uint64_t(INT64_MAX) ? std::string("over 2^63")
                                                    : std::to_string(bytes)) +
           " bytes), more than the 2^40 bytes (1 TiB) a tensor may take";
  return "";
}

LogicalResult mlir::anvil::verifyTensorSizes(Operation *op) {
  for (auto [kind, types] :
       {std::pair<const char *, TypeRange>{"operand", op->getOperandTypes()},
        std::pair<const char *, TypeRange>{"result", op->getResultTypes()}})
    for (auto [i, type] : llvm::enumerate(types))
      if (std::string problem = tensorSizeProblem(type); !problem.empty())
        return op->emitOpError() << kind << " #" << i << ": " << problem;
  return success();
}

int64_t mlir::anvil::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return -1;
  return axis < 0 ? axis + rank : axis;
}

/// `axis` normalized for a rank-`rank` operand, or an error at `loc`.
static FailureOr<int64_t> axisIn(std::optional<Location> loc, int64_t axis,
                                 int64_t rank) {
  int64_t normalized = normalizeAxis(axis, rank);
  if (normalized < 0)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  return normalized;
}

//===----------------------------------------------------------------------===//
// Inference helpers shared by op families
//===----------------------------------------------------------------------===//

namespace mlir::anvil {

/// Returns `type` as a statically shaped ranked tensor, or reports that
/// `what` must be one.
static FailureOr<RankedTensorType> staticTensor(std::optional<Location> loc,
                                                Type type, StringRef what) {
  auto tensor = dyn_cast_or_null<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return emitOptionalError(
        loc, what, " must be a tensor with a static shape, got ", type);
  // Inference runs before the verifier's size check (BoundedTensors) and
  // counts elements; a count beyond 64 bits would be UB there.
  if (std::string problem = tensorSizeProblem(tensor); !problem.empty())
    return emitOptionalError(loc, what, ": ", problem);
  return tensor;
}

/// The product of `dims`, or nothing when it overflows int64.
static std::optional<int64_t> checkedProduct(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t d : dims)
    if (llvm::MulOverflow(product, d, product))
      return std::nullopt;
  return product;
}

/// Reports unless `a` and `b` have the same element type.
static LogicalResult sameElementType(std::optional<Location> loc,
                                     RankedTensorType a, RankedTensorType b,
                                     StringRef aName, StringRef bName) {
  if (a.getElementType() == b.getElementType())
    return success();
  return emitOptionalError(loc, aName, " and ", bName,
                           " must have the same element type, got ",
                           a.getElementType(), " and ", b.getElementType());
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

static LogicalResult inferBroadcastType(std::optional<Location> loc,
                                        Type lhsType, Type rhsType,
                                        SmallVectorImpl<Type> &types) {
  auto lhs = staticTensor(loc, lhsType, "lhs");
  auto rhs = staticTensor(loc, rhsType, "rhs");
  if (failed(lhs) || failed(rhs) ||
      failed(sameElementType(loc, *lhs, *rhs, "lhs", "rhs")))
    return failure();
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhs->getShape(), rhs->getShape(),
                                          shape))
    return emitOptionalError(loc, "shapes ", shapeStr(lhs->getShape()), " and ",
                             shapeStr(rhs->getShape()), " do not broadcast");
  types.push_back(RankedTensorType::get(shape, lhs->getElementType()));
  return success();
}

static LogicalResult inferReduceType(std::optional<Location> loc,
                                     Type inputType, ArrayRef<int64_t> axes,
                                     bool keepdims,
                                     SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, inputType, "input");
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  if (axes.empty())
    return emitOptionalError(loc, "axes must not be empty");
  llvm::SmallSet<int64_t, 4> reduced;
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = axisIn(loc, axis, rank);
    if (failed(a))
      return failure();
    if (!reduced.insert(*a).second)
      return emitOptionalError(loc, "axis ", axis, " is listed twice");
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced.contains(d))
      shape.push_back(input->getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

} // namespace mlir::anvil

//===----------------------------------------------------------------------===//
// Attribute defaults during inference
//===----------------------------------------------------------------------===//
//
// When the MLIR 19 parser infers result types, default-valued attributes the
// text left out are not filled in yet, so inference reads them through these
// helpers with the same defaults AnvilOps.td declares.

static int64_t intOr(IntegerAttr attr, int64_t fallback) {
  return attr ? attr.getValue().getSExtValue() : fallback;
}
static ArrayRef<int64_t> arrayOr(DenseI64ArrayAttr attr,
                                 ArrayRef<int64_t> fallback) {
  return attr ? attr.asArrayRef() : fallback;
}
static constexpr int64_t kOnes[] = {1, 1};

static constexpr int64_t kZeroPads[] = {0, 0, 0, 0};

namespace mlir::anvil {
/// Checks an op's attributes (`adaptor.verify`: required ones present, each
/// of its declared kind) before its inferReturnTypes reads them through the
/// adaptor's unchecked getters; every op's generated inferReturnTypes calls
/// this first (Anvil_InferTypeOpAdaptor in AnvilOps.td). Without a location
/// the check fails quietly, as inference does.
template <typename OpAdaptor>
static LogicalResult verifyAttributesForInference(MLIRContext *context,
                                                  std::optional<Location> loc,
                                                  OpAdaptor &adaptor) {
  if (loc)
    return adaptor.verify(*loc);
  ScopedDiagnosticHandler quiet(context,
                                [](Diagnostic &) { return success(); });
  return adaptor.verify(UnknownLoc::get(context));
}
} // namespace mlir::anvil

#define GET_OP_CLASSES
#include "dialects/AnvilOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Parameters and constants
//===----------------------------------------------------------------------===//

/// A name identifies one parameter (in checkpoints, weights files and
/// updates): within a function each name has one `anvil.param` (read it once
/// and reuse the value), and the params of one name in different functions
/// (@forward, @train_step, ...) agree on type and initializer. Only the first
/// param of a block checks, so verifying all params costs O(ops) per
/// function rather than O(params * ops). (Reading the earlier functions is
/// safe while functions verify in parallel; no pipeline runs function-level
/// passes while params exist.)
static LogicalResult verifyParamNames(ParamOp op) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode())
    if (isa<ParamOp>(prev))
      return success(); // an earlier param checks this block
  Block *block = op->getBlock();
  Operation *func = op->getParentOp();
  // The first param of each name in the functions before this one.
  llvm::DenseMap<StringAttr, ParamOp> earlier;
  if (func && isa_and_nonnull<ModuleOp>(func->getParentOp()))
    for (Operation *f = func->getPrevNode(); f; f = f->getPrevNode())
      f->walk([&](ParamOp p) { earlier.try_emplace(p.getNameAttr(), p); });
  llvm::DenseMap<StringAttr, ParamOp> here;
  for (ParamOp p : block->getOps<ParamOp>()) {
    auto [first, inserted] = here.try_emplace(p.getNameAttr(), p);
    ParamOp other = earlier.lookup(p.getNameAttr());
    if (inserted &&
        (!other || (other.getType() == p.getType() &&
                    other->getAttrDictionary() == p->getAttrDictionary())))
      continue;
    InFlightDiagnostic diag = p.emitOpError("parameter '") << p.getName();
    if (!inserted) {
      diag << "' is read a second time in this function; a name names one "
              "parameter: rename one of them, or reuse the first one's value";
      diag.attachNote(first->second.getLoc()) << "the first read";
    } else {
      diag << "' differs from the parameter of that name in an earlier "
              "function (type or initializer); declare both alike, or "
              "rename one";
      diag.attachNote(other.getLoc()) << "the other declaration";
    }
    return diag;
  }
  return success();
}

LogicalResult ParamOp::verify() {
  // ODS has checked that `init` names an initializer.
  Initializer init = getInit();
  if (getName().empty())
    return emitOpError("needs a non-empty name");
  if (init == Initializer::Dense) {
    if (!getValue())
      return emitOpError("with init \"dense\" needs a `value` attribute");
    if (getValue()->getShapedType() != getType())
      return emitOpError("value has type ")
             << getValue()->getShapedType() << " but the result is "
             << getType();
  } else if (getValue()) {
    return emitOpError("a `value` is only allowed with init \"dense\"");
  }
  auto get = [](std::optional<APFloat> f, double fallback) {
    return f ? f->convertToDouble() : fallback;
  };
  if (init == Initializer::Uniform && get(getLow(), 0.0) >= get(getHigh(), 1.0))
    return emitOpError("uniform bounds need low < high");
  if (get(getStd(), 1.0) <= 0.0)
    return emitOpError("std must be positive");
  return verifyParamNames(*this);
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getValueAttr().getShapedType());
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto lhs = staticTensor(loc, adaptor.getLhs().getType(), "lhs");
  auto rhs = staticTensor(loc, adaptor.getRhs().getType(), "rhs");
  if (failed(lhs) || failed(rhs) ||
      failed(sameElementType(loc, *lhs, *rhs, "lhs", "rhs")))
    return failure();
  if (lhs->getRank() < 2 || rhs->getRank() < 2)
    return emitOptionalError(loc, "operands need rank >= 2, got ",
                             lhs->getRank(), " and ", rhs->getRank());
  ArrayRef<int64_t> a = lhs->getShape(), b = rhs->getShape();
  int64_t m = a[a.size() - 2], ka = a.back();
  int64_t kb = b[b.size() - 2], n = b.back();
  if (adaptor.getTransposeA())
    std::swap(m, ka);
  if (adaptor.getTransposeB())
    std::swap(kb, n);
  if (ka != kb)
    return emitOptionalError(loc,
                             "contraction dimensions differ: lhs has K=", ka,
                             ", rhs has K=", kb);
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(a.drop_back(2), b.drop_back(2),
                                          shape))
    return emitOptionalError(loc, "batch dimensions ", shapeStr(a.drop_back(2)),
                             " and ", shapeStr(b.drop_back(2)),
                             " do not broadcast");
  shape.append({m, n});
  types.push_back(RankedTensorType::get(shape, lhs->getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::verify() {
  if (getMin() && getMax() && *getMin() > *getMax())
    return emitOpError("min ") << getMin()->convertToDouble() << " exceeds max "
                               << getMax()->convertToDouble();
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  types.push_back(input->clone(adaptor.getTo()));
  return success();
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  if (failed(inferBroadcastType(loc, adaptor.getLhs().getType(),
                                adaptor.getRhs().getType(), types)))
    return failure();
  types[0] =
      cast<RankedTensorType>(types[0]).clone(IntegerType::get(context, 1));
  return success();
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto condition =
      staticTensor(loc, adaptor.getCondition().getType(), "condition");
  if (failed(condition) ||
      failed(inferBroadcastType(loc, adaptor.getLhs().getType(),
                                adaptor.getRhs().getType(), types)))
    return failure();
  auto values = cast<RankedTensorType>(types[0]);
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(condition->getShape(),
                                          values.getShape(), shape))
    return emitOptionalError(
        loc, "the condition's shape ", shapeStr(condition->getShape()),
        " does not broadcast with ", shapeStr(values.getShape()));
  types[0] = values.clone(shape);
  return success();
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  int64_t classes = intOr(adaptor.getClassesAttr(), 0);
  if (classes < 1)
    return emitOptionalError(loc, "classes must be positive, got ", classes);
  SmallVector<int64_t> shape(input->getShape());
  shape.push_back(classes);
  auto dtype = adaptor.getAttributes().getAs<TypeAttr>("dtype");
  types.push_back(RankedTensorType::get(
      shape, dtype ? dtype.getValue() : Float32Type::get(context)));
  return success();
}

LogicalResult ReluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  if (failed(input) || failed(grad))
    return failure();
  if (*input != *grad)
    return emitOptionalError(loc,
                             "input and grad must have the same type, "
                             "got ",
                             *input, " and ", *grad);
  types.push_back(*input);
  return success();
}

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  int64_t rawAxis = intOr(adaptor.getAxisAttr(), -1);
  FailureOr<int64_t> checked = axisIn(loc, rawAxis, input->getRank());
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  SmallVector<int64_t> shape(input->getShape());
  shape.erase(shape.begin() + axis);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

static LogicalResult verifySoftmaxAxis(Operation *op, int64_t axis) {
  int64_t rank = cast<RankedTensorType>(op->getOperand(0).getType()).getRank();
  if (normalizeAxis(axis, rank) < 0)
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << rank;
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifySoftmaxAxis(*this, getAxis());
}
LogicalResult LogSoftmaxOp::verify() {
  return verifySoftmaxAxis(*this, getAxis());
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> shape = adaptor.getShape();
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return emitOptionalError(loc, "shape ", shapeStr(shape),
                             " has a negative dimension");
  std::optional<int64_t> checkedCount = checkedProduct(shape);
  if (!checkedCount)
    return emitOptionalError(loc, "shape ", shapeStr(shape),
                             " has more elements than a 64-bit count holds");
  int64_t count = *checkedCount;
  if (count != input->getNumElements())
    return emitOptionalError(loc, "shape ", shapeStr(shape), " holds ", count,
                             " elements but the input ",
                             shapeStr(input->getShape()), " holds ",
                             input->getNumElements());
  types.push_back(input->clone(shape));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> perm = adaptor.getPerm();
  int64_t rank = input->getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid)
    return emitOptionalError(loc, "perm ", shapeStr(perm),
                             " is not a permutation of the ", rank,
                             " dimensions");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(input->getDimSize(p));
  types.push_back(input->clone(shape));
  return success();
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  int64_t rank = input->getRank(), axis = intOr(adaptor.getAxisAttr(), 1);
  if (axis < -rank || axis > rank)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  if (axis < 0)
    axis += rank;
  // A zero dimension keeps the input's count small whatever the others
  // are, so the two products need their own overflow checks.
  ArrayRef<int64_t> dims = input->getShape();
  std::optional<int64_t> outer = checkedProduct(dims.take_front(axis)),
                         inner = checkedProduct(dims.drop_front(axis));
  if (!outer || !inner)
    return emitOptionalError(loc, "flattening ", shapeStr(dims), " at axis ",
                             axis,
                             " gives a size beyond what 64 bits can count");
  types.push_back(input->clone({*outer, *inner}));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "needs at least one input");
  auto first = staticTensor(loc, adaptor.getInputs()[0].getType(), "input");
  if (failed(first))
    return failure();
  int64_t rank = first->getRank();
  int64_t rawAxis = intOr(adaptor.getAxisAttr(), 0);
  FailureOr<int64_t> checked = axisIn(loc, rawAxis, rank);
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  SmallVector<int64_t> shape(first->getShape());
  shape[axis] = 0;
  for (auto [i, value] : llvm::enumerate(adaptor.getInputs())) {
    auto t = staticTensor(loc, value.getType(), "input");
    if (failed(t) || failed(sameElementType(loc, *first, *t, "input 0",
                                            "input " + std::to_string(i))))
      return failure();
    if (t->getRank() != rank)
      return emitOptionalError(loc, "input ", i, " has rank ", t->getRank(),
                               ", input 0 has rank ", rank);
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t->getDimSize(d) != first->getDimSize(d))
        return emitOptionalError(
            loc, "input ", i, " has shape ", shapeStr(t->getShape()),
            ", which differs from input 0's ", shapeStr(first->getShape()),
            " outside axis ", axis);
    if (llvm::AddOverflow(shape[axis], t->getDimSize(axis), shape[axis]))
      return emitOptionalError(loc, "the inputs' sizes along axis ", axis,
                               " add up to more than 64 bits can count");
  }
  types.push_back(first->clone(shape));
  return success();
}

/// The shape of slicing `input` with `starts`, `ends` and `steps` (see
/// SliceOp), after checking them.
static FailureOr<SmallVector<int64_t>> sliceShape(std::optional<Location> loc,
                                                  ArrayRef<int64_t> input,
                                                  ArrayRef<int64_t> starts,
                                                  ArrayRef<int64_t> ends,
                                                  ArrayRef<int64_t> steps) {
  size_t rank = input.size();
  if (starts.size() != rank || ends.size() != rank || steps.size() != rank)
    return emitOptionalError(loc,
                             "starts, ends and steps need one entry per "
                             "dimension (",
                             rank, "), got ", starts.size(), ", ", ends.size(),
                             " and ", steps.size());
  SmallVector<int64_t> shape;
  for (size_t d = 0; d < rank; ++d) {
    int64_t dim = input[d], s = starts[d], e = ends[d], step = steps[d];
    bool ok = step > 0 ? (0 <= s && s <= e && e <= dim)
                       : (step < 0 && -1 <= e && e <= s && s < dim);
    if (!ok)
      return emitOptionalError(loc, "dimension ", d, " of size ", dim,
                               " cannot be sliced with start ", s, ", end ", e,
                               ", step ", step);
    int64_t span = step > 0 ? e - s : s - e, stride = step > 0 ? step : -step;
    shape.push_back((span + stride - 1) / stride);
  }
  return shape;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  auto shape = sliceShape(loc, input->getShape(), adaptor.getStarts(),
                          adaptor.getEnds(), adaptor.getSteps());
  if (failed(shape))
    return failure();
  types.push_back(input->clone(*shape));
  return success();
}

LogicalResult SliceGradOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  if (failed(grad))
    return failure();
  ArrayRef<int64_t> input = adaptor.getInputShape();
  if (llvm::any_of(input, [](int64_t d) { return d < 0; }))
    return emitOptionalError(loc, "input_shape ", shapeStr(input),
                             " has a negative dimension");
  auto shape = sliceShape(loc, input, adaptor.getStarts(), adaptor.getEnds(),
                          adaptor.getSteps());
  if (failed(shape))
    return failure();
  if (grad->getShape() != ArrayRef<int64_t>(*shape))
    return emitOptionalError(loc, "grad has shape ", shapeStr(grad->getShape()),
                             ", but the slice of ", shapeStr(input), " has ",
                             shapeStr(*shape));
  types.push_back(grad->clone(input));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto indices = staticTensor(loc, adaptor.getIndices().getType(), "indices");
  if (failed(input) || failed(indices))
    return failure();
  int64_t rank = input->getRank(), rawAxis = intOr(adaptor.getAxisAttr(), 0);
  FailureOr<int64_t> checked = axisIn(loc, rawAxis, rank);
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  ArrayRef<int64_t> in = input->getShape();
  SmallVector<int64_t> shape(in.take_front(axis));
  llvm::append_range(shape, indices->getShape());
  llvm::append_range(shape, in.drop_front(axis + 1));
  types.push_back(input->clone(shape));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto indices = staticTensor(loc, adaptor.getIndices().getType(), "indices");
  if (failed(input) || failed(indices))
    return failure();
  int64_t rank = input->getRank();
  if (indices->getRank() != rank)
    return emitOptionalError(loc, "indices have rank ", indices->getRank(),
                             ", the input ", rank, "; they must be equal");
  FailureOr<int64_t> axis = axisIn(loc, intOr(adaptor.getAxisAttr(), 0), rank);
  if (failed(axis))
    return failure();
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis && indices->getDimSize(d) > input->getDimSize(d))
      return emitOptionalError(
          loc, "indices ", shapeStr(indices->getShape()), " exceed the input ",
          shapeStr(input->getShape()), " in dimension ", d);
  types.push_back(input->clone(indices->getShape()));
  return success();
}

LogicalResult GatherGradOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  auto indices = staticTensor(loc, adaptor.getIndices().getType(), "indices");
  if (failed(grad) || failed(indices))
    return failure();
  // The data had rank grad.rank - indices.rank + 1; axis is one of its
  // dimensions.
  int64_t rank = grad->getRank() - indices->getRank() + 1;
  if (rank < 1)
    return emitOptionalError(loc, "grad of rank ", grad->getRank(),
                             " cannot hold indices of rank ",
                             indices->getRank());
  int64_t rawAxis = intOr(adaptor.getAxisAttr(), 0);
  FailureOr<int64_t> checked = axisIn(loc, rawAxis, rank);
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  int64_t axisSize = intOr(adaptor.getAxisSizeAttr(), 0);
  if (axisSize < 1)
    return emitOptionalError(loc, "axis_size must be positive, got ", axisSize);
  ArrayRef<int64_t> g = grad->getShape();
  if (g.slice(axis, indices->getRank()) != indices->getShape())
    return emitOptionalError(
        loc, "grad ", shapeStr(g), " must hold the indices' shape ",
        shapeStr(indices->getShape()), " at dimension ", axis);
  SmallVector<int64_t> shape(g.take_front(axis));
  shape.push_back(axisSize);
  llvm::append_range(shape, g.drop_front(axis + indices->getRank()));
  types.push_back(grad->clone(shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Checks that `values` has `size` entries, each at least `min`.
static LogicalResult checkArray(std::optional<Location> loc, StringRef name,
                                ArrayRef<int64_t> values, size_t size,
                                int64_t min) {
  if (values.size() != size)
    return emitOptionalError(loc, name, " needs ", size, " entries, got ",
                             values.size());
  if (llvm::any_of(values, [&](int64_t v) { return v < min; }))
    return emitOptionalError(loc, name, " entries must be >= ", min, ", got ",
                             shapeStr(values));
  return success();
}

/// Output size of one spatial axis of a convolution or pooling window.
static int64_t windowOutputSize(int64_t in, int64_t padBegin, int64_t padEnd,
                                int64_t kernel, int64_t stride,
                                int64_t dilation, bool ceilMode) {
  int64_t span = in + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (span < 0)
    return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // A window must start inside the input or its leading padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

/// The [N, O, OH, OW] result shape of a convolution of `input` (NCHW) by
/// `weight` (OIHW), after checking the window attributes and the groups.
static FailureOr<SmallVector<int64_t>>
convOutputShape(std::optional<Location> loc, RankedTensorType input,
                RankedTensorType weight, DenseI64ArrayAttr stridesAttr,
                DenseI64ArrayAttr padsAttr, DenseI64ArrayAttr dilationsAttr,
                int64_t groups) {
  if (input.getRank() != 4 || weight.getRank() != 4)
    return emitOptionalError(loc,
                             "input and weight must have rank 4 (NCHW, "
                             "OIHW), got ",
                             input.getRank(), " and ", weight.getRank());
  ArrayRef<int64_t> strides = arrayOr(stridesAttr, kOnes),
                    pads = arrayOr(padsAttr, kZeroPads),
                    dilations = arrayOr(dilationsAttr, kOnes);
  if (failed(checkArray(loc, "strides", strides, 2, 1)) ||
      failed(checkArray(loc, "pads", pads, 4, 0)) ||
      failed(checkArray(loc, "dilations", dilations, 2, 1)))
    return failure();
  int64_t c = input.getDimSize(1), o = weight.getDimSize(0);
  if (groups < 1 || c % groups != 0 || o % groups != 0)
    return emitOptionalError(loc, "groups ", groups, " must divide both the ",
                             c, " input channels and the ", o,
                             " output channels");
  if (weight.getDimSize(1) * groups != c)
    return emitOptionalError(loc, "weight has ", weight.getDimSize(1),
                             " input channels per group, but the input has ", c,
                             " channels in ", groups, " group(s)");
  SmallVector<int64_t> shape = {input.getDimSize(0), o};
  for (int i = 0; i < 2; ++i) {
    int64_t size = windowOutputSize(input.getDimSize(2 + i), pads[i],
                                    pads[2 + i], weight.getDimSize(2 + i),
                                    strides[i], dilations[i], false);
    if (size <= 0)
      return emitOptionalError(loc,
                               "the (dilated) kernel is larger than the "
                               "padded input on spatial axis ",
                               i);
    shape.push_back(size);
  }
  return shape;
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto weight = staticTensor(loc, adaptor.getWeight().getType(), "weight");
  if (failed(input) || failed(weight) ||
      failed(sameElementType(loc, *input, *weight, "input", "weight")))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = convOutputShape(
      loc, *input, *weight, adaptor.getStridesAttr(), adaptor.getPadsAttr(),
      adaptor.getDilationsAttr(), intOr(adaptor.getGroupsAttr(), 1));
  if (failed(shape))
    return failure();
  if (Value bias = adaptor.getBias()) {
    auto b = staticTensor(loc, bias.getType(), "bias");
    if (failed(b))
      return failure();
    if (b->getShape() != ArrayRef<int64_t>{(*shape)[1]})
      return emitOptionalError(loc, "bias must have shape [", (*shape)[1],
                               "], got ", shapeStr(b->getShape()));
  }
  types.push_back(input->clone(*shape));
  return success();
}

/// The output spatial sizes of a pooling window over `spatial` ([H, W]),
/// after checking the window attributes.
static FailureOr<SmallVector<int64_t>>
poolOutputSize(std::optional<Location> loc, ArrayRef<int64_t> spatial,
               ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
               bool ceilMode) {
  if (failed(checkArray(loc, "kernel", kernel, 2, 1)) ||
      failed(checkArray(loc, "strides", strides, 2, 1)) ||
      failed(checkArray(loc, "pads", pads, 4, 0)) ||
      failed(checkArray(loc, "dilations", dilations, 2, 1)))
    return failure();
  SmallVector<int64_t> sizes;
  for (int i = 0; i < 2; ++i) {
    if (pads[i] >= kernel[i] || pads[2 + i] >= kernel[i])
      return emitOptionalError(loc, "padding ", shapeStr(pads),
                               " must be smaller than the kernel ",
                               shapeStr(kernel));
    int64_t size = windowOutputSize(spatial[i], pads[i], pads[2 + i], kernel[i],
                                    strides[i], dilations[i], ceilMode);
    if (size <= 0)
      return emitOptionalError(loc,
                               "the window is larger than the padded "
                               "input on spatial axis ",
                               i);
    sizes.push_back(size);
  }
  return sizes;
}

template <typename PoolOp>
static LogicalResult
inferPoolType(std::optional<Location> loc, typename PoolOp::Adaptor adaptor,
              ArrayRef<int64_t> dilations, SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  if (input->getRank() != 4)
    return emitOptionalError(loc, "input must have rank 4 (NCHW), got ",
                             input->getRank());
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  auto sizes = poolOutputSize(loc, input->getShape().drop_front(2), kernel,
                              arrayOr(adaptor.getStridesAttr(), kernel),
                              arrayOr(adaptor.getPadsAttr(), kZeroPads),
                              dilations, adaptor.getCeilMode());
  if (failed(sizes))
    return failure();
  types.push_back(input->clone(
      {input->getDimSize(0), input->getDimSize(1), (*sizes)[0], (*sizes)[1]}));
  return success();
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPoolType<MaxPool2DOp>(
      loc, adaptor, arrayOr(adaptor.getDilationsAttr(), kOnes), types);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPoolType<AvgPool2DOp>(loc, adaptor, kOnes, types);
}

LogicalResult AvgPool2DGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  if (failed(grad))
    return failure();
  ArrayRef<int64_t> size = adaptor.getInputSize(), kernel = adaptor.getKernel();
  if (grad->getRank() != 4)
    return emitOptionalError(loc, "grad must have rank 4 (NCHW), got ",
                             grad->getRank());
  if (failed(checkArray(loc, "input_size", size, 2, 1)))
    return failure();
  // The gradient must be shaped as pooling an input of input_size gives.
  auto sizes = poolOutputSize(
      loc, size, kernel, arrayOr(adaptor.getStridesAttr(), kernel),
      arrayOr(adaptor.getPadsAttr(), kZeroPads), kOnes, adaptor.getCeilMode());
  if (failed(sizes))
    return failure();
  if (grad->getShape().drop_front(2) != ArrayRef<int64_t>(*sizes))
    return emitOptionalError(loc, "grad has spatial size ",
                             shapeStr(grad->getShape().drop_front(2)),
                             ", but pooling an input of ", shapeStr(size),
                             " gives ", shapeStr(*sizes));
  types.push_back(grad->clone(
      {grad->getDimSize(0), grad->getDimSize(1), size[0], size[1]}));
  return success();
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  if (input->getRank() < 3)
    return emitOptionalError(loc,
                             "input needs rank >= 3 ([N, C, spatial...]), "
                             "got ",
                             input->getRank());
  SmallVector<int64_t> shape(input->getRank(), 1);
  shape[0] = input->getDimSize(0);
  shape[1] = input->getDimSize(1);
  types.push_back(input->clone(shape));
  return success();
}

LogicalResult
Conv2DGradInputOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  auto weight = staticTensor(loc, adaptor.getWeight().getType(), "weight");
  if (failed(grad) || failed(weight))
    return failure();
  ArrayRef<int64_t> size = adaptor.getInputSize();
  if (grad->getRank() != 4 || weight->getRank() != 4 || size.size() != 2)
    return emitOptionalError(loc, "needs a rank-4 grad and weight and a "
                                  "2-entry input_size");
  int64_t groups = intOr(adaptor.getGroupsAttr(), 1);
  types.push_back(grad->clone(
      {grad->getDimSize(0), weight->getDimSize(1) * groups, size[0], size[1]}));
  return success();
}

LogicalResult
Conv2DGradFilterOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  if (failed(input) || failed(grad))
    return failure();
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  if (input->getRank() != 4 || grad->getRank() != 4 || kernel.size() != 2)
    return emitOptionalError(loc, "needs a rank-4 input and grad and a "
                                  "2-entry kernel");
  int64_t groups = intOr(adaptor.getGroupsAttr(), 1);
  types.push_back(
      input->clone({grad->getDimSize(1), input->getDimSize(1) / groups,
                    kernel[0], kernel[1]}));
  return success();
}

LogicalResult MaxPool2DGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  types.push_back(*input);
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

/// Checks that each of `params` is a `[C]` vector of the input's element type.
static LogicalResult
checkChannelParams(std::optional<Location> loc, RankedTensorType input,
                   ArrayRef<std::pair<StringRef, Value>> params) {
  if (input.getRank() < 2)
    return emitOptionalError(loc, "input needs rank >= 2 ([N, C, ...]), got ",
                             input.getRank());
  int64_t c = input.getDimSize(1);
  for (auto [name, value] : params) {
    auto t = staticTensor(loc, value.getType(), name);
    if (failed(t) || failed(sameElementType(loc, input, *t, "input", name)))
      return failure();
    if (t->getShape() != ArrayRef<int64_t>{c})
      return emitOptionalError(loc, name, " must have shape [", c,
                               "] (the channels), got ",
                               shapeStr(t->getShape()));
  }
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input) || failed(checkChannelParams(loc, *input,
                                                 {{"scale", adaptor.getScale()},
                                                  {"bias", adaptor.getBias()},
                                                  {"mean", adaptor.getMean()},
                                                  {"var", adaptor.getVar()}})))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult BatchNormTrainOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input) ||
      failed(checkChannelParams(
          loc, *input,
          {{"scale", adaptor.getScale()}, {"bias", adaptor.getBias()}})))
    return failure();
  Type channels = input->clone({input->getDimSize(1)});
  types.append({*input, channels, channels});
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  int64_t rawAxis = intOr(adaptor.getAxisAttr(), -1);
  FailureOr<int64_t> checked = axisIn(loc, rawAxis, input->getRank());
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  ArrayRef<int64_t> normalized = input->getShape().drop_front(axis);
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"scale", adaptor.getScale()},
        {"bias", adaptor.getBias()}}) {
    auto t = staticTensor(loc, value.getType(), name);
    if (failed(t) || failed(sameElementType(loc, *input, *t, "input", name)))
      return failure();
    if (t->getShape() != normalized)
      return emitOptionalError(
          loc, name, " must have shape ", shapeStr(normalized),
          " (the normalized dimensions), got ", shapeStr(t->getShape()));
  }
  types.push_back(*input);
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  types.append({*input, input->clone(IntegerType::get(context, 1))});
  return success();
}

LogicalResult DropoutOp::verify() {
  double ratio = getRatio().convertToDouble();
  if (ratio < 0.0 || ratio >= 1.0)
    return emitOpError("ratio must be in [0, 1), got ") << ratio;
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// Checks the quantization parameters of `input`: `scale` is an f32 tensor
/// of rank 0 (per tensor) or rank 1 with one entry per index of the input's
/// dimension `axis` (per channel), and `zeroPoint` has the scale's shape
/// (its element type is the caller's to check).
static LogicalResult checkQuantParams(std::optional<Location> loc,
                                      RankedTensorType input, Value scale,
                                      Value zeroPoint, int64_t axis) {
  auto s = staticTensor(loc, scale.getType(), "scale");
  auto zp = staticTensor(loc, zeroPoint.getType(), "zero point");
  if (failed(s) || failed(zp))
    return failure();
  if (!s->getElementType().isF32())
    return emitOptionalError(loc, "scale must be f32, got ",
                             s->getElementType());
  if (s->getRank() > 1)
    return emitOptionalError(
        loc,
        "scale must have rank 0 (per tensor) or 1 (per channel), got "
        "shape ",
        shapeStr(s->getShape()));
  if (zp->getShape() != s->getShape())
    return emitOptionalError(loc, "zero point must have the scale's shape ",
                             shapeStr(s->getShape()), ", got ",
                             shapeStr(zp->getShape()));
  // Rank 0, or one element (ONNX's [1]-shaped scales): per tensor.
  if (s->getNumElements() == 1)
    return success();
  FailureOr<int64_t> a = axisIn(loc, axis, input.getRank());
  if (failed(a))
    return failure();
  if (s->getDimSize(0) != input.getDimSize(*a))
    return emitOptionalError(loc, "per-channel scale has ", s->getDimSize(0),
                             " entries, but the input's dimension ", *a,
                             " (axis) has ", input.getDimSize(*a));
  return success();
}

/// Whether `type` is one of the 8-bit quantized element types (i8, ui8).
static bool isQuantElement(Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() == 8 && !integer.isSigned();
}

LogicalResult QuantizeOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  if (!input->getElementType().isF32())
    return emitOptionalError(loc, "input must be f32, got ",
                             input->getElementType());
  if (failed(checkQuantParams(loc, *input, adaptor.getScale(),
                              adaptor.getZeroPoint(),
                              intOr(adaptor.getAxisAttr(), 1))))
    return failure();
  Type element =
      cast<RankedTensorType>(adaptor.getZeroPoint().getType()).getElementType();
  if (!isQuantElement(element))
    return emitOptionalError(
        loc, "zero point must be i8 or ui8 (it sets the result's type), got ",
        element);
  types.push_back(input->clone(element));
  return success();
}

LogicalResult DequantizeOp::inferReturnTypes(MLIRContext *context,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  Type element = input->getElementType();
  if (!isQuantElement(element) && !element.isSignlessInteger(32))
    return emitOptionalError(loc, "input must be i8, ui8 or i32, got ",
                             element);
  if (failed(checkQuantParams(loc, *input, adaptor.getScale(),
                              adaptor.getZeroPoint(),
                              intOr(adaptor.getAxisAttr(), 1))))
    return failure();
  // An i32 zero point (an importer's 0 for a uint8 input, which has no
  // constants) fits every input type.
  auto zp = cast<RankedTensorType>(adaptor.getZeroPoint().getType());
  if (!zp.getElementType().isSignlessInteger(32) &&
      failed(sameElementType(loc, *input, zp, "input", "zero point")))
    return failure();
  types.push_back(input->clone(Float32Type::get(context)));
  return success();
}

/// A fake quantization's `range`: two f32 values, [lo, hi].
static LogicalResult checkRange(std::optional<Location> loc, Type type) {
  auto range = dyn_cast<RankedTensorType>(type);
  if (!range || range.getRank() != 1 || range.getDimSize(0) != 2 ||
      !range.getElementType().isF32())
    return emitOptionalError(loc,
                             "range must be tensor<2xf32> ([lo, hi]), "
                             "got ",
                             type);
  return success();
}

LogicalResult FakeQuantizeOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input) || failed(checkRange(loc, adaptor.getRange().getType())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult
FakeQuantizeGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto grad = staticTensor(loc, adaptor.getGrad().getType(), "grad");
  if (failed(input) || failed(grad) ||
      failed(checkRange(loc, adaptor.getRange().getType())))
    return failure();
  if (*input != *grad)
    return emitOptionalError(loc, "input and grad must have the same type, ",
                             "got ", *input, " and ", *grad);
  types.push_back(*input);
  return success();
}

LogicalResult FakeQuantizeWeightsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  if (failed(input))
    return failure();
  if (adaptor.getAxisAttr() &&
      failed(axisIn(loc, adaptor.getAxisAttr().getInt(), input->getRank())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult QMatmulOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto lhs = staticTensor(loc, adaptor.getLhs().getType(), "lhs");
  auto rhs = staticTensor(loc, adaptor.getRhs().getType(), "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  for (auto [type, name] : {std::pair(*lhs, "lhs"), std::pair(*rhs, "rhs")})
    if (!isQuantElement(type.getElementType()))
      return emitOptionalError(loc, name, " must be i8 or ui8, got ",
                               type.getElementType());
  if (lhs->getRank() < 2 || rhs->getRank() < 2)
    return emitOptionalError(loc, "operands need rank >= 2, got ",
                             lhs->getRank(), " and ", rhs->getRank());
  ArrayRef<int64_t> a = lhs->getShape(), b = rhs->getShape();
  if (a.back() != b[b.size() - 2])
    return emitOptionalError(loc, "contraction dimensions differ: lhs has K=",
                             a.back(), ", rhs has K=", b[b.size() - 2]);
  if (rhs->getRank() != 2 && b.drop_back(2) != a.drop_back(2))
    return emitOptionalError(
        loc, "rhs must be [K, N] or have the lhs's batch dimensions ",
        shapeStr(a.drop_back(2)), ", got ", shapeStr(b.drop_back(2)));
  auto lzp = cast<RankedTensorType>(adaptor.getLhsZeroPoint().getType());
  auto rzp = cast<RankedTensorType>(adaptor.getRhsZeroPoint().getType());
  if (failed(sameElementType(loc, *lhs, lzp, "lhs", "lhs zero point")) ||
      failed(sameElementType(loc, *rhs, rzp, "rhs", "rhs zero point")))
    return failure();
  if (lzp.getRank() > 1 || lzp.getNumElements() != 1)
    return emitOptionalError(loc, "lhs zero point must be one value, got ",
                             shapeStr(lzp.getShape()));
  int64_t n = b.back();
  if (rzp.getRank() > 1 ||
      (rzp.getNumElements() != 1 && rzp.getNumElements() != n))
    return emitOptionalError(loc,
                             "rhs zero point must be one value or one per "
                             "column (",
                             n, "), got ", shapeStr(rzp.getShape()));
  SmallVector<int64_t> shape(a.drop_back());
  shape.push_back(n);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 32)));
  return success();
}

LogicalResult QConv2DOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto weight = staticTensor(loc, adaptor.getWeight().getType(), "weight");
  if (failed(input) || failed(weight))
    return failure();
  for (auto [type, name] :
       {std::pair(*input, "input"), std::pair(*weight, "weight")})
    if (!isQuantElement(type.getElementType()))
      return emitOptionalError(loc, name, " must be i8 or ui8, got ",
                               type.getElementType());
  FailureOr<SmallVector<int64_t>> shape =
      convOutputShape(loc, *input, *weight, adaptor.getStridesAttr(),
                      adaptor.getPadsAttr(), adaptor.getDilationsAttr(), 1);
  if (failed(shape))
    return failure();
  auto izp = cast<RankedTensorType>(adaptor.getInputZeroPoint().getType());
  auto wzp = cast<RankedTensorType>(adaptor.getWeightZeroPoint().getType());
  if (failed(sameElementType(loc, *input, izp, "input", "input zero point")) ||
      failed(sameElementType(loc, *weight, wzp, "weight", "weight zero point")))
    return failure();
  if (izp.getRank() > 1 || izp.getNumElements() != 1)
    return emitOptionalError(loc, "input zero point must be one value, got ",
                             shapeStr(izp.getShape()));
  int64_t o = (*shape)[1];
  if (wzp.getRank() > 1 ||
      (wzp.getNumElements() != 1 && wzp.getNumElements() != o))
    return emitOptionalError(loc,
                             "weight zero point must be one value or one per "
                             "output channel (",
                             o, "), got ", shapeStr(wzp.getShape()));
  types.push_back(RankedTensorType::get(*shape, IntegerType::get(context, 32)));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Whether a loss being inferred keeps its losses apart. Inference runs
/// before the verifier, which rejects a `reduction` that is no
/// LossReduction; such a one reads as the default here.
static bool isUnreduced(StringAttr reduction) {
  return reduction &&
         symbolizeLossReduction(reduction.getValue()) == LossReduction::None;
}

/// Shared by softmax_cross_entropy and nll_loss: `[N, C]` scores against
/// `[N]` labels.
static LogicalResult inferClassLossType(std::optional<Location> loc,
                                        Type inputType, Type targetType,
                                        bool unreduced,
                                        SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, inputType, "input");
  auto target = staticTensor(loc, targetType, "target");
  if (failed(input) || failed(target))
    return failure();
  if (input->getRank() != 2)
    return emitOptionalError(loc, "input must be [N, C], got ",
                             shapeStr(input->getShape()));
  int64_t n = input->getDimSize(0);
  if (target->getShape() != ArrayRef<int64_t>{n})
    return emitOptionalError(loc, "target must be [", n,
                             "] (one label per row of the input), got ",
                             shapeStr(target->getShape()));
  types.push_back(unreduced ? input->clone({n})
                            : input->clone(ArrayRef<int64_t>{}));
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferClassLossType(loc, adaptor.getInput().getType(),
                            adaptor.getTarget().getType(),
                            isUnreduced(adaptor.getReductionAttr()), types);
}

LogicalResult NllLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferClassLossType(loc, adaptor.getInput().getType(),
                            adaptor.getTarget().getType(),
                            isUnreduced(adaptor.getReductionAttr()), types);
}

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = staticTensor(loc, adaptor.getInput().getType(), "input");
  auto target = staticTensor(loc, adaptor.getTarget().getType(), "target");
  if (failed(input) || failed(target) ||
      failed(sameElementType(loc, *input, *target, "input", "target")))
    return failure();
  if (input->getShape() != target->getShape())
    return emitOptionalError(loc, "input ", shapeStr(input->getShape()),
                             " and target ", shapeStr(target->getShape()),
                             " must have the same shape");
  types.push_back(isUnreduced(adaptor.getReductionAttr())
                      ? *input
                      : input->clone(ArrayRef<int64_t>{}));
  return success();
}

//===----------------------------------------------------------------------===//
// Index operands (IndexingOpInterface)
//===----------------------------------------------------------------------===//

/// The size of `value`'s dimension `axis` (normalized), or 0 when its type
/// is not yet a ranked tensor with that axis (verification reports that).
static int64_t dimOf(Value value, int64_t axis) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || normalizeAxis(axis, type.getRank()) < 0)
    return 0;
  return type.getDimSize(normalizeAxis(axis, type.getRank()));
}

void GatherOp::getIndexBounds(SmallVectorImpl<IndexBound> &bounds) {
  int64_t dim = dimOf(getInput(), getAxis());
  bounds.push_back({&getIndicesMutable(), -dim, dim, "indices"});
}

void GatherElementsOp::getIndexBounds(SmallVectorImpl<IndexBound> &bounds) {
  int64_t dim = dimOf(getInput(), getAxis());
  bounds.push_back({&getIndicesMutable(), -dim, dim, "indices"});
}

void SoftmaxCrossEntropyOp::getIndexBounds(
    SmallVectorImpl<IndexBound> &bounds) {
  bounds.push_back({&getTargetMutable(), 0, dimOf(getInput(), 1), "labels"});
}

void NllLossOp::getIndexBounds(SmallVectorImpl<IndexBound> &bounds) {
  bounds.push_back({&getTargetMutable(), 0, dimOf(getInput(), 1), "labels"});
}

LogicalResult mlir::anvil::verifyConstantIndices(Operation *op) {
  SmallVector<IndexBound> bounds;
  cast<IndexingOpInterface>(op).getIndexBounds(bounds);
  for (const IndexBound &bound : bounds) {
    DenseIntElementsAttr values;
    if (!matchPattern(bound.operand->get(), m_Constant(&values)))
      continue;
    for (auto [position, value] : llvm::enumerate(values.getValues<APInt>())) {
      int64_t v = value.getSExtValue();
      if (v < bound.low || v >= bound.high)
        return op->emitOpError()
               << bound.role << " (operand #"
               << bound.operand->getOperandNumber() << ") position " << position
               << " holds " << v << ", outside [" << bound.low << ", "
               << bound.high << ")";
    }
  }
  return success();
}
