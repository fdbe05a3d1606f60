//===- anvilc-compile.cpp - anvilc MODEL ----------------------------------===//
//
// `anvilc MODEL -o EXE`, the top level: compiles a model into an
// executable (or with --emit=lib a static library and its C header), or
// with --compile-to=PHASE stops after a phase and writes its IR or object.
// The phases, the target and the dumps are compile()'s (anvilc.cpp).
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace anvilc;
using mlir::anvil::Phase;

/// --compile-to keeps its own error line, which names the phases.
struct PhaseParser : NamedParser<Phase> {
  using NamedParser::NamedParser;
  bool parse(cl::Option &, llvm::StringRef, llvm::StringRef arg, Phase &v) {
    if (std::optional<Phase> phase = lookup(arg)) {
      v = *phase;
      return false;
    }
    return reportError("unknown phase '" + arg.str() +
                       "'; the phases are: " + names(", "));
  }
};
#define PHASE(P, DESC)                                                         \
  clEnumValN(Phase::P, mlir::anvil::phaseName(Phase::P), DESC)
static cl::opt<Phase, false, PhaseParser> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR (object: the object "
             "file): import, graph, train, optimize, backend, bufferize, "
             "llvm, object"),
    cl::value_desc("phase"),
    cl::values(PHASE(Import, "The model as parsed and verified"),
               PHASE(Graph, "Canonicalized (constants folded) and CSE'd"),
               PHASE(Train, "(anvilc train) @train_step and @eval_step"),
               PHASE(Optimize, "Parameters materialized; folded"),
               PHASE(Backend, "linalg/tensor/arith/math, tiled, vectorized"),
               PHASE(Bufferize, "Memrefs; temporaries in a static arena"),
               PHASE(LLVM, "The LLVM dialect"),
               PHASE(Object, "An object file for the target")),
    cl::cat(category()));
#undef PHASE
static cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output: the executable (default: the model's name), or with "
             "--compile-to the IR (default: stdout) or object file"),
    cl::value_desc("file"), cl::cat(category()));
enum class Emit { Exe, Lib };
static EnumOpt<Emit> emitKind(
    "emit", cl::desc("What to make"),
    cl::values(clEnumValN(Emit::Exe, "exe", "An executable (the default)"),
               clEnumValN(Emit::Lib, "lib",
                          "A static library plus a C header beside it")),
    cl::init(Emit::Exe), cl::cat(category()));
static cl::opt<std::string> weightsFile(
    "weights-file",
    cl::desc("Keep the parameters out of the executable: write them to FILE, "
             "which the executable loads at start (or --weights FILE)"),
    cl::value_desc("file"), cl::cat(category()));

static cl::opt<bool>
    int8("int8",
         cl::desc("Quantize the model to int8 first, as `anvilc quantize` "
                  "does (needs --calibrate DATA; its other options too), "
                  "print its report and compile the int8 model"),
         cl::cat(category()));

int anvilc::compileMain(MLIRContext &context) {
  std::optional<Phase> stopAfter;
  if (compileTo.getNumOccurrences())
    stopAfter = compileTo;
  if (int8 && bf16Precision())
    return reportError("--int8 and --precision bf16 are two precisions; "
                       "choose one");
  // --precision bf16 with --calibrate DATA: the report first, as --int8's.
  bool report = int8 || (bf16Precision() && quantizeOptionsGiven());
  if (!report && quantizeOptionsGiven())
    return reportError("--calibrate and the other options of anvilc quantize "
                       "go with --int8 (anvilc MODEL --int8 --calibrate DATA), "
                       "with --precision bf16 or with anvilc quantize");
  if (report)
    if (int rc = checkQuantizeOptions())
      return rc;
  OwningOpRef<ModuleOp> module = loadModel(context);
  if (!module)
    return 1;
  std::string output = outputPath;
  std::string stem = llvm::sys::path::stem(modelPath).str();
  if (output.empty() && stopAfter == Phase::Object)
    output = stem + ".o";
  else if (output.empty() && !stopAfter)
    output = emitKind == Emit::Lib ? "lib" + stem + ".a" : stem;
  if (report) {
    // The f32 module lives until the report (which names its layers) is
    // printed; the report goes to stderr when the IR goes to stdout.
    OwningOpRef<ModuleOp> quantized;
    auto keep = [&](OwningOpRef<ModuleOp> &m, llvm::StringRef) {
      quantized = std::move(m);
      return 0;
    };
    if (int rc =
            quantizeModel(context, *module,
                          int8 ? "anvilc --int8" : "anvilc --precision bf16",
                          output.empty() ? "stdout" : output, keep,
                          output.empty() ? llvm::errs() : llvm::outs()))
      return rc;
    module = std::move(quantized);
  }
  Job job;
  job.stopAfter = stopAfter;
  job.output = output;
  job.options.seed = seed;
  job.options.batch = batch();
  job.options.batchVariants = batchVariants();
  job.library = emitKind == Emit::Lib;
  if (!stopAfter)
    job.weightsPath = weightsFile;
  return compile(context, *module, std::move(job));
}
