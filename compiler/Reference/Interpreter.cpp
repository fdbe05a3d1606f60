//===- Interpreter.cpp - run anvil IR on the reference kernels ------------===//
//
// A walk over one function body: each op's operands are looked up, the
// matching kernel runs, and its results are checked against the op's result
// types before they are recorded. `func.call` recurses into the callee.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Interpreter.h"
#include "compiler/Reference/Kernels.h"
#include "dialects/AnvilOps.h"
#include "dialects/DTypes.h"
#include "dialects/ParamInit.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace anvil;
using namespace anvil::ref;
using namespace mlir;
namespace a = mlir::anvil;

/// "file:line:col" of `loc`, or "" when it has no file position.
static std::string positionOf(Location loc) {
  if (auto file = loc->findInstanceOf<FileLineColLoc>())
    return file.getFilename().str() + ":" + std::to_string(file.getLine()) +
           ":" + std::to_string(file.getColumn()) + ": ";
  return "";
}

static Shape toShape(ArrayRef<int64_t> values) {
  return Shape(values.begin(), values.end());
}

Tensor ref::initialValue(a::ParamOp p, uint64_t seed) {
  auto type = p.getType();
  return Tensor(*a::dtypeOf(type.getElementType()), toShape(type.getShape()),
                a::initialValues(p, seed));
}

std::vector<Tensor> Interpreter::run(StringRef function,
                                     const std::vector<Tensor> &args) {
  auto func = module.lookupSymbol<func::FuncOp>(function);
  if (!func || func.isExternal())
    throw Error("no function @" + function.str() + " with a body");
  Block &body = func.getBody().front();
  if (args.size() != body.getNumArguments())
    throw Error("@" + function.str() + " takes " +
                std::to_string(body.getNumArguments()) + " arguments, got " +
                std::to_string(args.size()));
  llvm::DenseMap<Value, Tensor> values;
  for (auto [arg, tensor] : llvm::zip(body.getArguments(), args))
    values[arg] = tensor;

  for (Operation &op : body) {
    std::vector<Tensor> operands;
    for (Value v : op.getOperands())
      operands.push_back(values.at(v));
    if (isa<func::ReturnOp>(op))
      return operands;
    std::vector<Tensor> results;
    try {
      results = evaluate(&op, operands);
    } catch (const Error &e) {
      throw Error(positionOf(op.getLoc()) + op.getName().getStringRef().str() +
                  ": " + e.what());
    }
    for (auto [value, tensor] : llvm::zip(op.getResults(), results)) {
      auto type = cast<RankedTensorType>(value.getType());
      if (tensor.shape != toShape(type.getShape()) ||
          tensor.dtype != a::dtypeOf(type.getElementType()))
        throw Error(positionOf(op.getLoc()) +
                    "internal error: the reference kernel of " +
                    op.getName().getStringRef().str() + " made a " +
                    dtypeName(tensor.dtype) + " tensor of shape " +
                    shapeToString(tensor.shape) +
                    ", which disagrees with the inferred result type");
    }
    if (observer)
      observer(&op, operands, results);
    for (auto [value, tensor] : llvm::zip(op.getResults(), results))
      values[value] = std::move(tensor);
  }
  throw Error("@" + function.str() + " has no return");
}

std::vector<Tensor> Interpreter::evaluate(Operation *op,
                                          const std::vector<Tensor> &in) {
  using V = std::vector<Tensor>;
  auto bin = [&](BinaryKind k) { return V{binary(k, in[0], in[1])}; };
  auto un = [&](UnaryKind k) { return V{unary(k, in[0])}; };
  // A convolution's operand, rounded to bf16 when the op is marked bf16.
  auto bf16 = [](auto conv, const Tensor &t) {
    return conv.getBf16() ? roundedToBf16(t) : t;
  };
  return llvm::TypeSwitch<Operation *, V>(op)
      .Case([&](a::ParamOp p) -> V {
        auto it = params.find(p.getName().str());
        if (it != params.end())
          return {it->second};
        return {initialValue(p, seed)};
      })
      .Case([&](a::AssignOp assign) -> V {
        params[assign.getName().str()] = in[0];
        return {};
      })
      .Case([&](a::ConstantOp c) -> V {
        auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
        if (!dense)
          throw Error("only dense constants can be evaluated");
        auto type = cast<RankedTensorType>(dense.getType());
        Type elt = type.getElementType();
        std::vector<double> data;
        if (isa<FloatType>(elt)) {
          for (APFloat f : dense.getValues<APFloat>())
            data.push_back(f.convertToDouble());
        } else {
          // i1 and ui8 read as unsigned, every other integer as signed.
          bool isUnsigned = elt.isInteger(1) || elt.isUnsignedInteger();
          for (APInt i : dense.getValues<APInt>())
            data.push_back(isUnsigned ? static_cast<double>(i.getZExtValue())
                                      : static_cast<double>(i.getSExtValue()));
        }
        return {Tensor(*a::dtypeOf(elt), toShape(type.getShape()), data)};
      })
      .Case([&](a::MatmulOp m) -> V {
        if (m.getBf16())
          return {matmul(roundedToBf16(in[0]), roundedToBf16(in[1]),
                         m.getTransposeA(), m.getTransposeB())};
        return {matmul(in[0], in[1], m.getTransposeA(), m.getTransposeB())};
      })
      .Case([&](a::CompareOp c) -> V {
        return {compare(c.getPredicate(), in[0], in[1])};
      })
      .Case([&](a::SelectOp) -> V { return {where(in[0], in[1], in[2])}; })
      .Case([&](a::AddOp) { return bin(BinaryKind::Add); })
      .Case([&](a::SubOp) { return bin(BinaryKind::Sub); })
      .Case([&](a::MulOp) { return bin(BinaryKind::Mul); })
      .Case([&](a::DivOp) { return bin(BinaryKind::Div); })
      .Case([&](a::PowOp) { return bin(BinaryKind::Pow); })
      .Case([&](a::MaxOp) { return bin(BinaryKind::Max); })
      .Case([&](a::MinOp) { return bin(BinaryKind::Min); })
      .Case([&](a::NegOp) { return un(UnaryKind::Neg); })
      .Case([&](a::AbsOp) { return un(UnaryKind::Abs); })
      .Case([&](a::ExpOp) { return un(UnaryKind::Exp); })
      .Case([&](a::LogOp) { return un(UnaryKind::Log); })
      .Case([&](a::SqrtOp) { return un(UnaryKind::Sqrt); })
      .Case([&](a::RsqrtOp) { return un(UnaryKind::Rsqrt); })
      .Case([&](a::ReluOp) { return un(UnaryKind::Relu); })
      .Case([&](a::SigmoidOp) { return un(UnaryKind::Sigmoid); })
      .Case([&](a::TanhOp) { return un(UnaryKind::Tanh); })
      .Case([&](a::ErfOp) { return un(UnaryKind::Erf); })
      .Case([&](a::GeluOp g) {
        return un(g.getTanhApprox() ? UnaryKind::GeluTanh : UnaryKind::Gelu);
      })
      .Case([&](a::LeakyReluOp l) -> V {
        return {leakyRelu(in[0], l.getAlpha().convertToDouble())};
      })
      .Case([&](a::ClipOp c) -> V {
        auto bound = [](std::optional<APFloat> f) -> std::optional<double> {
          if (f)
            return f->convertToDouble();
          return std::nullopt;
        };
        return {clip(in[0], bound(c.getMin()), bound(c.getMax()))};
      })
      .Case([&](a::CastOp c) -> V {
        std::optional<DType> to = a::dtypeOf(c.getTo());
        if (!to)
          throw Error("cannot cast to this element type");
        return {castTo(in[0], *to)};
      })
      .Case([&](a::QuantizeOp q) -> V {
        return {quantize(in[0], in[1], in[2], q.getAxis())};
      })
      .Case([&](a::DequantizeOp d) -> V {
        return {dequantize(in[0], in[1], in[2], d.getAxis())};
      })
      .Case(
          [&](a::FakeQuantizeOp) -> V { return {fakeQuantize(in[0], in[1])}; })
      .Case([&](a::FakeQuantizeGradOp) -> V {
        return {fakeQuantizeGrad(in[0], in[1], in[2])};
      })
      .Case([&](a::FakeQuantizeWeightsOp f) -> V {
        std::optional<int64_t> axis;
        if (IntegerAttr a = f.getAxisAttr())
          axis = a.getInt();
        return {fakeQuantizeWeights(in[0], axis)};
      })
      .Case([&](a::QMatmulOp) -> V {
        return {qmatmul(in[0], in[1], in[2], in[3])};
      })
      .Case([&](a::QConv2DOp c) -> V {
        return {qconv2d(in[0], in[1], in[2], in[3], toShape(c.getStrides()),
                        toShape(c.getPads()), toShape(c.getDilations()))};
      })
      .Case([&](a::OneHotOp o) -> V {
        Type dtype = o.getDtype() ? *o.getDtype() : Type();
        return {oneHot(in[0], o.getClasses(),
                       dtype ? *a::dtypeOf(dtype) : DType::F32)};
      })
      .Case([&](a::ReluGradOp) -> V { return {reluGrad(in[0], in[1])}; })
      .Case([&](a::SoftmaxOp s) -> V { return {softmax(in[0], s.getAxis())}; })
      .Case([&](a::LogSoftmaxOp s) -> V {
        return {logSoftmax(in[0], s.getAxis())};
      })
      .Case([&](a::ReduceSumOp r) -> V {
        return {reduce(ReduceKind::Sum, in[0], toShape(r.getAxes()),
                       r.getKeepdims())};
      })
      .Case([&](a::ReduceMeanOp r) -> V {
        return {reduce(ReduceKind::Mean, in[0], toShape(r.getAxes()),
                       r.getKeepdims())};
      })
      .Case([&](a::ReduceMaxOp r) -> V {
        return {reduce(ReduceKind::Max, in[0], toShape(r.getAxes()),
                       r.getKeepdims())};
      })
      .Case([&](a::ArgmaxOp r) -> V { return {argmax(in[0], r.getAxis())}; })
      .Case([&](a::ReshapeOp r) -> V {
        return {reshape(in[0], toShape(r.getShape()))};
      })
      .Case([&](a::TransposeOp t) -> V {
        return {transpose(in[0], toShape(t.getPerm()))};
      })
      .Case([&](a::FlattenOp f) -> V { return {flatten(in[0], f.getAxis())}; })
      .Case([&](a::ConcatOp c) -> V { return {concat(in, c.getAxis())}; })
      .Case([&](a::SliceOp s) -> V {
        return {slice(in[0], toShape(s.getStarts()), toShape(s.getEnds()),
                      toShape(s.getSteps()))};
      })
      .Case([&](a::GatherOp g) -> V {
        return {gather(in[0], in[1], g.getAxis())};
      })
      .Case([&](a::GatherElementsOp g) -> V {
        return {gatherElements(in[0], in[1], g.getAxis())};
      })
      .Case([&](a::SliceGradOp s) -> V {
        return {sliceGrad(in[0], toShape(s.getInputShape()),
                          toShape(s.getStarts()), toShape(s.getSteps()))};
      })
      .Case([&](a::GatherGradOp g) -> V {
        return {gatherGrad(in[0], in[1], g.getAxis(), g.getAxisSize())};
      })
      .Case([&](a::Conv2DOp c) -> V {
        return {conv2d(bf16(c, in[0]), bf16(c, in[1]),
                       in.size() > 2 ? &in[2] : nullptr,
                       toShape(c.getStrides()), toShape(c.getPads()),
                       toShape(c.getDilations()), c.getGroups())};
      })
      .Case([&](a::MaxPool2DOp p) -> V {
        return {maxPool2d(in[0], toShape(p.getKernel()),
                          toShape(p.getStrideValues()), toShape(p.getPads()),
                          toShape(p.getDilations()), p.getCeilMode())};
      })
      .Case([&](a::AvgPool2DOp p) -> V {
        return {avgPool2d(in[0], toShape(p.getKernel()),
                          toShape(p.getStrideValues()), toShape(p.getPads()),
                          p.getCeilMode(), p.getCountIncludePad())};
      })
      .Case([&](a::GlobalAvgPoolOp) -> V { return {globalAvgPool(in[0])}; })
      .Case([&](a::Conv2DGradInputOp c) -> V {
        return {conv2dGradInput(bf16(c, in[0]), bf16(c, in[1]),
                                toShape(c.getInputSize()),
                                toShape(c.getStrides()), toShape(c.getPads()),
                                toShape(c.getDilations()), c.getGroups())};
      })
      .Case([&](a::Conv2DGradFilterOp c) -> V {
        return {conv2dGradFilter(bf16(c, in[0]), bf16(c, in[1]),
                                 toShape(c.getKernel()),
                                 toShape(c.getStrides()), toShape(c.getPads()),
                                 toShape(c.getDilations()), c.getGroups())};
      })
      .Case([&](a::MaxPool2DGradOp p) -> V {
        return {maxPool2dGrad(in[0], in[1], toShape(p.getKernel()),
                              toShape(p.getStrideValues()),
                              toShape(p.getPads()), toShape(p.getDilations()))};
      })
      .Case([&](a::AvgPool2DGradOp p) -> V {
        return {avgPool2dGrad(
            in[0], toShape(p.getInputSize()), toShape(p.getKernel()),
            toShape(p.getStrideValues()), toShape(p.getPads()), p.getCeilMode(),
            p.getCountIncludePad())};
      })
      .Case([&](a::BatchNormOp b) -> V {
        return {batchNorm(in[0], in[1], in[2], in[3], in[4],
                          b.getEpsilon().convertToDouble())};
      })
      .Case([&](a::BatchNormTrainOp b) -> V {
        return batchNormTrain(in[0], in[1], in[2],
                              b.getEpsilon().convertToDouble());
      })
      .Case([&](a::LayerNormOp l) -> V {
        return {layerNorm(in[0], in[1], in[2], l.getAxis(),
                          l.getEpsilon().convertToDouble())};
      })
      .Case([&](a::DropoutOp d) -> V {
        return dropout(in[0], d.getRatio().convertToDouble(), d.getTraining(),
                       static_cast<uint64_t>(d.getSeed()));
      })
      .Case([&](a::SoftmaxCrossEntropyOp l) -> V {
        return {softmaxCrossEntropy(in[0], in[1], l.getReduction())};
      })
      .Case([&](a::NllLossOp l) -> V {
        return {nllLoss(in[0], in[1], l.getReduction())};
      })
      .Case([&](a::MseLossOp l) -> V {
        return {mseLoss(in[0], in[1], l.getReduction())};
      })
      .Case([&](func::CallOp call) -> V { return run(call.getCallee(), in); })
      .Default([&](Operation *other) -> V {
        throw Error("the reference interpreter has no kernel for this op");
      });
}
