//===- ParamInit.h - the starting values of anvil.param ---------*- C++ -*-===//
//
// The semantics of `anvil.param`'s initializers (zeros, ones, uniform,
// normal, xavier/kaiming uniform/normal, dense `value`) and of the random
// stream they and `anvil.dropout` draw from. Every consumer computes a
// parameter's starting value here: MaterializeParams (constants), the
// reference interpreter, and anvilc (weights files), so compiled code and the
// reference start from the same bits on every machine. Values are computed in
// double precision and rounded to the parameter's element type.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_PARAMINIT_H
#define ANVIL_DIALECTS_PARAMINIT_H

#include "dialects/AnvilOps.h"
#include "runtime/Npy.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::anvil {

/// A deterministic generator (splitmix64) shared by initializers and dropout.
class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next();
  /// Uniform in [0, 1).
  double uniform();
  /// Standard normal (Box-Muller).
  double normal();

private:
  uint64_t state;
};

/// What `anvil.dropout` multiplies an element's linear index by before
/// mixing it into the seed.
constexpr uint64_t kDropoutIndexMultiplier = 0xd1b54a32d192ed03ULL;

/// The uniform draw in [0, 1) that decides whether element `index` survives
/// dropout with `seed`: counter-based, so that compiled code can compute any
/// element independently and match the reference bit for bit.
double dropoutUniform(uint64_t seed, int64_t index);

/// How an `anvil.param` starts; mirrors the op's attributes.
struct ParamInit {
  Initializer init = Initializer::Zeros; // any but Dense
  double low = 0.0, high = 1.0, mean = 0.0, std = 1.0;
  uint64_t seed = 0;
};

/// The elements of a `dtype` (f32 or f64) tensor of `shape` filled as `spec`
/// says, from a generator seeded with `spec.seed`, row-major. Throws
/// ::anvil::Error for Initializer::Dense, which has no rule.
std::vector<double> initParam(const ParamInit &spec, ::anvil::DType dtype,
                              llvm::ArrayRef<int64_t> shape);

/// The starting elements of `param`, row-major: its dense `value`, or its
/// initializer seeded from its `seed` attribute, or else from its name
/// (FNV-1a) xor `seed`.
std::vector<double> initialValues(ParamOp param, uint64_t seed);

/// initialValues as an attribute of the param's type.
DenseElementsAttr initialValueAttr(ParamOp param, uint64_t seed);

} // namespace mlir::anvil

#endif // ANVIL_DIALECTS_PARAMINIT_H
