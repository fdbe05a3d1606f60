//===- FuzzFile.h - fuzzer inputs as files ----------------------*- C++ -*-===//
//
// The readers under test take paths, not bytes (that is how the tools call
// them), so a harness writes each input into a file and hands over its path.
// The files live in one private directory per process under $TMPDIR (or
// /tmp), made on first use and removed at a normal exit, so parallel fuzzing
// jobs never share a file.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_FUZZ_FUZZFILE_H
#define ANVIL_FUZZ_FUZZFILE_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace anvil::fuzz {

/// The private directory of this process.
inline const std::string &fuzzDir() {
  static const std::string dir = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/anvil-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("anvil-fuzz: mkdtemp");
      std::abort();
    }
    // Removed at exit with what the harnesses wrote into it.
    static std::string removeCommand = "rm -rf '" + pattern + "'";
    std::atexit([] { (void)std::system(removeCommand.c_str()); });
    return pattern;
  }();
  return dir;
}

/// Writes `size` bytes at `data` to `name` in the private directory and
/// returns the file's path. An empty range makes an empty file.
inline std::string writeFuzzFile(const std::string &name, const uint8_t *data,
                                 size_t size) {
  std::string path = fuzzDir() + "/" + name;
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file || (size && std::fwrite(data, 1, size, file) != size) ||
      std::fclose(file) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

} // namespace anvil::fuzz

#endif // ANVIL_FUZZ_FUZZFILE_H
