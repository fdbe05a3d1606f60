//===- Chunks.h - any number of samples through batch variants -*- C++ -*-===//
//
// A function that keeps its samples apart runs any number of samples in
// chunks of its compiled batch. Compiled for several batches (anvilc --batch
// 1,64), it has one variant per batch, and each call picks the chunks:
// planChunks covers the samples with the mix of variants of least total
// cost, given each variant's cost per call (ModelMain.cpp times them).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_CHUNKS_H
#define ANVIL_RUNTIME_CHUNKS_H

#include <cstdint>
#include <string>
#include <vector>

namespace anvil {

/// Up to this many samples planChunks' cover is the cheapest there is.
constexpr int64_t kExactSamples = 1 << 16;

/// The chunks that run `samples` samples through variants of the distinct
/// positive batch sizes `batches`, whose calls cost `costs` (same order;
/// any positive unit): the index into `batches` of each chunk, largest batch
/// first, so that only the last chunk is short (padded). The total cost is
/// the least of any cover (dynamic programming over the samples; a tie goes
/// to the larger chunk) up to kExactSamples samples; past those, whole
/// chunks of the variant that costs least per sample take the excess. No
/// chunks for 0 samples.
std::vector<size_t> planChunks(int64_t samples,
                               const std::vector<int64_t> &batches,
                               const std::vector<double> &costs);

/// "2x64 + 1x1": the batches of `plan`'s chunks, counted.
std::string describePlan(const std::vector<size_t> &plan,
                         const std::vector<int64_t> &batches);

} // namespace anvil

#endif // ANVIL_RUNTIME_CHUNKS_H
