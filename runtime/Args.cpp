//===- Args.cpp - numbers on the command line of compiled programs --------===//

#include "runtime/Args.h"
#include "runtime/Error.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace anvil;

namespace {

/// Whether strto* stopped at the end of a non-empty `text` with no blank
/// in front (which strto* would skip).
bool whole(const std::string &text, const char *end) {
  return !text.empty() && !std::isspace(static_cast<unsigned char>(text[0])) &&
         *end == '\0';
}

} // namespace

int64_t anvil::parseInteger(const std::string &option, const std::string &text,
                            int64_t min, int64_t max) {
  std::string range =
      max == std::numeric_limits<int64_t>::max()
          ? "give " + std::to_string(min) + " or more"
          : "give " + std::to_string(min) + " to " + std::to_string(max);
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (!whole(text, end))
    throw Error(option + ": '" + text + "' is not a whole number; " + range);
  if (errno == ERANGE || value < min || value > max)
    throw Error(option + ": " + text + " is out of range; " + range);
  return value;
}

double anvil::parseReal(const std::string &option, const std::string &text,
                        bool positive) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (!whole(text, end))
    throw Error(option + ": '" + text + "' is not a number");
  if (!std::isfinite(value))
    throw Error(option + ": " + text + " is not a finite number");
  if (positive && !(value > 0))
    throw Error(option + ": " + text +
                " is out of range; give a number "
                "greater than 0");
  return value;
}
