//===- anvilc-quantize.cpp - anvilc quantize ------------------------------===//
//
// `anvilc quantize MODEL --calibrate DATA -o OUT.mlir`: post-training int8
// quantization. Runs the fp32 model on the reference interpreter over the
// calibration samples, recording through its observer the minimum, maximum
// and a histogram of |x| of every matmul's and convolution's activations,
// from which --method chooses the range (minmax, percentile, entropy, mse:
// Calibration.h); marks each quantizable layer with its range
// (passes/Quantize.h) and runs anvil-quantize, which rewrites it into
// quantize -> anvil.qmatmul / anvil.qconv2d -> dequantize (what
// anvil-int8-matmul then compiles to VNNI or AVX2 tiles); writes the
// result as Anvil IR, which `anvilc OUT.mlir -o exe` compiles, or (-o
// OUT.onnx) as ONNX in the QDQ form (compiler/Onnx/Export.cpp). Then reports,
// on the same samples, the fp32 and int8 models' top-1 agreement, accuracy
// (with labels) and output SQNR, and per layer the output SQNR and top-1
// change with only that layer quantized (flagged below 30 dB), its range and
// scales, its f32 and int8 milliseconds (the layer compiled alone and timed:
// LayerTiming.h), and the excluded layers with why. With --tolerance, the most
// sensitive layers (lowest SQNR alone) go back to f32 one at a time until int8
// is within the tolerance of fp32. Grouped (depthwise) convolutions stay f32
// (no grouped integer kernel yet), and the report says so.
//
// With --precision bf16 the same report compares bf16 with f32: the chosen
// matmuls and one-group convolutions are marked `bf16` (anvil-bf16's mark:
// operands rounded to bf16, f32 accumulation) instead of quantized, the data
// only evaluates (no ranges), and the layer times are f32 against bf16 (the
// vdpbf16ps tiles). Grouped convolutions stay f32 (no bf16 grouped kernel).
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/Calibration.h"
#include "compiler/tools/LayerTiming.h"
#include "compiler/tools/anvilc.h"

#include "compiler/Onnx/Export.h"
#include "compiler/Parameters.h"
#include "compiler/Reference/Interpreter.h"
#include "dialects/AnvilOps.h"
#include "passes/Passes.h"
#include "passes/Quantize.h"
#include "runtime/CheckpointKeys.h"
#include "runtime/Dataset.h"
#include "runtime/Error.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace anvilc;
using ::anvil::ref::Tensor;
namespace a = mlir::anvil;

namespace {
enum class Normalize { Auto, Unit, None };
} // namespace

// `anvilc quantize` (and the model, --weights and --seed of anvilc.h); all
// but -o also at the top level, for `anvilc MODEL --int8 --calibrate DATA`.
static cl::SubCommand &top = cl::SubCommand::getTopLevel();
static cl::opt<std::string> calibrate(
    "calibrate",
    cl::desc("Calibration data: an IDX dataset folder (as the trainer's "
             "--data), a CSV file (label, features), samples in an .npy "
             "file [N, ...] (labels: --labels), or a folder of .npy inputs"),
    cl::value_desc("data"), cl::sub(quantizeCommand()), cl::sub(trainCommand()),
    cl::sub(top), cl::cat(category()));
static cl::opt<std::string>
    labelsPath("labels",
               cl::desc("With --calibrate X.npy: the labels [N] (.npy)"),
               cl::value_desc("file"), cl::sub(quantizeCommand()), cl::sub(top),
               cl::cat(category()));
static cl::opt<std::string>
    split("split",
          cl::desc("The split of an IDX dataset: train (default) or t10k"),
          cl::init("train"), cl::sub(quantizeCommand()),
          cl::sub(trainCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<int64_t>
    samples("samples",
            cl::desc("Calibrate and evaluate on the first N samples "
                     "(default 512, at most the data's)"),
            cl::init(512), cl::sub(quantizeCommand()), cl::sub(trainCommand()),
            cl::sub(top), cl::cat(category()));
static EnumOpt<CalibrationMethod> method(
    "method",
    cl::desc("How each layer's activation range is chosen (default minmax); "
             "the others choose a clip threshold T on |x| over a 2048-bin "
             "histogram and clip the observed range to [-T, T]"),
    cl::values(
        clEnumValN(CalibrationMethod::MinMax, "minmax",
                   "the observed minimum and maximum"),
        clEnumValN(CalibrationMethod::Percentile, "percentile",
                   "T: the --percentile of |x| (both tails together)"),
        clEnumValN(CalibrationMethod::Entropy, "entropy",
                   "T: the least KL divergence between the clipped and the "
                   "quantized histogram (TensorRT's)"),
        clEnumValN(CalibrationMethod::Mse, "mse",
                   "T: the least mean squared quantization error")),
    cl::init(CalibrationMethod::MinMax), cl::value_desc("method"),
    cl::sub(quantizeCommand()), cl::sub(trainCommand()),
    cl::sub(trainCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<double> percentile(
    "percentile",
    cl::desc("With --method percentile: the percentile of |x| (of both "
             "tails together, not of each) that bounds the range, in "
             "(0, 100] (default 99.99)"),
    cl::init(99.99), cl::value_desc("P"), cl::sub(quantizeCommand()),
    cl::sub(top), cl::cat(category()));
static cl::opt<double> tolerance(
    "tolerance",
    cl::desc("Keep the most sensitive layers (lowest output SQNR with only "
             "that layer int8) in f32, one at a time, until int8 top-1 "
             "accuracy is within POINTS percentage points of fp32's (with "
             "labels; without: top-1 agreement is within POINTS of 100%)"),
    cl::value_desc("points"), cl::init(-1.0), cl::sub(quantizeCommand()),
    cl::sub(top), cl::cat(category()));
static EnumOpt<Normalize> normalizeData(
    "normalize",
    cl::desc("How data samples are scaled before the model (default: x/255 "
             "for 8-bit data, as the trainer does; a folder of .npy inputs "
             "is used as is)"),
    cl::values(clEnumValN(Normalize::Unit, "unit", "x / 255"),
               clEnumValN(Normalize::None, "none", "the values as stored")),
    cl::init(Normalize::Auto), cl::value_desc("how"),
    cl::sub(quantizeCommand()), cl::sub(trainCommand()), cl::sub(top),
    cl::cat(category()));
static cl::opt<bool> perChannel(
    "per-channel",
    cl::desc("One weight scale per output column of a matmul (default: one "
             "per tensor; a convolution's are always per output channel). "
             "With --weights a QAT checkpoint: its matmuls' grid, implied "
             "when they were trained per column, an error against it"),
    cl::sub(quantizeCommand()), cl::sub(trainCommand()), cl::sub(top),
    cl::cat(category()));
static cl::opt<bool> noLayerSqnr(
    "no-layer-sqnr",
    cl::desc("Skip the per-layer output SQNR (one more reference run of the "
             "model per int8 layer: minutes for a ResNet); the report's "
             "column is empty"),
    cl::sub(quantizeCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<bool> noLayerTimes(
    "no-layer-times",
    cl::desc("Skip the per-layer f32 and int8 milliseconds (each layer "
             "compiled alone twice and timed on one thread: about a second "
             "per layer); the report's columns are empty"),
    cl::sub(quantizeCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<bool> onlyFaster(
    "only-faster",
    cl::desc("Keep in f32 each layer whose int8 form, compiled alone, took "
             "more than 1.1x its f32 time (the report's times, measured "
             "here: a choice that depends on this machine)"),
    cl::sub(quantizeCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<std::string> exclude(
    "exclude",
    cl::desc("Keep the matmuls and convolutions whose layer name matches in "
             "f32"),
    cl::value_desc("regex"), cl::sub(quantizeCommand()),
    cl::sub(trainCommand()), cl::sub(top), cl::cat(category()));
static cl::opt<std::string>
    quantizeOutput("o",
                   cl::desc("The quantized model: Anvil IR (.mlir), or ONNX "
                            "(.onnx, opset 17) in the QDQ form"),
                   cl::value_desc("file.mlir|file.onnx"),
                   cl::sub(quantizeCommand()), cl::cat(category()));
static cl::opt<std::string>
    reportJson("report-json", cl::desc("Also write the report as JSON"),
               cl::value_desc("file"), cl::sub(quantizeCommand()), cl::sub(top),
               cl::cat(category()));

/// --only-faster keeps f32 a layer whose int8 time alone is above this
/// times its f32 time (a margin over the timing noise).
constexpr double kSlowerRatio = 1.1;
/// Below this output SQNR (dB) a layer is flagged as costing accuracy.
constexpr double kFlagDb = 30.0;

/// `v` with `digits` decimals ("inf" for infinity).
static std::string fmt(double v, int digits = 1) {
  if (std::isinf(v))
    return "inf";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

/// `v` in printf's %.<digits>g.
static std::string general(double v, int digits = 4) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*g", digits, v);
  return text;
}

/// The samples: `ds.count` rows of `ds.features` values, labels if any.
static ::anvil::Dataset loadSamples(const std::string &path) {
  namespace fs = llvm::sys::fs;
  if (!fs::exists(path))
    throw ::anvil::Error("--calibrate " + path + ": no such file or folder");
  auto has = [&](const std::string &name) {
    return fs::exists(path + "/" + name) ||
           fs::exists(path + "/" + name + ".gz");
  };
  if (fs::is_directory(path)) {
    if (has(split + "-images-idx3-ubyte"))
      return ::anvil::loadIdxDataset(path, split);
    // A folder of .npy inputs, in name order; each is one sample or a
    // batch of them: the model's input shape divides them into samples
    // (count 0 until then).
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".npy"))
        files.push_back(it->path());
    if (files.empty())
      throw ::anvil::Error("--calibrate " + path +
                           ": holds neither an IDX dataset (" + split +
                           "-images-idx3-ubyte) nor .npy inputs");
    llvm::sort(files);
    ::anvil::Dataset ds;
    ds.source = path;
    for (const std::string &file : files) {
      Tensor t = ::anvil::ref::fromNpy(::anvil::readNpy(file));
      ds.values.insert(ds.values.end(), t.data.begin(), t.data.end());
    }
    return ds;
  }
  if (llvm::StringRef(path).ends_with(".npy")) {
    if (!labelsPath.empty())
      return ::anvil::loadNpyDataset(path, labelsPath);
    Tensor t = ::anvil::ref::fromNpy(::anvil::readNpy(path));
    if (t.rank() < 1 || t.shape[0] == 0)
      throw ::anvil::Error("--calibrate " + path +
                           ": holds no samples (an array [N, ...] with N > 0)");
    ::anvil::Dataset ds;
    ds.source = path;
    ds.count = t.shape[0];
    ds.features = t.numElements() / ds.count;
    ds.values.assign(t.data.begin(), t.data.end());
    ds.eightBit = ::anvil::readNpy(path).dtype == ::anvil::DType::U8;
    return ds;
  }
  if (!labelsPath.empty())
    throw ::anvil::Error("--labels goes with --calibrate X.npy");
  return ::anvil::loadCsvDataset(path);
}

namespace {

/// One anvil.matmul or anvil.conv2d of the model and what calibration and
/// the report say about it.
struct Layer {
  Operation *op;
  std::string name;
  std::string excluded; // why it stays f32; "" when it is quantized
  Observed observed;
  double lo = 0.0, hi = 0.0; // the range --method chose
  double sqnrAlone = std::numeric_limits<double>::quiet_NaN(); // dB
  // With only this layer int8: the top-1 accuracy change in points (with
  // labels) or the top-1 agreement in % (a classifier without); NaN: not
  // measured or not a classifier.
  double top1Alone = std::numeric_limits<double>::quiet_NaN();
  // The layer compiled alone, one thread, median ms (NaN: not measured).
  double f32Ms = std::numeric_limits<double>::quiet_NaN();
  double int8Ms = std::numeric_limits<double>::quiet_NaN();
  bool kept = false;  // int8 alone, but kept f32 by keptBy
  std::string keptBy; // --tolerance or --only-faster
  bool qat = false;   // its range is a QAT checkpoint's, not calibrated
  float inputScale = 0.0f, weightScaleMin = 0.0f, weightScaleMax = 0.0f;
  int64_t zeroPoint = 0;
};

/// How the int8 outputs compare with the fp32 ones.
struct Comparison {
  double sqnr = 0.0;       // dB; inf when equal
  double agreement = -1.0; // top-1, in [0, 1]; < 0 when not a classifier
  double accuracy = -1.0;  // < 0 without labels
  double fp32Accuracy = -1.0;
};

} // namespace

/// A layer's name: the ONNX node's, or the weight parameter's, or its
/// position in the source.
static std::string layerName(Operation *op) {
  if (auto name = op->getLoc()->findInstanceOf<NameLoc>())
    return name.getName().str();
  // Both ops' weights are operand 1.
  if (auto param = op->getOperand(1).getDefiningOp<a::ParamOp>())
    return param.getName().str();
  if (auto file = op->getLoc()->findInstanceOf<FileLineColLoc>())
    return llvm::sys::path::filename(file.getFilename().strref()).str() + ":" +
           std::to_string(file.getLine()) + ":" +
           std::to_string(file.getColumn());
  return isa<a::MatmulOp>(op) ? "matmul" : "conv2d";
}

/// The precision the layers go to: "int8", or "bf16" with --precision bf16.
static std::string lowName() { return bf16Precision() ? "bf16" : "int8"; }

/// Why `op` cannot be quantized (or computed in bf16), or "".
static std::string whyNot(Operation *op) {
  auto matmul = dyn_cast<a::MatmulOp>(op);
  if (bf16Precision()) {
    auto f32 = [](Value v) {
      return cast<ShapedType>(v.getType()).getElementType().isF32();
    };
    if (auto conv = dyn_cast<a::Conv2DOp>(op); conv && conv.getGroups() != 1)
      return "a grouped convolution (groups " +
             std::to_string(conv.getGroups()) +
             "): no bf16 grouped kernel, it stays f32";
    return f32(op->getOperand(0)) && f32(op->getOperand(1))
               ? ""
               : "its operands are not f32";
  }
  if (matmul && matmul.getTransposeA())
    return "its activations are transposed";
  auto conv = dyn_cast<a::Conv2DOp>(op);
  if (conv && conv.getGroups() != 1) {
    auto groups = static_cast<int64_t>(conv.getGroups());
    bool depthwise =
        groups ==
        cast<RankedTensorType>(conv.getInput().getType()).getDimSize(1);
    return "a grouped convolution (groups " + std::to_string(groups) +
           (depthwise ? ", depthwise" : "") +
           "): anvil.qconv2d has one group (no integer grouped kernel yet)";
  }
  Value weights = op->getOperand(1);
  auto w = cast<RankedTensorType>(weights.getType());
  if (!w.getElementType().isF32())
    return "its weights are " + typeString(w.getElementType()) + ", not f32";
  if (matmul && w.getRank() != 2)
    return "its weights are batched (rank " + std::to_string(w.getRank()) + ")";
  if (!weights.getDefiningOp<a::ParamOp>() &&
      !weights.getDefiningOp<a::ConstantOp>())
    return "its weights are computed at run time";
  return "";
}

/// The matmuls and convolutions of `module` in walk order (the same in a
/// clone).
static std::vector<Operation *> layersOf(ModuleOp module) {
  std::vector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<a::MatmulOp, a::Conv2DOp>(op))
      ops.push_back(op);
  });
  return ops;
}

/// A clone of `module` with the layers `which` says quantized (with
/// --precision bf16: marked bf16).
static llvm::Expected<OwningOpRef<ModuleOp>>
quantized(ModuleOp module, const std::vector<Layer> &layers,
          llvm::function_ref<bool(size_t)> which) {
  OwningOpRef<ModuleOp> copy(module.clone());
  std::vector<Operation *> ops = layersOf(*copy);
  if (bf16Precision()) {
    for (size_t i = 0; i < layers.size(); ++i)
      if (layers[i].excluded.empty() && which(i)) {
        if (auto matmul = dyn_cast<a::MatmulOp>(ops[i]))
          matmul.setBf16(true);
        else
          cast<a::Conv2DOp>(ops[i]).setBf16(true);
      }
    return copy;
  }
  Builder b(module.getContext());
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].excluded.empty() && which(i))
      ops[i]->setAttr(a::kCalibrationAttr,
                      b.getDenseF64ArrayAttr({layers[i].lo, layers[i].hi}));
  PassManager pm(module.getContext());
  a::QuantizePassOptions options;
  options.perChannel = perChannel;
  options.seed = seed;
  pm.addPass(a::createQuantizePass(options));
  if (failed(pm.run(*copy)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "anvil-quantize failed on " + modelPath);
  return copy;
}

/// Runs `function` of `module` on every batch; the first result of each.
static std::vector<Tensor> runAll(ModuleOp module, llvm::StringRef function,
                                  const std::vector<Tensor> &batches,
                                  ::anvil::ref::Interpreter::Observer observe) {
  ::anvil::ref::Interpreter interpreter(module, seed);
  if (observe)
    interpreter.setObserver(std::move(observe));
  std::vector<Tensor> out;
  for (const Tensor &batch : batches)
    out.push_back(interpreter.run(function, {batch})[0]);
  return out;
}

/// The int8 outputs `got` against the fp32 `want`, over the first `count`
/// samples (the last batch may be padded).
static Comparison compare(const std::vector<Tensor> &want,
                          const std::vector<Tensor> &got, int64_t count,
                          const std::vector<int64_t> &labels) {
  Comparison c;
  double signal = 0.0, noise = 0.0;
  int64_t agree = 0, right = 0, rightFp32 = 0, seen = 0;
  bool classifier = want[0].rank() == 2 && want[0].shape[1] > 1;
  for (size_t b = 0; b < want.size(); ++b) {
    int64_t rows = want[b].shape.empty() ? 1 : want[b].shape[0];
    int64_t width = want[b].numElements() / rows;
    for (int64_t r = 0; r < rows && seen < count; ++r, ++seen) {
      const double *x = want[b].data.data() + r * width;
      const double *y = got[b].data.data() + r * width;
      int64_t ax = 0, ay = 0;
      for (int64_t j = 0; j < width; ++j) {
        signal += x[j] * x[j];
        noise += (x[j] - y[j]) * (x[j] - y[j]);
        if (x[j] > x[ax])
          ax = j;
        if (y[j] > y[ay])
          ay = j;
      }
      agree += ax == ay;
      if (!labels.empty()) {
        right += ay == labels[seen];
        rightFp32 += ax == labels[seen];
      }
    }
  }
  c.sqnr = noise == 0.0 ? std::numeric_limits<double>::infinity()
                        : 10.0 * std::log10(signal / noise);
  if (classifier) {
    c.agreement = double(agree) / double(seen);
    if (!labels.empty()) {
      c.accuracy = double(right) / double(seen);
      c.fp32Accuracy = double(rightFp32) / double(seen);
    }
  }
  return c;
}

/// JSON's number for `v`, or null for infinity (JSON has none) and for NaN
/// (not measured).
static llvm::json::Value jsonNumber(double v) {
  if (!std::isfinite(v))
    return nullptr;
  return v;
}

/// Writes `text` to `path` through a temporary file: no half-written file.
static void writeAtomically(const std::string &path, llvm::StringRef text) {
  std::string tmp = path + ".tmp";
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(tmp, ec);
    if (!ec) {
      os << text;
      os.close();
      if (os.has_error())
        ec = os.error();
    }
  }
  if (!ec)
    ec = llvm::sys::fs::rename(tmp, path);
  if (ec) {
    llvm::sys::fs::remove(tmp);
    throw ::anvil::Error("cannot write " + path + ": " + ec.message());
  }
}

/// Checks the options that `anvilc quantize` and `anvilc MODEL --int8`
/// share, before anything is loaded: 0, or the exit code of the error.
int anvilc::checkQuantizeOptions() {
  if (calibrate.empty())
    return reportError(bf16Precision()
                           ? "give evaluation data with --calibrate DATA: the "
                             "bf16 report compares bf16 with f32 on it"
                           : "give calibration data with --calibrate DATA "
                             "(see anvilc quantize --help)");
  if (bf16Precision())
    for (cl::Option *o :
         std::initializer_list<cl::Option *>{&method, &percentile, &perChannel})
      if (o->getNumOccurrences())
        return reportError("--" + o->ArgStr.str() +
                           " chooses int8 ranges or scales; --precision bf16 "
                           "has none (it rounds to bf16)");
  if (method == CalibrationMethod::Percentile &&
      !(percentile > 0.0 && percentile <= 100.0))
    return reportError("--percentile must be in (0, 100], not " +
                       fmt(percentile, 4));
  if (percentile.getNumOccurrences() && method != CalibrationMethod::Percentile)
    return reportError("--percentile goes with --method percentile");
  if (tolerance.getNumOccurrences() && !(tolerance >= 0.0))
    return reportError("--tolerance must be >= 0 points, not " +
                       fmt(tolerance, 2));
  if (noLayerSqnr && tolerance.getNumOccurrences())
    return reportError("--tolerance ranks the layers by their SQNR alone; "
                       "it cannot go with --no-layer-sqnr");
  if (noLayerTimes && onlyFaster)
    return reportError("--only-faster keeps the layers that the per-layer "
                       "times show slower in int8; it cannot go with "
                       "--no-layer-times");
  if (samples <= 0)
    return reportError("--samples must be > 0, not " + std::to_string(samples));
  if (split != "train" && split != "t10k")
    return reportError("--split must be train or t10k, not '" + split + "'");
  llvm::Regex excluded(exclude);
  if (std::string why; !exclude.empty() && !excluded.isValid(why))
    return reportError("bad --exclude regex '" + exclude + "': " + why);
  return 0;
}

namespace {
/// What calibration found: the samples, the layers and their ranges.
struct Calibration {
  func::FuncOp func;
  std::vector<Tensor> batches; // the samples as the model's batches
  std::vector<int64_t> labels;
  int64_t count = 0; // samples (the last batch may be padded)
  std::string source;
  std::vector<Layer> layers;
  std::vector<Tensor> fp32; // the model's first result on each batch
  double seconds = 0.0;
};
} // namespace

/// Runs the function --function picks (one f32 input) of `module` on the
/// reference interpreter over --calibrate's first --samples samples,
/// observing every matmul's and convolution's activations; each layer's
/// range by --method, or why it stays f32 (whyNot, --exclude, not run).
/// 0, or the exit code of the error printed.
static int calibrateModel(ModuleOp module, Calibration &c) {
  using Clock = std::chrono::steady_clock;
  llvm::Regex excluded(exclude);
  auto picked = pickFunction(module);
  if (!picked)
    return reportError(picked.takeError());
  c.func = *picked;
  func::FuncOp func = c.func;
  if (func.getNumArguments() != 1 || func.getNumResults() < 1)
    return reportError(modelPath + ": @" + func.getName().str() + " takes " +
                       std::to_string(func.getNumArguments()) +
                       " inputs; anvilc quantize calibrates a function of "
                       "one input (choose one with --function)");
  auto inputType = cast<RankedTensorType>(func.getArgumentTypes()[0]);
  if (!inputType.getElementType().isF32())
    return reportError(modelPath + ": @" + func.getName().str() +
                       "'s input is " + typeString(inputType) +
                       "; calibration feeds f32 samples");

  // The samples, as the model's batches.
  ::anvil::Dataset data = loadSamples(calibrate);
  int64_t batchSize = inputType.getDimSize(0);
  int64_t features =
      inputType.getNumElements() / std::max<int64_t>(1, batchSize);
  if (data.count == 0) {
    // A folder of .npy inputs: samples of the model's shape.
    if (data.values.empty() || int64_t(data.values.size()) % features != 0)
      return reportError(
          "--calibrate " + calibrate + ": its .npy files hold " +
          std::to_string(data.values.size()) + " values, not a whole number " +
          "of samples of " + std::to_string(features) + " (@" +
          func.getName().str() + " takes " + typeString(inputType) + ")");
    data.features = features;
    data.count = data.values.size() / features;
  }
  if (data.features != features)
    return reportError("--calibrate " + data.source + ": samples have " +
                       std::to_string(data.features) + " values, but @" +
                       func.getName().str() + " takes " +
                       typeString(inputType) + " (" + std::to_string(features) +
                       " per sample)");
  Normalize how = normalizeData;
  if (how == Normalize::Auto)
    how = data.eightBit ? Normalize::Unit : Normalize::None;
  if (how == Normalize::Unit)
    ::anvil::normalize(data, ::anvil::Normalization::Unit);
  int64_t count = std::min<int64_t>(samples, data.count);
  std::vector<int64_t> &labels = c.labels;
  if (!data.labels.empty())
    labels.assign(data.labels.begin(), data.labels.begin() + count);
  c.count = count;
  c.source = data.source;
  std::vector<Tensor> &batches = c.batches;
  ::anvil::ref::Shape shape(inputType.getShape().begin(),
                            inputType.getShape().end());
  for (int64_t first = 0; first < count; first += batchSize) {
    Tensor t(::anvil::DType::F32, shape);
    // Past the last sample, the batch repeats the first ones (not counted).
    for (int64_t i = 0; i < batchSize; ++i) {
      int64_t s = first + i < count ? first + i : i % count;
      std::copy_n(data.values.begin() + s * features, features,
                  t.data.begin() + i * features);
    }
    batches.push_back(std::move(t));
  }

  // The layers, and why some stay f32.
  std::vector<Layer> &layers = c.layers;
  for (Operation *op : layersOf(module)) {
    Layer layer;
    layer.op = op;
    layer.name = layerName(op);
    layer.excluded = whyNot(op);
    if (layer.excluded.empty() && !exclude.empty() &&
        excluded.match(layer.name))
      layer.excluded = "--exclude matches its name";
    layers.push_back(layer);
  }

  // Calibration: the fp32 model on the reference interpreter, the range of
  // each layer's activations observed.
  auto start = Clock::now();
  llvm::DenseMap<Operation *, size_t> index;
  for (size_t i = 0; i < layers.size(); ++i)
    index[layers[i].op] = i;
  c.fp32 = runAll(module, func.getName(), batches,
                  [&](Operation *op, const std::vector<Tensor> &in,
                      const std::vector<Tensor> &) {
                    auto it = index.find(op);
                    if (it == index.end())
                      return;
                    Layer &l = layers[it->second];
                    l.observed.add(in[0].data, l.name);
                  });
  for (Layer &l : layers) {
    if (l.excluded.empty() && !l.observed.seen())
      l.excluded = "@" + func.getName().str() + " does not run it";
    if (l.observed.seen())
      std::tie(l.lo, l.hi) = l.observed.range(method, percentile);
  }
  c.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t quantizedCount =
      llvm::count_if(layers, [](const Layer &l) { return l.excluded.empty(); });
  if (quantizedCount == 0) {
    std::string why;
    for (const Layer &l : layers)
      why += "; " + l.name + ": " + l.excluded;
    return reportError(modelPath + ": no matmul or convolution to quantize" +
                       (layers.empty() ? " (it has none)" : why));
  }

  return 0;
}

/// The weight parameter's name of a layer, or "" (constant weights).
static std::string weightName(const Layer &l) {
  auto param = l.op->getOperand(1).getDefiningOp<a::ParamOp>();
  return param ? param.getName().str() : "";
}

/// With --weights a checkpoint of `anvilc train --qat`: each layer's range
/// from its `<weight>.qat_range` (a matmul trained per output column:
/// `<weight>.qat_range_per_column`) instead of calibration; `taken` counts
/// them, `perColumnFromQat` says whether its matmuls were per column. The
/// matmuls are quantized on the grid they were trained on: per
/// output column when the checkpoint's were (--per-channel is then implied;
/// `--per-channel=false` is an error), per tensor when they were
/// (`--per-channel` is an error). 0, or the exit code of the error.
static int takeQatRanges(std::vector<Layer> &layers, int64_t &taken,
                         bool &perColumnFromQat) {
  if (weightsIn.empty())
    return 0;
  std::map<std::string, ::anvil::NamedTensor> ranges;
  for (::anvil::NamedTensor &t : ::anvil::readWeights(weightsIn)) {
    llvm::StringRef n(t.name);
    if (n.ends_with(::anvil::keys::kQatRangeSuffix) ||
        n.ends_with(::anvil::keys::kQatRangePerColumnSuffix))
      ranges[t.name] = std::move(t);
  }
  std::string perColumn, perTensor; // a matmul trained each way, if any
  for (Layer &l : layers) {
    std::string name = weightName(l);
    auto it = ranges.find(name + ::anvil::keys::kQatRangeSuffix);
    if (it == ranges.end()) {
      it = ranges.find(name + ::anvil::keys::kQatRangePerColumnSuffix);
      if (it != ranges.end())
        perColumn = name;
    } else if (isa<a::MatmulOp>(l.op)) {
      perTensor = name;
    }
    if (name.empty() || it == ranges.end())
      continue;
    const ::anvil::NamedTensor &t = it->second;
    if (t.dtype != ::anvil::DType::F32 || t.numElements() != 2)
      return reportError(weightsIn + ": " + t.name + " is " + t.typeText() +
                         ", not a QAT range (f32 [2]); was it written by "
                         "anvilc train --qat?");
    float range[2];
    std::memcpy(range, t.bytes.data(), sizeof range);
    if (!l.excluded.empty())
      continue;
    l.lo = range[0];
    l.hi = range[1];
    l.qat = true;
    ++taken;
  }
  if (!perColumn.empty() && !perTensor.empty())
    return reportError(weightsIn + ": " + perColumn +
                       " was fake-quantized per output column and " +
                       perTensor +
                       " per tensor; one anvilc train --qat writes one kind");
  perColumnFromQat = !perColumn.empty();
  bool explicitly = perChannel.getNumOccurrences() > 0;
  if (!perColumn.empty() && !perChannel) {
    if (explicitly)
      return reportError(
          weightsIn +
          ": its matmuls were trained on per-output-column weight "
          "scales (anvilc train --qat --per-channel; " +
          perColumn +
          " among them); per tensor they would lose what QAT learned: drop "
          "--per-channel=false");
    perChannel.setValue(true);
  }
  if (!perTensor.empty() && perChannel && explicitly)
    return reportError(
        weightsIn +
        ": its matmuls were trained on per-tensor weight scales "
        "(anvilc train --qat without --per-channel; " +
        perTensor +
        " among them); per output column is not the grid they learned: "
        "drop --per-channel, or train with it");
  return 0;
}

int anvilc::markQatLayers(ModuleOp module,
                          const mlir::anvil::ParamValues &initial,
                          llvm::raw_ostream &os) {
  // Calibrate a copy whose parameters hold their starting values.
  OwningOpRef<ModuleOp> copy(module.clone());
  copy->walk([&](a::ParamOp param) {
    auto it = initial.find(param.getName().str());
    if (it == initial.end())
      return;
    param.setInit(a::Initializer::Dense);
    param.setValueAttr(DenseElementsAttr::getFromRawBuffer(
        cast<RankedTensorType>(param.getType()),
        ArrayRef<char>(it->second.bytes)));
  });
  Calibration c;
  if (int rc = calibrateModel(*copy, c))
    return rc;
  std::vector<Operation *> ops = layersOf(module);
  Builder b(module.getContext());
  int64_t marked = 0;
  std::string left;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    Layer &l = c.layers[i];
    if (l.excluded.empty() && weightName(l).empty())
      l.excluded = "its weights are not a parameter (nothing to train)";
    if (!l.excluded.empty()) {
      left += "\n  " + l.name + ": " + l.excluded;
      continue;
    }
    ops[i]->setAttr(a::kCalibrationAttr, b.getDenseF64ArrayAttr({l.lo, l.hi}));
    ++marked;
  }
  os << "anvilc train --qat: " << marked << " of " << c.layers.size()
     << " layers fake-quantized (activations u8 by ranges calibrated on "
     << c.count << " samples of " << c.source << " (" << methodName(method)
     << ") with the starting parameters, fixed while training; weights i8 "
     << "symmetric, matmuls' "
     << (perChannel ? "per output column" : "per tensor")
     << ", convolutions' per output channel)";
  if (!left.empty())
    os << "; f32:" << left;
  os << "\n";
  return 0;
}

int anvilc::quantizeModel(
    MLIRContext &context, ModuleOp module, llvm::StringRef command,
    const std::string &destination,
    llvm::function_ref<int(OwningOpRef<ModuleOp> &, llvm::StringRef)> emit,
    llvm::raw_ostream &os) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  Calibration c;
  if (int rc = calibrateModel(module, c))
    return rc;
  func::FuncOp func = c.func;
  std::vector<Layer> &layers = c.layers;
  const std::vector<Tensor> &batches = c.batches, &fp32 = c.fp32;
  const std::vector<int64_t> &labels = c.labels;
  int64_t count = c.count;
  double calibrationSeconds = c.seconds;
  int64_t quantizedCount =
      llvm::count_if(layers, [](const Layer &l) { return l.excluded.empty(); });
  // A QAT checkpoint's ranges replace the calibrated ones: the model was
  // trained through exactly them.
  int64_t fromQat = 0;
  bool perColumnFromQat = false;
  if (!bf16Precision())
    if (int rc = takeQatRanges(layers, fromQat, perColumnFromQat))
      return rc;
  // The quantized model, and the report on the same samples.
  auto start = Clock::now();
  auto int8 = quantized(module, layers, [](size_t) { return true; });
  if (!int8)
    return reportError(int8.takeError());
  std::vector<Tensor> got = runAll(**int8, func.getName(), batches, nullptr);
  Comparison all = compare(fp32, got, count, labels);
  // Each layer's scales, as the pass chose them: its quantize and
  // dequantize in `m` (the integer products in walk order are the int8
  // layers', in order).
  auto readScales = [&](ModuleOp m, llvm::function_ref<bool(size_t)> which) {
    size_t next = 0;
    m->walk([&](Operation *q) {
      if (!isa<a::QMatmulOp, a::QConv2DOp>(q))
        return;
      while (next < layers.size() &&
             !(layers[next].excluded.empty() && which(next)))
        ++next;
      if (next == layers.size())
        return;
      Layer &l = layers[next++];
      auto x = q->getOperand(0).getDefiningOp<a::QuantizeOp>();
      auto dq = q->hasOneUse()
                    ? dyn_cast<a::DequantizeOp>(*q->getUsers().begin())
                    : a::DequantizeOp();
      DenseElementsAttr xs, xz, ds;
      if (!x || !dq || !matchPattern(x.getScale(), m_Constant(&xs)) ||
          !matchPattern(x.getZeroPoint(), m_Constant(&xz)) ||
          !matchPattern(dq.getScale(), m_Constant(&ds)))
        return;
      l.inputScale = *xs.getValues<float>().begin();
      l.zeroPoint = (*xz.getValues<APInt>().begin()).getZExtValue();
      l.weightScaleMin = std::numeric_limits<float>::infinity();
      for (float s : ds.getValues<float>()) {
        l.weightScaleMin = std::min(l.weightScaleMin, s / l.inputScale);
        l.weightScaleMax = std::max(l.weightScaleMax, s / l.inputScale);
      }
    });
  };
  readScales(**int8, [](size_t) { return true; });
  for (size_t i = 0; i < layers.size() && !noLayerSqnr; ++i) {
    Layer &l = layers[i];
    if (!l.excluded.empty())
      continue;
    auto alone = quantized(module, layers, [&](size_t j) { return j == i; });
    if (!alone)
      return reportError(alone.takeError());
    Comparison c = compare(
        fp32, runAll(**alone, func.getName(), batches, nullptr), count, labels);
    l.sqnrAlone = c.sqnr;
    if (c.accuracy >= 0)
      l.top1Alone = 100.0 * (c.accuracy - c.fp32Accuracy);
    else if (c.agreement >= 0)
      l.top1Alone = 100.0 * c.agreement;
  }

  // Each layer's speed: compiled alone in f32 and in int8, timed.
  auto timingStart = Clock::now();
  if (!noLayerTimes) {
    llvm::errs() << command << ": timing "
                 << llvm::count_if(layers,
                                   [](const Layer &l) {
                                     return l.excluded.empty() || l.kept;
                                   })
                 << " layers, each compiled alone in f32 and " << lowName()
                 << " "
                    "(--no-layer-times skips this)\n";
    for (Layer &l : layers) {
      if (!l.excluded.empty() && !l.kept)
        continue;
      OwningOpRef<ModuleOp> alone = isolateLayer(l.op);
      std::vector<Layer> one = {l};
      one[0].excluded.clear();
      auto int8Alone = quantized(*alone, one, [](size_t) { return true; });
      if (!int8Alone)
        return reportError(int8Alone.takeError());
      auto f32Time = timeLayer(context, *alone, "layer " + l.name);
      if (!f32Time)
        return reportError(f32Time.takeError());
      auto int8Time =
          timeLayer(context, **int8Alone, lowName() + " layer " + l.name);
      if (!int8Time)
        return reportError(int8Time.takeError());
      l.f32Ms = f32Time->ms;
      l.int8Ms = int8Time->ms;
    }
  }
  double timingSeconds = seconds(timingStart);

  // --only-faster: the layers int8 made slower alone back to f32.
  if (onlyFaster) {
    bool changed = false;
    for (Layer &l : layers)
      if (l.excluded.empty() && l.int8Ms > kSlowerRatio * l.f32Ms) {
        l.kept = true;
        l.keptBy = "--only-faster";
        l.excluded = "--only-faster: compiled alone, " + lowName() + " took " +
                     general(l.int8Ms, 3) + " ms, f32 " + general(l.f32Ms, 3) +
                     " ms";
        changed = true;
      }
    if (changed) {
      int8 = quantized(module, layers, [](size_t) { return true; });
      if (!int8)
        return reportError(int8.takeError());
      all = compare(fp32, runAll(**int8, func.getName(), batches, nullptr),
                    count, labels);
    }
  }

  // --tolerance: the most sensitive layer still int8 back to f32, one at a
  // time, until int8 is close enough to fp32.
  const char *metric = labels.empty() ? "agreement" : "accuracy";
  auto loss = [&](const Comparison &c) {
    return 100.0 *
           (labels.empty() ? 1.0 - c.agreement : c.fp32Accuracy - c.accuracy);
  };
  double lossBefore = 0.0;
  if (tolerance >= 0.0) {
    if (all.agreement < 0)
      return reportError(
          "--tolerance measures top-1 " + std::string(metric) + ", but @" +
          func.getName().str() +
          "'s output is not a classifier's ([batch, "
          "classes]); keep layers in f32 with --exclude instead");
    lossBefore = loss(all);
    while (loss(all) > tolerance) {
      Layer *worst = nullptr;
      for (Layer &l : layers)
        if (l.excluded.empty() && (!worst || l.sqnrAlone < worst->sqnrAlone))
          worst = &l;
      if (!worst)
        break;
      worst->kept = true;
      worst->keptBy = "--tolerance";
      worst->excluded = "--tolerance " + fmt(tolerance, 2) +
                        ": the most sensitive layer " +
                        "left (output SQNR alone " + fmt(worst->sqnrAlone) +
                        " dB) while " + lowName() + " top-1 " + metric +
                        " was " + fmt(loss(all), 2) + " points below fp32";
      int8 = quantized(module, layers, [](size_t) { return true; });
      if (!int8)
        return reportError(int8.takeError());
      all = compare(fp32, runAll(**int8, func.getName(), batches, nullptr),
                    count, labels);
    }
  }
  quantizedCount =
      llvm::count_if(layers, [](const Layer &l) { return l.excluded.empty(); });
  double reportSeconds = seconds(start);

  if (int rc = emit(*int8, func.getName()))
    return rc;

  // The report.
  os << command << ": " << modelPath << " -> " << destination << ": "
     << quantizedCount << " of " << layers.size() << " layers " << lowName();
  if (bf16Precision())
    os << " (operands rounded to bf16, products accumulated in f32)\n";
  else
    os << " (activations u8 asymmetric; weights s8 symmetric, "
       << "matmuls' " << (perChannel ? "per output column" : "per tensor")
       << ", convolutions' per output channel)\n";
  if (bf16Precision()) {
    os << "evaluation";
  } else {
    os << "calibration (" << methodName(method);
    if (method == CalibrationMethod::Percentile)
      os << " " << general(percentile, 6) << "% of |x|";
    os << ")";
  }
  os << ": " << count << " samples of " << c.source
     << " on the reference interpreter in " << fmt(calibrationSeconds, 2)
     << " s; report in " << fmt(reportSeconds, 2) << " s";
  if (fromQat > 0)
    os << "; " << fromQat << " ranges from the QAT checkpoint " << weightsIn
       << " (the ranges it was trained with"
       << (perColumnFromQat ? ", and its matmuls' per-column weight scales"
                            : "")
       << "), not calibrated";
  if (!noLayerTimes)
    os << "; layer times in " << fmt(timingSeconds, 1)
       << " s (each layer compiled alone, 1 thread, median ms)";
  os << "\n";
  os << "fp32 vs " << lowName() << " on those samples: output SQNR "
     << fmt(all.sqnr) << " dB";
  if (all.agreement >= 0)
    os << ", top-1 agreement " << fmt(100 * all.agreement, 2) << "%";
  if (all.accuracy >= 0)
    os << ", accuracy " << fmt(100 * all.fp32Accuracy, 2) << "% -> "
       << fmt(100 * all.accuracy, 2) << "% ("
       << fmt(100 * (all.accuracy - all.fp32Accuracy), 2) << " points)";
  os << "\n";
  if (tolerance >= 0.0) {
    os << "--tolerance " << fmt(tolerance, 2) << " points of top-1 " << metric
       << (labels.empty() ? " (no labels)" : "") << ": " << lowName() << " was "
       << fmt(lossBefore, 2) << " points below fp32 with every layer "
       << lowName() << ", " << fmt(loss(all), 2) << " now; kept f32:";
    bool any = false;
    for (const Layer &l : layers)
      if (l.kept && l.keptBy == "--tolerance") {
        os << " " << l.name;
        any = true;
      }
    os << (any ? "\n" : " none\n");
  }
  if (onlyFaster) {
    os << "--only-faster: kept f32 (" << lowName() << " alone > "
       << general(kSlowerRatio) << "x the f32 time):";
    bool any = false;
    for (const Layer &l : layers)
      if (l.kept && l.keptBy == "--only-faster") {
        os << " " << l.name << " (x" << fmt(l.f32Ms / l.int8Ms, 2) << ")";
        any = true;
      }
    os << (any ? "\n" : " none\n");
  }
  // The top-1 column: accuracy change with labels, agreement without.
  std::string top1Title = labels.empty() ? "agree alone" : "acc alone";
  auto top1Text = [&](double v) {
    if (std::isnan(v))
      return std::string("-");
    return labels.empty() ? fmt(v, 2) + "%" : (v >= 0 ? "+" : "") + fmt(v, 2);
  };
  auto msText = [](double v) {
    return std::isnan(v) ? std::string("-") : general(v, 3);
  };
  // The name column fits the longest name shown.
  size_t nameWidth = 24;
  for (const Layer &l : layers)
    if (l.excluded.empty() || l.kept)
      nameWidth = std::max(nameWidth, l.name.size());
  std::string lowMs = lowName() + " ms",
              alone = "(SQNR, top-1: only this layer " + lowName() + ")";
  os << llvm::left_justify("layer", nameWidth) << " ";
  if (bf16Precision())
    os << llvm::formatv("{0,-7} {1,-9} {2,-11} {3,-8} {4,-8} {5}\n", "op",
                        "SQNR", top1Title, "f32 ms", lowMs, alone);
  else
    os << llvm::formatv("{0,-7} {1,-26} {2,-11} {3,-4} {4,-22} {5,-9} "
                        "{6,-11} {7,-8} {8,-8} {9}\n",
                        "op", "input range", "scale_x", "zp", "weight scale",
                        "SQNR", top1Title, "f32 ms", lowMs, alone);
  llvm::json::Array jsonLayers, jsonExcluded;
  for (const Layer &l : layers) {
    if (!l.excluded.empty())
      jsonExcluded.push_back(llvm::json::Object{
          {"name", l.name},
          {"op", isa<a::MatmulOp>(l.op) ? "matmul" : "conv2d"},
          {"reason", l.excluded}});
    if (!l.excluded.empty() && !l.kept)
      continue;
    std::string wscale =
        l.weightScaleMin != l.weightScaleMax
            ? general(l.weightScaleMin, 3) + ".." + general(l.weightScaleMax, 3)
            : general(l.weightScaleMin);
    std::string opName = isa<a::MatmulOp>(l.op) ? "matmul" : "conv2d";
    bool flagged = l.sqnrAlone < kFlagDb;
    std::string speedup =
        l.int8Ms > 0 ? "x" + fmt(l.f32Ms / l.int8Ms, 2) : std::string("");
    std::string sqnrText =
        std::isnan(l.sqnrAlone) ? std::string("-") : fmt(l.sqnrAlone) + " dB";
    std::string notes = speedup + (flagged ? "  < 30 dB: sensitive" : "") +
                        (l.kept ? "  (kept f32: " + l.keptBy + ")" : "") +
                        (l.qat ? "  (range: QAT checkpoint)" : "");
    std::string row =
        bf16Precision()
            ? llvm::formatv("{0} {1,-7} {2,-9} {3,-11} {4,-8} {5,-8} {6}",
                            llvm::left_justify(l.name, nameWidth), opName,
                            sqnrText, top1Text(l.top1Alone), msText(l.f32Ms),
                            msText(l.int8Ms), notes)
                  .str()
            : llvm::formatv(
                  "{0} {1,-7} {2,-26} {3,-11} {4,-4} {5,-22} {6,-9} {7,-11} "
                  "{8,-8} {9,-8} {10}",
                  llvm::left_justify(l.name, nameWidth), opName,
                  "[" + general(l.lo) + ", " + general(l.hi) + "]",
                  general(l.inputScale), l.zeroPoint, wscale, sqnrText,
                  top1Text(l.top1Alone), msText(l.f32Ms), msText(l.int8Ms),
                  notes)
                  .str();
    os << llvm::StringRef(row).rtrim() << "\n";
    if (bf16Precision()) {
      jsonLayers.push_back(
          llvm::json::Object{{"name", l.name},
                             {"op", opName},
                             {"bf16", !l.kept},
                             {"sqnr_alone_db", jsonNumber(l.sqnrAlone)},
                             {labels.empty() ? "top1_agreement_alone_percent"
                                             : "accuracy_change_alone_points",
                              jsonNumber(l.top1Alone)},
                             {"f32_ms", jsonNumber(l.f32Ms)},
                             {"bf16_ms", jsonNumber(l.int8Ms)},
                             {"flagged", flagged}});
      continue;
    }
    jsonLayers.push_back(
        llvm::json::Object{{"name", l.name},
                           {"op", opName},
                           {"int8", !l.kept},
                           {"range_from_qat", l.qat},
                           {"input_min", l.observed.min()},
                           {"input_max", l.observed.max()},
                           {"range_min", l.lo},
                           {"range_max", l.hi},
                           {"input_scale", double(l.inputScale)},
                           {"input_zero_point", l.zeroPoint},
                           {"weight_scale_min", double(l.weightScaleMin)},
                           {"weight_scale_max", double(l.weightScaleMax)},
                           {"sqnr_alone_db", jsonNumber(l.sqnrAlone)},
                           {labels.empty() ? "top1_agreement_alone_percent"
                                           : "accuracy_change_alone_points",
                            jsonNumber(l.top1Alone)},
                           {"f32_ms", jsonNumber(l.f32Ms)},
                           {"int8_ms", jsonNumber(l.int8Ms)},
                           {"flagged", flagged}});
  }
  for (const Layer &l : layers)
    if (!l.excluded.empty())
      os << "excluded (f32): " << l.name << ": " << l.excluded << "\n";

  if (!reportJson.empty()) {
    llvm::json::Object report{{"model", modelPath},
                              {"output", destination},
                              {"precision", lowName()},
                              {"method", methodName(method)},
                              {"per_channel", bool(perChannel)},
                              {"samples", count},
                              {"data", c.source},
                              {"calibration_seconds", calibrationSeconds},
                              {"sqnr_db", jsonNumber(all.sqnr)},
                              {"layers", std::move(jsonLayers)},
                              {"excluded", std::move(jsonExcluded)}};
    if (method == CalibrationMethod::Percentile)
      report["percentile"] = double(percentile);
    if (bf16Precision()) {
      report.erase("method");
      report.erase("per_channel");
      report.erase("calibration_seconds");
      report["evaluation_seconds"] = calibrationSeconds;
    }
    if (onlyFaster) {
      llvm::json::Array kept;
      for (const Layer &l : layers)
        if (l.kept && l.keptBy == "--only-faster")
          kept.push_back(l.name);
      report["only_faster_kept_f32"] = std::move(kept);
    }
    if (tolerance >= 0.0) {
      llvm::json::Array kept;
      for (const Layer &l : layers)
        if (l.kept && l.keptBy == "--tolerance")
          kept.push_back(l.name);
      report["tolerance"] = llvm::json::Object{{"points", double(tolerance)},
                                               {"metric", metric},
                                               {"loss_all_int8", lossBefore},
                                               {"loss", loss(all)},
                                               {"kept_f32", std::move(kept)}};
    }
    if (all.agreement >= 0)
      report["top1_agreement"] = all.agreement;
    if (all.accuracy >= 0) {
      report["accuracy_fp32"] = all.fp32Accuracy;
      report["accuracy_" + lowName()] = all.accuracy;
    }
    std::string json;
    llvm::raw_string_ostream js(json);
    js << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
    writeAtomically(reportJson, js.str());
  }
  return 0;
}

bool anvilc::quantizePerChannel() { return perChannel; }

bool anvilc::quantizeOptionsGiven() {
  for (cl::Option *o : std::initializer_list<cl::Option *>{
           &calibrate, &labelsPath, &split, &samples, &method, &percentile,
           &tolerance, &normalizeData, &perChannel, &noLayerSqnr, &noLayerTimes,
           &onlyFaster, &exclude, &reportJson})
    if (o->getNumOccurrences())
      return true;
  return false;
}

int anvilc::quantizeMain(MLIRContext &context) {
  // The options, before anything is loaded.
  if (quantizeOutput.empty())
    return reportError("give the quantized model's file with -o OUT.mlir");
  bool onnxOut = llvm::StringRef(quantizeOutput).ends_with(".onnx");
  if (onnxOut && bf16Precision())
    return reportError("-o " + quantizeOutput +
                       ": a bf16 model is written as Anvil IR (-o NAME.mlir), "
                       "whose matmuls carry the bf16 mark; ONNX has no such "
                       "mark");
  if (!onnxOut && !llvm::StringRef(quantizeOutput).ends_with(".mlir"))
    return reportError("-o " + quantizeOutput +
                       ": anvilc quantize writes Anvil IR (-o NAME.mlir) "
                       "or ONNX in the QDQ form (-o NAME.onnx)");
  if (int rc = checkQuantizeOptions())
    return rc;
  OwningOpRef<ModuleOp> module = loadModel(context);
  if (!module)
    return 1;
  auto emit = [&](OwningOpRef<ModuleOp> &int8, llvm::StringRef function) {
    if (onnxOut) {
      // QDQ: QuantizeLinear/DequantizeLinear around each int8 matmul's
      // activations, its weights an int8 initializer
      // (compiler/Onnx/Export.cpp). The f32 weights the int8 ones replaced are
      // left unread: not exported.
      int8->walk([](Operation *op) {
        if (isa<a::ParamOp, a::ConstantOp>(op) && op->use_empty())
          op->erase();
      });
      mlir::anvil::OnnxExport exported;
      if (std::string e = mlir::anvil::exportOnnx(*int8, function.str(), seed,
                                                  true, exported);
          !e.empty())
        return reportError(modelPath + ": the quantized model: " + e +
                           "\nnothing was written");
      writeAtomically(quantizeOutput, exported.model);
    } else {
      std::string text;
      llvm::raw_string_ostream printed(text);
      int8->print(printed);
      writeAtomically(quantizeOutput, printed.str());
    }
    return 0;
  };
  return quantizeModel(context, *module, "anvilc quantize", quantizeOutput,
                       emit, llvm::outs());
}
