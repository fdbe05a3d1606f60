//===- Args.h - numbers on the command line of compiled programs -*- C++
//-*-===//
//
// The option values of executables and trainers (--threads, --epochs, --lr,
// ...) are read strictly: the whole text must be the number, in the range
// the option allows, or an anvil::Error names the option and the text, e.g.
// "--lr: 'abc' is not a number".
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ARGS_H
#define ANVIL_RUNTIME_ARGS_H

#include <cstdint>
#include <limits>
#include <string>

namespace anvil {

/// `text`, the value of `option`, as a whole number in [min, max].
int64_t parseInteger(const std::string &option, const std::string &text,
                     int64_t min,
                     int64_t max = std::numeric_limits<int64_t>::max());

/// `text`, the value of `option`, as a finite number; with `positive`, one
/// greater than 0.
double parseReal(const std::string &option, const std::string &text,
                 bool positive = false);

} // namespace anvil

#endif // ANVIL_RUNTIME_ARGS_H
