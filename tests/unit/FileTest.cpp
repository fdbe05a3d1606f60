//===- FileTest.cpp - reading and writing whole files ---------------------===//
//
// readFile refuses directories and missing files with one message;
// writeFileAtomically leaves no temporary file, also when SIGTERM or SIGINT
// arrives during the write (TempFileGuard); checkWritable names the option;
// samePath sees through relative paths and links.
//
//===----------------------------------------------------------------------===//

#include "runtime/File.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace anvil;
namespace fs = std::filesystem;

namespace {

/// A fresh directory of its own per test.
class FileTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) /
          ("anvil-file-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string path(const std::string &name) const { return dir / name; }

  /// The message of the Error `f()` throws ("" if none).
  template <typename F> std::string errorOf(F f) {
    try {
      f();
    } catch (const Error &e) {
      return e.what();
    }
    return "";
  }

  fs::path dir;
};

TEST_F(FileTest, ReadFile) {
  writeFileAtomically(path("a"), "bytes");
  EXPECT_EQ(readFile(path("a"), "test file"), "bytes");
  EXPECT_EQ(errorOf([&] { readFile(dir, "test file"); }),
            dir.string() +
                ": is a directory, not a test file; give the path of the file");
  EXPECT_EQ(errorOf([&] { readFile(path("none"), "test file"); }),
            path("none") + ": cannot open the test file: No such file or "
                           "directory; check the path");
  // Unreadable (root reads anything, so only checked for other users).
  if (geteuid() != 0) {
    fs::permissions(path("a"), fs::perms::none);
    EXPECT_EQ(errorOf([&] { readFile(path("a"), "test file"); }),
              path("a") + ": cannot open the test file: Permission denied; "
                          "make it readable");
  }
}

TEST_F(FileTest, AtomicWriteLeavesNothingBehind) {
  writeFileAtomically(path("a"), "one");
  writeFileAtomically(path("a"), "two");
  EXPECT_EQ(readFile(path("a"), "test file"), "two");
  EXPECT_NE(errorOf([&] { writeFileAtomically(path("no/a"), "x"); }), "");
  EXPECT_NE(errorOf([&] { writeFileAtomically(dir, "x"); }), "");
  std::vector<std::string> left;
  for (const auto &entry : fs::directory_iterator(dir))
    left.push_back(entry.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"a"});
}

TEST_F(FileTest, SignalRemovesLiveTemporaryFiles) {
  for (int sig : {SIGTERM, SIGINT}) {
    std::string temp = path("out.tmp." + std::to_string(sig));
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // As if killed in the middle of writeFileAtomically. (A background
      // job inherits an ignored SIGINT, which the guard leaves ignored.)
      struct sigaction now;
      sigaction(sig, nullptr, &now);
      if (now.sa_handler == SIG_IGN)
        signal(sig, SIG_DFL);
      std::ofstream(temp) << "half";
      TempFileGuard guard(temp);
      raise(sig);
      _exit(0); // not reached: the signal still ends the process
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << "the child did not end by signal " << sig;
    EXPECT_FALSE(fs::exists(temp)) << temp << " was left behind";
  }
}

TEST_F(FileTest, CheckWritable) {
  checkWritable("--save", path("ok.ckpt"));
  EXPECT_FALSE(fs::exists(path("ok.ckpt")));
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_EQ(errorOf([&] { checkWritable("--save", dir); }),
            "--save: " + dir.string() + " is a directory; give a file name");
  EXPECT_EQ(errorOf([&] { checkWritable("--report-json", path("no/r.json")); }),
            "--report-json: cannot write " + path("no/r.json") +
                ": No such file or directory; choose a writable place");
}

TEST_F(FileTest, SamePath) {
  writeFileAtomically(path("w"), "x");
  fs::create_directories(dir / "sub");
  fs::create_symlink(path("w"), path("link"));
  EXPECT_TRUE(samePath(path("w"), path("sub/../w")));
  EXPECT_TRUE(samePath(path("w"), path("link")));
  EXPECT_TRUE(samePath(path("new"), path("sub/../new"))); // not there yet
  EXPECT_FALSE(samePath(path("w"), path("sub/w")));
}

} // namespace
