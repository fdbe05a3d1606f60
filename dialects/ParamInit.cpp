//===- ParamInit.cpp - the starting values of anvil.param -----------------===//
//
// See ParamInit.h. The fans of xavier/kaiming follow anvil.param's
// documentation: [in, out] matrices, [O, I, kh, kw] filters.
//
//===----------------------------------------------------------------------===//

#include "dialects/ParamInit.h"
#include "runtime/Error.h"
#include "runtime/Hash.h"

#include <cmath>

using namespace mlir;
using namespace mlir::anvil;

uint64_t Random::next() { return ::anvil::splitMix64(state); }

double Random::uniform() { return (next() >> 11) * 0x1.0p-53; }

double Random::normal() {
  double u1 = 1.0 - uniform(); // in (0, 1]: log stays finite
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double mlir::anvil::dropoutUniform(uint64_t seed, int64_t index) {
  // One splitmix64 step from a state that mixes the seed and the index.
  return Random(seed ^ (static_cast<uint64_t>(index) * kDropoutIndexMultiplier))
      .uniform();
}

std::vector<double> mlir::anvil::initParam(const ParamInit &spec,
                                           ::anvil::DType dtype,
                                           ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::vector<double> values(count, 0.0);
  double fanIn = 1, fanOut = 1;
  if (shape.size() == 1) {
    fanIn = fanOut = shape[0];
  } else if (shape.size() == 2) {
    fanIn = shape[0];
    fanOut = shape[1];
  } else if (shape.size() > 2) {
    double receptive = 1;
    for (size_t d = 2; d < shape.size(); ++d)
      receptive *= shape[d];
    fanIn = shape[1] * receptive;
    fanOut = shape[0] * receptive;
  }
  auto round = [&](double v) {
    return dtype == ::anvil::DType::F32 ? static_cast<float>(v) : v;
  };
  Random rng(spec.seed);
  auto fillUniform = [&](double lo, double hi) {
    for (double &v : values)
      v = round(lo + (hi - lo) * rng.uniform());
  };
  auto fillNormal = [&](double mean, double std) {
    for (double &v : values)
      v = round(mean + std * rng.normal());
  };
  switch (spec.init) {
  case Initializer::Zeros:
    break; // already zero
  case Initializer::Ones:
    std::fill(values.begin(), values.end(), 1.0);
    break;
  case Initializer::Uniform:
    fillUniform(spec.low, spec.high);
    break;
  case Initializer::Normal:
    fillNormal(spec.mean, spec.std);
    break;
  case Initializer::XavierUniform: {
    double a = std::sqrt(6.0 / (fanIn + fanOut));
    fillUniform(-a, a);
    break;
  }
  case Initializer::XavierNormal:
    fillNormal(0.0, std::sqrt(2.0 / (fanIn + fanOut)));
    break;
  case Initializer::KaimingUniform: {
    double a = std::sqrt(6.0 / fanIn);
    fillUniform(-a, a);
    break;
  }
  case Initializer::KaimingNormal:
    fillNormal(0.0, std::sqrt(2.0 / fanIn));
    break;
  case Initializer::Dense:
    throw ::anvil::Error("internal error: a dense param's values are its "
                         "`value`, not drawn");
  }
  return values;
}

std::vector<double> mlir::anvil::initialValues(ParamOp p, uint64_t seed) {
  auto type = p.getType();
  if (ElementsAttr value = p.getValueAttr()) {
    std::vector<double> data;
    for (APFloat f : llvm::cast<DenseElementsAttr>(value).getValues<APFloat>())
      data.push_back(f.convertToDouble());
    return data;
  }
  auto get = [](std::optional<APFloat> f, double fallback) {
    return f ? f->convertToDouble() : fallback;
  };
  ParamInit spec;
  spec.init = p.getInit();
  spec.low = get(p.getLow(), 0.0);
  spec.high = get(p.getHigh(), 1.0);
  spec.mean = get(p.getMean(), 0.0);
  spec.std = get(p.getStd(), 1.0);
  StringRef name = p.getName();
  spec.seed = p.getSeed() ? static_cast<uint64_t>(*p.getSeed())
                          : ::anvil::fnv1a(name.data(), name.size()) ^ seed;
  return initParam(spec,
                   type.getElementType().isF32() ? ::anvil::DType::F32
                                                 : ::anvil::DType::F64,
                   type.getShape());
}

DenseElementsAttr mlir::anvil::initialValueAttr(ParamOp param, uint64_t seed) {
  auto type = cast<RankedTensorType>(param.getType());
  // A dense value of the param's own type is its starting value as it is:
  // going through doubles took 5 of ResNet-18's 9 compile seconds.
  if (auto value = dyn_cast_or_null<DenseElementsAttr>(param.getValueAttr()))
    if (value.getType() == type)
      return value;
  std::vector<double> values = initialValues(param, seed);
  if (type.getElementType().isF32()) {
    std::vector<float> data(values.begin(), values.end());
    return DenseElementsAttr::get(type, ArrayRef<float>(data));
  }
  return DenseElementsAttr::get(type, ArrayRef<double>(values));
}
