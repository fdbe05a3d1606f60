//===- ModelMain.cpp - main() of every executable anvilc produces ---------===//
//
// Linked with a compiled model's object file, which provides the table
// `anvil_model_functions` (name, signature, bare-pointer function). Runs one
// function on .npy inputs and writes .npy outputs, or times it with --bench.
// Inputs are checked against the signature (dtype and shape) before the
// call; outputs are written atomically.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/Npy.h"
#include "runtime/Weights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
struct AnvilFunction {
  const char *name;
  const char *signature;
  void *fn;
};
extern const AnvilFunction anvil_model_functions[];
extern const int32_t anvil_model_num_functions;
// Parameters kept in a weights file (anvilc --weights-file), and that
// file's path at compile time.
struct AnvilParam {
  const char *name;
  void *storage;
  int64_t bytes;
};
extern const AnvilParam anvil_model_params[];
extern const int32_t anvil_model_num_params;
extern const char anvil_model_weights_path[];
// LLVM's OpenMP runtime, which runs the model's parallel loops.
void omp_set_num_threads(int);
}

using namespace anvil;

namespace {

struct TensorSpec {
  DType dtype;
  std::vector<int64_t> shape;
  std::string text;
};

/// Parses "f32[64,784]" (see compiler/Codegen.h).
TensorSpec parseSpec(const std::string &text) {
  TensorSpec spec;
  spec.text = text;
  size_t open = text.find('[');
  std::string name = text.substr(0, open);
  const DType all[] = {DType::F32, DType::F64, DType::I64, DType::I32,
                       DType::I8,  DType::U8,  DType::Bool};
  bool found = false;
  for (DType d : all)
    if (name == dtypeName(d)) {
      spec.dtype = d;
      found = true;
    }
  if (!found || open == std::string::npos)
    throw Error("internal error: bad signature '" + text + "'");
  std::string dims = text.substr(open + 1, text.size() - open - 2);
  size_t start = 0;
  while (start < dims.size()) {
    size_t comma = dims.find(',', start);
    if (comma == std::string::npos)
      comma = dims.size();
    spec.shape.push_back(std::stoll(dims.substr(start, comma - start)));
    start = comma + 1;
  }
  return spec;
}

std::vector<TensorSpec> parseList(const std::string &text) {
  std::vector<TensorSpec> specs;
  size_t start = 0;
  while (start < text.size()) {
    size_t semi = text.find(';', start);
    if (semi == std::string::npos)
      semi = text.size();
    specs.push_back(parseSpec(text.substr(start, semi - start)));
    start = semi + 1;
  }
  return specs;
}

struct Function {
  const AnvilFunction *entry;
  std::vector<TensorSpec> inputs, outputs;
};

Function lookup(const std::string &name) {
  std::string names;
  for (int32_t i = 0; i < anvil_model_num_functions; ++i) {
    const AnvilFunction &f = anvil_model_functions[i];
    names += std::string(" ") + f.name;
    if (name == f.name) {
      std::string sig = f.signature;
      size_t arrow = sig.find("->");
      return {&f, parseList(sig.substr(0, arrow)),
              parseList(sig.substr(arrow + 2))};
    }
  }
  throw Error("this model has no function '" + name + "' (it has:" + names +
              ")");
}

/// Calls `fn` with `args` pointers (inputs, then outputs).
void call(void *fn, std::vector<void *> &a) {
  using P = void *;
  switch (a.size()) {
  case 1:
    reinterpret_cast<void (*)(P)>(fn)(a[0]);
    return;
  case 2:
    reinterpret_cast<void (*)(P, P)>(fn)(a[0], a[1]);
    return;
  case 3:
    reinterpret_cast<void (*)(P, P, P)>(fn)(a[0], a[1], a[2]);
    return;
  case 4:
    reinterpret_cast<void (*)(P, P, P, P)>(fn)(a[0], a[1], a[2], a[3]);
    return;
  case 5:
    reinterpret_cast<void (*)(P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3], a[4]);
    return;
  case 6:
    reinterpret_cast<void (*)(P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3],
                                                     a[4], a[5]);
    return;
  case 7:
    reinterpret_cast<void (*)(P, P, P, P, P, P, P)>(fn)(a[0], a[1], a[2], a[3],
                                                        a[4], a[5], a[6]);
    return;
  case 8:
    reinterpret_cast<void (*)(P, P, P, P, P, P, P, P)>(fn)(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    return;
  }
  throw Error("functions with more than 8 inputs and outputs together are "
              "not supported yet");
}

/// Fills the model's parameter globals from the weights file at `path`.
void loadWeights(const std::string &path) {
  std::vector<NamedTensor> tensors = readWeights(path);
  for (int32_t i = 0; i < anvil_model_num_params; ++i) {
    const AnvilParam &p = anvil_model_params[i];
    auto it =
        std::find_if(tensors.begin(), tensors.end(),
                     [&](const NamedTensor &t) { return t.name == p.name; });
    if (it == tensors.end())
      throw Error(path + ": has no parameter '" + p.name +
                  "'; is it the weights file of this model?");
    if (static_cast<int64_t>(it->bytes.size()) != p.bytes)
      throw Error(path + ": parameter '" + p.name + "' has " +
                  std::to_string(it->bytes.size()) +
                  " bytes, the model needs " + std::to_string(p.bytes));
    std::memcpy(p.storage, it->bytes.data(), p.bytes);
  }
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

NpyArray allocate(const TensorSpec &spec) {
  NpyArray a;
  a.dtype = spec.dtype;
  a.shape = spec.shape;
  a.bytes.assign(a.numElements() * dtypeSize(spec.dtype), 0);
  return a;
}

void usage(const char *argv0) {
  std::printf(
      "usage: %s [--function NAME] [--threads N] --input x.npy ... --output "
      "y.npy ...\n"
      "       %s [--function NAME] [--threads N] --bench N\n"
      "       %s --list\n\n"
      "Runs a model compiled by anvilc. Inputs are .npy files, one per "
      "argument in\norder, with exactly the dtype and shape the function "
      "takes (see --list);\neach result is written to the matching --output "
      "file.\n\n"
      "  --function NAME  function to run (default: forward, or the only "
      "one)\n"
      "  --threads N      threads for parallel loops (default: all cores, "
      "or\n                   OMP_NUM_THREADS)\n"
      "  --bench N        run N times on zero inputs; print latency "
      "(median/min/max)\n                   and throughput\n"
      "  --weights FILE   the weights file of a model compiled with\n"
      "                   --weights-file (default: the file named then)\n"
      "  --list           print the functions and their signatures\n",
      argv0, argv0, argv0);
}

int run(int argc, char **argv) {
  std::string function, weights = anvil_model_weights_path;
  std::vector<std::string> inputs, outputs;
  long bench = 0;
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
      for (int32_t f = 0; f < anvil_model_num_functions; ++f)
        std::printf("%s: %s\n", anvil_model_functions[f].name,
                    anvil_model_functions[f].signature);
      return 0;
    }
    if (arg == "--function")
      function = value();
    else if (arg == "--weights")
      weights = value();
    else if (arg == "--input")
      inputs.push_back(value());
    else if (arg == "--output")
      outputs.push_back(value());
    else if (arg == "--bench")
      bench = std::atol(value().c_str());
    else if (arg == "--threads") {
      int threads = std::atoi(value().c_str());
      if (threads < 1)
        throw Error("--threads needs a positive number");
      omp_set_num_threads(threads);
    } else
      throw Error("unknown argument '" + arg + "'; see --help");
  }
  if (function.empty())
    function = anvil_model_num_functions == 1 ? anvil_model_functions[0].name
                                              : "forward";
  Function fn = lookup(function);
  if (anvil_model_num_params > 0)
    loadWeights(weights);

  std::vector<NpyArray> args;
  if (bench > 0) {
    for (const TensorSpec &spec : fn.inputs)
      args.push_back(allocate(spec));
  } else {
    if (inputs.size() != fn.inputs.size())
      throw Error(function + " takes " + std::to_string(fn.inputs.size()) +
                  " input(s); got " + std::to_string(inputs.size()) +
                  " --input file(s)");
    if (outputs.size() != fn.outputs.size())
      throw Error(function + " returns " + std::to_string(fn.outputs.size()) +
                  " result(s); got " + std::to_string(outputs.size()) +
                  " --output file(s)");
    for (size_t i = 0; i < inputs.size(); ++i) {
      NpyArray a = readNpy(inputs[i]);
      const TensorSpec &spec = fn.inputs[i];
      if (a.dtype != spec.dtype || a.shape != spec.shape)
        throw Error(inputs[i] + ": holds a " + dtypeName(a.dtype) +
                    " array of shape " + shapeText(a.shape) + ", but input " +
                    std::to_string(i) + " of " + function + " is " + spec.text +
                    "; save an array of that shape and dtype");
      args.push_back(std::move(a));
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
      call(fn.entry->fn, pointers);
    std::vector<double> ms;
    for (long i = 0; i < bench; ++i) {
      auto start = std::chrono::steady_clock::now();
      call(fn.entry->fn, pointers);
      auto end = std::chrono::steady_clock::now();
      ms.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    int64_t batch = fn.inputs.empty() || fn.inputs[0].shape.empty()
                        ? 1
                        : fn.inputs[0].shape[0];
    std::printf("%s: %ld runs, latency median %.4f ms, min %.4f ms, max %.4f "
                "ms; throughput %.1f samples/s (batch %lld)\n",
                function.c_str(), bench, median, ms.front(), ms.back(),
                batch * 1000.0 / median, static_cast<long long>(batch));
    return 0;
  }
  call(fn.entry->fn, pointers);
  for (size_t i = 0; i < results.size(); ++i)
    writeNpy(outputs[i], results[i]);
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
