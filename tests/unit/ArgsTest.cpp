//===- ArgsTest.cpp - strict numbers on compiled programs' command lines --===//
//
// parseInteger and parseReal take the whole text or throw an Error naming
// the option: no atof/atol reading "abc" as 0 or "2x" as 2.
//
//===----------------------------------------------------------------------===//

#include "runtime/Args.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

using namespace anvil;

namespace {

/// Expects `parse()` to throw an Error whose message is exactly `message`.
template <typename F> void expectError(F parse, const std::string &message) {
  try {
    parse();
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ArgsTest, Integers) {
  EXPECT_EQ(parseInteger("--epochs", "3", 1), 3);
  EXPECT_EQ(parseInteger("--seed", "0", 0), 0);
  EXPECT_EQ(parseInteger("--seed", "9223372036854775807", 0),
            9223372036854775807LL);
  EXPECT_EQ(parseInteger("--threads", "16", 1, 1024), 16);
  expectError([] { parseInteger("--epochs", "2x", 1); },
              "--epochs: '2x' is not a whole number; give 1 or more");
  expectError([] { parseInteger("--seed", "abc", 0); },
              "--seed: 'abc' is not a whole number; give 0 or more");
  expectError([] { parseInteger("--bench", "", 1); },
              "--bench: '' is not a whole number; give 1 or more");
  expectError([] { parseInteger("--bench", " 5", 1); },
              "--bench: ' 5' is not a whole number; give 1 or more");
  expectError([] { parseInteger("--epochs", "1.5", 1); },
              "--epochs: '1.5' is not a whole number; give 1 or more");
  expectError([] { parseInteger("--threads", "0", 1, 1024); },
              "--threads: 0 is out of range; give 1 to 1024");
  expectError([] { parseInteger("--threads", "-4", 1, 1024); },
              "--threads: -4 is out of range; give 1 to 1024");
  expectError([] { parseInteger("--seed", "99999999999999999999", 0); },
              "--seed: 99999999999999999999 is out of range; give 0 or more");
}

TEST(ArgsTest, Reals) {
  EXPECT_EQ(parseReal("--lr", "0.05", true), 0.05);
  EXPECT_EQ(parseReal("--lr", "1e-3", true), 1e-3);
  EXPECT_EQ(parseReal("--mean", "-0.5"), -0.5);
  EXPECT_EQ(parseReal("--mean", "0"), 0);
  expectError([] { parseReal("--lr", "abc", true); },
              "--lr: 'abc' is not a number");
  expectError([] { parseReal("--lr", "0.1x", true); },
              "--lr: '0.1x' is not a number");
  expectError([] { parseReal("--lr", "", true); }, "--lr: '' is not a number");
  expectError([] { parseReal("--lr", "nan", true); },
              "--lr: nan is not a finite number");
  expectError([] { parseReal("--mean", "inf"); },
              "--mean: inf is not a finite number");
  expectError([] { parseReal("--lr", "1e400", true); },
              "--lr: 1e400 is not a finite number");
  expectError([] { parseReal("--lr", "0", true); },
              "--lr: 0 is out of range; give a number greater than 0");
  expectError([] { parseReal("--std", "-1", true); },
              "--std: -1 is out of range; give a number greater than 0");
}

} // namespace
