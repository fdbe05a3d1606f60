//===- TrainerMain.cpp - main() of every trainer anvilc produces ----------===//
//
// Linked with a model object built by `anvilc train`, which provides
// @train_step(x, target, lr) -> loss (forward, loss, backward and update in
// one call, parameters updated in place) and @eval_step(x, target) -> (loss,
// predicted classes). Loads a classification dataset (IDX, CSV or NPY; see
// runtime/Dataset.h) and normalizes it, runs epochs of shuffled batches (the
// last partial batch of an epoch is dropped: every step has the compiled
// batch size), evaluates every sample of the test set after each epoch with
// @eval_step, and saves checkpoints. Every output (--save, --report-json,
// --export-onnx) is checked to be writable before training starts. The target
// is the labels (i64[batch]) or, for an mse loss, their one-hot rows
// (float[batch, classes]).
//
// A checkpoint is a weights file (runtime/Weights.h) holding every stored
// parameter and optimizer state by name and type, plus `__epoch` and
// `__seed` (i64 scalars): the shuffling order of an epoch depends only on
// the seed and the epoch (the generator's whole state), so --resume
// continues exactly as if never interrupted.
//
//===----------------------------------------------------------------------===//

#include "runtime/Args.h"
#include "runtime/CheckpointKeys.h"
#include "runtime/Dataset.h"
#include "runtime/Error.h"
#include "runtime/File.h"
#include "runtime/Hash.h"
#include "runtime/Model.h"
#include "runtime/OnnxOut.h"
#include "runtime/Weights.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace anvil;

namespace {

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string trainData, trainLabels, testData, testLabels;
  std::string normalize; // unit, mean-std, none; "": by the data
  double mean = 0, std = 1;
  long epochs = 1;
  double lr = 0.05;
  std::string schedule = "constant";
  uint64_t seed = 0;
  /// The trainer's own weights file (initial values, __lr, __onnx.*; see
  /// CheckpointKeys.h).
  std::string trainerFile = besideExecutable(anvil_model_weights_path);
  std::string save, resume, reportJson, weights = trainerFile;
  std::string exportOnnx;
  long batch = 0;                       // checked against the compiled batch
  std::optional<WaitPolicy> waitPolicy; // --wait-policy, if given
  bool lrGiven = false, dataGiven = false, meanGiven = false, stdGiven = false;
};

/// The sample order of `epoch`: a Fisher-Yates shuffle (splitmix64) seeded
/// by the seed and the epoch alone.
std::vector<int64_t> order(int64_t count, uint64_t seed, long epoch) {
  std::vector<int64_t> idx(count);
  for (int64_t i = 0; i < count; ++i)
    idx[i] = i;
  uint64_t state = seed * kFnvPrime ^ static_cast<uint64_t>(epoch);
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(idx[i], idx[splitMix64(state) % (i + 1)]);
  return idx;
}

/// The learning rate of `epoch` under --lr-schedule.
double learningRate(const Options &o, long epoch) {
  if (o.schedule == "step") // x0.1 at 1/2 and 3/4 of training
    return o.lr * (epoch >= o.epochs * 3 / 4 ? 0.01
                   : epoch >= o.epochs / 2   ? 0.1
                                             : 1.0);
  if (o.schedule == "cosine")
    return o.lr * 0.5 * (1 + std::cos(M_PI * epoch / o.epochs));
  return o.lr;
}

/// Copies the samples `idx[first..first+batch)` into the model's input
/// buffer and their labels into its target buffer: labels as they are
/// (i64[batch]), or one-hot rows (f32 or f64 [batch, classes]).
void fillBatch(const Dataset &d, const std::vector<int64_t> &idx, int64_t first,
               int64_t batch, NpyArray &x, NpyArray &target) {
  float *values = reinterpret_cast<float *>(x.bytes.data());
  if (target.dtype != DType::I64)
    std::fill(target.bytes.begin(), target.bytes.end(), 0);
  int64_t classes = target.shape.size() == 2 ? target.shape[1] : 0;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t s = idx[first + b];
    std::memcpy(values + b * d.features, d.values.data() + s * d.features,
                d.features * sizeof(float));
    int64_t l = d.labels[s];
    if (target.dtype == DType::I64)
      reinterpret_cast<int64_t *>(target.bytes.data())[b] = l;
    else if (target.dtype == DType::F32)
      reinterpret_cast<float *>(target.bytes.data())[b * classes + l] = 1;
    else
      reinterpret_cast<double *>(target.bytes.data())[b * classes + l] = 1;
  }
}

/// The mean loss and the accuracy (%) over a dataset.
struct Evaluation {
  double loss = 0, accuracy = 0;
};

/// Mean loss and accuracy of @eval_step over every sample of `d`, in order.
/// A last partial batch is padded with copies of its first sample, whose
/// predictions are not counted; their share of that batch's loss is taken
/// out with one more call on a batch of nothing but that sample. This is
/// exact for any loss that sums or averages per-sample terms (every loss
/// anvilc train builds): with c_i the loss of a batch of copies of sample i,
/// a batch's loss is the mean of its c_i.
Evaluation evaluate(const Dataset &d, const Function &eval) {
  NpyArray x = allocate(eval.inputs[0]), target = allocate(eval.inputs[1]);
  NpyArray l = allocate(eval.outputs[0]), classes = allocate(eval.outputs[1]);
  int64_t batch = eval.inputs[0].shape[0];
  std::vector<int64_t> idx(batch);
  std::vector<void *> args = {x.bytes.data(), target.bytes.data(),
                              l.bytes.data(), classes.bytes.data()};
  auto call = [&]() -> double {
    fillBatch(d, idx, 0, batch, x, target);
    eval.call(args);
    return *reinterpret_cast<float *>(l.bytes.data());
  };
  const int64_t *predicted =
      reinterpret_cast<const int64_t *>(classes.bytes.data());
  double sum = 0; // of the c_i
  int64_t correct = 0;
  for (int64_t first = 0; first < d.count; first += batch) {
    int64_t real = std::min(batch, d.count - first);
    for (int64_t i = 0; i < batch; ++i)
      idx[i] = first + (i < real ? i : 0);
    sum += batch * call();
    for (int64_t i = 0; i < real; ++i)
      correct += predicted[i] == d.labels[first + i];
    if (real < batch) {
      std::fill(idx.begin(), idx.end(), first);
      sum -= (batch - real) * call();
    }
  }
  Evaluation e;
  e.loss = sum / std::max<int64_t>(d.count, 1);
  e.accuracy = 100.0 * correct / std::max<int64_t>(d.count, 1);
  return e;
}

/// Whether `path` ends with `suffix`.
bool endsWith(const std::string &path, const std::string &suffix) {
  return path.size() >= suffix.size() &&
         path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Loads --train-data/--test-data FILE: .csv (labels inside) or .npy (with
/// the labels in `labels`).
Dataset loadFile(const std::string &path, const std::string &labels,
                 const std::string &labelsFlag) {
  if (endsWith(path, ".csv") || endsWith(path, ".csv.gz")) {
    if (!labels.empty())
      throw Error(labelsFlag + " is for .npy data; " + path +
                  " has its labels in its first column");
    return loadCsvDataset(path);
  }
  if (endsWith(path, ".npy")) {
    if (labels.empty())
      throw Error(path + ": .npy data needs its labels too: " + labelsFlag +
                  " LABELS.npy");
    return loadNpyDataset(path, labels);
  }
  throw Error(path +
              ": unknown dataset format; give a .csv file (the label, "
              "then the features, per line) or a .npy file of samples "
              "with " +
              labelsFlag + " LABELS.npy");
}

/// Prints --help.
void usage(const char *argv0) {
  std::printf(
      "usage: %s [--data DIR | --train-data FILE --test-data FILE] "
      "[--epochs N] [--lr X]\n"
      "       [--lr-schedule constant|step|cosine] [--seed S] [--save CKPT] "
      "[--resume CKPT]\n"
      "       [--normalize unit|mean-std|none] [--mean M --std S] "
      "[--report-json FILE] [--threads N]\n"
      "       [--wait-policy auto|spin|sleep]\n\n"
      "Trains the compiled model on a classification dataset. Each epoch "
      "visits the\ntraining set in a shuffled order (from --seed and the "
      "epoch) in whole batches;\nthe last partial batch is dropped. After "
      "each epoch: train loss, and the loss\nand accuracy over every test "
      "sample.\n\n"
      "  --epochs N        epochs to train (1 or more; default 1)\n"
      "  --seed S          the shuffling seed (0 or more; default 0)\n"
      "  --threads N       threads for parallel loops (default: all cores, "
      "or\n                    OMP_NUM_THREADS)\n"
      "%s"
      "  --data DIR        an MNIST-style IDX dataset: "
      "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]\n"
      "                    (default %s)\n"
      "  --train-data FILE, --test-data FILE\n"
      "                    .csv: per line the label, then the features "
      "(a header line is\n                    skipped; .csv.gz too); or "
      ".npy samples [N, ...] with\n"
      "  --train-labels FILE, --test-labels FILE   .npy integer labels [N]\n"
      "  --normalize HOW   unit: x/255 (the default for 8-bit data: IDX, "
      "uint8 .npy, CSV of\n                    integers 0..255); mean-std: "
      "(x - mean)/std with the training\n                    set's mean and "
      "std, or --mean M --std S; none (the default\n                    "
      "otherwise)\n"
      "  --batch N         the batch anvilc train compiled in (checked; "
      "--batch there\n                    chooses it)\n"
      "  --lr X            learning rate, > 0 (default: anvilc train --lr)\n"
      "  --save CKPT       write the parameters, optimizer state and epoch "
      "after each\n                    epoch (atomically)\n"
      "  --report-json F   the loss, accuracy and speed of every epoch so "
      "far, rewritten\n                    (atomically) after each epoch\n"
      "  --resume CKPT     continue from a checkpoint, exactly as if never "
      "stopped\n"
      "  --weights FILE    initial parameters (default: the trainer's own "
      "weights file: the\n                    one beside it with the name "
      "anvilc gave it, else where anvilc\n                    wrote it)\n"
      "  --export-onnx F   after training, write the model with the trained "
      "weights as ONNX\n",
      argv0, waitPolicyHelp(20).c_str(), Options().data.c_str());
}

/// Reads the command line into `o`; false if it only asked for --help.
bool parseArguments(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw Error(arg + " needs a value; see --help");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return false;
    } else if (arg == "--data") {
      o.data = value();
      o.dataGiven = true;
    } else if (arg == "--train-data")
      o.trainData = value();
    else if (arg == "--train-labels")
      o.trainLabels = value();
    else if (arg == "--test-data")
      o.testData = value();
    else if (arg == "--test-labels")
      o.testLabels = value();
    else if (arg == "--batch")
      o.batch = parseInteger(arg, value(), 1);
    else if (arg == "--normalize")
      o.normalize = value();
    else if (arg == "--mean") {
      o.mean = parseReal(arg, value());
      o.meanGiven = true;
    } else if (arg == "--std") {
      o.std = parseReal(arg, value(), /*positive=*/true);
      o.stdGiven = true;
    } else if (arg == "--epochs")
      o.epochs = parseInteger(arg, value(), 1);
    else if (arg == "--lr") {
      o.lr = parseReal(arg, value(), /*positive=*/true);
      o.lrGiven = true;
    } else if (arg == "--lr-schedule")
      o.schedule = value();
    else if (arg == "--seed")
      o.seed = parseInteger(arg, value(), 0);
    else if (arg == "--save")
      o.save = value();
    else if (arg == "--resume")
      o.resume = value();
    else if (arg == "--export-onnx")
      o.exportOnnx = value();
    else if (arg == "--report-json")
      o.reportJson = value();
    else if (arg == "--weights")
      o.weights = value();
    else if (arg == "--threads")
      omp_set_num_threads(parseInteger(arg, value(), 1, kMaxThreads));
    else if (arg == "--wait-policy")
      o.waitPolicy = parseWaitPolicy(arg, value());
    else
      throw Error("unknown argument '" + arg + "'; see --help");
  }
  return true;
}

/// Checks the options that depend on each other, and that every output can
/// be written (now, not after hours of training).
void checkOptions(Options &o) {
  if (o.schedule != "constant" && o.schedule != "step" &&
      o.schedule != "cosine")
    throw Error("--lr-schedule must be constant, step or cosine");

  if (o.normalize != "" && o.normalize != "unit" && o.normalize != "mean-std" &&
      o.normalize != "none")
    throw Error("--normalize must be unit, mean-std or none");
  if (o.meanGiven != o.stdGiven)
    throw Error("--mean and --std go together");
  if (o.meanGiven && o.normalize.empty())
    o.normalize = "mean-std";
  if (o.meanGiven && o.normalize != "mean-std")
    throw Error("--mean and --std are for --normalize mean-std");
  for (auto [option, path] : {std::pair{"--save", o.save},
                              {"--report-json", o.reportJson},
                              {"--export-onnx", o.exportOnnx}}) {
    if (path.empty())
      continue;
    if (samePath(path, o.trainerFile))
      throw Error(std::string(option) + ": " + path +
                  " is this trainer's own weights file (its initial "
                  "values and settings); give another file name");
    checkWritable(option, path);
  }
}

/// The compiled entry points, and the batch and classes they work on.
struct Model {
  Function step, eval;
  int64_t batch = 0, classes = 0;
};

/// Looks up @train_step, @eval_step and @forward, and checks that they
/// classify, at the batch --batch asks for.
Model checkModel(const Options &o) {
  Model m{lookupFunction("train_step"), lookupFunction("eval_step")};
  const TensorSpec &input = m.step.inputs[0], &target = m.step.inputs[1];
  Function forward = lookupFunction("forward");
  const TensorSpec &scores = forward.outputs[0];
  m.batch = input.shape[0];
  if (o.batch != 0 && o.batch != m.batch)
    throw Error("this trainer was compiled for batch " +
                std::to_string(m.batch) +
                "; compile another with anvilc train "
                "--batch " +
                std::to_string(o.batch));
  if (input.dtype != DType::F32 || m.eval.outputs.size() != 2 ||
      scores.shape.size() != 2)
    throw Error("this trainer classifies: the model must take f32 samples "
                "and @forward return [batch, classes] scores (it maps " +
                input.typeText() + " to " + scores.typeText() + ")");
  m.classes = scores.shape[1];
  bool oneHot = (target.dtype == DType::F32 || target.dtype == DType::F64) &&
                target.shape == scores.shape;
  if (!oneHot && (target.dtype != DType::I64 || target.shape.size() != 1))
    throw Error("the loss's target is " + target.typeText() +
                "; the trainer gives labels (i64[batch]) or their one-hot "
                "rows (" +
                scores.typeText() + ")");
  return m;
}

/// Loads the training and test sets the options name, and checks that their
/// samples and labels fit the model.
void loadDatasets(const Options &o, const Model &m, Dataset &train,
                  Dataset &test) {
  if (!o.trainData.empty() || !o.testData.empty()) {
    if (o.trainData.empty() || o.testData.empty())
      throw Error("give both --train-data and --test-data");
    if (o.dataGiven)
      throw Error("--data DIR (IDX files) and --train-data/--test-data "
                  "FILE exclude each other");
    train = loadFile(o.trainData, o.trainLabels, "--train-labels");
    test = loadFile(o.testData, o.testLabels, "--test-labels");
  } else {
    if (!o.trainLabels.empty() || !o.testLabels.empty())
      throw Error("--train-labels and --test-labels go with --train-data "
                  "and --test-data");
    train = loadIdxDataset(o.data, "train");
    test = loadIdxDataset(o.data, "t10k");
  }
  const TensorSpec &input = m.step.inputs[0];
  for (const Dataset *d : {&train, &test}) {
    if (d->count == 0)
      throw Error(d->source + ": holds no samples");
    if (input.numElements() / m.batch != d->features)
      throw Error(d->source + ": samples have " + std::to_string(d->features) +
                  " features, but the model takes " + input.typeText() +
                  " (the batch, then one sample of " +
                  std::to_string(input.numElements() / m.batch) + ")");
    for (int64_t i = 0; i < d->count; ++i)
      if (d->labels[i] >= m.classes)
        throw Error(d->source + ": sample " + std::to_string(i) +
                    " has label " + std::to_string(d->labels[i]) +
                    ", but the model has " + std::to_string(m.classes) +
                    " classes (labels 0.." + std::to_string(m.classes - 1) +
                    ")");
  }
  if (train.count < m.batch)
    throw Error(train.source + ": holds " + std::to_string(train.count) +
                " samples, fewer than one batch of " + std::to_string(m.batch));
}

/// Normalizes both sets as --normalize says; the test set is scaled as the
/// training set is.
void normalizeDatasets(const Options &o, Dataset &train, Dataset &test) {
  Normalization how = o.normalize == "mean-std" ? Normalization::MeanStd
                      : o.normalize == "none"   ? Normalization::None
                      : o.normalize == "unit" || train.eightBit
                          ? Normalization::Unit
                          : Normalization::None;
  double mean = o.mean, std = o.std;
  if (how == Normalization::MeanStd && !o.meanGiven)
    meanAndStd(train, mean, std);
  normalize(train, how, mean, std);
  normalize(test, how, mean, std);
  if (how == Normalization::MeanStd)
    std::printf("normalizing to (x - %.6g) / %.6g\n", mean, std);
}

/// Loads the starting parameters (--weights) and returns the trainer's own
/// weights file's settings when needed: anvilc train's --lr (the default,
/// put in `o.lr`) and the ONNX form of the model (checked to exist).
std::vector<NamedTensor> loadSettings(Options &o) {
  loadWeights(o.weights);
  std::vector<NamedTensor> settings;
  if (!o.lrGiven || !o.exportOnnx.empty())
    settings = readWeights(o.trainerFile);
  for (const NamedTensor &t : settings)
    if (t.name == keys::kLearningRate && !o.lrGiven && t.dtype == DType::F64 &&
        t.shape.empty())
      std::memcpy(&o.lr, t.bytes.data(), sizeof(double));
  if (!o.exportOnnx.empty())
    onnxModel(settings, storedParameters()); // throws if there is none
  return settings;
}

/// Loads --resume's parameters and optimizer state; returns the epochs it
/// has done (0 without --resume). Its seed must be --seed.
long resume(const Options &o) {
  long firstEpoch = 0;
  if (o.resume.empty())
    return firstEpoch;
  loadWeights(o.resume);
  for (const NamedTensor &t : readWeights(o.resume)) {
    int64_t v = 0;
    bool isInt = t.dtype == DType::I64 && t.shape.empty();
    if (isInt)
      std::memcpy(&v, t.bytes.data(), sizeof(v));
    if ((t.name == keys::kEpoch || t.name == keys::kSeed) && !isInt)
      throw Error(o.resume + ": '" + t.name + "' is " + t.typeText() +
                  ", not an i64 scalar; is it a checkpoint of a trainer?");
    if (t.name == keys::kEpoch)
      firstEpoch = v;
    else if (t.name == keys::kSeed && static_cast<uint64_t>(v) != o.seed)
      throw Error(o.resume + ": was saved with --seed " + std::to_string(v) +
                  "; resume with the same seed to continue exactly");
  }
  return firstEpoch;
}

/// The buffers @train_step reads and writes, and its argument list.
struct StepBuffers {
  explicit StepBuffers(const Function &step)
      : x(allocate(step.inputs[0])), labels(allocate(step.inputs[1])),
        lr(allocate(step.inputs[2])),
        l(allocate(step.outputs[0])), args{x.bytes.data(), labels.bytes.data(),
                                           lr.bytes.data(), l.bytes.data()} {}
  NpyArray x, labels, lr, l;
  std::vector<void *> args;
};

/// Runs the steps of `epoch` over `train` in its shuffled order, printing
/// progress; returns the mean training loss, and the seconds in `secs`.
double trainEpoch(const Options &o, const Model &m, const Dataset &train,
                  long epoch, StepBuffers &buffers, bool tty, double &secs) {
  int64_t batch = m.batch, steps = train.count / batch;
  *reinterpret_cast<float *>(buffers.lr.bytes.data()) =
      static_cast<float>(learningRate(o, epoch));
  std::vector<int64_t> idx = order(train.count, o.seed, epoch);
  auto start = std::chrono::steady_clock::now();
  double total = 0;
  for (int64_t s = 0; s < steps; ++s) {
    fillBatch(train, idx, s * batch, batch, buffers.x, buffers.labels);
    m.step.call(buffers.args);
    float value = *reinterpret_cast<float *>(buffers.l.bytes.data());
    if (!std::isfinite(value))
      throw Error("the loss became " + std::to_string(value) + " at epoch " +
                  std::to_string(epoch + 1) + ", step " +
                  std::to_string(s + 1) + "; lower --lr");
    total += value;
    bool show = tty ? (s % 20 == 0 || s + 1 == steps)
                    : ((s + 1) % std::max<int64_t>(steps / 4, 1) == 0);
    if (show) {
      double secs = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
      double rate = (s + 1) * batch / std::max(secs, 1e-9);
      std::printf("%sepoch %ld/%ld step %lld/%lld loss %.4f %.0f img/s "
                  "ETA %.1fs%s",
                  tty ? "\r" : "", epoch + 1, o.epochs,
                  static_cast<long long>(s + 1), static_cast<long long>(steps),
                  total / (s + 1), rate, (steps - s - 1) * batch / rate,
                  tty ? "  " : "\n");
      std::fflush(stdout);
    }
  }
  secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
             .count();
  return total / steps;
}

/// Prints the result of `epoch` and returns its --report-json entry.
std::string reportEpoch(long epoch, bool first, double trainLoss,
                        const Evaluation &e, double secs, double rate,
                        bool tty) {
  std::printf("%sepoch %ld: train loss %.4f, test loss %.4f, test "
              "accuracy %.2f%%, %.2f s (%.0f img/s)\n",
              tty ? "\n" : "", epoch + 1, trainLoss, e.loss, e.accuracy, secs,
              rate);
  char entry[256];
  std::snprintf(entry, sizeof(entry),
                "%s\n  {\"epoch\": %ld, \"seconds\": %.4f, \"train_loss\": "
                "%.6f, \"test_loss\": %.6f, \"test_accuracy\": %.4f, "
                "\"images_per_second\": %.1f}",
                first ? "" : ",", epoch + 1, secs, trainLoss, e.loss,
                e.accuracy, rate);
  return entry;
}

/// Writes the --save checkpoint after `epochsDone` epochs: the stored
/// parameters and optimizer state, the epoch and the seed.
void saveCheckpoint(const Options &o, long epochsDone) {
  std::vector<NamedTensor> ckpt = storedParameters();
  ckpt.push_back(scalarTensor(keys::kEpoch, int64_t(epochsDone)));
  ckpt.push_back(scalarTensor(keys::kSeed, static_cast<int64_t>(o.seed)));
  writeWeights(o.save, ckpt);
}

/// The trainer: options, model and data checks, then the epochs.
int run(int argc, char **argv) {
  Options o;
  if (!parseArguments(argc, argv, o))
    return 0;
  checkOptions(o);
  setWaitPolicy(o.waitPolicy);
  Model m = checkModel(o);
  Dataset train, test;
  loadDatasets(o, m, train, test);
  normalizeDatasets(o, train, test);
  std::vector<NamedTensor> settings = loadSettings(o);
  long firstEpoch = resume(o);

  StepBuffers buffers(m.step);
  int64_t steps = train.count / m.batch;
  bool tty = isatty(fileno(stdout));
  std::string report = "[";
  std::printf("training on %lld samples (%lld steps of %lld per epoch; the "
              "last %lld of each shuffled epoch left out), testing on %lld\n",
              static_cast<long long>(train.count),
              static_cast<long long>(steps), static_cast<long long>(m.batch),
              static_cast<long long>(train.count - steps * m.batch),
              static_cast<long long>(test.count));
  if (!o.reportJson.empty()) // to watch from the start
    writeFileAtomically(o.reportJson, "[\n]\n");
  for (long epoch = firstEpoch; epoch < o.epochs; ++epoch) {
    double secs = 0;
    double trainLoss = trainEpoch(o, m, train, epoch, buffers, tty, secs);
    Evaluation e = evaluate(test, m.eval);
    double rate = steps * m.batch / secs;
    report +=
        reportEpoch(epoch, epoch == firstEpoch, trainLoss, e, secs, rate, tty);
    if (!o.reportJson.empty())
      writeFileAtomically(o.reportJson, report + "\n]\n");
    if (!o.save.empty())
      saveCheckpoint(o, epoch + 1);
  }
  if (!o.exportOnnx.empty()) {
    writeFileAtomically(o.exportOnnx, onnxModel(settings, storedParameters()));
    std::printf("wrote %s\n", o.exportOnnx.c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  preferSleepingThreads();
  try {
    return run(argc, argv);
  } catch (const Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
    return 1;
  }
}
