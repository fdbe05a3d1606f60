//===- FuzzContext.h - the MLIR context of one fuzz input -------*- C++ -*-===//
//
// The harnesses that build IR (the .mlir parser, the ONNX importer) each
// take a fresh MLIRContext per input, as anvilc has one per run: attributes
// and types an input creates are uniqued in its context forever, so a shared
// one would only grow. It has the dialects of Anvil's graph IR loaded, runs
// on one thread and swallows diagnostics (bad inputs are expected to make
// them); a crash, a sanitizer report or a harness's own check is the bug.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_FUZZ_FUZZCONTEXT_H
#define ANVIL_FUZZ_FUZZCONTEXT_H

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

namespace anvil::fuzz {

/// The anvil and func dialects: what anvilc parses and imports into.
inline mlir::DialectRegistry graphDialects() {
  mlir::DialectRegistry registry;
  registry.insert<mlir::anvil::AnvilDialect, mlir::func::FuncDialect>();
  return registry;
}

/// One input's context, quiet; `context` is the one to build in.
struct FuzzContext {
  FuzzContext()
      : context(graphDialects(), mlir::MLIRContext::Threading::DISABLED),
        quiet(&context, [](mlir::Diagnostic &) { return mlir::success(); }) {
    context.loadAllAvailableDialects();
  }

  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler quiet;
};

} // namespace anvil::fuzz

#endif // ANVIL_FUZZ_FUZZCONTEXT_H
