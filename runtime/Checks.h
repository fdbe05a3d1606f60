//===- Checks.h - run-time checks compiled code calls -----------*- C++ -*-===//
//
// Functions the code anvilc generates calls when a check fails (see
// passes/CheckIndices.cpp). They print one message and end the process with
// status 1: the model cannot go on with such an input. Linked into every
// executable, and archived into every library, anvilc makes.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_CHECKS_H
#define ANVIL_RUNTIME_CHECKS_H

#include <cstdint>

extern "C" {
/// An index argument holds `value` at row-major `position`, outside
/// [low, high): prints `error: @<function>: <what> position P holds V,
/// outside [low, high)` and exits with status 1.
[[noreturn]] void anvil_index_error(const char *function, const char *what,
                                    int64_t position, int64_t value,
                                    int64_t low, int64_t high);
}

#endif // ANVIL_RUNTIME_CHECKS_H
