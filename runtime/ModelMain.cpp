//===- ModelMain.cpp - main() of every executable anvilc produces ---------===//
//
// Linked with a compiled model's object file, which provides the table
// `anvil_model_functions` (name, signature, bare-pointer function, batch,
// variant_of). Runs one function on .npy inputs and writes .npy outputs, or
// times it with --bench. Inputs are checked against the signature (dtype and
// shape) before the call; a function that keeps its samples apart takes any
// number of samples and runs them in chunks of its compiled batch, or, with
// variants for other batches (anvilc --batch 1,64), in the mix of chunks that
// planChunks (Chunks.h) finds cheapest by the variants' call times, measured
// once per process when the choice needs them. Outputs are written
// atomically. A model compiled with
// --weights-file loads its weights file (the one beside the executable with
// the recorded name, else the recorded path, or --weights); one compiled
// with its weights built in refuses --weights.
//
//===----------------------------------------------------------------------===//

#include "runtime/Args.h"
#include "runtime/Chunks.h"
#include "runtime/Error.h"
#include "runtime/File.h"
#include "runtime/Model.h"
#include "runtime/Npy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using namespace anvil;

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void usage(const char *argv0) {
  std::printf(
      "usage: %s [--function NAME] [--threads N] [--wait-policy P] --input "
      "x.npy ... --output "
      "y.npy ...\n"
      "       %s [--function NAME] [--threads N] [--wait-policy P] --bench "
      "N [--samples S]\n"
      "       %s --list\n\n"
      "Runs a model compiled by anvilc. Inputs are .npy files, one per "
      "argument in\norder, with exactly the dtype and shape the function "
      "takes (see --list);\neach result is written to the matching --output "
      "file. A function that keeps\nthe samples of its batch apart (--list "
      "says 'any number of samples') takes\nany number N of samples along "
      "the leading dimension, the same N for every\ninput, and runs them in "
      "chunks of its compiled batch. A model compiled for\nseveral batches "
      "(anvilc --batch 1,64) has a variant of the function per batch\n(see "
      "--list); each call covers its samples with the mix of chunks that "
      "takes\nleast time, by the variants' call times (measured once per "
      "process when the\nchoice depends on them).\n\n"
      "  --function NAME  function to run (default: forward, or the only "
      "one)\n"
      "  --threads N      threads for parallel loops (default: all cores, "
      "or\n                   OMP_NUM_THREADS)\n"
      "%s"
      "  --bench N        run N times on zero inputs; print latency "
      "(median/min/max)\n                   and throughput\n"
      "  --samples S      with --bench: S samples per call (default: the "
      "compiled batch);\n                   it says which chunks ran\n"
      "  --variant B      run the chunks of the variant compiled for batch B "
      "only, for\n                   comparison (default: the cheapest mix)\n"
      "  --weights FILE   the weights file of a model compiled with "
      "--weights-file\n                   (default: the file of that name "
      "beside the executable, else\n                   the path given "
      "then); refused when the weights are built in\n"
      "  --list           print the functions and their signatures\n",
      argv0, argv0, argv0, waitPolicyHelp(19).c_str());
}

/// "f32[N, 1, 28, 28]": what `spec` takes with any number N of samples.
std::string anySamples(const TensorSpec &spec) {
  std::string s = std::string(dtypeName(spec.dtype)) + "[N";
  for (size_t i = 1; i < spec.shape.size(); ++i)
    s += ", " + std::to_string(spec.shape[i]);
  return s + "]";
}

/// The number of samples the inputs hold. An input either matches its
/// signature exactly or, when the function keeps its samples apart (it has
/// a batch B), differs only in its leading dimension, the same for every
/// input. Throws an Error naming the file otherwise.
int64_t countSamples(const Function &fn, const std::string &function,
                     const std::vector<std::string> &paths,
                     const std::vector<NpyArray> &args) {
  int64_t batch = fn.entry->batch;
  std::optional<int64_t> samples;
  for (size_t i = 0; i < args.size(); ++i) {
    const NpyArray &a = args[i];
    const TensorSpec &spec = fn.inputs[i];
    bool sameRank = a.dtype == spec.dtype && !spec.shape.empty() &&
                    a.shape.size() == spec.shape.size();
    bool exact = a.dtype == spec.dtype && a.shape == spec.shape;
    bool chunkable =
        batch > 0 && sameRank &&
        std::equal(a.shape.begin() + 1, a.shape.end(), spec.shape.begin() + 1);
    if (!exact && !chunkable) {
      std::string hint = "save an array of that shape and dtype";
      if (batch == 0 && sameRank && a.shape[0] != spec.shape[0])
        hint += " (" + function +
                " does not keep the samples of its batch apart, so it "
                "takes exactly " +
                std::to_string(spec.shape[0]) +
                "; compile the model with --batch " +
                std::to_string(a.shape[0]) + " for " +
                std::to_string(a.shape[0]) + ")";
      throw Error(paths[i] + ": holds a " + dtypeName(a.dtype) +
                  " array of shape " + shapeText(a.shape) + ", but input " +
                  std::to_string(i) + " of " + function + " is " +
                  spec.typeText() +
                  (batch > 0 ? " or " + anySamples(spec) : "") + "; " + hint);
    }
    if (batch == 0)
      continue;
    if (samples && *samples != a.shape[0])
      throw Error(paths[i] + ": holds " + std::to_string(a.shape[0]) +
                  " samples, but " + paths[0] + " holds " +
                  std::to_string(*samples) +
                  "; every input needs the same number of samples");
    samples = a.shape[0];
  }
  return samples.value_or(batch);
}

/// Runs samples through the variants of one function (the function alone
/// when it has none) in chunks: each chunk is copied into buffers of its
/// variant's compiled shape (a last short one padded with copies of its
/// last sample, whose results are dropped), and each result's rows are
/// copied out. Right because anvil-mark-batch proved that a sample's results
/// depend on that sample alone.
class ChunkRunner {
public:
  explicit ChunkRunner(std::vector<Function> variants)
      : variants(std::move(variants)), buffers(this->variants.size()),
        costs(this->variants.size(), 0.0) {}

  /// The variants' batches, smallest first.
  std::vector<int64_t> batches() const {
    std::vector<int64_t> b;
    for (const Function &f : variants)
      b.push_back(f.entry->batch);
    return b;
  }

  /// Runs `samples` samples of `args` as the chunks of `plan` (indices
  /// into the variants, covering the samples).
  std::vector<NpyArray> run(const std::vector<NpyArray> &args, int64_t samples,
                            const std::vector<size_t> &plan) {
    std::vector<NpyArray> results;
    for (const TensorSpec &spec : variants[0].outputs) {
      NpyArray all;
      all.dtype = spec.dtype;
      all.shape = spec.shape;
      all.shape[0] = samples;
      all.bytes.resize(all.numElements() * dtypeSize(spec.dtype));
      results.push_back(std::move(all));
    }
    int64_t start = 0;
    for (size_t v : plan) {
      int64_t batch = variants[v].entry->batch;
      int64_t rows = std::min(batch, samples - start);
      Buffers &b = buffersOf(v);
      for (size_t i = 0; i < b.in.size(); ++i) {
        size_t row = b.in[i].bytes.size() / batch;
        const char *from = args[i].bytes.data() + start * row;
        std::memcpy(b.in[i].bytes.data(), from, rows * row);
        for (int64_t r = rows; r < batch; ++r)
          std::memcpy(b.in[i].bytes.data() + r * row, from + (rows - 1) * row,
                      row);
      }
      variants[v].call(b.pointers);
      for (size_t o = 0; o < b.out.size(); ++o) {
        size_t row = b.out[o].bytes.size() / batch;
        std::memcpy(results[o].bytes.data() + start * row,
                    b.out[o].bytes.data(), rows * row);
      }
      start += rows;
    }
    return results;
  }

  /// How to run `samples` samples: the variant of batch `forced` only, or
  /// the cheapest mix (see planChunks); `how` says why.
  std::vector<size_t> choose(int64_t samples, std::optional<int64_t> forced,
                             std::string &how) {
    std::vector<int64_t> sizes = batches();
    auto only = [&](size_t v) {
      int64_t b = sizes[v];
      return std::vector<size_t>(samples > 0 ? (samples + b - 1) / b : 0, v);
    };
    if (forced) {
      for (size_t v = 0; v < sizes.size(); ++v)
        if (sizes[v] == *forced) {
          how = "--variant " + std::to_string(*forced);
          return only(v);
        }
      std::string list;
      for (int64_t b : sizes)
        list += (list.empty() ? "" : ", ") + std::to_string(b);
      throw Error("--variant " + std::to_string(*forced) + ": " +
                  variants.back().entry->name + " is compiled for batch " +
                  list + "; give one of them (anvilc --batch lists them)");
    }
    if (sizes.size() == 1) {
      how = "its only batch";
      return only(0);
    }
    // A larger batch does at least as much work (so the smallest that holds
    // every sample wins), and costs no more per sample (so the largest
    // wins when it divides them): no need to time anything then.
    if (samples <= sizes[0]) {
      how = "the smallest batch that holds them";
      return only(0);
    }
    if (samples % sizes.back() == 0) {
      how = "the largest batch divides them";
      return only(sizes.size() - 1);
    }
    how = "least time by each variant's measured call time:";
    for (size_t v = 0; v < sizes.size(); ++v) {
      char text[64];
      std::snprintf(text, sizeof text, " %.3g ms at %lld", cost(v) * 1e3,
                    static_cast<long long>(sizes[v]));
      how += (v ? "," : "") + std::string(text);
    }
    return planChunks(samples, sizes, costs);
  }

private:
  struct Buffers {
    std::vector<NpyArray> in, out;
    std::vector<void *> pointers;
  };

  /// Variant `v`'s buffers, made on first use.
  Buffers &buffersOf(size_t v) {
    std::optional<Buffers> &b = buffers[v];
    if (!b) {
      b.emplace();
      for (const TensorSpec &spec : variants[v].inputs)
        b->in.push_back(allocate(spec));
      for (const TensorSpec &spec : variants[v].outputs)
        b->out.push_back(allocate(spec));
      for (NpyArray &a : b->in)
        b->pointers.push_back(a.bytes.data());
      for (NpyArray &a : b->out)
        b->pointers.push_back(a.bytes.data());
    }
    return *b;
  }

  /// Seconds per call of variant `v` on its buffers (zeros, or the last
  /// chunk's). The first request times every variant (measureCosts).
  double cost(size_t v) {
    if (costs[v] <= 0)
      measureCosts();
    return costs[v];
  }

  /// Times all the variants in interleaved rounds, one call of each per
  /// round after a warm-up call, for at least kMinRounds rounds and
  /// kMinSeconds in all (at most kMaxRounds), and keeps each variant's
  /// fastest call. On a loaded machine a burst of load then slows calls of
  /// every variant alike, and the minimum is the call that the load left
  /// alone: two calls each, timed one variant after the other, picked a mix
  /// 45% slower than the best once in three runs at load 6.
  void measureCosts() {
    constexpr int kMinRounds = 3, kMaxRounds = 200;
    constexpr double kMinSeconds = 0.05;
    for (size_t v = 0; v < variants.size(); ++v)
      variants[v].call(buffersOf(v).pointers);
    std::vector<double> best(variants.size(),
                             std::numeric_limits<double>::infinity());
    double total = 0;
    for (int round = 0;
         round < kMaxRounds && (round < kMinRounds || total < kMinSeconds);
         ++round)
      for (size_t v = 0; v < variants.size(); ++v) {
        Buffers &b = buffersOf(v);
        auto start = std::chrono::steady_clock::now();
        variants[v].call(b.pointers);
        double s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
        best[v] = std::min(best[v], s);
        total += s;
      }
    for (size_t v = 0; v < variants.size(); ++v)
      costs[v] = std::max(best[v], 1e-9);
  }

  std::vector<Function> variants;
  std::vector<std::optional<Buffers>> buffers;
  std::vector<double> costs;
};

/// Prints --bench's line: latency over `ms` (sorted) and throughput.
void printBench(const std::string &function, int64_t runs,
                std::vector<double> &ms, int64_t samples,
                const std::string &chunks) {
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  std::printf("%s: %lld runs, latency median %.4f ms, min %.4f ms, max %.4f "
              "ms; throughput %.1f samples/s (%s %lld%s)\n",
              function.c_str(), static_cast<long long>(runs), median,
              ms.front(), ms.back(), samples * 1000.0 / median,
              chunks.empty() ? "batch" : "samples",
              static_cast<long long>(samples), chunks.c_str());
}

int run(int argc, char **argv) {
  std::string function, weights = besideExecutable(anvil_model_weights_path);
  std::vector<std::string> inputs, outputs;
  int64_t bench = 0;
  std::optional<int64_t> benchSamples, variant;
  std::optional<WaitPolicy> waitPolicy;
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
    }
    if (arg == "--list") {
      for (int32_t f = 0; f < anvil_model_num_functions; ++f) {
        const AnvilFunction &e = anvil_model_functions[f];
        std::printf("%s: %s", e.name, e.signature);
        if (e.variant_of[0] != '\0') {
          std::printf(" (%s compiled for batch %lld)\n", e.variant_of,
                      static_cast<long long>(e.batch));
          continue;
        }
        if (e.batch > 0)
          std::printf(" (any number of samples, %lld at a time)",
                      static_cast<long long>(e.batch));
        std::vector<Function> variants = variantsOf(lookupFunction(e.name));
        if (variants.size() > 1) {
          std::printf("; variants at batch");
          for (size_t v = 0; v < variants.size(); ++v)
            std::printf("%s %lld", v ? "," : "",
                        static_cast<long long>(variants[v].entry->batch));
          std::printf(": each call runs the mix that takes least time");
        }
        std::printf("\n");
      }
      return 0;
    }
    if (arg == "--function")
      function = value();
    else if (arg == "--weights") {
      if (anvil_model_weights_path[0] == '\0')
        throw Error("--weights: this executable's weights are built in "
                    "(constants compiled into its code), so they cannot be "
                    "replaced at run time; compile the model with 'anvilc "
                    "MODEL --weights CKPT' to build other weights in, or "
                    "with '--weights-file FILE' to load them at run time");
      weights = value();
    } else if (arg == "--input")
      inputs.push_back(value());
    else if (arg == "--output")
      outputs.push_back(value());
    else if (arg == "--bench")
      bench = parseInteger(arg, value(), 1);
    else if (arg == "--samples")
      benchSamples = parseInteger(arg, value(), 1);
    else if (arg == "--variant")
      variant = parseInteger(arg, value(), 1);
    else if (arg == "--threads")
      omp_set_num_threads(parseInteger(arg, value(), 1, kMaxThreads));
    else if (arg == "--wait-policy")
      waitPolicy = parseWaitPolicy(arg, value());
    else
      throw Error("unknown argument '" + arg + "'; see --help");
  }
  setWaitPolicy(waitPolicy);
  if (function.empty())
    function = defaultFunction();
  Function fn = lookupFunction(function);
  int64_t batch = fn.entry->batch;
  if (benchSamples && bench == 0)
    throw Error("--samples goes with --bench (the inputs give the samples "
                "of a run)");
  if ((benchSamples && *benchSamples != batch) || variant) {
    if (batch == 0)
      throw Error(std::string(benchSamples ? "--samples" : "--variant") + ": " +
                  function +
                  " does not keep the samples of its batch apart, so it "
                  "runs exactly its compiled batch (see --list)");
  }
  ChunkRunner runner(variantsOf(fn));
  if (anvil_model_weights_path[0] != '\0') // compiled with --weights-file
    loadWeights(weights);

  std::vector<NpyArray> args;
  if (bench > 0) {
    int64_t samples = benchSamples.value_or(batch);
    for (TensorSpec spec : fn.inputs) {
      if (batch > 0)
        spec.shape[0] = samples;
      args.push_back(allocate(spec));
    }
    if (batch > 0 && (samples != batch || variant)) {
      std::string how;
      std::vector<size_t> plan = runner.choose(samples, variant, how);
      auto once = [&] { runner.run(args, samples, plan); };
      auto warmStart = std::chrono::steady_clock::now();
      for (int i = 0; i < 10 || std::chrono::steady_clock::now() - warmStart <
                                    std::chrono::milliseconds(50);
           ++i)
        once();
      std::vector<double> ms;
      for (int64_t i = 0; i < bench; ++i) {
        auto start = std::chrono::steady_clock::now();
        once();
        auto end = std::chrono::steady_clock::now();
        ms.push_back(
            std::chrono::duration<double, std::milli>(end - start).count());
      }
      printBench(function, bench, ms, samples,
                 " as " + describePlan(plan, runner.batches()) + ": " + how);
      return 0;
    }
  } else {
    if (inputs.size() != fn.inputs.size())
      throw Error(function + " takes " + std::to_string(fn.inputs.size()) +
                  " input(s); got " + std::to_string(inputs.size()) +
                  " --input file(s)");
    if (outputs.size() != fn.outputs.size())
      throw Error(function + " returns " + std::to_string(fn.outputs.size()) +
                  " result(s); got " + std::to_string(outputs.size()) +
                  " --output file(s)");
    for (const std::string &path : inputs)
      args.push_back(readNpy(path));
    int64_t samples = countSamples(fn, function, inputs, args);
    if (batch > 0 && (samples != batch || variant)) {
      std::string how;
      std::vector<NpyArray> results =
          runner.run(args, samples, runner.choose(samples, variant, how));
      for (size_t i = 0; i < results.size(); ++i)
        writeNpy(outputs[i], results[i]);
      return 0;
    }
  }
  std::vector<NpyArray> results;
  for (const TensorSpec &spec : fn.outputs)
    results.push_back(allocate(spec));
  std::vector<void *> pointers;
  for (NpyArray &a : args)
    pointers.push_back(a.bytes.data());
  for (NpyArray &r : results)
    pointers.push_back(r.bytes.data());

  if (bench > 0) {
    // Warm up caches, pages and the thread pool (its threads start on the
    // first parallel loop) for at least 10 runs and 50 ms.
    auto warmStart = std::chrono::steady_clock::now();
    for (int i = 0; i < 10 || std::chrono::steady_clock::now() - warmStart <
                                  std::chrono::milliseconds(50);
         ++i)
      fn.call(pointers);
    std::vector<double> ms;
    for (int64_t i = 0; i < bench; ++i) {
      auto start = std::chrono::steady_clock::now();
      fn.call(pointers);
      auto end = std::chrono::steady_clock::now();
      ms.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
    }
    printBench(function, bench, ms,
               fn.inputs.empty() || fn.inputs[0].shape.empty()
                   ? 1
                   : fn.inputs[0].shape[0],
               "");
    return 0;
  }
  fn.call(pointers);
  for (size_t i = 0; i < results.size(); ++i)
    writeNpy(outputs[i], results[i]);
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
