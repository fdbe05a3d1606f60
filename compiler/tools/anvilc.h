//===- anvilc.h - what anvilc's subcommands share ---------------*- C++ -*-===//
//
// The driver's pieces that its subcommands share: anvilc.cpp (compile, and
// main) defines them, and each subcommand has its own file with its options
// and its main: anvilc-run.cpp, anvilc-train.cpp, anvilc-check.cpp and
// anvilc-export.cpp. Errors are one line from reportError and exit code 1.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_TOOLS_ANVILC_H
#define ANVIL_COMPILER_TOOLS_ANVILC_H

#include "compiler/Parameters.h"
#include "compiler/Pipelines.h"
#include "runtime/Npy.h"
#include "runtime/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/CommandLine.h"

#include <optional>
#include <string>
#include <vector>

namespace anvilc {
namespace cl = llvm::cl;

/// The category of every anvilc option (--help shows only these).
cl::OptionCategory &category();
/// The subcommands; each is true when it was given.
cl::SubCommand &runCommand();
cl::SubCommand &trainCommand();
cl::SubCommand &checkCommand();
cl::SubCommand &exportCommand();

/// Options of several subcommands.
extern cl::opt<uint64_t> seed;
extern cl::opt<int64_t> batch;
extern cl::opt<std::string> weightsIn;
extern cl::list<std::string> bindings;

/// The symbolic dimensions of the ONNX model last imported.
extern std::vector<std::string> symbols;

/// Prints `message` as anvilc's one error line and returns the exit code.
int reportError(const std::string &message);

/// The parser of an enumerated option (its `cl::values`): a value not among
/// them is one error line that lists them ("--emit must be exe or lib, not
/// 'x'"), and `name` gives a value's name back.
template <typename T> struct NamedParser : cl::parser<T> {
  using cl::parser<T>::parser;

  bool parse(cl::Option &option, llvm::StringRef, llvm::StringRef arg,
             T &value) {
    unsigned n = this->getNumOptions();
    for (unsigned i = 0; i < n; ++i)
      if (this->getOption(i) == arg) {
        value = this->Values[i].V.getValue();
        return false;
      }
    std::string names;
    for (unsigned i = 0; i < n; ++i)
      names += (i == 0       ? ""
                : i + 1 == n ? " or "
                             : ", ") +
               this->getOption(i).str();
    return reportError("--" + option.ArgStr.str() + " must be " + names +
                       ", not '" + arg.str() + "'");
  }

  /// The name of `value` ("" when it has none: the option's default).
  llvm::StringRef name(T value) const {
    for (const auto &option : this->Values)
      if (option.V.getValue() == value)
        return option.Name;
    return "";
  }
};
template <typename T> using EnumOpt = cl::opt<T, false, NamedParser<T>>;

/// Parses and verifies `path` (or imports it, for .onnx); diagnostics print
/// with file:line:col. `known` are the values `anvilc run` was given.
mlir::OwningOpRef<mlir::ModuleOp>
loadModel(const std::string &path, mlir::MLIRContext &context,
          const std::vector<::anvil::NpyArray> *known = nullptr);

/// `type` as MLIR prints it.
std::string typeString(mlir::Type type);

/// Why the directory `path` would be written into does not exist or is not
/// writable ("" when it is): checked before compiling, so that a typo costs
/// no compile and no output is made without the others.
std::string checkWritable(const std::string &path, const std::string &what);

/// What one compilation makes.
struct Job {
  std::optional<mlir::anvil::Phase> stopAfter; // unset: link
  std::string output;
  mlir::anvil::PipelineOptions options;
  /// Where the parameters go when they are kept out of the code ("" = in).
  std::string weightsPath;
  /// Starting values of parameters, by name, overriding their initializers.
  mlir::anvil::ParamValues initial;
  /// Where `initial` comes from, for errors.
  std::string initialPath;
  /// Extra entries of the weights file (a trainer's defaults).
  std::vector<::anvil::NamedTensor> extras;
  std::string mainLibrary = "AnvilModelMain";
};

/// Runs the phases on `module` up to `job.stopAfter` (all of them and the
/// link step when unset), writing the IR (or object) of that phase, or the
/// executable or library, to `job.output`. Returns the exit code.
int compile(mlir::MLIRContext &context, mlir::ModuleOp module, Job job);

/// The subcommands; each returns the exit code.
int runMain(mlir::MLIRContext &context);
int trainMain(mlir::MLIRContext &context);
int checkMain(mlir::MLIRContext &context);
int exportMain(mlir::MLIRContext &context);

} // namespace anvilc

#endif // ANVIL_COMPILER_TOOLS_ANVILC_H
