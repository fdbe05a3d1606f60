//===- Error.h - errors the runtime reports to people -----------*- C++ -*-===//
//
// Runtime code (file formats, datasets, checkpoints) reports bad input by
// throwing anvil::Error with a message that names the file and says what to
// do. Tools catch it at the top, print it once and exit non-zero.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ERROR_H
#define ANVIL_RUNTIME_ERROR_H

#include <stdexcept>
#include <string>

namespace anvil {

/// A user-facing error: the message is complete and printed as is.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace anvil

#endif // ANVIL_RUNTIME_ERROR_H
