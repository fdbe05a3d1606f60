//===- TrainerMain.cpp - main() of every trainer anvilc produces ----------===//
//
// Linked with a model object built by `anvilc train`, which provides
// @train_step(x, labels, lr) -> loss (forward, loss, backward and update in
// one call, parameters updated in place), @forward and @loss. Loads an
// MNIST-style dataset, runs epochs of shuffled batches (the last partial
// batch of an epoch is dropped: every step has the compiled batch size),
// evaluates on the test split after each epoch, and saves checkpoints.
//
// A checkpoint is a weights file (runtime/Weights.h) holding every stored
// parameter and optimizer state by name, plus `__epoch` and `__seed` (int64):
// the shuffling order of an epoch depends only on the seed and the epoch, so
// --resume continues exactly as if never interrupted.
//
//===----------------------------------------------------------------------===//

#include "runtime/Dataset.h"
#include "runtime/Error.h"
#include "runtime/Model.h"
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
  long epochs = 1;
  double lr = 0.05;
  std::string schedule = "constant";
  uint64_t seed = 0;
  std::string save, resume, reportJson, weights = anvil_model_weights_path;
  bool lrGiven = false;
};

/// splitmix64: a small, fully specified generator for the shuffles.
uint64_t splitmix(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The sample order of `epoch`: a Fisher-Yates shuffle seeded by the seed
/// and the epoch alone.
std::vector<int64_t> order(int64_t count, uint64_t seed, long epoch) {
  std::vector<int64_t> idx(count);
  for (int64_t i = 0; i < count; ++i)
    idx[i] = i;
  uint64_t state = seed * 0x100000001b3ULL ^ static_cast<uint64_t>(epoch);
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(idx[i], idx[splitmix(state) % (i + 1)]);
  return idx;
}

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
/// buffers.
void fillBatch(const Dataset &d, const std::vector<int64_t> &idx, int64_t first,
               int64_t batch, float *images, int64_t *labels) {
  for (int64_t b = 0; b < batch; ++b) {
    int64_t s = idx[first + b];
    std::memcpy(images + b * d.pixels, d.images.data() + s * d.pixels,
                d.pixels * sizeof(float));
    labels[b] = d.labels[s];
  }
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

/// Mean loss and accuracy over the whole batches of `d`, in order.
Evaluation evaluate(const Dataset &d, const Function &forward,
                    const Function &loss) {
  NpyArray x = allocate(forward.inputs[0]), y = allocate(forward.outputs[0]);
  NpyArray labels = allocate(loss.inputs[1]), l = allocate(loss.outputs[0]);
  int64_t batch = forward.inputs[0].shape[0];
  int64_t classes = forward.outputs[0].shape.back();
  std::vector<int64_t> idx(d.count);
  for (int64_t i = 0; i < d.count; ++i)
    idx[i] = i;
  std::vector<void *> fargs = {x.bytes.data(), y.bytes.data()};
  std::vector<void *> largs = {y.bytes.data(), labels.bytes.data(),
                               l.bytes.data()};
  Evaluation e;
  int64_t batches = d.count / batch, correct = 0;
  for (int64_t b = 0; b < batches; ++b) {
    fillBatch(d, idx, b * batch, batch,
              reinterpret_cast<float *>(x.bytes.data()),
              reinterpret_cast<int64_t *>(labels.bytes.data()));
    forward.call(fargs);
    loss.call(largs);
    e.loss += *reinterpret_cast<float *>(l.bytes.data());
    const float *logits = reinterpret_cast<const float *>(y.bytes.data());
    const int64_t *truth =
        reinterpret_cast<const int64_t *>(labels.bytes.data());
    for (int64_t i = 0; i < batch; ++i) {
      const float *row = logits + i * classes;
      correct += std::max_element(row, row + classes) - row == truth[i];
    }
  }
  e.loss /= std::max<int64_t>(batches, 1);
  e.accuracy = 100.0 * correct / std::max<int64_t>(batches * batch, 1);
  return e;
}

void usage(const char *argv0) {
  std::printf(
      "usage: %s [--data DIR] [--epochs N] [--lr X] "
      "[--lr-schedule constant|step|cosine]\n"
      "       [--seed S] [--save CKPT] [--resume CKPT] [--report-json FILE] "
      "[--threads N]\n\n"
      "Trains the compiled model on an MNIST-style dataset (IDX files, "
      "gzipped or\nnot; default %s). Each epoch visits the training set in "
      "a\nshuffled order (from --seed and the epoch) in whole batches; the "
      "last partial\nbatch is dropped. After each epoch: train loss, test "
      "loss and accuracy.\n\n"
      "  --lr X          learning rate (default: anvilc train --lr)\n"
      "  --save CKPT     write the parameters, optimizer state and epoch "
      "after each\n                  epoch (atomically)\n"
      "  --resume CKPT   continue from a checkpoint, exactly as if never "
      "stopped\n"
      "  --weights FILE  initial parameters (default: the file anvilc wrote)\n",
      argv0, Options().data.c_str());
}

int run(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw Error(arg + " needs a value; see --help");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else if (arg == "--data")
      o.data = value();
    else if (arg == "--epochs")
      o.epochs = std::atol(value().c_str());
    else if (arg == "--lr") {
      o.lr = std::atof(value().c_str());
      o.lrGiven = true;
    } else if (arg == "--lr-schedule")
      o.schedule = value();
    else if (arg == "--seed")
      o.seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--save")
      o.save = value();
    else if (arg == "--resume")
      o.resume = value();
    else if (arg == "--report-json")
      o.reportJson = value();
    else if (arg == "--weights")
      o.weights = value();
    else if (arg == "--threads")
      omp_set_num_threads(std::atoi(value().c_str()));
    else
      throw Error("unknown argument '" + arg + "'; see --help");
  }
  if (o.schedule != "constant" && o.schedule != "step" &&
      o.schedule != "cosine")
    throw Error("--lr-schedule must be constant, step or cosine");
  if (o.epochs < 1)
    throw Error("--epochs needs a positive number");

  Function step = lookupFunction("train_step");
  Function forward = lookupFunction("forward");
  Function loss = lookupFunction("loss");
  const TensorSpec &input = step.inputs[0];
  int64_t batch = input.shape[0];
  Dataset train = loadIdxDataset(o.data, "train");
  Dataset test = loadIdxDataset(o.data, "t10k");
  if (input.numElements() / batch != train.pixels)
    throw Error(o.data + ": images have " + std::to_string(train.pixels) +
                " pixels, but the model takes " + input.text +
                " (batch, then one image)");

  long firstEpoch = 0;
  loadWeights(o.weights);
  // anvilc train --lr is the default.
  for (const NamedTensor &t : readWeights(o.weights))
    if (t.name == "__lr" && !o.lrGiven && t.bytes.size() == sizeof(double))
      std::memcpy(&o.lr, t.bytes.data(), sizeof(double));
  if (!o.resume.empty()) {
    loadWeights(o.resume);
    for (const NamedTensor &t : readWeights(o.resume)) {
      int64_t v = 0;
      if (t.bytes.size() == sizeof(v))
        std::memcpy(&v, t.bytes.data(), sizeof(v));
      if (t.name == "__epoch")
        firstEpoch = v;
      else if (t.name == "__seed" && static_cast<uint64_t>(v) != o.seed)
        throw Error(o.resume + ": was saved with --seed " + std::to_string(v) +
                    "; resume with the same seed to continue exactly");
    }
  }

  NpyArray x = allocate(input), labels = allocate(step.inputs[1]);
  NpyArray lr = allocate(step.inputs[2]), l = allocate(step.outputs[0]);
  std::vector<void *> args = {x.bytes.data(), labels.bytes.data(),
                              lr.bytes.data(), l.bytes.data()};
  int64_t steps = train.count / batch;
  bool tty = isatty(fileno(stdout));
  std::string report = "[";
  std::printf("training on %lld images (%lld steps of %lld per epoch; the "
              "last %lld dropped), testing on %lld\n",
              static_cast<long long>(train.count),
              static_cast<long long>(steps), static_cast<long long>(batch),
              static_cast<long long>(train.count - steps * batch),
              static_cast<long long>(test.count));
  for (long epoch = firstEpoch; epoch < o.epochs; ++epoch) {
    *reinterpret_cast<float *>(lr.bytes.data()) =
        static_cast<float>(learningRate(o, epoch));
    std::vector<int64_t> idx = order(train.count, o.seed, epoch);
    auto start = std::chrono::steady_clock::now();
    double total = 0;
    for (int64_t s = 0; s < steps; ++s) {
      fillBatch(train, idx, s * batch, batch,
                reinterpret_cast<float *>(x.bytes.data()),
                reinterpret_cast<int64_t *>(labels.bytes.data()));
      step.call(args);
      float value = *reinterpret_cast<float *>(l.bytes.data());
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
                    static_cast<long long>(s + 1),
                    static_cast<long long>(steps), total / (s + 1), rate,
                    (steps - s - 1) * batch / rate, tty ? "  " : "\n");
        std::fflush(stdout);
      }
    }
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    Evaluation e = evaluate(test, forward, loss);
    double trainLoss = total / steps, rate = steps * batch / secs;
    std::printf("%sepoch %ld: train loss %.4f, test loss %.4f, test "
                "accuracy %.2f%%, %.2f s (%.0f img/s)\n",
                tty ? "\n" : "", epoch + 1, trainLoss, e.loss, e.accuracy, secs,
                rate);
    char entry[256];
    std::snprintf(entry, sizeof(entry),
                  "%s\n  {\"epoch\": %ld, \"seconds\": %.4f, \"train_loss\": "
                  "%.6f, \"test_loss\": %.6f, \"test_accuracy\": %.4f, "
                  "\"images_per_second\": %.1f}",
                  epoch == firstEpoch ? "" : ",", epoch + 1, secs, trainLoss,
                  e.loss, e.accuracy, rate);
    report += entry;
    if (!o.save.empty()) {
      std::vector<NamedTensor> ckpt;
      for (auto &[name, bytes] : storedParameters())
        ckpt.push_back({name, bytes});
      auto scalar = [](const std::string &name, int64_t v) {
        NamedTensor t{name, std::vector<char>(sizeof(v))};
        std::memcpy(t.bytes.data(), &v, sizeof(v));
        return t;
      };
      ckpt.push_back(scalar("__epoch", epoch + 1));
      ckpt.push_back(scalar("__seed", static_cast<int64_t>(o.seed)));
      writeWeights(o.save, ckpt);
    }
  }
  if (!o.reportJson.empty())
    writeFileAtomically(o.reportJson, report + "\n]\n");
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const Error &e) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
    return 1;
  }
}
