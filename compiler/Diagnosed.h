//===- Diagnosed.h - an error already reported as diagnostics ---*- C++ -*-===//
//
// Most failures of the driver-facing library are llvm::Errors whose message
// the tool prints as its one error line (see Codegen.h). A few come from
// MLIR itself, which has already printed them as diagnostics with the file,
// line and source (a .mlir parse error, bad pass manager flags): those
// return a DiagnosedError, which carries no message, so that the tool exits
// 1 without printing a second, vaguer line.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_DIAGNOSED_H
#define ANVIL_COMPILER_DIAGNOSED_H

#include "llvm/Support/Error.h"

namespace mlir::anvil {

/// A failure whose diagnostics have been printed already.
class DiagnosedError : public llvm::ErrorInfo<DiagnosedError> {
public:
  static inline char ID = 0;
  void log(llvm::raw_ostream &os) const override { os << "(reported above)"; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }
};

/// A DiagnosedError, for a caller that returns llvm::Error.
inline llvm::Error diagnosedError() {
  return llvm::make_error<DiagnosedError>();
}

} // namespace mlir::anvil

#endif // ANVIL_COMPILER_DIAGNOSED_H
