//===- Calibration.h - activation ranges for anvilc quantize ----*- C++ -*-===//
//
// How `anvilc quantize` turns what it observed of a layer's activations
// into the range that the layer's u8 quantization covers: the minimum and
// maximum (minmax), or a clip threshold T on |x| chosen over a histogram
// of |x| (percentile, entropy, mse); the range is then the observed one
// clipped to [-T, T].
//
// The histogram is filled in the same calibration pass as the minimum and
// maximum, so its extent is not known in advance: it holds kBins bins of
// equal width over [0, kBins * width) and, when a larger |x| arrives,
// doubles the width by adding neighbouring bins pairwise until the value
// fits (exact: no count moves between bins it did not belong to). Memory
// is kBins counts per layer, whatever the number of samples. A sample
// whose extent is far beyond the first ones' leaves those in few bins
// (at most 2x coarser than a histogram over the final extent).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_TOOLS_CALIBRATION_H
#define ANVIL_COMPILER_TOOLS_CALIBRATION_H

#include <cstdint>
#include <string>
#include <vector>

namespace anvilc {

enum class CalibrationMethod { MinMax, Percentile, Entropy, Mse };

/// The method's name, as --method spells it.
const char *methodName(CalibrationMethod method);

/// What calibration saw of one layer's activations.
class Observed {
public:
  static constexpr int kBins = 2048;

  /// Adds `values`; an ::anvil::Error naming `layer` for a NaN or an
  /// infinity.
  void add(const std::vector<double> &values, const std::string &layer);

  bool seen() const { return count > 0; }
  double min() const { return lo; }
  double max() const { return hi; }
  /// The width of a bin (0 while every |x| seen is 0).
  double binWidth() const { return width; }
  const std::vector<double> &bins() const { return hist; }

  /// The clip threshold on |x| that `method` chooses (minmax: the largest
  /// |x|); `percentile` in (0, 100] for CalibrationMethod::Percentile.
  /// `levels`: how many quantization steps cover [0, T].
  double threshold(CalibrationMethod method, double percentile,
                   double levels) const;

  /// The range [lo, hi] that `method` chooses: the observed one clipped to
  /// [-T, T]. Activations are u8 over [min(lo, 0), max(hi, 0)]: 255 steps
  /// cover [0, T] when nothing is negative, 127.5 when the range is signed.
  std::pair<double, double> range(CalibrationMethod method,
                                  double percentile) const;

private:
  std::vector<double> hist = std::vector<double>(kBins, 0.0);
  double width = 0.0;
  double zeros = 0.0; // how many |x| were exactly 0 (all in bin 0)
  double lo = 0.0, hi = 0.0;
  int64_t count = 0;
};

} // namespace anvilc

#endif // ANVIL_COMPILER_TOOLS_CALIBRATION_H
