//===- Model.cpp - what a compiled model object provides ------------------===//

#include "runtime/Model.h"
#include "runtime/Error.h"
#include "runtime/Weights.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

using namespace anvil;

namespace {

/// Parses "f32[64,784]" (see compiler/Codegen.h).
TensorSpec parseSpec(const std::string &text) {
  TensorSpec spec;
  size_t open = text.find('[');
  std::optional<DType> dtype = dtypeFromName(text.substr(0, open));
  if (!dtype || open == std::string::npos)
    throw Error("internal error: bad signature '" + text + "'");
  spec.dtype = *dtype;
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

/// Whether OMP_WAIT_POLICY or KMP_BLOCKTIME was set when main() started.
bool userWaitSettings = false;

/// How long idle threads spin after a loop under the spin policy: longer
/// than the gaps between the loops of a call and between calls.
constexpr int kSpinMilliseconds = 50;
/// The auto policy looks at the run delay at most this often, so that a
/// window spans enough scheduler time slices (a few ms each) to tell.
constexpr double kWindowSeconds = 0.05;

/// The state of the auto policy: the window that began at `start`, when the
/// calling thread's run delay was `startDelay`.
struct AutoWait {
  bool active = false;
  bool spinning = false;
  WaitAdvisor advisor;
  std::chrono::steady_clock::time_point start;
  double startDelay = 0;
} autoWait;

/// Under the auto policy, closes the window once it is long enough and
/// lets the idle threads spin or sleep from now on as WaitAdvisor says.
void adaptWaiting() {
  if (!autoWait.active)
    return;
  auto now = std::chrono::steady_clock::now();
  double wall = std::chrono::duration<double>(now - autoWait.start).count();
  if (wall < kWindowSeconds)
    return;
  std::optional<double> delay = threadRunDelay();
  if (!delay) {
    autoWait.active = false;
    kmp_set_blocktime(0);
    return;
  }
  bool spin = autoWait.advisor.observe(*delay - autoWait.startDelay, wall);
  if (spin != autoWait.spinning)
    kmp_set_blocktime(spin ? kSpinMilliseconds : 0);
  autoWait.spinning = spin;
  autoWait.start = now;
  autoWait.startDelay = *delay;
}

} // namespace

void Function::call(std::vector<void *> &a) const {
  adaptWaiting();
  void *fn = entry->fn;
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

bool anvil::hasFunction(const std::string &name) {
  for (int32_t i = 0; i < anvil_model_num_functions; ++i)
    if (name == anvil_model_functions[i].name)
      return true;
  return false;
}

namespace {
Function functionOf(const AnvilFunction &f) {
  std::string sig = f.signature;
  size_t arrow = sig.find("->");
  return {&f, parseList(sig.substr(0, arrow)),
          parseList(sig.substr(arrow + 2))};
}
} // namespace

std::vector<Function> anvil::variantsOf(const Function &fn) {
  std::vector<Function> variants{fn};
  for (int32_t i = 0; i < anvil_model_num_functions; ++i) {
    const AnvilFunction &f = anvil_model_functions[i];
    if (std::strcmp(f.variant_of, fn.entry->name) == 0)
      variants.push_back(functionOf(f));
  }
  std::sort(variants.begin(), variants.end(),
            [](const Function &a, const Function &b) {
              return a.entry->batch < b.entry->batch;
            });
  return variants;
}

std::string anvil::defaultFunction() {
  const char *only = nullptr;
  for (int32_t i = 0; i < anvil_model_num_functions; ++i) {
    const AnvilFunction &f = anvil_model_functions[i];
    if (f.variant_of[0] != '\0')
      continue;
    if (only)
      return "forward";
    only = f.name;
  }
  return only ? only : "forward";
}

Function anvil::lookupFunction(const std::string &name) {
  std::string names;
  for (int32_t i = 0; i < anvil_model_num_functions; ++i) {
    const AnvilFunction &f = anvil_model_functions[i];
    names += std::string(" ") + f.name;
    if (name == f.name)
      return functionOf(f);
  }
  throw Error("this model has no function '" + name + "' (it has:" + names +
              ")");
}

void anvil::preferSleepingThreads() {
  // By default libomp's idle threads spin for 200 ms after each parallel
  // loop. When other processes keep the cores busy, the spinning threads
  // and the working ones take turns: with two busy loops on 2 cores an MLP
  // epoch took 35-69 s instead of 2.4-5.3 s (4.4-5.7 s on one thread). Any
  // spinning hurts (50 us: 47-61 s). So the threads sleep from the start;
  // setWaitPolicy lets them spin once the machine is seen to be quiet.
  userWaitSettings =
      std::getenv("OMP_WAIT_POLICY") || std::getenv("KMP_BLOCKTIME");
  if (!userWaitSettings)
    setenv("KMP_BLOCKTIME", "0", 0);
}

void anvil::setWaitPolicy(std::optional<WaitPolicy> chosen) {
  autoWait.active = false;
  if (!chosen && userWaitSettings)
    return; // the user's OMP_WAIT_POLICY or KMP_BLOCKTIME stands
  WaitPolicy policy = chosen.value_or(WaitPolicy::Auto);
  kmp_set_blocktime(policy == WaitPolicy::Spin ? kSpinMilliseconds : 0);
  if (policy != WaitPolicy::Auto)
    return;
  std::optional<double> delay = threadRunDelay();
  if (!delay)
    return; // no way to see contention: keep sleeping, the safe side
  autoWait = AutoWait();
  autoWait.active = true;
  autoWait.start = std::chrono::steady_clock::now();
  autoWait.startDelay = *delay;
}

NpyArray anvil::allocate(const TensorSpec &spec) {
  NpyArray a;
  a.dtype = spec.dtype;
  a.shape = spec.shape;
  a.bytes.assign(a.numElements() * dtypeSize(spec.dtype), 0);
  return a;
}

void anvil::loadWeights(const std::string &path) {
  std::vector<NamedTensor> tensors = readWeights(path);
  for (int32_t i = 0; i < anvil_model_num_params; ++i) {
    const AnvilParam &p = anvil_model_params[i];
    auto it =
        std::find_if(tensors.begin(), tensors.end(),
                     [&](const NamedTensor &t) { return t.name == p.name; });
    if (it == tensors.end())
      throw Error(path + ": has no parameter '" + p.name +
                  "'; is it the weights file of this model?");
    if (it->typeText() != p.type)
      throw Error(path + ": parameter '" + p.name + "' is " + it->typeText() +
                  " in the file, but the model's is " + p.type +
                  "; was the file saved from another model?");
    std::memcpy(p.storage, it->bytes.data(), p.bytes);
  }
}

std::vector<NamedTensor> anvil::storedParameters() {
  std::vector<NamedTensor> values;
  for (int32_t i = 0; i < anvil_model_num_params; ++i) {
    const AnvilParam &p = anvil_model_params[i];
    TensorSpec spec = parseSpec(p.type);
    const char *data = static_cast<const char *>(p.storage);
    spec.name = p.name;
    values.push_back({spec, std::vector<char>(data, data + p.bytes)});
  }
  return values;
}
