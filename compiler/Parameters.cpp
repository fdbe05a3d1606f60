//===- Parameters.cpp - parameter values from weights files ---------------===//
//
// Weights files and checkpoints (runtime/Weights.h) against the parameters
// of a module: names and types are checked, and every mismatch becomes an
// llvm::Error that says which file, which parameter and what to do. See
// Parameters.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/Parameters.h"

#include "compiler/Reference/Interpreter.h"
#include "dialects/AnvilOps.h"
#include "dialects/DTypes.h"
#include "runtime/Error.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace {

llvm::Error error(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The tensors of a weights file by name; its reader throws on a bad file.
llvm::Expected<mlir::anvil::ParamValues> readValues(const std::string &path) {
  mlir::anvil::ParamValues values;
  try {
    for (::anvil::NamedTensor &t : ::anvil::readWeights(path))
      values[t.name] = std::move(t);
  } catch (const ::anvil::Error &e) {
    return error(e.what());
  }
  return values;
}

} // namespace

llvm::Error mlir::anvil::applyWeights(ModuleOp module,
                                      const std::string &path) {
  llvm::Expected<ParamValues> values = readValues(path);
  if (!values)
    return values.takeError();
  std::string missing, mismatch;
  WalkResult result = module.walk([&](ParamOp param) {
    auto it = values->find(param.getName().str());
    if (it == values->end()) {
      missing += " " + param.getName().str();
      return WalkResult::advance();
    }
    auto type = cast<RankedTensorType>(param.getType());
    // A param is a static float tensor (verifier), so it has a spec.
    std::string modelType = specOf(type)->typeText();
    if (it->second.typeText() != modelType) {
      mismatch = path + ": parameter '" + param.getName().str() + "' is " +
                 it->second.typeText() + " in the file, but the model's is " +
                 modelType + "; was the file saved from another model?";
      return WalkResult::interrupt();
    }
    param.setInit(Initializer::Dense);
    param.setValueAttr(DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(it->second.bytes)));
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return error(mismatch);
  if (!missing.empty())
    return error(path + ": has no value for parameter(s):" + missing +
                 "; is it a checkpoint of this model?");
  return llvm::Error::success();
}

llvm::Expected<std::vector<std::string>>
mlir::anvil::matchParams(ModuleOp module, const std::string &regex,
                         llvm::StringRef option, const std::string &modelPath) {
  llvm::Regex pattern(regex);
  std::string why;
  if (!pattern.isValid(why))
    return error("bad " + option.str() + " regex '" + regex + "': " + why);
  std::vector<std::string> names;
  module.walk([&](ParamOp param) {
    if (pattern.match(param.getName()))
      names.push_back(param.getName().str());
  });
  if (names.empty())
    return error(option.str() + " '" + regex + "' matches no parameter of " +
                 modelPath);
  return names;
}

llvm::Expected<mlir::anvil::ParamValues>
mlir::anvil::readInitialValues(ModuleOp module, const std::string &path,
                               const std::string &reinit,
                               const std::string &modelPath) {
  std::vector<std::string> fresh;
  if (!reinit.empty()) {
    auto matched = matchParams(module, reinit, "--reinit", modelPath);
    if (!matched)
      return matched.takeError();
    fresh = std::move(*matched);
  }
  llvm::Expected<ParamValues> values = readValues(path);
  if (!values)
    return values.takeError();
  for (const std::string &name : fresh) {
    values->erase(name);
    for (auto it = values->lower_bound(name + ".");
         it != values->end() &&
         llvm::StringRef(it->first).starts_with(name + ".");)
      it = values->erase(it);
  }
  return values;
}

llvm::Expected<std::vector<::anvil::NamedTensor>>
mlir::anvil::startingValues(ModuleOp module, uint64_t seed,
                            const ParamValues &initial,
                            const std::string &initialPath) {
  std::vector<::anvil::NamedTensor> values;
  llvm::StringSet<> seen;
  std::string mismatch;
  module.walk([&](ParamOp param) {
    std::string name = param.getName().str();
    if (!seen.insert(name).second)
      return WalkResult::advance();
    ::anvil::NpyArray v =
        ::anvil::ref::toNpy(::anvil::ref::initialValue(param, seed));
    ::anvil::NamedTensor value{{name, v.dtype, v.shape}, std::move(v.bytes)};
    auto given = initial.find(name);
    if (given != initial.end()) {
      if (given->second.typeText() != value.typeText()) {
        mismatch = initialPath + ": parameter '" + name + "' is " +
                   given->second.typeText() +
                   " in the file, but the model's is " + value.typeText() +
                   "; leave it out with --reinit REGEX to give it a fresh "
                   "initialization";
        return WalkResult::interrupt();
      }
      value.bytes = given->second.bytes;
    }
    values.push_back(std::move(value));
    return WalkResult::advance();
  });
  if (!mismatch.empty())
    return error(mismatch);
  return values;
}
