//===- Checks.cpp - run-time checks compiled code calls -------------------===//
//
// Plain C stdio only, so that a library's users need nothing beyond libc.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checks.h"

#include <cstdio>
#include <cstdlib>

void anvil_index_error(const char *function, const char *what, int64_t position,
                       int64_t value, int64_t low, int64_t high) {
  std::fprintf(stderr,
               "error: @%s: %s position %lld holds %lld, outside [%lld, "
               "%lld)\n",
               function, what, static_cast<long long>(position),
               static_cast<long long>(value), static_cast<long long>(low),
               static_cast<long long>(high));
  std::exit(1);
}
