//===- Import.h - ONNX models into the anvil dialect ------------*- C++ -*-===//
//
// importOnnx reads an ONNX model (opsets 7 to 21; older ones are converted
// with ONNX's version converter, and those newer than libonnx's 17 are
// checked in a form it knows) into a module with one @forward: the graph
// inputs that are not initializers become its arguments, in order, and the
// graph outputs its results. Float initializers become trainable
// `anvil.param`s named after them (init = "dense"); other initializers and
// Constant nodes become `anvil.constant`s. Every op built for a node is at
// NameLoc(node name, "FILE":N:1) for the graph's N-th node; graph inputs,
// initializers and constants at NameLoc(their name, "FILE":0:0).
//
// The importer never stops at the first problem: every unsupported op,
// attribute value and dtype is collected (with node names and counts) and
// reported together, which is what `anvilc check` prints.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_ONNX_IMPORT_H
#define ANVIL_COMPILER_ONNX_IMPORT_H

#include "compiler/Onnx/TensorProto.h"
#include "runtime/Npy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::anvil {

struct OnnxImportOptions {
  /// Values of symbolic dimensions (`--bind NAME=VALUE`).
  std::map<std::string, int64_t> bindings;
  /// Known values of the graph inputs, by position among the inputs that are
  /// not initializers (what `anvilc run` was given). They fix the shapes of
  /// those inputs, and ops that need a compile-time operand (a Reshape's
  /// shape, a ReduceSum's axes) may read them; the function still takes them
  /// as arguments.
  std::vector<std::optional<::anvil::NpyArray>> inputValues;
  /// When nonzero, symbolic dimensions without a binding take this size
  /// instead of being a problem (`anvilc check`: which ops import does not
  /// depend on the batch).
  int64_t unboundSize = 0;
  /// When nonzero, the size of an unbound symbolic leading dimension of a
  /// graph input (`anvilc --batch`); `bindings` take precedence.
  int64_t batch = 0;
};

/// Everything wrong with a model, one line per kind of problem.
struct OnnxProblems {
  std::vector<std::string> lines;
  /// Problems in all (a line may stand for several nodes).
  int count = 0;
  /// The symbolic dimensions of the graph inputs, in order of appearance
  /// ("?" for one without a name), bound or not.
  std::vector<std::string> symbols;
  bool empty() const { return lines.empty(); }
  /// "PATH: N problem(s) ...:" and the lines, ready to print.
  std::string format(const std::string &path) const;
};

/// Imports the model at `path`. On failure returns null and fills
/// `problems` (a file that cannot be read or parsed is one problem).
OwningOpRef<ModuleOp> importOnnx(const std::string &path, MLIRContext &context,
                                 const OnnxImportOptions &options,
                                 OnnxProblems &problems);

/// Whether `path` names an ONNX model (by its extension).
bool isOnnxPath(const std::string &path);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_ONNX_IMPORT_H
