//===- FusionReport.h - what was fused, and why not -------------*- C++ -*-===//
//
// `anvilc --fusion-report`: the kernels of a compiled model, read from the
// anvil IR at the end of the optimize phase, where every graph-level fusion
// has happened and every op still names its source. Each kernel lists its
// source names (op locations), its pattern, estimated FLOPs and bytes moved,
// and every fusion candidate around it that was not taken, with the reason.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_FUSIONREPORT_H
#define ANVIL_COMPILER_FUSIONREPORT_H

#include "compiler/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir::anvil {

/// One kernel: an anvil op, or a chain of elementwise ops that the backend
/// fuses into one loop nest.
struct KernelReport {
  std::string function;
  /// The anvil ops it covers, in order (`conv2d`, `add`, ...).
  std::vector<std::string> ops;
  /// Source names from the ops' locations (ONNX node names, .mlir
  /// positions), without repeats.
  std::vector<std::string> sources;
  std::string pattern;
  /// Estimates from the shapes: multiply-adds count two.
  int64_t flops = 0;
  /// Bytes read from tensors made outside the kernel plus bytes written.
  int64_t bytes = 0;
  /// Each fusion candidate that was not taken, with the reason.
  std::vector<std::string> notFused;
};

/// The kernels of every function of `module` (anvil IR after the optimize
/// phase), given the options it was compiled with.
std::vector<KernelReport> collectFusionReport(ModuleOp module,
                                              const PipelineOptions &options);

enum class FusionReportFormat { None, Text, Json };

/// Collects the report of `module` and writes it to `os` as text (one block
/// per kernel, then totals) or as one JSON object.
void writeFusionReport(ModuleOp module, const PipelineOptions &options,
                       FusionReportFormat format, llvm::raw_ostream &os);

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_FUSIONREPORT_H
