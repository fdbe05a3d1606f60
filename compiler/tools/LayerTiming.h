//===- LayerTiming.h - one layer compiled alone, timed ----------*- C++ -*-===//
//
// What `anvilc quantize` measures of each layer's speed: the layer cut out
// of its model into a function of its own (`@layer`, its activations the
// argument, its weights the model's parameters or constants), compiled with
// the command line's options into a temporary executable, and timed by that
// executable's --bench on one thread. The report puts the f32 layer's
// milliseconds beside its int8 rewrite's (quantize, integer product,
// dequantize), both measured the same way, one after the other.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_TOOLS_LAYERTIMING_H
#define ANVIL_COMPILER_TOOLS_LAYERTIMING_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace anvilc {

/// A module of one function, @layer, that computes `layer` (an anvil.matmul
/// or anvil.conv2d of a function) alone: its operands that the parameters
/// or constants define are cloned, the others become arguments.
mlir::OwningOpRef<mlir::ModuleOp> isolateLayer(mlir::Operation *layer);

/// How a layer's time was measured.
struct Timing {
  double ms = 0.0; // median latency of one call
  int64_t runs = 0;
};

/// Compiles `module` (its @layer) into a temporary executable with the
/// command line's options and times it on one thread: a short run to
/// size the measurement, then about 0.3 s of calls (3 to 300), median. A
/// compile or run failure is an error (the compiler's own message has
/// printed). `what` names the layer in that error.
llvm::Expected<Timing> timeLayer(mlir::MLIRContext &context,
                                 mlir::ModuleOp module,
                                 const std::string &what);

} // namespace anvilc

#endif // ANVIL_COMPILER_TOOLS_LAYERTIMING_H
