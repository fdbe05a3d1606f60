//===- WaitPolicy.cpp - when idle OpenMP threads may spin -----------------===//

#include "runtime/WaitPolicy.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstdio>

using namespace anvil;

WaitPolicy anvil::parseWaitPolicy(const std::string &option,
                                  const std::string &text) {
  if (text == "auto")
    return WaitPolicy::Auto;
  if (text == "spin")
    return WaitPolicy::Spin;
  if (text == "sleep")
    return WaitPolicy::Sleep;
  throw Error(option + ": '" + text + "' is not a wait policy; give auto, " +
              "spin or sleep");
}

std::string anvil::waitPolicyHelp(int column) {
  std::string name = "  --wait-policy P", pad(column, ' ');
  name.resize(std::max<size_t>(column, name.size() + 1), ' ');
  return name + "what idle threads do between parallel loops: spin (fast on\n" +
         pad + "a quiet machine), sleep (leaves the cores to other\n" + pad +
         "processes), auto (the default: spin while this process does\n" + pad +
         "not wait for cores, else sleep); without it, OMP_WAIT_POLICY\n" +
         pad + "or KMP_BLOCKTIME decide when set\n";
}

bool WaitAdvisor::observe(double waitedSeconds, double wallSeconds) {
  if (wallSeconds <= 0)
    return spin; // an empty window tells nothing
  if (waitedSeconds > kContendedShare * wallSeconds) {
    if (spin)
      needed = std::min(2 * needed, kMaxQuietWindows);
    spin = false;
    quiet = 0;
  } else if (waitedSeconds <= kQuietShare * wallSeconds) {
    if (++quiet >= needed)
      spin = true;
  } else {
    quiet = 0; // between the two shares: no change, no progress
  }
  return spin;
}

std::optional<double> anvil::threadRunDelay() {
  // "<ns on a core> <ns runnable, waiting for one> <time slices>"; present
  // when the kernel has CONFIG_SCHED_INFO (as distribution kernels do).
  std::FILE *file = std::fopen("/proc/thread-self/schedstat", "r");
  if (!file)
    return std::nullopt;
  unsigned long long running = 0, waiting = 0;
  int read = std::fscanf(file, "%llu %llu", &running, &waiting);
  std::fclose(file);
  if (read != 2)
    return std::nullopt;
  return waiting * 1e-9;
}
