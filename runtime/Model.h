//===- Model.h - what a compiled model object provides ----------*- C++ -*-===//
//
// The tables anvilc puts into every model object (see compiler/Codegen.h)
// and the runtime's view of them: entry points with their signatures, a
// call through the bare-pointer convention, and the parameters kept in
// storage (loaded from and saved to weights files). Shared by the main() of
// inference executables (ModelMain.cpp) and of trainers (TrainerMain.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_MODEL_H
#define ANVIL_RUNTIME_MODEL_H

#include "runtime/Npy.h"
#include "runtime/WaitPolicy.h"
#include "runtime/Weights.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

extern "C" {
struct AnvilFunction {
  const char *name;
  const char *signature;
  void *fn;
  /// B when the function keeps the B samples along the leading dimension of
  /// its arguments and results apart (anvil-mark-batch), so that any number
  /// of samples can run through it B at a time; 0 otherwise.
  int64_t batch;
  /// The function this one is another batch's variant of (anvilc --batch
  /// 1,64 compiles `forward` at 64 and `forward__b1`, variant_of "forward",
  /// at 1), or "".
  const char *variant_of;
};
extern const AnvilFunction anvil_model_functions[];
extern const int32_t anvil_model_num_functions;
/// Parameters kept in storage (anvilc --weights-file, and every trainer).
struct AnvilParam {
  const char *name;
  const char *type; // "f32[784,256]"
  void *storage;
  int64_t bytes;
};
extern const AnvilParam anvil_model_params[];
extern const int32_t anvil_model_num_params;
/// The weights file named at compile time.
extern const char anvil_model_weights_path[];
/// LLVM's OpenMP runtime, which runs the model's parallel loops.
void omp_set_num_threads(int);
/// libomp's: how long (ms) the calling thread's idle team spins after a
/// parallel loop before it sleeps.
void kmp_set_blocktime(int);
}

namespace anvil {

/// An entry point of the model.
struct Function {
  const AnvilFunction *entry;
  /// The arguments and results (unnamed), from the signature.
  std::vector<TensorSpec> inputs, outputs;

  /// Calls it; `args` are the inputs' then the outputs' buffers.
  void call(std::vector<void *> &args) const;
};

/// The entry point `name`; throws an Error listing the others if absent.
Function lookupFunction(const std::string &name);
/// Whether the model has an entry point `name`.
bool hasFunction(const std::string &name);
/// `fn` and its variants for other batches, smallest batch first (just `fn`
/// when it has none).
std::vector<Function> variantsOf(const Function &fn);
/// The name of the model's only function that is no other's variant, or
/// "forward".
std::string defaultFunction();

/// Makes the OpenMP threads of parallel loops sleep as soon as a loop ends
/// (KMP_BLOCKTIME=0) unless OMP_WAIT_POLICY or KMP_BLOCKTIME is set. Called
/// first by the main() of executables and trainers, before libomp starts.
void preferSleepingThreads();
/// Applies --wait-policy once the options are read (see WaitPolicy.h).
/// Without one the policy is auto, unless the user set OMP_WAIT_POLICY or
/// KMP_BLOCKTIME: then libomp keeps those. Under auto, Function::call
/// adapts the policy; it must then be called from one thread only (as the
/// executables and trainers do).
void setWaitPolicy(std::optional<WaitPolicy> chosen);
/// The most threads --threads takes.
constexpr int64_t kMaxThreads = 1024;

/// A zero-filled array of `spec`'s dtype and shape.
NpyArray allocate(const TensorSpec &spec);

/// Fills the parameter storage from the weights file at `path`; other
/// tensors in the file are ignored. Throws an Error naming the file, and
/// the parameter with its type in the file and in the model when they
/// differ.
void loadWeights(const std::string &path);
/// The current value of every stored parameter, with its name and type.
std::vector<NamedTensor> storedParameters();

} // namespace anvil

#endif // ANVIL_RUNTIME_MODEL_H
