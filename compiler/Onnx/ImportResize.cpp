//===- ImportResize.cpp - Resize and Upsample -----------------------------===//
//
// Resize and Upsample as gathers with constant indices: nearest is a gather
// per resized axis; linear and cubic are two or four gathers and a weighted
// sum per axis. The scales or sizes must be known at compile time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Onnx/Importer.h"

#include <cmath>

using namespace mlir;
namespace a = mlir::anvil;

namespace mlir::anvil::onnx_import {

LogicalResult Importer::resize() {
  Value x = in(0);
  if (!x)
    return failure();
  SmallVector<int64_t> inShape(shapeOf(x));
  int64_t rank = inShape.size();
  // Upsample and Resize-10 take the input coordinate x / scale, rounded
  // down for nearest.
  bool legacy = node->op_type() == "Upsample" || opset < 11;
  std::string mode = attrString("mode", "nearest");
  if (mode == "bilinear")
    mode = "linear";
  std::string coords =
      legacy ? "asymmetric"
             : attrString("coordinate_transformation_mode", "half_pixel");
  std::string rounding =
      legacy ? "floor" : attrString("nearest_mode", "round_prefer_floor");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return fail("mode '" + mode + "' is not supported");
  double cubicA = attrFloat("cubic_coeff_a", -0.75);
  bool excludeOutside = attrInt("exclude_outside", 0) != 0;
  if (!llvm::is_contained({"half_pixel", "pytorch_half_pixel", "align_corners",
                           "asymmetric", "tf_half_pixel_for_nn"},
                          coords))
    return fail("coordinate_transformation_mode '" + coords +
                "' is not supported");
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
          rounding))
    return fail("nearest_mode '" + rounding + "' is not supported");
  if (attrInt("antialias", 0))
    return fail("antialias is not supported");
  if (attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
    return fail("keep_aspect_ratio_policy other than stretch is not "
                "supported");
  if (mode != "nearest" && !isa<FloatType>(elementOf(x)))
    return fail(mode + " resizing needs a float input");

  std::vector<double> scales;
  std::vector<int64_t> sizes;
  if (node->op_type() == "Upsample" && opset < 9) {
    if (const auto *s = attr("scales"))
      scales.assign(s->floats().begin(), s->floats().end());
  } else {
    int scalesInput = legacy ? 1 : 2;
    const NpyArray *s = has(scalesInput) ? constant(scalesInput) : nullptr;
    const NpyArray *z = !legacy && has(3) ? constant(3) : nullptr;
    if ((has(scalesInput) && !s) || (!legacy && has(3) && !z))
      return fail("the scales and sizes must be known at compile time");
    if (s)
      scales = valuesOf(*s);
    if (z)
      sizes = intsOf(*z);
  }
  std::vector<int64_t> axes;
  if (auto given = attrInts("axes")) {
    for (int64_t axis : *given) {
      auto normalized = normalizeAxis(axis, rank);
      if (!normalized)
        return fail("axis " + std::to_string(axis) + " out of range");
      axes.push_back(*normalized);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  bool bySize = !sizes.empty();
  if ((bySize ? sizes.size() : scales.size()) != axes.size())
    return fail("needs " + std::to_string(axes.size()) +
                " scales or sizes (one per resized axis)");

  for (size_t i = 0; x && i < axes.size(); ++i) {
    int64_t d = axes[i], size = inShape[d];
    double scale = bySize ? static_cast<double>(sizes[i]) / size : scales[i];
    int64_t outSize = bySize ? sizes[i] : static_cast<int64_t>(size * scale);
    if (outSize < 1 || scale <= 0)
      return fail("axis " + std::to_string(d) + " would have size " +
                  std::to_string(outSize));
    if (outSize == size && scale == 1.0)
      continue;
    // Where output index j samples the input (ONNX's transforms, which
    // take the output length as scale * size, before rounding).
    double length = scale * size;
    auto source = [&](int64_t j) -> double {
      if (coords == "align_corners")
        return length == 1.0 ? 0.0 : j * double(size - 1) / (length - 1.0);
      if (coords == "asymmetric")
        return j / scale;
      if (coords == "tf_half_pixel_for_nn")
        return (j + 0.5) / scale;
      if (coords == "pytorch_half_pixel" && length <= 1.0)
        return 0.0;
      return (j + 0.5) / scale - 0.5;
    };
    auto clampRow = [&](int64_t r) {
      return std::clamp<int64_t>(r, 0, size - 1);
    };
    if (mode == "nearest") {
      std::vector<int64_t> rows;
      for (int64_t j = 0; j < outSize; ++j) {
        double s = source(j), below = std::floor(s);
        bool tie = s - below == 0.5;
        double r = rounding == "floor"                       ? below
                   : rounding == "ceil"                      ? std::ceil(s)
                   : tie && rounding == "round_prefer_floor" ? below
                   : tie                                     ? below + 1
                                                             : std::round(s);
        rows.push_back(clampRow(static_cast<int64_t>(r)));
      }
      x = gatherAt(x, d, rows);
      continue;
    }
    // Linear and cubic: a weighted sum of 2 or 4 neighbours (rows past an
    // edge repeat it; with exclude_outside they get no weight), one gather
    // and one constant weight vector per neighbour.
    int64_t taps = mode == "linear" ? 2 : 4;
    std::vector<std::vector<int64_t>> rows(taps);
    std::vector<std::vector<double>> weights(taps);
    for (int64_t j = 0; j < outSize; ++j) {
      double s = source(j), below = std::floor(s), t = s - below;
      double w[4] = {1.0 - t, t};
      if (taps == 4)
        for (int64_t k = 0; k < 4; ++k) {
          double dist = std::abs(t - (k - 1)); // to neighbour below - 1 + k
          w[k] =
              dist <= 1.0
                  ? ((cubicA + 2) * dist - (cubicA + 3)) * dist * dist + 1
                  : ((cubicA * dist - 5 * cubicA) * dist + 8 * cubicA) * dist -
                        4 * cubicA;
        }
      int64_t first = static_cast<int64_t>(below) - (taps == 4 ? 1 : 0);
      double total = 0.0;
      for (int64_t k = 0; k < taps; ++k) {
        int64_t row = first + k;
        if (excludeOutside && (row < 0 || row >= size))
          w[k] = 0.0;
        total += w[k];
      }
      for (int64_t k = 0; k < taps; ++k) {
        rows[k].push_back(clampRow(first + k));
        weights[k].push_back(excludeOutside ? w[k] / total : w[k]);
      }
    }
    SmallVector<int64_t> weightShape(rank, 1);
    weightShape[d] = outSize;
    Type element = elementOf(x);
    Value sum;
    for (int64_t k = 0; k < taps; ++k) {
      Value term =
          make<a::MulOp>({gatherAt(x, d, rows[k]),
                          constantOf(weightShape, element, weights[k])});
      sum = sum ? make<a::AddOp>({sum, term}) : term;
    }
    x = sum;
  }
  return out(0, x);
}

void Importer::addResizeHandlers(HandlerTable &table) {
  table["Resize"] = &Importer::resize;
  table["Upsample"] = &Importer::resize;
}

} // namespace mlir::anvil::onnx_import
