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
#include <set>
#include <string>
#include <unistd.h>

namespace anvil::fuzz {

/// The private directory of this process and the files written into it.
struct FuzzFiles {
  std::string dir;
  std::set<std::string> written;
};

/// Made on first use; emptied and removed at exit. (`files` is complete
/// before the handler is registered, so exit runs the handler first.)
inline FuzzFiles &fuzzFiles() {
  static FuzzFiles files;
  if (files.dir.empty()) {
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/anvil-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("anvil-fuzz: mkdtemp");
      std::abort();
    }
    files.dir = pattern;
    std::atexit([] {
      for (const std::string &path : fuzzFiles().written)
        unlink(path.c_str());
      rmdir(fuzzFiles().dir.c_str());
    });
  }
  return files;
}

/// The private directory of this process.
inline const std::string &fuzzDir() { return fuzzFiles().dir; }

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
  fuzzFiles().written.insert(path);
  return path;
}

} // namespace anvil::fuzz

#endif // ANVIL_FUZZ_FUZZFILE_H
