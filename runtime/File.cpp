//===- File.cpp - reading and writing whole files -------------------------===//

#include "runtime/File.h"
#include "runtime/Error.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace anvil;

namespace {

// The live temporary files, for the signal handler. A fixed table of
// fixed-size paths: the handler may only read memory and call unlink.
constexpr int kTempSlots = 8;
char tempPaths[kTempSlots][PATH_MAX];
volatile sig_atomic_t tempUsed[kTempSlots];
constexpr int kSignals[] = {SIGINT, SIGTERM};
struct sigaction previousAction[2];

void removeTempFiles(int sig) {
  for (int i = 0; i < kTempSlots; ++i)
    if (tempUsed[i])
      unlink(tempPaths[i]);
  // Then end as we would have without this handler (or run the one before
  // it): the signal stays blocked until this handler returns.
  sigaction(sig, &previousAction[sig == SIGINT ? 0 : 1], nullptr);
  raise(sig);
}

/// Installs removeTempFiles for SIGINT and SIGTERM unless it is there, or
/// the signal is ignored (a background job's SIGINT): ignoring it stays.
void installHandler() {
  for (int i = 0; i < 2; ++i) {
    struct sigaction now;
    sigaction(kSignals[i], nullptr, &now);
    if (now.sa_handler == SIG_IGN || now.sa_handler == removeTempFiles)
      continue;
    previousAction[i] = now;
    struct sigaction action = {};
    action.sa_handler = removeTempFiles;
    sigemptyset(&action.sa_mask);
    sigaction(kSignals[i], &action, nullptr);
  }
}

std::string errnoText() { return std::strerror(errno); }

/// `path` with links and relative parts resolved, as far as it exists.
std::string resolve(const std::string &path) {
  char buffer[PATH_MAX];
  if (realpath(path.c_str(), buffer))
    return buffer;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir.empty())
    dir = "/";
  if (!realpath(dir.c_str(), buffer))
    return path;
  return std::string(buffer) + "/" + path.substr(slash + 1);
}

} // namespace

TempFileGuard::TempFileGuard(const std::string &path) : slot(-1) {
  installHandler();
  if (path.size() >= PATH_MAX)
    return;
  for (int i = 0; i < kTempSlots && slot < 0; ++i)
    if (!tempUsed[i]) {
      std::memcpy(tempPaths[i], path.c_str(), path.size() + 1);
      tempUsed[i] = 1;
      slot = i;
    }
}

TempFileGuard::~TempFileGuard() {
  if (slot >= 0)
    tempUsed[slot] = 0;
}

int anvil::openForReading(const std::string &path, const std::string &kind) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    throw Error(path + ": cannot open the " + kind + ": " +
                std::strerror(error) +
                (error == EACCES ? "; make it readable" : "; check the path"));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    close(fd);
    throw Error(path + ": is " + (dir ? "a directory" : "not a regular file") +
                ", not a " + kind + "; give the path of the file");
  }
  return fd;
}

std::string anvil::readFile(const std::string &path, const std::string &kind) {
  int fd = openForReading(path, kind);
  std::string data;
  char buffer[1 << 16];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0 ||
         (n < 0 && errno == EINTR))
    if (n > 0)
      data.append(buffer, n);
  std::string why = errnoText();
  close(fd);
  if (n < 0)
    throw Error(path + ": cannot read the " + kind + ": " + why);
  return data;
}

void anvil::writeFileAtomically(const std::string &path,
                                const std::string &bytes) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  TempFileGuard guard(temp);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(path + ": cannot write: " + errnoText());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += n;
  }
  if (close(fd) != 0 || done < bytes.size()) {
    std::string why = errnoText();
    unlink(temp.c_str());
    throw Error(path + ": write failed (" + why + "; disk full?)");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = errnoText();
    unlink(temp.c_str());
    throw Error(path + ": cannot write: " + why);
  }
}

void anvil::checkWritable(const std::string &option, const std::string &path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(option + ": " + path + " is a directory; give a file name");
  std::string probe = path + ".tmp." + std::to_string(getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(option + ": cannot write " + path + ": " + errnoText() +
                "; choose a writable place");
  close(fd);
  unlink(probe.c_str());
}

bool anvil::samePath(const std::string &a, const std::string &b) {
  return resolve(a) == resolve(b);
}

std::string anvil::besideExecutable(const std::string &recorded) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (recorded.empty() || n <= 0)
    return recorded;
  std::string exe(self, n);
  std::string candidate = exe.substr(0, exe.rfind('/') + 1) +
                          recorded.substr(recorded.rfind('/') + 1);
  struct stat st;
  return stat(candidate.c_str(), &st) == 0 ? candidate : recorded;
}
