//===- anvilc.h - what anvilc's subcommands share ---------------*- C++ -*-===//
//
// The driver's pieces that its subcommands share: anvilc.cpp (compile, and
// main) defines them, and each subcommand has its own file with its options
// and its main: anvilc-run.cpp, anvilc-train.cpp, anvilc-check.cpp,
// anvilc-export.cpp and anvilc-quantize.cpp. The driver builds no IR: it loads
// the model (compiler/LoadModel.h) and runs the phases to the output
// (compiler/Compile.h), filling their options from its command line.
// Library calls return llvm::Error / llvm::Expected (see Codegen.h); the
// driver prints each as one `anvilc: error:` line and exits 1.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_TOOLS_ANVILC_H
#define ANVIL_COMPILER_TOOLS_ANVILC_H

#include "compiler/Compile.h"
#include "runtime/Npy.h"
#include "runtime/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

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
cl::SubCommand &quantizeCommand();

/// Options of several subcommands, each declared once (anvilc.cpp) with the
/// subcommands that read it; one given to another is an error.
extern cl::opt<std::string> modelPath;
extern cl::opt<uint64_t> seed;
/// --batch's size, the largest of a list (0: the model's own).
int64_t batch();
/// --batch's other sizes, smallest first (empty unless it lists several).
llvm::ArrayRef<int64_t> batchVariants();
extern cl::opt<std::string> weightsIn;
extern cl::opt<std::string> function;
extern cl::list<std::string> bindings;

/// The symbolic dimensions of the ONNX model last imported.
llvm::ArrayRef<std::string> symbols();

/// Prints `message` as anvilc's one error line and returns the exit code.
int reportError(const std::string &message);
/// The same for a library's error (0 for success); a DiagnosedError
/// (compiler/Diagnosed.h) prints nothing more and returns 1.
int reportError(llvm::Error error);

/// The parser of an enumerated option (its `cl::values`): a value not among
/// them is one error line that lists them ("--emit must be exe or lib, not
/// 'x'"), and `name` gives a value's name back. --help shows the option's
/// value_desc ("--compile-to=<phase>") where it has one.
template <typename T> struct NamedParser : cl::parser<T> {
  using cl::parser<T>::parser;

  bool parse(cl::Option &option, llvm::StringRef, llvm::StringRef arg,
             T &value) {
    if (std::optional<T> v = lookup(arg)) {
      value = *v;
      return false;
    }
    return reportError("--" + option.ArgStr.str() + " must be " + names() +
                       ", not '" + arg.str() + "'");
  }

  /// The value named `arg`, if one is.
  std::optional<T> lookup(llvm::StringRef arg) const {
    for (const auto &option : this->Values)
      if (option.Name == arg)
        return option.V.getValue();
    return std::nullopt;
  }

  /// The values' names, as in "a, b or c" (`last` before the last one).
  std::string names(llvm::StringRef last = " or ") const {
    std::string list;
    for (unsigned i = 0, n = this->getNumOptions(); i < n; ++i)
      list += (i == 0       ? ""
               : i + 1 == n ? last.str()
                            : ", ") +
              this->getOption(i).str();
    return list;
  }

  /// The name of `value` ("" when it has none: the option's default).
  llvm::StringRef name(T value) const {
    for (const auto &option : this->Values)
      if (option.V.getValue() == value)
        return option.Name;
    return "";
  }

  // LLVM prints every enumerated option as `--name=<value>`.
  size_t getOptionWidth(const cl::Option &o) const {
    return std::max(cl::parser<T>::getOptionWidth(o),
                    o.ArgStr.size() + o.ValueStr.size() + 10);
  }
  void printOptionInfo(const cl::Option &o, size_t width) const {
    if (o.ValueStr.empty())
      return cl::parser<T>::printOptionInfo(o, width);
    std::string tag = "  --" + o.ArgStr.str() + "=<" + o.ValueStr.str() + ">";
    llvm::outs() << tag;
    cl::Option::printHelpStr(o.HelpStr, width, tag.size() + 3);
    for (unsigned i = 0; i < this->getNumOptions(); ++i) {
      llvm::outs() << "    =" << this->getOption(i);
      cl::Option::printEnumValHelpStr(this->getDescription(i), width,
                                      this->getOption(i).size() + 8);
    }
  }
};
template <typename T> using EnumOpt = cl::opt<T, false, NamedParser<T>>;

/// Parses and verifies `modelPath` (or imports it, for .onnx), then gives
/// its parameters the values of --weights when that is set; diagnostics
/// print with file:line:col. `known` are the values `anvilc run` was given.
mlir::OwningOpRef<mlir::ModuleOp>
loadModel(mlir::MLIRContext &context,
          const std::vector<::anvil::NpyArray> *known = nullptr);

/// The function that `--function` names in `module`, or by default
/// @forward, or the only function; an error naming the file otherwise.
llvm::Expected<mlir::func::FuncOp> pickFunction(mlir::ModuleOp module);

/// `type` as MLIR prints it.
std::string typeString(mlir::Type type);

/// What one compilation makes (the driver fills in the target, the
/// optimization switches and the reports from its options).
using Job = mlir::anvil::CompileJob;

/// Runs the phases on `module` up to `job.stopAfter` (all of them and the
/// link step when unset), writing the IR (or object) of that phase, or the
/// executable or library, to `job.output` (mlir::anvil::compileModule with
/// the options of the command line). Returns the exit code. `reports`
/// false: without the command line's dumps and reports (--dump-phases-to,
/// --print-memory-plan, --fusion-report), for a compile of the driver's own
/// (a layer timed alone) that must not print or overwrite the user's.
int compile(mlir::MLIRContext &context, mlir::ModuleOp module, Job job,
            bool reports = true);

/// The top level (anvilc-compile.cpp) and the subcommands; each returns
/// the exit code.
int compileMain(mlir::MLIRContext &context);
int runMain(mlir::MLIRContext &context);
int trainMain(mlir::MLIRContext &context);
int checkMain(mlir::MLIRContext &context);
int exportMain(mlir::MLIRContext &context);
int quantizeMain(mlir::MLIRContext &context);

/// `anvilc quantize`'s work, shared with `anvilc MODEL --int8`
/// (anvilc-quantize.cpp): checkQuantizeOptions checks its options (0, or
/// the exit code of the error printed); quantizeModel calibrates `module`
/// on --calibrate's data, quantizes it, hands the int8 module and its
/// function's name to `emit` (which writes or keeps it; a nonzero return is
/// the exit code) and prints the report to `os`, naming `command` and
/// `destination`. quantizeOptionsGiven: whether any of its options (but
/// -o) is on the command line.
int checkQuantizeOptions();
int quantizeModel(mlir::MLIRContext &context, mlir::ModuleOp module,
                  llvm::StringRef command, const std::string &destination,
                  llvm::function_ref<int(mlir::OwningOpRef<mlir::ModuleOp> &,
                                         llvm::StringRef)>
                      emit,
                  llvm::raw_ostream &os);
bool quantizeOptionsGiven();
/// Whether --precision bf16 was given (anvilc, anvilc train, anvilc
/// quantize: there the report compares bf16 with f32 instead of int8).
bool bf16Precision();
/// `anvilc train --qat`: calibrates `module`'s function (its parameters at
/// their starting values, `initial` over the initializers) on --calibrate's
/// data as anvilc quantize does, marks each layer that can be
/// fake-quantized with its range (passes/Quantize.h's attribute, which
/// anvil-fake-quantize reads), and prints what it did to `os`. 0, or the
/// exit code of the error printed.
/// --per-channel: matmul weights per output column.
bool quantizePerChannel();
int markQatLayers(mlir::ModuleOp module,
                  const mlir::anvil::ParamValues &initial,
                  llvm::raw_ostream &os);

} // namespace anvilc

#endif // ANVIL_COMPILER_TOOLS_ANVILC_H
