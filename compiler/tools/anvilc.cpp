//===- anvilc.cpp - Anvil's compiler driver -------------------------------===//
//
// `anvilc MODEL -o EXE` compiles a model graph through the phases of
// compiler/Pipelines.h into a native executable; `--compile-to=PHASE` stops
// after a phase and prints its IR, `--dump-phases-to=DIR` writes every phase.
// The subcommands (run, train, check, export) live in anvilc-<name>.cpp and
// share what anvilc.h declares: the options of several subcommands, loading
// a model and compile(). This file holds those options, main, and the two
// calls into the library that every subcommand makes: loadModel
// (compiler/LoadModel.h) and compile (compiler/Compile.h, the phase loop).
// The driver builds no IR and carries nothing between phases but the
// module: the passes record what code generation needs on it. Every user error
// (a missing file, malformed IR, a wrong input shape, a bad .npy) prints one
// message naming the file and exits 1; nothing half-written is left behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/anvilc.h"

#include "compiler/Compile.h"
#include "compiler/Diagnosed.h"
#include "compiler/LoadModel.h"
#include "compiler/Registration.h"
#include "runtime/Error.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"

#include <utility>

using namespace mlir;
using namespace anvilc;
using mlir::anvil::Phase;

// Function-local statics: the options of the other files name them while
// they are constructed, in an order C++ leaves open between files.
cl::OptionCategory &anvilc::category() {
  static cl::OptionCategory category("anvilc options");
  return category;
}
cl::SubCommand &anvilc::runCommand() {
  static cl::SubCommand command(
      "run", "Run a function of a model on .npy inputs and write .npy outputs");
  return command;
}
cl::SubCommand &anvilc::trainCommand() {
  static cl::SubCommand command(
      "train", "Compile a model into a native trainer executable");
  return command;
}
cl::SubCommand &anvilc::checkCommand() {
  static cl::SubCommand command(
      "check", "Check that Anvil can compile a model; list every problem");
  return command;
}
cl::SubCommand &anvilc::exportCommand() {
  static cl::SubCommand command("export",
                                "Write a model (with trained weights) as ONNX");
  return command;
}
cl::SubCommand &anvilc::quantizeCommand() {
  static cl::SubCommand command(
      "quantize",
      "Quantize a model's matmuls to int8, calibrated on data; report the "
      "accuracy");
  return command;
}

int anvilc::reportError(const std::string &message) {
  llvm::errs() << "anvilc: error: " << message << "\n";
  return 1;
}

int anvilc::reportError(llvm::Error error) {
  if (!error)
    return 0;
  // MLIR has printed it, with the source line; a second line adds nothing.
  if (error.isA<mlir::anvil::DiagnosedError>()) {
    llvm::consumeError(std::move(error));
    return 1;
  }
  return reportError(llvm::toString(std::move(error)));
}

// Options of several subcommands: each names the ones that read it.
static cl::SubCommand &top = cl::SubCommand::getTopLevel();
cl::opt<std::string> anvilc::modelPath(
    cl::Positional, cl::desc("<model.mlir|model.onnx>"), cl::sub(top),
    cl::sub(runCommand()), cl::sub(trainCommand()), cl::sub(checkCommand()),
    cl::sub(exportCommand()), cl::sub(quantizeCommand()), cl::cat(category()));
// --batch B or B1,B2,...: read by main once the command line is parsed
// (a bad list is one error line), the largest into batch(), the others into
// batchVariants().
static cl::opt<std::string> batchOption(
    "batch",
    cl::desc("Batch size (default: the model's): the model is re-batched, "
             "every shape following the new batch; an ONNX model's symbolic "
             "batch takes it. A list (--batch 1,64) compiles each entry point "
             "whose samples never mix for every size, the largest as the "
             "function itself and the others as variants <name>__b<size>; "
             "the executable covers any number of samples with the cheapest "
             "mix of them (a trainer takes one size)"),
    cl::value_desc("size[,size...]"), cl::sub(top), cl::sub(trainCommand()),
    cl::cat(category()));
static int64_t largestBatch = 0;
static std::vector<int64_t> otherBatches;
int64_t anvilc::batch() { return largestBatch; }
llvm::ArrayRef<int64_t> anvilc::batchVariants() { return otherBatches; }

/// Reads --batch; the error to print if it is malformed.
static std::optional<std::string> parseBatchOption() {
  if (batchOption.empty())
    return std::nullopt;
  llvm::StringRef arg = batchOption;
  llvm::SmallVector<llvm::StringRef> items;
  arg.split(items, ',');
  std::vector<int64_t> sizes;
  for (llvm::StringRef item : items) {
    int64_t size;
    if (item.trim().getAsInteger(10, size))
      return "--batch wants a size or a comma-separated list of sizes (like "
             "1,64), not '" +
             arg.str() + "'";
    // A lone 0 keeps the model's own batch; in a list it is no size.
    if (size < 0 || (size == 0 && items.size() > 1))
      return "--batch must be a positive size, not " + std::to_string(size) +
             (items.size() > 1 ? " (in '" + arg.str() + "')" : std::string());
    if (llvm::is_contained(sizes, size))
      return "--batch lists " + std::to_string(size) + " twice ('" + arg.str() +
             "'); give each size once";
    sizes.push_back(size);
  }
  llvm::sort(sizes);
  largestBatch = sizes.back();
  otherBatches.assign(sizes.begin(), sizes.end() - 1);
  return std::nullopt;
}
cl::opt<uint64_t> anvilc::seed(
    "seed", cl::desc("Seed for parameters without a `seed` attribute"),
    cl::init(0), cl::sub(top), cl::sub(runCommand()), cl::sub(trainCommand()),
    cl::sub(exportCommand()), cl::sub(quantizeCommand()), cl::cat(category()));
cl::opt<std::string> anvilc::weightsIn(
    "weights",
    cl::desc("Use these parameter values (a trainer's checkpoint or a "
             "weights file) instead of the initializers"),
    cl::value_desc("ckpt"), cl::sub(top), cl::sub(runCommand()),
    cl::sub(exportCommand()), cl::sub(quantizeCommand()), cl::cat(category()));
cl::opt<std::string> anvilc::function(
    "function",
    cl::desc(
        "The function to run, export or quantize (default: @forward, or the "
        "only one)"),
    cl::sub(runCommand()), cl::sub(exportCommand()), cl::sub(quantizeCommand()),
    cl::cat(category()));
cl::list<std::string>
    anvilc::bindings("bind",
                     cl::desc("Size of a symbolic dimension of an ONNX model's "
                              "inputs (repeat or comma-separate)"),
                     cl::value_desc("NAME=VALUE"), cl::CommaSeparated,
                     cl::sub(cl::SubCommand::getAll()), cl::cat(category()));

// What compile() reads: the top level's, and run's and train's.
static cl::opt<std::string> dumpPhasesTo(
    "dump-phases-to",
    cl::desc("Write the IR after every phase to DIR/NN-<phase>.mlir"),
    cl::value_desc("dir"), cl::sub(top), cl::sub(runCommand()),
    cl::sub(trainCommand()), cl::cat(category()));
static cl::opt<bool> printMemoryPlan(
    "print-memory-plan",
    cl::desc("Print each function's static arena: its size and the offset, "
             "size and lifetime of every buffer in it"),
    cl::sub(top), cl::sub(runCommand()), cl::sub(trainCommand()),
    cl::cat(category()));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple (default: this machine's)"),
                 cl::sub(top), cl::sub(runCommand()), cl::sub(trainCommand()),
                 cl::cat(category()));
static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("Target CPU (default: this machine's, with all its "
                       "features; a generic one for another triple); "
                       "--target-cpu=help lists the target's CPUs"),
              cl::sub(top), cl::sub(runCommand()), cl::sub(trainCommand()),
              cl::cat(category()));
static cl::opt<unsigned> codegenThreads(
    "codegen-threads",
    cl::desc("Threads that optimize and emit the object's parts in parallel "
             "(default 0: one per core; 1: in one piece)"),
    cl::init(0), cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool>
    noFusion("no-fusion",
             cl::desc("No graph fusions, for comparison: batch norms stay "
                      "(anvil-fold-batch-norm), elementwise ops keep one "
                      "loop each (anvil-fuse-elementwise), a matmul's "
                      "consumers run after it "
                      "(anvil-fuse-matmul-epilogue; a direct convolution's "
                      "add and relu, anvil-direct-conv's epilogue; an int8 "
                      "convolution's dequantize to quantize, "
                      "anvil-int8-matmul's epilogue; a quantize stays "
                      "after the max pool it reads, anvil-hoist-quantize) "
                      "and pads stay copies (anvil-fold-pad-into-producer)"),
             cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noPackMatmul(
    "no-pack-matmul",
    cl::desc("Matmuls read B in place, for comparison: no copies of its "
             "slivers into contiguous buffers (anvil-tile-and-vectorize)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noEpilogueInPlace(
    "no-epilogue-in-place",
    cl::desc("Fused matmul epilogues write scratch blocks that are then "
             "copied to the result, for comparison (anvil-tile-and-"
             "vectorize's epilogue-in-place off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noIm2colBlend(
    "no-im2col-blend",
    cl::desc("A convolution's slivers across output rows are read with one "
             "masked load per row and tap, for comparison (anvil-tile-and-"
             "vectorize's im2col-blend off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noWindowKBlocks(
    "no-window-k-blocks",
    cl::desc("A convolution's k blocks need not be whole filter windows and "
             "each packed row finds its tap by division, for comparison "
             "(anvil-tile-and-vectorize's window-k-blocks off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noFullHeightTiles(
    "no-full-height-tiles",
    cl::desc(
        "Size a packed matmul's register tiles to the largest divisor "
        "of its rows up to the registers' height (4 x 16 for 512 "
        "output channels on AVX2, 8 accumulators) instead of full "
        "height tiles (6 x 16) and one or two shorter tiles for each block's "
        "last rows (anvil-tile-and-vectorize's full-height-tiles off), "
        "for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noEpilogueInTiles(
    "no-epilogue-in-tiles",
    cl::desc("A fused matmul epilogue runs over each finished cache block, "
             "for comparison, not in the register tiles of a product with "
             "one k block; a product too small for parallel blocks keeps its "
             "epilogue as a loop after it (anvil-tile-and-vectorize's "
             "epilogue-in-tiles off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noPeelFirstKBlock(
    "no-peel-first-k-block",
    cl::desc("A matmul with several k blocks starts its accumulator in "
             "memory (the block written, then read back), for comparison "
             "(anvil-tile-and-vectorize's peel-first-k-block off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> packConstantA(
    "pack-constant-a",
    cl::desc("Matmuls read constant weights from a copy in row panels made "
             "at compile time (anvil-tile-and-vectorize's pack-constant-a). "
             "Off by default: neutral on SqueezeNet on an AVX2 EPYC, and it "
             "made ResNet-18's compile 24 s instead of 9"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noPackConstantB(
    "no-pack-constant-b",
    cl::desc("Matmuls read a constant B (a linear layer's weights) in place, "
             "rows N floats apart, or copy its slivers per block, for "
             "comparison, instead of reading panels of it made at compile "
             "time (anvil-tile-and-vectorize's pack-constant-b off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<int> matmulVectorBits(
    "matmul-vector-bits",
    cl::desc("The vector width the matmuls' register tiles are sized for: "
             "512 (AVX-512: 8 x 32 tiles), 256 (AVX2's 16 registers: up to "
             "6 x 16) or 0 (the default: 512 where the target CPU has "
             "AVX-512, else 256)"),
    cl::init(0), cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<mlir::anvil::FusionReportFormat> fusionReport(
    "fusion-report", cl::ValueOptional,
    cl::desc("Print every kernel of the model: its source names, pattern, "
             "FLOPs, bytes moved and the fusions not taken, with reasons"),
    cl::values(clEnumValN(mlir::anvil::FusionReportFormat::Text, "text",
                          "as text (the default)"),
               clEnumValN(mlir::anvil::FusionReportFormat::Json, "json",
                          "as one JSON object"),
               clEnumValN(mlir::anvil::FusionReportFormat::Text, "", "")),
    cl::init(mlir::anvil::FusionReportFormat::None), cl::cat(category()));
static cl::opt<bool> noVectorizeWindows(
    "no-vectorize-windows",
    cl::desc("Leave stride-2 pooling and depthwise convolutions, and loops "
             "over rows shorter than a vector (7x7 maps), to LLVM's loop "
             "vectorizer (which keeps them scalar) instead of "
             "anvil-vectorize-windows' explicit vectors, for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noMaskedTails(
    "no-masked-tails",
    cl::desc("Compute the rest of a row after its whole vectors, and rows "
             "shorter than a vector, as narrower vectors whose windows are "
             "moved back to end in bounds instead of masked vectors of a "
             "power-of-two width (anvil-vectorize-windows' masked-tails "
             "off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noWindowRowBlocks(
    "no-window-row-blocks",
    cl::desc("Compute depthwise convolutions and pooling one output row at "
             "a time, each row reading all its taps, instead of several rows "
             "together that read the input rows they share once "
             "(anvil-vectorize-windows' row-blocks off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noSplitTailStores(
    "no-split-tail-stores",
    cl::desc("Store the last vector of a depthwise convolution's or "
             "pooling's row that overruns it (a 14-wide row's 16 lanes), and "
             "a direct convolution tile's last run of fewer positions than "
             "lanes, as one masked store instead of whole vectors of 8, 4, 2 "
             "and 1 lanes (anvil-vectorize-windows' and anvil-direct-conv's "
             "split-tail-stores off; a masked store is microcoded on AMD's "
             "cores), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noVectorMaxPoolGrad(
    "no-vector-max-pool-grad",
    cl::desc("Compute the gradient of max pools whose 2-wide windows tile "
             "their input as the generic that gathers each cell's window, "
             "not as vector code over 8 windows at a time "
             "(anvil-convert-to-linalg's vector-max-pool-grad off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noVectorCol2im(
    "no-vector-col2im",
    cl::desc("Compute a convolution's input gradient (col2im) as the generic "
             "that gathers each input cell's taps, not as vector row "
             "additions (anvil-convert-to-linalg's vector-col2im off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noVectorizeCopies(
    "no-vectorize-copies",
    cl::desc("Copy small static slices (packed matmul slivers, slices "
             "bufferization could not write in place) in scalar loops "
             "instead of vector moves (anvil-vectorize-copies off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<std::string> int8Matmul(
    "int8-matmul",
    cl::desc("How integer matmuls by constant int8 weights run: vnni "
             "(anvil-int8-matmul's vpdpbusd tiles), portable (its AVX2 "
             "tiles, exact vpmaddwd on i16 pairs, or vpmaddubsw where all "
             "weights are within [-64, 64], for CPUs without AVX-512 VNNI; "
             "the same results), generic (the i32 linalg.generic every "
             "other integer matmul gets, on any CPU) or auto (the default: "
             "vnni where the target CPU has AVX-512 VNNI, else portable "
             "where it has AVX2, else generic)"),
    cl::init("auto"), cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("The precision of matmuls and convolutions: f32 (the default) "
             "or bf16 (anvil-bf16: the operands of matmuls and one-group "
             "convolutions rounded to bf16, products accumulated in f32; "
             "every other op, the weights and a trainer's optimizer stay "
             "f32). With "
             "anvilc quantize, or with --calibrate DATA: the report compares "
             "bf16 with f32 per layer and chooses the bf16 layers "
             "(--exclude, --tolerance, --only-faster)"),
    cl::value_desc("f32|bf16"), cl::init("f32"), cl::sub(top),
    cl::sub(trainCommand()), cl::sub(quantizeCommand()), cl::cat(category()));
static cl::opt<std::string> bf16Matmul(
    "bf16-matmul",
    cl::desc("How --precision bf16 matmuls and convolutions run: dpbf16 "
             "(vdpbf16ps register tiles, AVX512_BF16), rounded (the f32 "
             "tiles on operands rounded to bf16: the same function, f32's "
             "speed) or auto (the default: dpbf16 where the target CPU has "
             "AVX512_BF16, else rounded)"),
    cl::init("auto"), cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8Conv(
    "no-int8-conv",
    cl::desc("Run integer convolutions (anvil.qconv2d, from anvilc quantize) "
             "as the portable i32 generic, not as an im2col on "
             "anvil-int8-matmul's tiles (its conv off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8DirectConv(
    "no-int8-direct-conv",
    cl::desc("Run integer convolutions through an im2col even where VNNI "
             "could read their windows straight from an NHWC copy of the "
             "input (anvil-int8-matmul's direct-conv off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noDirectConv(
    "no-direct-conv",
    cl::desc("Run f32 convolutions as im2col products on the matmul's tiles "
             "even where anvil-direct-conv's register tiles could read their "
             "windows straight from the image (AVX2 and AVX-512 targets), "
             "for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noDirectConvPeriods(
    "no-direct-conv-periods",
    cl::desc("Cut every output row of a direct convolution into segments of "
             "its own, even where they are shorter than 8 positions (fewer "
             "independent sums than keep the FMA pipes busy), instead of "
             "tiles across a row's end by periods of a few rows "
             "(anvil-direct-conv's periods off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noDirectConvBlocksOuter(
    "no-direct-conv-blocks-outer",
    cl::desc("Run a direct convolution's tiles period by period of output "
             "rows, every block of output channels in each, even where the "
             "padded image is small enough (256 KB) to stay in cache while "
             "each block's filter panel streams through once "
             "(anvil-direct-conv's blocks-outer off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8Narrow(
    "no-int8-narrow",
    cl::desc("Run int8 products at most 16 columns wide (convolutions of up "
             "to 16 channels) on the 8 x 2-block VNNI tiles, not on one-block "
             "tiles of 16 rows (anvil-int8-matmul's narrow off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8DirectRuns(
    "no-int8-direct-runs",
    cl::desc("Run integer convolutions whose channels 4 does not divide "
             "through an im2col, not directly by runs of each filter row's "
             "bytes in an NHWC copy of the input (anvil-int8-matmul's "
             "direct-runs off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noHoistQuantize(
    "no-hoist-quantize",
    cl::desc("Quantize after the max pools and reshapes a quantize reads, "
             "not before them (anvil-hoist-quantize off: the pool runs on "
             "f32, and a quantized convolution before it stores f32), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8Lanes(
    "no-int8-lanes",
    cl::desc("Run integer convolutions of a one-channel image on the tiles "
             "of 16 channels per accumulator, not with 16 output positions "
             "of one channel per accumulator (anvil-int8-matmul's lanes off; "
             "on by default where the target has AVX512_VBMI), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8Pairs(
    "no-int8-pairs",
    cl::desc("Run integer convolutions of at most 8 output channels with one "
             "output position per 16-lane accumulator (8 lanes of zeros), "
             "not two (anvil-int8-matmul's pairs off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8RowTiles(
    "no-int8-row-tiles",
    cl::desc("Tile a direct integer convolution's output positions as runs "
             "across output rows, one window address per tile row, not along "
             "its output rows (anvil-int8-matmul's row-aligned off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8VectorRows(
    "no-int8-vector-rows",
    cl::desc("Build an integer convolution's im2col as the generic copy, "
             "one element at a time, not as vector copies of window rows, and "
             "a direct one's NHWC input as linalg.transpose, not by 16 x 16 "
             "blocks transposed in registers (anvil-int8-matmul's "
             "vector-rows off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noInt8SmallWeights(
    "no-int8-small-weights",
    cl::desc("Run int8 matmuls whose weights are all within [-64, 64] on "
             "the portable vpmaddwd tiles too, not on vpmaddubsw (exact for "
             "such weights; anvil-int8-matmul's small-weights off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> sigmoidReciprocal(
    "sigmoid-reciprocal",
    cl::desc("Compute sigmoids' (and SiLUs') division as a reciprocal "
             "estimate and one Newton step, within 4 ulp of the exact one "
             "(anvil-approximate-math's sigmoid-reciprocal). Off by default: "
             "EfficientNet-B0 measured 4-7% slower with it"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noDepthwiseStride1Nchw(
    "no-depthwise-stride1-nchw",
    cl::desc("Run stride-1 depthwise convolutions with output rows 8 to 15 "
             "wide channels-last (transposes in and out) instead of along "
             "their NCHW rows (anvil-convert-to-linalg's "
             "depthwise-stride1-nchw off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noDepthwiseStridedNchw(
    "no-depthwise-strided-nchw",
    cl::desc("Run strided depthwise convolutions with output rows 8 to 15 "
             "wide channels-last (transposes in and out) instead of along "
             "their NCHW rows, each tap's row read as one vector and "
             "deinterleaved (anvil-convert-to-linalg's "
             "depthwise-strided-nchw off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noJoinEpilogueUsers(
    "no-join-epilogue-users",
    cl::desc("Keep a SiLU (x * sigmoid(x)), hard swish or GELU after a "
             "matmul or convolution out of its epilogue, a loop of its own "
             "(anvil-fuse-matmul-epilogue's join-users off: the product "
             "then has several users), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noHoistAboveTransposes(
    "no-hoist-above-transposes",
    cl::desc("Keep an elementwise op after the linalg.transpose that makes "
             "its input (a channels-last depthwise convolution's back to "
             "NCHW) instead of moving it above to fuse with the op before "
             "(anvil-fuse-elementwise's hoist-above-transposes off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noMathOutOfWindows(
    "no-math-out-of-windows",
    cl::desc("Fuse an activation with an exp, tanh or erf (a SiLU) into the "
             "loop of the depthwise convolution or pooling before it, as "
             "other activations are, instead of running it as a loop of its "
             "own (anvil-fuse-elementwise's math-out-of-windows off), for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noWindowsReadInOrder(
    "no-windows-read-in-order",
    cl::desc("Fuse a depthwise convolution or pooling into a consumer that "
             "reads it out of order (the im2col copy of a batched 1x1 "
             "convolution), for comparison: one scalar loop in the copy's "
             "order (anvil-fuse-elementwise's windows-read-in-order off)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noPadRows(
    "no-pad-rows",
    cl::desc("Pad the short rows a depthwise convolution or pool reads with "
             "a fill per border column and a copy of the interior, for "
             "comparison, instead of one pass writing each padded row whole "
             "(anvil-fold-pad-into-producer's pad-rows-lanes 0)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noRowSoftmax(
    "no-row-softmax",
    cl::desc("Lower softmax over a short innermost axis as four linalg "
             "passes over the data instead of one vector pass per row, for "
             "comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> exactMath(
    "exact-math",
    cl::desc("Call libm for f32 exp, tanh and erf instead of the vectorized "
             "polynomials of anvil-approximate-math (within 8 ulp)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noOutlineKernels(
    "no-outline-kernels",
    cl::desc("Keep every loop nest in its function (anvil-outline-kernels "
             "off), for comparison: big models compile much slower"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noParallelImages(
    "no-parallel-images",
    cl::desc("Convolve a batch one image after the other even where each "
             "image's matmul is too small for parallel blocks "
             "(anvil-parallelize-images off), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noParallelPads(
    "no-parallel-pads",
    cl::desc("Leave the pads not folded into their producer to "
             "bufferization, which fills and copies them on one thread, "
             "instead of splitting the copy for threads "
             "(anvil-fold-pad-into-producer's copy-others), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noSplitWindows(
    "no-split-windows",
    cl::desc("Copy a pad that no producer writes into a padded buffer "
             "instead of splitting the depthwise convolution or pool that "
             "reads it into an interior reading its source in place and "
             "border bands (anvil-fold-pad-into-producer's split-windows), "
             "for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> noWideWindowBands(
    "no-wide-window-bands",
    cl::desc("Split a window at its rows' ends into bands of only the "
             "columns whose windows reach into the pad (scalar loops when "
             "they are 1 or 2 wide) instead of bands of at least 8 columns, "
             "one vector per row (anvil-fold-pad-into-producer's "
             "band-columns=1), for comparison"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<int64_t> splitBatch(
    "split-batch",
    cl::desc("Run a batch whose samples never mix as N independent chunks "
             "of batch/N, one per thread, the whole network each: no fork "
             "and join per layer (anvil-split-batch; 1: off). Default 2, "
             "for the few-core machines this build targets: more chunks "
             "than threads cost little, fewer leave threads idle in the "
             "chunk's own parallel loops (on more cores, give the thread "
             "count). A batch that "
             "is not a multiple of N is not split (--fusion-report says "
             "why). A schedule, not a fusion: --no-fusion keeps it"),
    cl::init(2), cl::sub(top), cl::sub(runCommand()), cl::cat(category()));
static cl::opt<bool> noSplitWholeTail(
    "no-split-whole-tail",
    cl::desc("With a split batch, run the classifier at the end (matmuls on "
             "[B, C] doing too few FLOPs per weight byte for a chunk) in each "
             "chunk instead of once on the whole batch after the chunks "
             "(anvil-split-batch's whole-tail off), for comparison. On by "
             "default where a chunk does under 1000 FLOPs per byte of the "
             "classifier's weights (batch 8 on a 2-core Zen 3, 1 / 2 threads: "
             "MobileNetV3-Small 0.97x / 0.96x the time, MobileNetV2 0.96x / "
             "0.98x, ShuffleNetV2 0.98x / 0.97x); the ResNets keep it in the "
             "chunks (ResNet-18 whole-tail 1.016x at 2 threads)"),
    cl::sub(top), cl::sub(runCommand()), cl::cat(category()));
static cl::opt<bool> timePhases(
    "time-phases",
    cl::desc("Print where the compile time went: the import, every phase "
             "and its passes, and each code generation step, with wall "
             "times (MLIR's --mlir-timing; --mlir-timing-display=list "
             "sums them by pass)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));
static cl::opt<bool> verifyEachPass(
    "verify-each-pass",
    cl::desc("Verify the IR after every pass, not only after every phase "
             "(slower; for finding a compiler bug)"),
    cl::sub(cl::SubCommand::getAll()), cl::cat(category()));

/// The root of --time-phases' report (times nothing when it is off).
static TimingScope rootTiming;

/// Reads the model; lives until main ends, since the handler it installs
/// prints the diagnostics of every pass with the .mlir source line.
static std::unique_ptr<mlir::anvil::ModelLoader> loader;

llvm::ArrayRef<std::string> anvilc::symbols() { return loader->symbols(); }

/// The subcommand given, or the top level.
static cl::SubCommand &chosenCommand() {
  for (cl::SubCommand *sub : {&runCommand(), &trainCommand(), &checkCommand(),
                              &exportCommand(), &quantizeCommand()})
    if (*sub)
      return *sub;
  return top;
}

OwningOpRef<ModuleOp>
anvilc::loadModel(MLIRContext &context,
                  const std::vector<::anvil::NpyArray> *known) {
  const std::string &path = modelPath;
  TimingScope timing = rootTiming.nest("import");
  if (path.empty()) {
    std::string sub = chosenCommand().getName().str();
    reportError("no model given; see anvilc " + (sub.empty() ? "" : sub + " ") +
                "--help");
    return nullptr;
  }
  mlir::anvil::OnnxImportOptions options;
  if (mlir::anvil::isOnnxPath(path)) {
    auto sizes = mlir::anvil::parseBindings(bindings);
    if (!sizes) {
      reportError(sizes.takeError());
      return nullptr;
    }
    options.bindings = std::move(*sizes);
    if (known)
      options.inputValues.assign(known->begin(), known->end());
    options.batch = batch();
    // `check` says which ops Anvil takes; that does not depend on the batch.
    if (checkCommand())
      options.unboundSize = 1;
  }
  auto module = loader->load(path, options);
  if (!module) {
    reportError(module.takeError());
    return nullptr;
  }
  // --weights (only the subcommands that take it can have it set).
  if (!weightsIn.empty())
    if (llvm::Error e = mlir::anvil::applyWeights(**module, weightsIn)) {
      reportError(std::move(e));
      return nullptr;
    }
  return std::move(*module);
}

std::string anvilc::typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

bool anvilc::bf16Precision() { return precision == "bf16"; }

/// Whether the bf16 layers come marked in the module, chosen by the report
/// (quantizeModel), rather than all of them by anvil-bf16.
static bool bf16LayersChosen() {
  cl::SubCommand &sub = chosenCommand();
  return &sub == &quantizeCommand() || (&sub == &top && quantizeOptionsGiven());
}

/// build/lib beside build/bin/anvilc: where the model runtime lives.
static std::string libDir;

int anvilc::compile(MLIRContext &context, ModuleOp module, Job job,
                    bool reports) {
  if (splitBatch < 1)
    return reportError("--split-batch must be >= 1 (1: off), not " +
                       std::to_string(splitBatch));
  job.options.fuseElementwise = job.options.foldBatchNorm = !noFusion;
  job.options.approximateMath = !exactMath;
  job.options.sigmoidReciprocal = sigmoidReciprocal;
  job.options.vectorizeWindows = !noVectorizeWindows;
  job.options.vectorMaxPoolGrad = !noVectorMaxPoolGrad;
  job.options.vectorCol2im = !noVectorCol2im;
  job.options.maskedTails = !noMaskedTails;
  job.options.windowRowBlocks = !noWindowRowBlocks;
  job.options.splitTailStores = !noSplitTailStores;
  job.options.splitWholeTail = !noSplitWholeTail;
  job.options.vectorizeCopies = !noVectorizeCopies;
  job.options.packMatmul = !noPackMatmul;
  job.options.epilogueInPlace = !noEpilogueInPlace;
  job.options.peelFirstKBlock = !noPeelFirstKBlock;
  job.options.im2colBlend = !noIm2colBlend;
  job.options.windowKBlocks = !noWindowKBlocks;
  job.options.epilogueInTiles = !noEpilogueInTiles;
  job.options.fullHeightTiles = !noFullHeightTiles;
  job.options.packConstantA = packConstantA;
  job.options.packConstantB = !noPackConstantB;
  job.options.rowSoftmax = !noRowSoftmax;
  if (int8Matmul != "vnni" && int8Matmul != "portable" &&
      int8Matmul != "generic" && int8Matmul != "auto")
    return reportError("--int8-matmul must be auto, vnni, portable or "
                       "generic, not '" +
                       int8Matmul + "'");
  mlir::anvil::TargetOptions target{targetTriple, targetCpu, codegenThreads};
  // vpdpbusd on a CPU without it is an illegal instruction at run time.
  bool hasVnni = mlir::anvil::targetHasFeature(target, "avx512vnni");
  if (int8Matmul == "vnni" && !hasVnni)
    return reportError("--int8-matmul=vnni needs AVX-512 VNNI, which the "
                       "target CPU (" +
                       (targetCpu.empty() ? std::string("this machine's")
                                          : "--target-cpu " + targetCpu) +
                       ") lacks; use --int8-matmul=auto");
  // So is vpmaddwd on 256-bit registers without AVX2.
  bool hasAvx2 = mlir::anvil::targetHasFeature(target, "avx2");
  if (int8Matmul == "portable" && !hasAvx2)
    return reportError("--int8-matmul=portable needs AVX2, which the target "
                       "CPU (" +
                       (targetCpu.empty() ? std::string("this machine's")
                                          : "--target-cpu " + targetCpu) +
                       ") lacks; use --int8-matmul=generic or auto");
  if (precision != "f32" && precision != "bf16")
    return reportError("--precision must be f32 or bf16, not '" + precision +
                       "'");
  if (bf16Matmul != "dpbf16" && bf16Matmul != "rounded" && bf16Matmul != "auto")
    return reportError("--bf16-matmul must be auto, dpbf16 or rounded, not '" +
                       bf16Matmul + "'");
  // vdpbf16ps on a CPU without it is an illegal instruction at run time.
  bool hasBf16 = mlir::anvil::targetHasFeature(target, "avx512bf16");
  if (bf16Matmul == "dpbf16" && !hasBf16)
    return reportError("--bf16-matmul=dpbf16 needs AVX512_BF16, which the "
                       "target CPU (" +
                       (targetCpu.empty() ? std::string("this machine's")
                                          : "--target-cpu " + targetCpu) +
                       ") lacks; use --bf16-matmul=auto");
  // Said once per process (anvilc quantize compiles each layer too), not
  // silently slower: without vdpbf16ps a bf16 product is the f32 product of
  // rounded operands (the same numbers, more work).
  static bool bf16Noted = false;
  if (precision == "bf16" && bf16Matmul == "auto" && !hasBf16 &&
      !std::exchange(bf16Noted, true))
    llvm::errs() << "anvilc: note: the target CPU ("
                 << (targetCpu.empty() ? std::string("this machine's")
                                       : "--target-cpu " + targetCpu)
                 << ") lacks AVX512_BF16: --precision bf16 computes its "
                    "products as f32 products of operands rounded to bf16 "
                    "(the results it would give with AVX512_BF16), which is "
                    "slower than --precision f32\n";
  // With a report (anvilc quantize --precision bf16, or anvilc MODEL
  // --precision bf16 --calibrate DATA) the module carries the report's
  // choice of bf16 layers; otherwise every matmul is.
  job.options.bf16 = precision == "bf16" && !bf16LayersChosen();
  job.options.bf16Matmul =
      bf16Matmul == "dpbf16" || (bf16Matmul == "auto" && hasBf16);
  if (matmulVectorBits != 0 && matmulVectorBits != 256 &&
      matmulVectorBits != 512)
    return reportError("--matmul-vector-bits must be 0 (auto), 256 or 512, "
                       "not " +
                       std::to_string(matmulVectorBits));
  job.options.matmulVectorBits =
      matmulVectorBits != 0                              ? matmulVectorBits
      : mlir::anvil::targetHasFeature(target, "avx512f") ? 512
                                                         : 256;
  job.options.int8Matmul = int8Matmul == "vnni" || int8Matmul == "portable" ||
                           (int8Matmul == "auto" && (hasVnni || hasAvx2));
  job.options.vnni = int8Matmul == "vnni" || (int8Matmul == "auto" && hasVnni);
  job.options.int8SmallWeights = !noInt8SmallWeights;
  job.options.int8Conv = !noInt8Conv;
  job.options.int8DirectConv = !noInt8DirectConv;
  job.options.int8Narrow = !noInt8Narrow;
  job.options.int8RowTiles = !noInt8RowTiles;
  job.options.int8Pairs = !noInt8Pairs;
  job.options.int8Lanes =
      !noInt8Lanes && mlir::anvil::targetHasFeature(target, "avx512vbmi");
  job.options.hoistQuantize = !noHoistQuantize && !noFusion;
  job.options.int8DirectRuns = !noInt8DirectRuns;
  // Its tiles need FMAs on 8 or 16 lanes.
  job.options.directConv =
      !noDirectConv &&
      (hasAvx2 || mlir::anvil::targetHasFeature(target, "avx512f"));
  job.options.directConvPeriods = !noDirectConvPeriods;
  job.options.directConvBlocksOuter = !noDirectConvBlocksOuter;
  job.options.int8VectorRows = !noInt8VectorRows;
  job.options.depthwiseStride1Nchw = !noDepthwiseStride1Nchw;
  job.options.depthwiseStridedNchw = !noDepthwiseStridedNchw;
  job.options.joinEpilogueUsers = !noJoinEpilogueUsers;
  job.options.hoistAboveTransposes = !noHoistAboveTransposes;
  job.options.mathOutOfWindows = !noMathOutOfWindows;
  job.options.windowsReadInOrder = !noWindowsReadInOrder;
  job.options.outlineKernels = !noOutlineKernels;
  job.options.parallelImages = !noParallelImages;
  job.options.parallelPads = !noParallelPads;
  job.options.splitWindows = !noSplitWindows;
  job.options.padRows = !noPadRows;
  job.options.wideWindowBands = !noWideWindowBands;
  job.options.splitBatch = splitBatch;
  job.target = target;
  job.libDir = libDir;
  job.modelName = llvm::sys::path::filename(modelPath).str();
  if (reports) {
    job.dumpPhasesTo = dumpPhasesTo;
    job.printMemoryPlan = printMemoryPlan;
    job.fusionReport = fusionReport;
  }
  job.verifyEachPass = verifyEachPass;
  return reportError(mlir::anvil::compileModule(context, module, std::move(job),
                                                rootTiming, llvm::outs()));
}

/// LLVM's parser lets a subcommand take the top level's options; one that
/// the subcommand does not read would be silently ignored, so it is an
/// error naming the subcommand. (MLIR's own flags, outside the category,
/// work everywhere.)
static int checkStrayOptions() {
  cl::SubCommand &sub = chosenCommand();
  if (&sub == &top)
    return 0;
  for (auto &entry : top.OptionsMap) {
    cl::Option *option = entry.second;
    if (option->getNumOccurrences() && option->Subs.count(&sub) == 0 &&
        option->Subs.count(&cl::SubCommand::getAll()) == 0 &&
        llvm::is_contained(option->Categories, &category()))
      return reportError("--" + option->ArgStr.str() +
                         " is not an option of `anvilc " + sub.getName().str() +
                         "`; `anvilc " + sub.getName().str() +
                         " --help` lists its options");
  }
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  libDir = llvm::sys::path::parent_path(
               llvm::sys::path::parent_path(llvm::sys::fs::getMainExecutable(
                   argv[0], reinterpret_cast<void *>(&checkStrayOptions))))
               .str() +
           "/lib";
  // MLIR's own flags (--mlir-print-ir-after-all, ...) work but stay out of
  // --help; --help-hidden lists them.
  for (cl::SubCommand *sub :
       {&top, &runCommand(), &trainCommand(), &checkCommand(), &exportCommand(),
        &quantizeCommand()})
    cl::HideUnrelatedOptions(category(), *sub);
  cl::ParseCommandLineOptions(argc, argv,
                              R"(Anvil: a compiler for neural-network graphs

  anvilc MODEL.mlir [-o EXE]             compile to a native executable
  anvilc MODEL.mlir --compile-to=PHASE   stop after a phase, print its IR
  anvilc train MODEL.mlir --lr 0.05 --momentum 0.9 -o trainer
                                         compile a native trainer
  anvilc run MODEL.mlir --input x.npy ... --output y.npy ...
                                         compile and run (or --reference)
  anvilc run MODEL.onnx --inputs a.pb,b.pb --outputs DIR
                                         the same with onnx.TensorProto files
  anvilc check MODEL.onnx                list everything Anvil cannot compile
  anvilc export MODEL --weights CKPT -o out.onnx
                                         write the trained model as ONNX
  anvilc quantize MODEL --weights CKPT --calibrate DATA -o int8.mlir
                                         int8 matmuls and convolutions, with
                                         an accuracy report (or -o int8.onnx)
  anvilc MODEL --int8 --calibrate DATA -o EXE
                                         the same, compiled at once
  anvilc [train] MODEL --precision bf16  matmuls in bf16, f32 accumulation
                                         (anvilc quantize --precision bf16:
                                         the report, bf16 against f32)

MODEL is Anvil's graph IR (.mlir) or an ONNX model (.onnx, opsets 7-21).
)");
  if (std::optional<std::string> e = parseBatchOption())
    return reportError(*e);
  if (int rc = checkStrayOptions())
    return rc;
  if (targetCpu == "help") {
    mlir::anvil::TargetOptions target{targetTriple, ""};
    auto cpus = mlir::anvil::targetCpus(target);
    if (!cpus)
      return reportError(cpus.takeError());
    llvm::outs() << "CPUs for " << target.tripleOrHost() << ":\n";
    for (const std::string &cpu : *cpus)
      llvm::outs() << "  " << cpu << "\n";
    return 0;
  }

  // Printed when it goes out of scope, after the root timer stops.
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  if (timePhases)
    timingManager.setEnabled(true);
  rootTiming = timingManager.getRootScope();

  DialectRegistry registry;
  mlir::anvil::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Errors name the op by its source line; the generic op dump adds noise.
  context.printOpOnDiagnostic(false);
  loader = std::make_unique<mlir::anvil::ModelLoader>(context);
  int rc;
  try {
    rc = runCommand()        ? runMain(context)
         : trainCommand()    ? trainMain(context)
         : checkCommand()    ? checkMain(context)
         : exportCommand()   ? exportMain(context)
         : quantizeCommand() ? quantizeMain(context)
                             : compileMain(context);
  } catch (const ::anvil::Error &e) {
    rc = reportError(e.what());
  }
  loader.reset(); // its handler unregisters itself from the context
  rootTiming.stop();
  return rc;
}
