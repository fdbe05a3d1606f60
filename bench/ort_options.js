// The ONNX Runtime session options every bench script uses (CPU execution
// provider, all graph optimizations, sequential, intra-op threads = the
// bench's thread count), kept in one place so that ort_profile.js profiles
// the same configuration ort_bench.js times.
'use strict';

function sessionOptions(threads) {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  };
}

module.exports = {sessionOptions};
