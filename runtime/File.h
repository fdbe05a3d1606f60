//===- File.h - reading and writing whole files -----------------*- C++ -*-===//
//
// Every file the runtime reads or writes goes through here. Reading refuses
// a missing, unreadable or non-regular file (a directory) with one message
// naming it. Writing is atomic: a temporary file beside the target, renamed
// into place; the temporary is deleted if the write fails, and also if
// SIGINT or SIGTERM arrives meanwhile (a fixed table of live temporary paths
// that a signal handler unlinks before re-raising the signal), so nothing
// half-written is ever left behind. Also: checking up front that an output
// can be written, comparing paths, and finding a file beside the running
// executable.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_FILE_H
#define ANVIL_RUNTIME_FILE_H

#include <string>

namespace anvil {

/// Opens `path`, a `kind` of file (".npy file", "weights file"), for
/// reading and returns its descriptor, which the caller closes. Throws an
/// anvil::Error naming the file if it is missing, unreadable or a directory.
int openForReading(const std::string &path, const std::string &kind);

/// The whole content of `path`, opened as by openForReading.
std::string readFile(const std::string &path, const std::string &kind);

/// Writes `bytes` to `path` via a temporary file in the same directory and a
/// rename, so readers never see a partial file; throws anvil::Error if the
/// file cannot be written.
void writeFileAtomically(const std::string &path, const std::string &bytes);

/// Throws an anvil::Error naming `option` unless `path` can be written: it
/// is not a directory, and a file can be created beside it (tried with a
/// temporary file, removed at once).
void checkWritable(const std::string &option, const std::string &path);

/// Whether `a` and `b` name the same file once links and relative paths are
/// resolved; either may not exist yet (then its directory is resolved).
bool samePath(const std::string &a, const std::string &b);

/// The file named like `recorded` (its last component) in the directory of
/// the running executable if there is one, else `recorded`: an executable
/// and its weights file keep working when moved together.
std::string besideExecutable(const std::string &recorded);

/// Registers a temporary file to delete if SIGINT or SIGTERM arrives while
/// the guard lives (at most a few at once; more are not registered).
class TempFileGuard {
public:
  explicit TempFileGuard(const std::string &path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard &) = delete;
  TempFileGuard &operator=(const TempFileGuard &) = delete;

private:
  int slot;
};

} // namespace anvil

#endif // ANVIL_RUNTIME_FILE_H
