//===- MatmulSchedule.h - decisions of the matmul schedule ------*- C++ -*-===//
//
// The decisions of anvil-tile-and-vectorize that other parts of the compiler
// must predict, in one place: the fusion report (compiler/FusionReport.cpp)
// says a matmul's epilogue is fused exactly when the schedule will run it in
// the matmul's parallel blocks.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_MATMULSCHEDULE_H
#define ANVIL_PASSES_MATMULSCHEDULE_H

#include <cstdint>

namespace mlir::anvil {

/// Whether anvil-tile-and-vectorize splits one static `linalg.matmul` of
/// M x K times K x N into parallel cache blocks (an scf.forall, later
/// OpenMP), into which it fuses the matmul's epilogue. Below ~8 MFLOP a
/// fork/join costs more than it saves: the product is one block and its
/// epilogue stays a separate loop. For a convolution the matmul is one
/// image's (M = output channels, N = output pixels, K = input channels x
/// kernel window), not the whole batch's.
inline bool matmulRunsInParallelBlocks(int64_t m, int64_t n, int64_t k) {
  return 2.0 * double(m) * double(n) * double(k) >= 8e6;
}

} // namespace mlir::anvil

#endif // ANVIL_PASSES_MATMULSCHEDULE_H
