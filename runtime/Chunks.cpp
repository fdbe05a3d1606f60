//===- Chunks.cpp - any number of samples through batch variants ----------===//

#include "runtime/Chunks.h"

#include <algorithm>
#include <limits>

using namespace anvil;

std::vector<size_t> anvil::planChunks(int64_t samples,
                                      const std::vector<int64_t> &batches,
                                      const std::vector<double> &costs) {
  std::vector<size_t> plan;
  if (samples <= 0 || batches.empty())
    return plan;
  // Largest batch first: ties between covers then go to fewer chunks.
  std::vector<size_t> order(batches.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return batches[a] > batches[b]; });
  auto perSample = [&](size_t i) { return costs[i] / batches[i]; };
  size_t best = order[0];
  for (size_t i : order)
    if (perSample(i) < perSample(best))
      best = i;
  // Past kExact samples, whole chunks of that variant take the excess.
  int64_t excess = std::max<int64_t>(0, samples - kExactSamples);
  int64_t whole = (excess + batches[best] - 1) / batches[best];
  plan.assign(whole, best);
  int64_t rest = std::max<int64_t>(0, samples - whole * batches[best]);
  // cost[s]: the least cost of covering s samples; first[s]: its first chunk.
  std::vector<double> cost(rest + 1, 0);
  std::vector<size_t> first(rest + 1, 0);
  for (int64_t s = 1; s <= rest; ++s) {
    cost[s] = std::numeric_limits<double>::infinity();
    for (size_t i : order) {
      double c = costs[i] + cost[std::max<int64_t>(0, s - batches[i])];
      if (c < cost[s]) {
        cost[s] = c;
        first[s] = i;
      }
    }
  }
  for (int64_t s = rest; s > 0; s -= batches[first[s]])
    plan.push_back(first[s]);
  std::stable_sort(plan.begin(), plan.end(),
                   [&](size_t a, size_t b) { return batches[a] > batches[b]; });
  return plan;
}

std::string anvil::describePlan(const std::vector<size_t> &plan,
                                const std::vector<int64_t> &batches) {
  std::string text;
  for (size_t i = 0; i < plan.size();) {
    size_t j = i;
    while (j < plan.size() && plan[j] == plan[i])
      ++j;
    text += (i ? " + " : "") + std::to_string(j - i) + "x" +
            std::to_string(batches[plan[i]]);
    i = j;
  }
  return text.empty() ? "no calls" : text;
}
