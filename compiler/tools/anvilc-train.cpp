//===- anvilc-train.cpp - anvilc train ------------------------------------===//
//
// `anvilc train MODEL -o trainer`: checks the training options, chooses the
// starting values (--init-from, --reinit) and compiles @train_step and
// @eval_step into a trainer executable whose weights file also holds its
// defaults and the model's ONNX form (for its --export-onnx).
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Onnx/Export.h"
#include "runtime/CheckpointKeys.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace anvilc;

using mlir::anvil::TrainLoss;
using mlir::anvil::TrainOptimizer;

// `anvilc train`.
static cl::opt<std::string>
    trainOutput("o",
                cl::desc("The trainer executable (default: trainer); "
                         "its weights go to <trainer>.weights"),
                cl::value_desc("file"), cl::init("trainer"),
                cl::sub(trainCommand()), cl::cat(category()));
// Their cases come from passes/TrainOptions.h, as the pass's options' do.
static EnumOpt<TrainLoss>
    trainLoss("loss",
              cl::desc("The loss of @forward's result against the target "
                       "(default: the model's own @loss)"),
              mlir::anvil::trainLossCases(/*withModel=*/false),
              cl::init(TrainLoss::Model), cl::sub(trainCommand()),
              cl::cat(category()));
static EnumOpt<TrainOptimizer>
    optimizer("optimizer",
              cl::desc("The optimizer (default: sgd; Adam's betas are 0.9, "
                       "0.999, its epsilon 1e-8)"),
              mlir::anvil::trainOptimizerCases(), cl::init(TrainOptimizer::Sgd),
              cl::sub(trainCommand()), cl::cat(category()));
static cl::opt<double> trainLr("lr",
                               cl::desc("Learning rate (the trainer's "
                                        "default; its --lr overrides)"),
                               cl::init(0.05), cl::sub(trainCommand()),
                               cl::cat(category()));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum"),
                                cl::init(0.0), cl::sub(trainCommand()),
                                cl::cat(category()));
static cl::opt<bool> nesterov("nesterov", cl::desc("Nesterov momentum"),
                              cl::sub(trainCommand()), cl::cat(category()));
static cl::opt<double> weightDecay("weight-decay", cl::desc("L2 weight decay"),
                                   cl::init(0.0), cl::sub(trainCommand()),
                                   cl::cat(category()));
static cl::opt<double>
    clipNorm("clip-norm",
             cl::desc("Clip the gradients' global L2 norm to this (0: off)"),
             cl::init(0.0), cl::sub(trainCommand()), cl::cat(category()));
static cl::opt<std::string>
    freeze("freeze", cl::desc("Do not train parameters whose name matches"),
           cl::value_desc("regex"), cl::sub(trainCommand()),
           cl::cat(category()));
static cl::opt<double> bnMomentum(
    "bn-momentum",
    cl::desc("Weight of each batch's statistics in the running ones of a "
             "batch norm (PyTorch's momentum)"),
    cl::init(0.1), cl::sub(trainCommand()), cl::cat(category()));
static cl::opt<std::string>
    initFrom("init-from",
             cl::desc("Start from the parameters of a checkpoint or weights "
                      "file (names not in it keep their initializers)"),
             cl::value_desc("ckpt"), cl::sub(trainCommand()),
             cl::cat(category()));
static cl::opt<std::string> reinit(
    "reinit",
    cl::desc("With --init-from: initialize the parameters whose name matches "
             "afresh (from their initializers and --seed) instead of taking "
             "them and their optimizer state from the checkpoint"),
    cl::value_desc("regex"), cl::sub(trainCommand()), cl::cat(category()));

static cl::opt<bool> qat(
    "qat",
    cl::desc("Quantization-aware training: each matmul and one-group "
             "convolution reads its activations and weights through fake "
             "int8 quantization (straight-through gradients), its activation "
             "range calibrated first on --calibrate DATA with the starting "
             "parameters (give --init-from a float checkpoint) and kept in "
             "the checkpoint as <weight>.qat_range (a matmul with "
             "--per-channel: <weight>.qat_range_per_column), which anvilc "
             "quantize "
             "--weights CKPT then uses; --samples, --method, --percentile, "
             "--per-channel, --exclude, --split and --normalize as for anvilc "
             "quantize"),
    cl::sub(trainCommand()), cl::cat(category()));

int anvilc::trainMain(MLIRContext &context) {
  if (optimizer != TrainOptimizer::Sgd && (momentum != 0.0 || nesterov))
    return reportError("--momentum and --nesterov are for --optimizer sgd");
  // Values a step cannot use: the trainer would diverge or never learn.
  auto number = [](double v) { return llvm::formatv("{0}", v).str(); };
  if (!(trainLr > 0.0) || !std::isfinite(trainLr))
    return reportError("--lr must be a finite number > 0, not " +
                       number(trainLr));
  if (!(momentum >= 0.0 && momentum < 1.0))
    return reportError("--momentum must be in [0, 1), not " + number(momentum));
  if (!(clipNorm >= 0.0) || !std::isfinite(clipNorm))
    return reportError("--clip-norm must be >= 0 (0: off), not " +
                       number(clipNorm));
  if (!(weightDecay >= 0.0) || !std::isfinite(weightDecay))
    return reportError("--weight-decay must be >= 0, not " +
                       number(weightDecay));
  if (!(bnMomentum >= 0.0 && bnMomentum <= 1.0))
    return reportError("--bn-momentum must be in [0, 1], not " +
                       number(bnMomentum));
  if (!batchVariants().empty())
    return reportError("--batch: a trainer is compiled for one batch (its "
                       "step mixes the samples); give one size, not a list");
  if (qat) {
    if (initFrom.empty())
      return reportError("--qat calibrates the activation ranges with the "
                         "starting parameters: give --init-from a float "
                         "checkpoint (a model trained without --qat)");
    if (int rc = checkQuantizeOptions())
      return rc;
  } else if (quantizeOptionsGiven()) {
    return reportError("--calibrate, --samples, --method, --percentile, "
                       "--per-channel, --exclude, --split and --normalize go "
                       "with --qat");
  }
  OwningOpRef<ModuleOp> module = loadModel(context);
  if (!module)
    return 1;
  Job job;
  job.output = trainOutput;
  job.weightsPath = trainOutput + ".weights";
  job.mainLibrary = "AnvilTrainerMain";
  job.options.seed = seed;
  job.options.batch = batch();
  job.options.train = true;
  job.options.optimizer = optimizer;
  job.options.momentum = momentum;
  job.options.nesterov = nesterov;
  job.options.weightDecay = weightDecay;
  job.options.batchNormMomentum = bnMomentum;
  job.options.clipNorm = clipNorm;
  job.options.freeze = freeze;
  job.options.loss = trainLoss;
  if (!freeze.empty())
    if (auto matched =
            mlir::anvil::matchParams(*module, freeze, "--freeze", modelPath);
        !matched)
      return reportError(matched.takeError());
  if (!reinit.empty() && initFrom.empty())
    return reportError("--reinit chooses parameters not to take from "
                       "--init-from CKPT; give --init-from too");
  if (!initFrom.empty()) {
    auto initial =
        mlir::anvil::readInitialValues(*module, initFrom, reinit, modelPath);
    if (!initial)
      return reportError(initial.takeError());
    job.initial = std::move(*initial);
    job.initialPath = initFrom;
  }
  job.extras.push_back(
      ::anvil::scalarTensor(::anvil::keys::kLearningRate, double(trainLr)));
  // The trainer's --export-onnx: @forward without its parameter data (see
  // runtime/OnnxOut.h), or why it has no ONNX form.
  mlir::anvil::OnnxExport exported;
  std::string why =
      mlir::anvil::exportOnnx(*module, "forward", seed, false, exported);
  auto bytes = [](const std::string &name, const std::string &data) {
    ::anvil::NamedTensor t{
        {name, ::anvil::DType::U8, {static_cast<int64_t>(data.size())}},
        std::vector<char>(data.begin(), data.end())};
    return t;
  };
  if (why.empty()) {
    job.extras.push_back(bytes(::anvil::keys::kOnnxModel, exported.model));
    for (const auto &[name, header] : exported.initializerHeaders)
      job.extras.push_back(
          bytes(::anvil::keys::kOnnxInitPrefix + name, header));
  } else {
    job.extras.push_back(bytes(::anvil::keys::kOnnxError, why));
  }
  if (qat) {
    if (int rc = markQatLayers(*module, job.initial, llvm::outs()))
      return rc;
    job.options.qat = true;
    job.options.qatPerChannel = quantizePerChannel();
  }
  return compile(context, *module, std::move(job));
}
