//===- WaitPolicyTest.cpp - when idle OpenMP threads may spin -------------===//
//
// --wait-policy's values, and the auto policy's decision: spin only after
// enough quiet windows in a row, sleep at once on a contended one, and
// back off after spinning into contention.
// The windows' shares are the ones measured on the 2-core host: 0.00-0.03
// run delay with the cores to ourselves, 0.32-0.37 beside 2 busy loops.
//
//===----------------------------------------------------------------------===//

#include "runtime/WaitPolicy.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

using namespace anvil;

namespace {

TEST(WaitPolicyTest, Parse) {
  EXPECT_EQ(parseWaitPolicy("--wait-policy", "auto"), WaitPolicy::Auto);
  EXPECT_EQ(parseWaitPolicy("--wait-policy", "spin"), WaitPolicy::Spin);
  EXPECT_EQ(parseWaitPolicy("--wait-policy", "sleep"), WaitPolicy::Sleep);
  for (const char *bad : {"", "Spin", "passive", "spin "}) {
    try {
      parseWaitPolicy("--wait-policy", bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error &e) {
      EXPECT_EQ(std::string(e.what()), std::string("--wait-policy: '") + bad +
                                           "' is not a wait policy; give "
                                           "auto, spin or sleep");
    }
  }
}

TEST(WaitPolicyTest, SpinsAfterQuietWindows) {
  WaitAdvisor advisor;
  EXPECT_EQ(WaitAdvisor::kQuietWindows, 2); // the windows below
  EXPECT_FALSE(advisor.spinning()); // sleeping until the machine is seen
  EXPECT_FALSE(advisor.observe(0.001, 0.05));
  EXPECT_TRUE(advisor.observe(0.0015, 0.05));
  EXPECT_TRUE(advisor.observe(0.0, 0.06));
  EXPECT_TRUE(advisor.spinning());
}

TEST(WaitPolicyTest, SleepsAtOnceWhenContended) {
  WaitAdvisor advisor;
  advisor.observe(0, 0.05);
  advisor.observe(0, 0.05);
  ASSERT_TRUE(advisor.spinning());
  EXPECT_FALSE(advisor.observe(0.017, 0.05)); // beside 2 busy loops
  // Spinning ended in contention: the next spin needs twice the windows,
  // in a row.
  EXPECT_EQ(advisor.quietWindowsNeeded(), 2 * WaitAdvisor::kQuietWindows);
  EXPECT_FALSE(advisor.observe(0.001, 0.05));
  EXPECT_FALSE(advisor.observe(0.02, 0.05));
  for (int i = 1; i < advisor.quietWindowsNeeded(); ++i)
    EXPECT_FALSE(advisor.observe(0.001, 0.05)) << i;
  EXPECT_TRUE(advisor.observe(0.001, 0.05));
}

TEST(WaitPolicyTest, BacksOffUpToTheLimit) {
  WaitAdvisor advisor;
  for (int round = 0; round < 10; ++round) {
    while (!advisor.observe(0, 0.05)) {
    }
    advisor.observe(0.05, 0.05);
  }
  EXPECT_EQ(advisor.quietWindowsNeeded(), WaitAdvisor::kMaxQuietWindows);
  // Sleeping under contention is no failed spin: no further doubling.
  advisor.observe(0.05, 0.05);
  EXPECT_EQ(advisor.quietWindowsNeeded(), WaitAdvisor::kMaxQuietWindows);
}

TEST(WaitPolicyTest, Thresholds) {
  double quiet = WaitAdvisor::kQuietShare;
  double contended = WaitAdvisor::kContendedShare;
  WaitAdvisor advisor;
  advisor.observe(quiet, 1.0);
  EXPECT_TRUE(advisor.observe(quiet, 1.0)); // at the quiet share: quiet
  // Between the shares a spinning advisor keeps spinning...
  EXPECT_TRUE(advisor.observe(contended, 1.0));
  EXPECT_FALSE(advisor.observe(contended * 1.01, 1.0));
  // ...and a sleeping one makes no progress towards spinning.
  WaitAdvisor between;
  between.observe(0, 1.0);
  between.observe((quiet + contended) / 2, 1.0);
  EXPECT_FALSE(between.observe(0, 1.0));
  EXPECT_TRUE(between.observe(0, 1.0));
  // An empty window changes nothing.
  WaitAdvisor empty;
  empty.observe(0, 0);
  EXPECT_FALSE(empty.observe(0, 0));
  EXPECT_FALSE(empty.observe(1, 0));
}

TEST(WaitPolicyTest, RunDelayIsReadable) {
  // Linux with CONFIG_SCHED_INFO, as the hosts Anvil runs on; without it
  // the auto policy keeps sleeping, which this test would make visible.
  std::optional<double> delay = threadRunDelay();
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(*delay, 0.0);
}

} // namespace
