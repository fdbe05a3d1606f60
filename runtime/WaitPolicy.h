//===- WaitPolicy.h - when idle OpenMP threads may spin ---------*- C++ -*-===//
//
// Between two parallel loops of a model, libomp's idle threads either spin
// (a loop starts without a wake-up) or sleep (they leave the cores to other
// processes). Spinning pays on a quiet machine: MobileNetV2 at batch 8 runs
// hundreds of parallel loops per call, each a futex wake-up when sleeping.
// But when other processes keep the cores busy, spinning threads and working
// ones take turns on the cores, and an MLP epoch took 10x longer. The
// `auto` policy therefore spins only while the process is not kept off the
// cores: WaitAdvisor reads, per window of a few calls, the share of the
// wall time the calling thread spent runnable but waiting for a core
// (/proc/thread-self/schedstat's run delay). This file holds the policy
// names and that decision, free of OpenMP; runtime/Model.cpp applies it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_WAITPOLICY_H
#define ANVIL_RUNTIME_WAITPOLICY_H

#include <optional>
#include <string>

namespace anvil {

/// What idle OpenMP threads do between parallel loops (--wait-policy).
enum class WaitPolicy {
  /// Spin while the process is not kept waiting for cores, else sleep.
  Auto,
  /// Spin for a while after each loop (libomp's default).
  Spin,
  /// Sleep as soon as a loop ends.
  Sleep,
};

/// "auto", "spin" or "sleep" as a policy; throws an Error naming `option`
/// and the choices otherwise.
WaitPolicy parseWaitPolicy(const std::string &option, const std::string &text);

/// The --help lines of --wait-policy, its text starting at `column` (the
/// column of the other options' texts), ending in a newline.
std::string waitPolicyHelp(int column);

/// The decision of the `auto` policy, from one observation per window.
class WaitAdvisor {
public:
  /// A window is contended when the calling thread waited for a core longer
  /// than this share of its wall time: beside 2 busy loops on 2 cores the
  /// share is 0.3-0.5, on an idle machine near 0.
  static constexpr double kContendedShare = 0.10;
  /// A window counts towards spinning (again) only at or below this share,
  /// so that a lucky window under contention does not count.
  static constexpr double kQuietShare = 0.05;
  /// Quiet windows in a row needed before the first spin; each time
  /// spinning ends in contention the count doubles, up to kMaxQuietWindows:
  /// a spinning window under contention can take 10x its length, so on a
  /// machine whose load comes and goes the threads spin less eagerly.
  static constexpr int kQuietWindows = 2;
  static constexpr int kMaxQuietWindows = 32;

  /// Takes one window: `waitedSeconds` runnable but off the cores out of
  /// `wallSeconds`. Returns whether idle threads may spin now.
  bool observe(double waitedSeconds, double wallSeconds);
  /// Whether idle threads may spin (false until the first quiet windows).
  bool spinning() const { return spin; }
  /// The quiet windows in a row that the next spin needs.
  int quietWindowsNeeded() const { return needed; }

private:
  bool spin = false;
  int quiet = 0, needed = kQuietWindows;
};

/// The calling thread's run delay (seconds runnable but waiting for a core,
/// since it started), or nothing when the kernel does not report it.
std::optional<double> threadRunDelay();

} // namespace anvil

#endif // ANVIL_RUNTIME_WAITPOLICY_H
