//===- Calibration.cpp - activation ranges for anvilc quantize ------------===//
//
// The growing histogram of |x| (Calibration.h) and the methods that choose
// a clip threshold T over it:
//
//   percentile  the smallest bin edge below which P% of |x| lies;
//   entropy     TensorRT's: for each candidate T at a bin edge from `levels`
//               bins up, the reference distribution P is the bins below T
//               with every count above T added to the last one, Q is those
//               bins merged into `levels` equal groups and spread back over
//               P's non-empty bins; T minimizes KL(P || Q);
//   mse         the T that minimizes the expected squared error: step^2/12
//               for every nonzero |x| below T (step: that of the u8 range
//               [max(lo, -T), min(hi, T)] widened to hold 0; exact
//               zeros cost nothing, 0 being representable) plus (c - T)^2
//               for every bin centre c above it (clipped).
//
// Each T is at most the largest |x| seen; the methods need no more memory
// than the histogram and handle an all-zero or constant layer (T is then
// the largest |x|, or 0).
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/Calibration.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace anvilc;

const char *anvilc::methodName(CalibrationMethod method) {
  switch (method) {
  case CalibrationMethod::MinMax:
    return "minmax";
  case CalibrationMethod::Percentile:
    return "percentile";
  case CalibrationMethod::Entropy:
    return "entropy";
  case CalibrationMethod::Mse:
    return "mse";
  }
  return "?";
}

void Observed::add(const std::vector<double> &values,
                   const std::string &layer) {
  double amax = 0.0;
  for (double v : values) {
    if (!std::isfinite(v))
      throw ::anvil::Error(
          "layer " + layer + ": its activations hold " +
          (std::isnan(v) ? "a NaN" : "an infinity") +
          " on the calibration data; its range cannot be calibrated (check "
          "the data and the layers before it)");
    if (count == 0)
      lo = hi = v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    ++count;
    amax = std::max(amax, std::abs(v));
  }
  // Grow the histogram until it holds amax: the first nonzero batch sets
  // the width, later ones double it, adding bins pairwise.
  if (amax > 0.0 && width == 0.0)
    width = std::max(amax / kBins, std::numeric_limits<double>::denorm_min());
  while (amax > 0.0 && amax > kBins * width) {
    for (int i = 0; i < kBins / 2; ++i)
      hist[i] = hist[2 * i] + hist[2 * i + 1];
    std::fill(hist.begin() + kBins / 2, hist.end(), 0.0);
    width *= 2.0;
  }
  for (double v : values) {
    double m = std::abs(v);
    if (m == 0.0) {
      ++zeros;
      ++hist[0];
      continue;
    }
    ++hist[std::min<int64_t>(kBins - 1, static_cast<int64_t>(m / width))];
  }
}

/// KL(P || Q) of TensorRT's entropy calibration for the threshold at the
/// upper edge of bin `edge` - 1, with `levels` quantized bins.
static double divergence(const std::vector<double> &hist, int edge, int used,
                         int levels) {
  std::vector<double> p(hist.begin(), hist.begin() + edge);
  for (int j = edge; j < used; ++j)
    p[edge - 1] += hist[j];
  std::vector<double> q(edge, 0.0);
  for (int c = 0; c < levels; ++c) {
    int first = static_cast<int64_t>(c) * edge / levels;
    int last = static_cast<int64_t>(c + 1) * edge / levels;
    double sum = 0.0;
    int nonzero = 0;
    for (int j = first; j < last; ++j) {
      sum += hist[j];
      nonzero += p[j] > 0.0;
    }
    for (int j = first; j < last; ++j)
      if (p[j] > 0.0)
        q[j] = sum / nonzero;
  }
  double pSum = 0.0, qSum = 0.0;
  for (int j = 0; j < edge; ++j) {
    pSum += p[j];
    qSum += q[j];
  }
  // Q is empty where P holds only the counts clipped into its last bin:
  // a small floor instead of an infinite divergence.
  constexpr double kFloor = 1e-4;
  double kl = 0.0;
  for (int j = 0; j < edge; ++j) {
    if (p[j] == 0.0)
      continue;
    double pj = p[j] / pSum;
    double qj = qSum > 0.0 ? std::max(q[j] / qSum, kFloor / edge) : kFloor;
    kl += pj * std::log(pj / qj);
  }
  return kl;
}

double Observed::threshold(CalibrationMethod method, double percentile,
                           double levels) const {
  double amax = std::max(std::abs(lo), std::abs(hi));
  // Nothing to clip when every value is the same (all zero, or constant):
  // the value is exact at the range's end.
  if (method == CalibrationMethod::MinMax || width == 0.0 || lo == hi)
    return amax;
  // The bins in use: those up to the one that holds amax.
  int used =
      std::min<int64_t>(kBins, static_cast<int64_t>(std::ceil(amax / width)));
  used = std::max(used, 1);
  double total = 0.0;
  for (int j = 0; j < used; ++j)
    total += hist[j];
  auto edge = [&](int i) { return std::min(i * width, amax); };

  switch (method) {
  case CalibrationMethod::MinMax:
    return amax;
  case CalibrationMethod::Percentile: {
    double target = percentile / 100.0 * total, cumulative = 0.0;
    for (int j = 0; j < used; ++j) {
      cumulative += hist[j];
      if (cumulative >= target)
        return edge(j + 1);
    }
    return amax;
  }
  case CalibrationMethod::Entropy: {
    int q = static_cast<int>(std::lround(levels));
    if (used <= q)
      return amax;
    double best = std::numeric_limits<double>::infinity();
    int bestEdge = used;
    for (int i = q; i <= used; ++i) {
      double kl = divergence(hist, i, used, q);
      if (kl < best) {
        best = kl;
        bestEdge = i;
      }
    }
    return edge(bestEdge);
  }
  case CalibrationMethod::Mse: {
    double best = std::numeric_limits<double>::infinity(), bestT = amax;
    double below = -zeros; // the nonzero |x| in the bins below t
    for (int i = 1; i <= used; ++i) {
      // The step of the u8 range this t gives: [max(lo, -t), min(hi, t)]
      // widened to hold 0.
      double t = edge(i);
      double step =
          (std::min(std::max(hi, 0.0), t) + std::min(std::max(-lo, 0.0), t)) /
          255.0;
      below += hist[i - 1];
      double err = below * step * step / 12.0;
      for (int j = i; j < used; ++j) {
        double c = std::min((j + 0.5) * width, amax) - t;
        err += hist[j] * c * c;
      }
      if (err < best) {
        best = err;
        bestT = t;
      }
    }
    return bestT;
  }
  }
  return amax;
}

std::pair<double, double> Observed::range(CalibrationMethod method,
                                          double percentile) const {
  if (method == CalibrationMethod::MinMax)
    return {lo, hi};
  double levels = lo >= 0.0 ? 255.0 : 127.5;
  double t = threshold(method, percentile, levels);
  double clippedHi = std::min(hi, t);
  return {std::min(std::max(lo, -t), clippedHi), clippedHi};
}
