//===- FusionReport.cpp - what was fused, and why not ---------------------===//
//
// Reads the anvil IR at the end of the optimize phase and groups its ops into
// the kernels the backend makes of them. The graph-level fusions have
// happened by then and left their marks on the ops: anvil-fold-batch-norm
// gives a folded convolution `anvil.fused = ["batch_norm"]` and a fused
// location, and every batch norm it could not fold `anvil.not_fused` with the
// reason. The backend's elementwise fusion (anvil-fuse-elementwise) happens
// later, on linalg, where the ops' names are gone; its rule is simple enough
// to apply here instead: an elementwise op joins the loop nest of an
// elementwise producer that has no other user, unless that body already
// holds more than max-body-ops operations, or the op broadcasts the
// producer's smaller result (fused, it would recompute each of the
// producer's elements per use). So this file knows that rule, and
// the report says which candidates it refused and why. So does
// anvil-fuse-matmul-epilogue's: the elementwise chain after a conv2d or
// matmul that lowers to one parallel-blocked linalg.matmul (one group, one
// image, at least 8 MFLOP) and has no other user becomes its epilogue, and
// the report names that kernel after the product. A concat says how many
// of its inputs anvil-write-concat-in-place computes into it (elementwise
// loops with no other user), which it then neither reads nor writes. A max
// pool that anvil-hoist-quantize put after the quantize that read it says
// so (`anvil.after_quantize`), and a quantize it left says why
// (`anvil.not_hoisted`).
// Reshapes, flattens, constants and parameters make no kernel. A public
// function says whether anvil-split-batch ran its batch as chunks (then the
// kernels are its chunk function's, per chunk, and the totals count every
// chunk) or why not.
//
//===----------------------------------------------------------------------===//

#include "compiler/FusionReport.h"

#include "dialects/AnvilOps.h"
#include "passes/BatchVariants.h"
#include "passes/Conversion/AnvilToLinalg/Utils.h"
#include "passes/DirectConvSchedule.h"
#include "passes/Int8Epilogue.h"
#include "passes/Int8LaneConv.h"
#include "passes/MatmulSchedule.h"
#include "passes/Passes.h"
#include "passes/WindowSchedule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// anvil-fuse-elementwise's max-body-ops as the backend pipeline runs it
/// (the pass option's default).
constexpr int64_t kMaxBodyOps = 64;

/// Ops whose lowering is one all-parallel linalg.generic, which the
/// backend's elementwise fusion can fuse (inference batch norm is one: a
/// multiply-add per element with per-channel operands; so are quantize and
/// dequantize, whose scales and zero points are per-tensor or per-channel
/// operands, and fake quantization by a range, whose scale is computed once
/// before its loop).
bool isElementwise(Operation *op) {
  return isa<BatchNormOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp,
             NegOp, AbsOp, ExpOp, LogOp, SqrtOp, RsqrtOp, ReluOp, SigmoidOp,
             TanhOp, ErfOp, GeluOp, LeakyReluOp, ClipOp, CastOp, CompareOp,
             SelectOp, ReluGradOp, QuantizeOp, DequantizeOp, FakeQuantizeOp,
             FakeQuantizeGradOp>(op);
}

/// Whether `op` lowers to one all-parallel linalg.generic that the ops
/// after it may join, though it joins nothing itself: a depthwise
/// convolution whose taps DepthwiseConv.cpp reads as views of its padded
/// input, in NCHW order or channels-last (then anvil-fuse-elementwise moves
/// the activation after its transpose back to NCHW above it, into its loop).
bool isElementwiseProducer(Operation *op) {
  if (isElementwise(op))
    return true;
  auto conv = dyn_cast<Conv2DOp>(op);
  return conv &&
         depthwiseLoweringOf(conv, /*stride1Nchw=*/true,
                             /*stridedNchw=*/true) != DepthwiseLowering::None;
}

/// The rows of depthwise convolution `conv`, lowered `how`, that
/// anvil-vectorize-windows computes together (WindowSchedule.h), as a
/// phrase for its line; empty when it computes them one at a time. In NCHW
/// a row runs along x and blocks are of rows; channels-last a row runs
/// along the channels and blocks are of a row's pixels. (The height is the
/// whole map's: a thread's tile of rows may make the blocks smaller.)
std::string rowsTogether(Conv2DOp conv, DepthwiseLowering how,
                         const PipelineOptions &options) {
  if (!options.vectorizeWindows || !options.windowRowBlocks)
    return "";
  auto out = cast<ShapedType>(conv.getType());
  auto w = cast<ShapedType>(conv.getWeight().getType());
  bool channelsLast = how == DepthwiseLowering::ChannelsLast;
  unsigned blocked = channelsLast ? 1 : 0; // (in strides, dilations, taps)
  int64_t width = channelsLast ? out.getDimSize(1) : out.getDimSize(3);
  int64_t height = channelsLast ? out.getDimSize(3) : out.getDimSize(2);
  bool strided = !channelsLast && conv.getStrides()[1] > 1;
  if (!windowRowsVectorized(width, strided, kWindowLanes, /*shortRows=*/true,
                            /*raggedRows=*/true) ||
      !windowTapsOverlap(w.getDimSize(2 + blocked), conv.getStrides()[blocked],
                         conv.getDilations()[blocked]))
    return "";
  // (In NCHW the filter's taps and the bias are read whole along a row;
  // channels-last they are vectors along it.)
  int64_t broadcasts = channelsLast ? 0
                                    : w.getDimSize(2) * w.getDimSize(3) +
                                          (conv.getBias() ? 1 : 0);
  int64_t block = windowRowBlock(width, height, out.getElementTypeBitWidth(),
                                 kWindowLanes, options.maskedTails, broadcasts);
  if (block < 2)
    return "";
  return llvm::formatv("; {0} {1} at a time, each vector they share read once",
                       block, channelsLast ? "pixels of a row" : "rows")
      .str();
}

/// Ops that make no kernel: values known at compile time and reshapes
/// (which only rename the dimensions of contiguous data).
bool makesNoKernel(Operation *op) {
  return isa<ConstantOp, ParamOp, ReshapeOp, FlattenOp>(op);
}

/// About how many scalar operations one element of `op` takes in a fused
/// loop body (its lowering's arithmetic).
int64_t scalarOps(Operation *op) {
  if (isa<BatchNormOp>(op))
    return 7; // add, sqrt, div, sub, mul, mul, add
  if (isa<SigmoidOp>(op))
    return 4; // neg, exp, add, div
  if (isa<GeluOp>(op))
    return 5;
  if (isa<LeakyReluOp>(op))
    return 3;
  if (isa<RsqrtOp, ClipOp>(op))
    return 2;
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    // A depthwise convolution's generic: one fma per tap.
    auto w = cast<ShapedType>(conv.getWeight().getType());
    return w.getDimSize(2) * w.getDimSize(3);
  }
  return 1;
}

int64_t elementsOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped && shaped.hasStaticShape() ? shaped.getNumElements() : 0;
}

int64_t bytesOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return 0;
  Type element = shaped.getElementType();
  int64_t size =
      element.isIntOrFloat() ? (element.getIntOrFloatBitWidth() + 7) / 8 : 8;
  return shaped.getNumElements() * size;
}

std::string shapeText(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return "?";
  std::string s;
  for (int64_t d : shaped.getShape())
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

/// The source names in `loc`: NameLoc names (ONNX node names), file:line:col
/// positions of .mlir input, recursively through fused and call-site
/// locations.
void addSourceNames(Location loc, std::vector<std::string> &names) {
  auto add = [&](std::string name) {
    if (!name.empty() && llvm::find(names, name) == names.end())
      names.push_back(std::move(name));
  };
  if (auto named = dyn_cast<NameLoc>(loc)) {
    add(named.getName().str());
  } else if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    add(llvm::formatv("{0}:{1}:{2}",
                      llvm::sys::path::filename(file.getFilename().getValue()),
                      file.getLine(), file.getColumn())
            .str());
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location inner : fused.getLocations())
      addSourceNames(inner, names);
  } else if (auto call = dyn_cast<CallSiteLoc>(loc)) {
    addSourceNames(call.getCallee(), names);
  }
}

std::string opName(Operation *op) { return op->getName().stripDialect().str(); }

/// FLOPs of one op, estimated from its shapes (a multiply-add is two).
int64_t flopsOf(Operation *op) {
  Type result = op->getNumResults() ? op->getResult(0).getType() : Type();
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    auto w = cast<ShapedType>(conv.getWeight().getType());
    int64_t macs = elementsOf(result) * w.getDimSize(1) * w.getDimSize(2) *
                   w.getDimSize(3);
    return 2 * macs + (conv.getBias() ? elementsOf(result) : 0);
  }
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    auto lhs = cast<ShapedType>(mm.getLhs().getType());
    int64_t k = lhs.getDimSize(mm.getTransposeA() ? lhs.getRank() - 2
                                                  : lhs.getRank() - 1);
    return 2 * elementsOf(result) * k;
  }
  // The integer products: one multiply-add per product term (counted as
  // two operations, as the float ones).
  if (auto conv = dyn_cast<QConv2DOp>(op)) {
    auto w = cast<ShapedType>(conv.getWeight().getType());
    return 2 * elementsOf(result) * w.getDimSize(1) * w.getDimSize(2) *
           w.getDimSize(3);
  }
  if (auto mm = dyn_cast<QMatmulOp>(op)) {
    auto lhs = cast<ShapedType>(mm.getLhs().getType());
    return 2 * elementsOf(result) * lhs.getDimSize(lhs.getRank() - 1);
  }
  if (isa<BatchNormOp>(op))
    return 2 * elementsOf(result); // the per-channel factors are cheap
  if (isElementwise(op))
    return elementsOf(result) * scalarOps(op);
  int64_t input = op->getNumOperands() ? elementsOf(op->getOperand(0).getType())
                                       : elementsOf(result);
  if (auto pool = dyn_cast<MaxPool2DOp>(op))
    return elementsOf(result) * pool.getKernel()[0] * pool.getKernel()[1];
  if (auto pool = dyn_cast<AvgPool2DOp>(op))
    return elementsOf(result) * pool.getKernel()[0] * pool.getKernel()[1];
  if (isa<SoftmaxOp, LogSoftmaxOp>(op))
    return 4 * input; // max, subtract and exp, sum, divide
  if (isa<LayerNormOp>(op))
    return 8 * input;
  return input;
}

/// Whether the pipeline runs anvil-direct-conv (AVX2 and AVX-512 targets).
bool runsDirect(const PipelineOptions &options) {
  return directConvLanes(options) > 0;
}

/// Whether `conv` becomes anvil-direct-conv's tiles.
bool isDirect(Conv2DOp conv, const PipelineOptions &options) {
  std::string why;
  return runsDirect(options) &&
         directConvTileOf(conv, directConvLanes(options),
                          options.directConvPeriods,
                          options.directConvBlocksOuter, why)
             .direct();
}

/// Whether the matmul `mm`'s B is a constant that anvil-tile-and-vectorize
/// reads from panels made at compile time (its pack-constant-b): f32
/// weights, transposed or not (the transpose is folded into the constant).
bool panelsOfConstantB(MatmulOp mm, const PipelineOptions &options) {
  auto rhs = cast<ShapedType>(mm.getRhs().getType());
  return options.packConstantB && rhs.getRank() == 2 &&
         rhs.getElementType().isF32() &&
         matchPattern(mm.getRhs(), m_Constant());
}

/// The register tiles anvil-tile-and-vectorize gives an M x N x K product
/// whose B it packs (rows x two vectors), and why not full height where
/// they are shorter; "" for an unpacked product. `constantB`: B's panels
/// are made at compile time (panelsOfConstantB).
std::string registerTiles(int64_t m, int64_t n, int64_t k,
                          const PipelineOptions &options,
                          bool constantB = false) {
  MatmulRegisters regs = matmulRegistersFor(options.matmulVectorBits);
  if (!options.packMatmul || !matmulPacksB(m, n, regs, constantB))
    return "";
  int64_t mr = matmulTileSize(m, regs.rows);
  // A block's rows (planMatmul's mc) only matter below 6 rows or at 1 past
  // a multiple of 6, which blocks of at least 128 of M >= 256 never are.
  int64_t rows = matmulRowTileHeight(m, k, std::min<int64_t>(m, 128), mr, regs,
                                     options.fullHeightTiles);
  std::string s =
      llvm::formatv(" [{0}x{1} register tiles", rows, regs.tile()).str();
  if (rows == regs.rows && mr < regs.rows)
    s += llvm::formatv(", full height: {0} has no divisor {1}", m, regs.rows);
  else if (rows < regs.rows && !options.fullHeightTiles)
    s += ", not full height: --no-full-height-tiles";
  else if (rows < regs.rows && 2 * mr <= kFmaChains)
    s += llvm::formatv(", not full height: M = {0}, K = {1} (full height "
                       "for M >= 256 and K >= 128)",
                       m, k);
  if (constantB)
    s += "; B read from panels made at compile time";
  return s + "]";
}

/// The pattern of a kernel made of one op that is not elementwise.
std::string describe(Operation *op, const PipelineOptions &options) {
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    auto w = cast<ShapedType>(conv.getWeight().getType());
    auto in = cast<ShapedType>(conv.getInput().getType());
    auto out = cast<ShapedType>(conv.getType());
    int64_t groups = conv.getGroups();
    std::string s =
        llvm::formatv("conv2d {0}x{1}", w.getDimSize(2), w.getDimSize(3)).str();
    ArrayRef<int64_t> strides = conv.getStrides();
    if (llvm::any_of(strides, [](int64_t v) { return v != 1; }))
      s += llvm::formatv(" stride {0}", strides[0]).str();
    s +=
        llvm::formatv(" {0}->{1} channels", in.getDimSize(1), out.getDimSize(1))
            .str();
    if (groups > 1)
      s += groups == in.getDimSize(1)
               ? " depthwise"
               : llvm::formatv(" in {0} groups", groups).str();
    // Which layout DepthwiseConv.cpp gave it, and why.
    std::string layout;
    DepthwiseLowering how =
        depthwiseLoweringOf(conv, options.depthwiseStride1Nchw,
                            options.depthwiseStridedNchw, &layout);
    if (how != DepthwiseLowering::None)
      s += " [" + layout + rowsTogether(conv, how, options) + "]";
    // anvil-direct-conv's tiles, or why the im2col matmul.
    if (groups == 1) {
      std::string why;
      int64_t lanes = directConvLanes(options);
      DirectConvTile tile =
          directConvTileOf(conv, lanes ? lanes : 16, options.directConvPeriods,
                           options.directConvBlocksOuter, why);
      if (!runsDirect(options))
        why = "anvil-direct-conv is off (--no-direct-conv, or a target "
              "without AVX2)";
      if (tile.direct() && runsDirect(options))
        s += llvm::formatv(
                 " [direct tiles: {0} positions x {1} channels{2}{3}]",
                 tile.positions(), tile.lanes,
                 tile.periodRows > 1
                     ? llvm::formatv(", {0} per {1} output rows",
                                     tile.tiles.size(), tile.periodRows)
                           .str()
                     : std::string(),
                 tile.blocksOuter ? "; block by block: the padded image stays "
                                    "in cache"
                                  : "")
                 .str();
      else {
        s += " [im2col matmul, not direct: " + why + "]";
        int64_t pixels = out.getDimSize(2) * out.getDimSize(3),
                batch = out.getDimSize(0);
        s += registerTiles(
            out.getDimSize(1),
            convBatchesImages(batch, pixels) ? batch * pixels : pixels,
            w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3), options);
      }
    }
    if (auto fused = op->getAttrOfType<ArrayAttr>("anvil.fused"))
      for (Attribute f : fused)
        s += " + " + cast<StringAttr>(f).getValue().str() + " folded";
    // The matrix product each image's convolution amounts to; a batch of
    // one-group convolutions of images under 64 pixels is one product over
    // all the images' columns (Conv.cpp's batchedConv).
    int64_t pixels = out.getDimSize(2) * out.getDimSize(3),
            images = out.getDimSize(0);
    bool batched = groups == 1 && convBatchesImages(images, pixels);
    s +=
        llvm::formatv(
            " (GEMM {0}x{1}x{2} {3}{4})", out.getDimSize(1) / groups,
            batched ? images * pixels : pixels,
            w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3),
            batched ? llvm::formatv("over the batch's {0} images", images).str()
                    : std::string("per image"),
            groups > 1 ? ", per group" : "")
            .str();
    return s;
  }
  if (auto mm = dyn_cast<MatmulOp>(op)) {
    auto out = cast<ShapedType>(mm.getType());
    int64_t rank = out.getRank();
    int64_t flops = flopsOf(op);
    int64_t m = out.getDimSize(rank - 2), n = out.getDimSize(rank - 1);
    int64_t batch = elementsOf(out) / std::max<int64_t>(1, m * n);
    int64_t k = flops / std::max<int64_t>(1, 2 * elementsOf(out));
    std::string s = llvm::formatv("matmul {0}x{1}x{2}", m, n, k).str();
    if (batch > 1)
      s += llvm::formatv(", batch {0}", batch).str();
    // A batched product with a 2-D B folds its batch into M.
    if (cast<ShapedType>(mm.getRhs().getType()).getRank() == 2)
      s += registerTiles(batch * m, n, k, options,
                         panelsOfConstantB(mm, options));
    return s;
  }
  // anvil-int8-matmul's lane tiles (a direct convolution of a one-channel
  // image, by filter-row runs, with AVX512_VBMI).
  if (auto qconv = dyn_cast<QConv2DOp>(op);
      qconv && options.int8Matmul && options.vnni && options.int8Conv &&
      options.int8DirectConv && options.int8DirectRuns && options.int8Lanes &&
      int8ConvTakesTiles(qconv) && laneConvFits(qconv))
    return opName(op) + " " + shapeText(op->getResult(0).getType()) +
           " [lane tiles: 16 positions of one channel per accumulator]";
  if (isa<MaxPool2DOp>(op) && op->hasAttr("anvil.after_quantize"))
    return opName(op) + " " + shapeText(op->getResult(0).getType()) +
           " on 8-bit values (anvil-hoist-quantize moved the quantize after "
           "it before it)";
  return opName(op) + " " + shapeText(op->getResult(0).getType());
}

/// Human-readable counts: 1.23 G, 4.5 M, 678 K.
std::string humanCount(int64_t n, StringRef unit) {
  double v = double(n);
  const char *prefix = "";
  if (v >= 1e9)
    v /= 1e9, prefix = "G";
  else if (v >= 1e6)
    v /= 1e6, prefix = "M";
  else if (v >= 1e3)
    v /= 1e3, prefix = "K";
  return llvm::formatv("{0:f2} {1}{2}", v, prefix, unit).str();
}

/// Groups the ops of one function into kernels.
class Grouper {
public:
  explicit Grouper(const PipelineOptions &options) : options(options) {}

  std::vector<KernelReport> run(func::FuncOp func) {
    for (Operation &op : func.getBody().getOps())
      if (isa_and_nonnull<AnvilDialect>(op.getDialect()) && !makesNoKernel(&op))
        place(&op);
    std::vector<KernelReport> kernels;
    for (Group &group : groups)
      if (!group.ops.empty())
        kernels.push_back(report(func, group));
    return kernels;
  }

private:
  /// A fusion not taken; `op` and `producer` are set where a later op may
  /// still bring both into one loop (a producer with several users, all
  /// of which end up in it), and the note is then dropped.
  struct Note {
    Note(std::string text, Operation *op = nullptr,
         Operation *producer = nullptr)
        : text(std::move(text)), op(op), producer(producer) {}
    std::string text;
    Operation *op, *producer;
  };

  struct Group {
    SmallVector<Operation *> ops;
    int64_t bodyOps = 0;
    std::vector<Note> notFused;
    /// Its first op is a matmul or convolution, the others its epilogue.
    bool epilogue = false;
  };

  /// The op that computes `value`, looking through reshapes (the backend
  /// folds them into the loop nests around them).
  static Operation *producerOf(Value value) {
    Operation *op = value.getDefiningOp();
    while (op && isa<ReshapeOp, FlattenOp>(op) && op->hasOneUse())
      op = op->getOperand(0).getDefiningOp();
    return op;
  }

  void place(Operation *op) {
    std::vector<Note> notes;
    if (isa<BatchNormOp>(op)) {
      if (auto why = op->getAttrOfType<StringAttr>("anvil.not_fused"))
        notes.push_back("batch_norm not folded into a conv2d: " +
                        why.getValue().str());
      else if (!options.foldBatchNorm)
        notes.push_back(std::string("batch_norm not folded into a conv2d: "
                                    "anvil-fold-batch-norm is off "
                                    "(--no-fusion)"));
    }
    if (auto quantize = dyn_cast<QuantizeOp>(op)) {
      Operation *producer = quantize.getInput().getDefiningOp();
      std::string before = " not moved before the " +
                           (producer ? opName(producer) : std::string()) + ": ";
      if (auto why = op->getAttrOfType<StringAttr>("anvil.not_hoisted"))
        notes.push_back("quantize" + before + why.getValue().str());
      else if (!options.hoistQuantize &&
               isa_and_nonnull<MaxPool2DOp, ReshapeOp, FlattenOp>(producer))
        notes.push_back("quantize" + before +
                        "anvil-hoist-quantize is off (--no-hoist-quantize, "
                        "--no-fusion)");
    }
    if (isElementwise(op)) {
      int64_t joined = -1;
      // A matmul's or convolution's epilogue first: the op then only reads
      // its other operands, whatever made them.
      // (Of two candidates, the one made first: the pass visits matmuls in
      // order, and the first to claim the op keeps it.)
      Operation *head = nullptr;
      for (Value operand : op->getOperands()) {
        Operation *producer = producerOf(operand);
        if (!producer || isElementwiseProducer(producer) ||
            !groupOf.count(producer))
          continue;
        int64_t g = find(groupOf[producer]);
        std::string why = epilogueRefusal(producer, op, operand);
        if (why.empty() && groups[g].ops.size() == 1 &&
            (!head || producer->isBeforeInBlock(head) || producer == head)) {
          if (head && head != producer)
            notes.push_back(opName(op) + " not fused into the " + opName(head) +
                            " before it: it is the epilogue of an earlier " +
                            opName(producer));
          head = producer;
          joined = g;
        } else if (why.empty() && groups[g].epilogue &&
                   llvm::any_of(producer->getUsers(), [&](Operation *u) {
                     return u != op && groupOf.count(u) &&
                            find(groupOf[u]) == g;
                   })) {
          // Another user of the product started its epilogue, and their
          // chains meet here (join-users): `op` joins through it below.
        } else if (why.empty() && groups[g].ops.size() == 1) {
          notes.push_back(
              opName(op) + " not fused into the " + opName(producer) +
              " before it: it is the epilogue of an earlier " + opName(head));
        } else if (producer->hasOneUse() || !why.empty()) {
          notes.push_back(opName(op) + " not fused into the " +
                          opName(producer) + " before it: " +
                          (why.empty() ? "it already has an epilogue" : why));
        } else {
          notes.push_back(opName(op) + " not fused into the " +
                          opName(producer) + ": its result has " +
                          std::to_string(countUsers(producer)) + " users");
        }
      }
      if (joined >= 0)
        groups[joined].epilogue = true;
      // Epilogues' chains first: the pass fuses the op into one of them
      // whatever its other operands are.
      SmallVector<Value> operands(op->getOperands());
      std::stable_partition(operands.begin(), operands.end(), [&](Value v) {
        Operation *producer = producerOf(v);
        return producer && groupOf.count(producer) &&
               groups[find(groupOf[producer])].epilogue;
      });
      // Then producers with one user, so that a producer whose other users
      // joined the op's loop through them is seen last: x * sigmoid(x) (a
      // SiLU) fuses the sigmoid into the multiply, whose two reads of x
      // then become one (the generic's canonicalization), and x joins too.
      std::stable_partition(operands.begin(), operands.end(), [&](Value v) {
        Operation *producer = producerOf(v);
        return !producer || producer->hasOneUse();
      });
      for (Value operand : operands) {
        Operation *producer = producerOf(operand);
        if (!producer || makesNoKernel(producer) || !groupOf.count(producer) ||
            !isElementwiseProducer(producer))
          continue;
        int64_t g = find(groupOf[producer]);
        std::string other = opName(producer);
        // An epilogue continues only along its own chain: the op must
        // have the shape of the epilogue's result (anvil-fuse-matmul-
        // epilogue fuses consumers, never the producers of other operands).
        bool intoEpilogue = groups[g].epilogue;
        // anvil-int8-matmul's tiles take their chain (Int8Epilogue.h).
        if (auto qconv = dyn_cast<QConv2DOp>(groups[g].ops.front());
            intoEpilogue && qconv) {
          std::string why = int8Refusal(qconv, op);
          if (!why.empty()) {
            // (A residual add that another int8 convolution's tiles take
            // reads this one's output, and that is all.)
            bool elsewhere = llvm::any_of(op->getOperands(), [&](Value v) {
              Operation *p = producerOf(v);
              if (!p || p == producer || !groupOf.count(p))
                return false;
              auto head =
                  dyn_cast<QConv2DOp>(groups[find(groupOf[p])].ops.front());
              return head && int8Refusal(head, op).empty();
            });
            if (!elsewhere)
              notes.push_back(
                  Note(opName(op) + " not fused with the " + other + ": " + why,
                       op, producer));
            continue;
          }
          joined = g;
          continue;
        }
        if (intoEpilogue &&
            (joined >= 0 ||
             op->getResult(0).getType() != producer->getResult(0).getType()))
          continue;
        if (joined >= 0 && groups[joined].epilogue)
          continue;
        // anvil-direct-conv's stores take an add, then a relu or a clip,
        // and nothing after them.
        if (auto conv = dyn_cast<Conv2DOp>(groups[g].ops.front());
            intoEpilogue && conv && isDirect(conv, options) &&
            (!isa<ReluOp, ClipOp>(op) ||
             llvm::any_of(groups[g].ops, [](Operation *o) {
               return isa<ReluOp, ClipOp>(o);
             }))) {
          notes.push_back(Note(opName(op) + " not fused with the " + other +
                                   ": the direct convolution's tiles take "
                                   "only an add and a relu or clip into "
                                   "their stores",
                               op, producer));
          continue;
        }
        if (!options.fuseElementwise) {
          notes.push_back(opName(op) + " not fused with the " + other +
                          ": elementwise fusion is off (--no-fusion)");
        } else if (readsBesideChannelsLast(op, g, joined)) {
          notes.push_back(Note(opName(op) + " not fused with the " + other +
                                   ": the depthwise convolution runs "
                                   "channels-last, and only an op of its "
                                   "result alone moves above its transpose "
                                   "to NCHW",
                               op, producer));
        } else if (!onlyUsedIn(producer, op, joined) &&
                   // (An epilogue's chain joins users that meet, as its
                   // product does: a Gemm's bias add, then a SiLU.)
                   !(intoEpilogue && usersJoin(producer))) {
          notes.push_back(Note(opName(op) + " not fused with the " + other +
                                   ": multiple users (its result has " +
                                   std::to_string(countUsers(producer)) + ")",
                               op, producer));
        } else if (int64_t times = broadcastFactor(producer, op)) {
          notes.push_back(
              llvm::formatv("{0} not fused with the {1}: it broadcasts the "
                            "{1}'s {2} result to {3}, and fused, the {1} "
                            "would be computed {4} times per element",
                            opName(op), other,
                            shapeText(producer->getResult(0).getType()),
                            shapeText(op->getResult(0).getType()), times)
                  .str());
        } else if (groups[g].bodyOps + 1 > kMaxBodyOps) {
          notes.push_back(
              llvm::formatv(
                  "elementwise chain split before {0}: the body would exceed "
                  "max-body-ops {1}",
                  opName(op), kMaxBodyOps)
                  .str());
        } else if (options.mathOutOfWindows &&
                   ((isWindowGroup(g) &&
                     (isTranscendental(op) ||
                      (joined >= 0 && hasTranscendental(joined)))) ||
                    (joined >= 0 && isWindowGroup(joined) &&
                     hasTranscendental(g)))) {
          notes.push_back(Note(opName(op) + " not fused with the " + other +
                                   ": a depthwise convolution's loop takes "
                                   "no exp, tanh or erf (their chains and "
                                   "its taps' slow each other down); the "
                                   "activation runs as a loop of its own "
                                   "(--no-math-out-of-windows fuses it)",
                               op, producer));
        } else if (g != joined) {
          // A depthwise convolution's group stays first: it names the
          // kernel.
          joined = joined < 0                             ? g
                   : isElementwise(groups[g].ops.front()) ? merge(joined, g)
                                                          : merge(g, joined);
        }
      }
      if (joined >= 0) {
        Group &group = groups[joined];
        group.ops.push_back(op);
        group.bodyOps += scalarOps(op);
        group.notFused.insert(group.notFused.end(), notes.begin(), notes.end());
        groupOf[op] = joined;
        return;
      }
    }
    groups.push_back(Group{{op}, scalarOps(op), std::move(notes)});
    groupOf[op] = groups.size() - 1;
  }

  /// Whether group `g` is a depthwise convolution's (a window generic that
  /// the ops after it may join).
  bool isWindowGroup(int64_t g) {
    Operation *head = groups[g].ops.front();
    return isa<Conv2DOp>(head) && isElementwiseProducer(head);
  }

  /// Whether `op` lowers to an exp, a tanh or an erf (anvil-fuse-
  /// elementwise's math-out-of-windows looks for those in the generics).
  static bool isTranscendental(Operation *op) {
    return isa<ExpOp, SigmoidOp, TanhOp, ErfOp, GeluOp>(op);
  }

  bool hasTranscendental(int64_t g) {
    return llvm::any_of(groups[g].ops, isTranscendental);
  }

  /// Whether group `g` is a channels-last depthwise convolution's and `op`
  /// reads something made outside it: anvil-fuse-elementwise moves an op
  /// above the transpose back to NCHW only when the transpose is all it
  /// reads (a residual add stays after it). What the op's own loop so far
  /// (group `joined`) computes from group g's result alone counts as g's:
  /// x * sigmoid(x) is one loop of x, which moves above the transpose.
  bool readsBesideChannelsLast(Operation *op, int64_t g, int64_t joined) {
    auto conv = dyn_cast<Conv2DOp>(groups[g].ops.front());
    if (!conv || depthwiseLoweringOf(conv, options.depthwiseStride1Nchw,
                                     options.depthwiseStridedNchw) !=
                     DepthwiseLowering::ChannelsLast)
      return false;
    // (A scalar known at compile time is folded into the loop's body.)
    auto outside = [&](Operation *user, int64_t within) {
      return llvm::any_of(user->getOperands(), [&](Value v) {
        Operation *producer = producerOf(v);
        if (producer && makesNoKernel(producer) && elementsOf(v.getType()) == 1)
          return false;
        if (!producer || !groupOf.count(producer))
          return true;
        int64_t from = find(groupOf[producer]);
        return from != g && from != within;
      });
    };
    if (joined >= 0 && joined != g &&
        llvm::any_of(groups[joined].ops,
                     [&](Operation *o) { return outside(o, joined); }))
      joined = -1;
    return outside(op, joined);
  }

  /// The M x N x K of the one linalg.matmul a one-group convolution or a
  /// product with a 2-D right-hand side lowers to (a convolution: one
  /// image's, or the whole batch's when its images are under 64 pixels),
  /// and the filter window its k blocks follow (kh * kw where B is an
  /// im2col matrix, else 1); nothing for other products.
  struct ProductShape {
    int64_t m = 0, n = 0, k = 0, window = 1;
    bool constantB = false;
  };
  static std::optional<ProductShape>
  productShape(Operation *producer, const PipelineOptions &options) {
    ProductShape p;
    if (auto conv = dyn_cast<Conv2DOp>(producer)) {
      auto out = cast<ShapedType>(conv.getType());
      if (conv.getGroups() != 1)
        return std::nullopt;
      auto w = cast<ShapedType>(conv.getWeight().getType());
      int64_t batch = out.getDimSize(0),
              pixels = out.getDimSize(2) * out.getDimSize(3);
      p.m = out.getDimSize(1);
      p.n = convBatchesImages(batch, pixels) ? batch * pixels : pixels;
      p.k = w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3);
      bool pointwise =
          w.getDimSize(2) == 1 && w.getDimSize(3) == 1 &&
          llvm::all_of(conv.getStrides(), [](int64_t s) { return s == 1; });
      if (!pointwise)
        p.window = w.getDimSize(2) * w.getDimSize(3);
      return p;
    }
    if (auto mm = dyn_cast<MatmulOp>(producer)) {
      auto lhs = cast<ShapedType>(mm.getLhs().getType());
      auto rhs = cast<ShapedType>(mm.getRhs().getType());
      if (rhs.getRank() != 2 || (lhs.getRank() != 2 && mm.getTransposeA()))
        return std::nullopt;
      // A batched lhs folds its batch into M.
      auto out = cast<ShapedType>(mm.getType());
      p.n = out.getDimSize(out.getRank() - 1);
      p.m = elementsOf(out) / std::max<int64_t>(1, p.n);
      p.k = lhs.getDimSize(mm.getTransposeA() ? 0 : lhs.getRank() - 1);
      p.constantB = panelsOfConstantB(mm, options);
      return p;
    }
    return std::nullopt;
  }

  /// Whether the fused epilogue of `producer` runs in its register tiles
  /// (anvil-tile-and-vectorize's epilogue-in-tiles), not over its cache
  /// blocks.
  static bool epilogueInTiles(Operation *producer,
                              const PipelineOptions &options) {
    std::optional<ProductShape> p = productShape(producer, options);
    return p && epilogueInTiles(*p, options);
  }
  static bool epilogueInTiles(const ProductShape &p,
                              const PipelineOptions &options) {
    return options.packMatmul && options.epilogueInPlace &&
           options.epilogueInTiles &&
           matmulEpilogueInTiles(p.m, p.n, p.k, options.matmulVectorBits,
                                 options.windowKBlocks ? p.window : 1,
                                 p.constantB);
  }

  /// Why `consumer`, reading `operand` made by the matmul or convolution
  /// Why `consumer` is not computed in the int8 convolution `conv`'s
  /// tiles (anvil-int8-matmul's epilogue), or "" when it is.
  std::string int8Refusal(QConv2DOp conv, Operation *consumer) {
    if (!options.fuseElementwise)
      return "epilogue fusion is off (--no-fusion)";
    if (!options.int8Matmul || !options.int8Conv || !int8ConvTakesTiles(conv))
      return "the int8 convolution runs as the portable generic (not "
             "anvil-int8-matmul's tiles), which stores its i32 result";
    int64_t o = cast<ShapedType>(conv.getType()).getDimSize(1);
    if (!int8ConvTilesNchw(o, options.vnni, options.int8Narrow))
      return "only VNNI tiles of 16 output channels (16 dividing them, or "
             "at most 16) hold a run of positions per channel to compute "
             "it on, and these do not";
    std::string why;
    Int8Epilogue chain = matchInt8Epilogue(conv, why);
    if (!chain)
      return why;
    if (llvm::is_contained(chain.ops(), consumer))
      return "";
    Value last = chain.last()->getResult(0);
    if (llvm::is_contained(consumer->getOperands(), last) && !last.hasOneUse())
      return "its input has " + std::to_string(countUsers(chain.last())) +
             " users: the int8 convolution's tiles store it, and the " +
             opName(consumer) + " runs after";
    return "the int8 convolution's tiles take a dequantize, then a "
           "per-channel add, a residual add, a relu and a per-tensor "
           "quantize to ui8, in this order, each the only user of the one "
           "before";
  }

  /// `producer`, cannot be its epilogue (anvil-fuse-matmul-epilogue), or ""
  /// when it can. Follows the lowering: a one-group convolution of one
  /// image or a product with a 2-D right-hand side becomes a linalg.matmul,
  /// whose blocks are parallel from 8 MFLOP on.
  std::string epilogueRefusal(Operation *producer, Operation *consumer,
                              Value operand) {
    std::string name = opName(producer);
    // The M x N x K of the one linalg.matmul the product lowers to.
    ProductShape shape;
    // Why the product's layout keeps `consumer` out, if it does.
    std::string layout;
    // Why a product too small for parallel blocks keeps its epilogue out
    // of its register tiles too.
    std::string noTiles =
        options.packMatmul && options.epilogueInPlace && options.epilogueInTiles
            ? "B is not packed (too few rows or columns) or K is more than "
              "one k block"
            : "epilogues in register tiles are off (--no-epilogue-in-tiles, "
              "--no-epilogue-in-place or --no-pack-matmul)";
    std::string tooSmall = "the product is below 8 MFLOP, too small for "
                           "parallel blocks, and " +
                           noTiles + ": its epilogue stays a separate loop";
    if (auto qconv = dyn_cast<QConv2DOp>(producer))
      return int8Refusal(qconv, consumer);
    if (auto conv = dyn_cast<Conv2DOp>(producer);
        conv && isDirect(conv, options)) {
      // anvil-direct-conv's stores take an add of a same-typed tensor and
      // a relu or clip (the elementwise rule then joins one after the add).
      if (!options.fuseElementwise)
        return "epilogue fusion is off (--no-fusion)";
      bool joins = !producer->hasOneUse() && usersJoin(producer);
      if (!producer->hasOneUse() && !joins)
        return "its result has " + std::to_string(countUsers(producer)) +
               " users";
      bool sameType = llvm::all_of(consumer->getOperands(), [&](Value v) {
        return v.getType() == operand.getType();
      });
      if (!(isa<AddOp>(consumer) && sameType &&
            consumer->getOperand(0) != consumer->getOperand(1)) &&
          !isa<ReluOp, ClipOp>(consumer))
        return "the direct convolution's tiles take only an add of a tensor "
               "of its shape and a relu or clip into their stores";
      if (joins)
        return "its result has " + std::to_string(countUsers(producer)) +
               " users, and the direct convolution's tiles join none";
      return "";
    }
    if (auto conv = dyn_cast<Conv2DOp>(producer)) {
      auto out = cast<ShapedType>(conv.getType());
      if (conv.getGroups() != 1)
        return "a grouped convolution has no matmul epilogue";
      int64_t batch = out.getDimSize(0),
              pixels = out.getDimSize(2) * out.getDimSize(3);
      shape = *productShape(producer, options);
      // A batch of larger images is a loop over the images, one matmul
      // each, into which the epilogue moves.
      if (batch > 1 && !convBatchesImages(batch, pixels))
        tooSmall = "each image's product is below 8 MFLOP, too small for "
                   "parallel blocks, and " +
                   noTiles +
                   ": its epilogue is a separate loop after it, in the loop "
                   "over the images";
      // A batch of images under 64 pixels is one matmul whose columns run
      // image by image, [O, N*OH*OW], transposed to NCHW after the
      // epilogue: an operand that differs from image to image (a
      // residual) has no 2-D map onto those columns.
      if (convBatchesImages(batch, pixels)) {
        for (Value other : consumer->getOperands()) {
          auto t = dyn_cast<ShapedType>(other.getType());
          if (other != operand && t && t.getRank() == out.getRank() &&
              t.getDimSize(0) != 1 && !computedFrom(other, operand))
            layout = llvm::formatv(
                "at batch {0} the convolution of {1}-pixel images is one "
                "matmul over the whole batch, transposed to NCHW after it: "
                "an operand read per image (a residual) cannot follow its "
                "columns, so the {2} stays after the transpose",
                batch, pixels, opName(consumer));
        }
      }
    } else if (isa<MatmulOp>(producer)) {
      std::optional<ProductShape> product = productShape(producer, options);
      if (!product)
        return "a batched product has no matmul epilogue";
      shape = *product;
    } else {
      return "elementwise ops fuse only with elementwise producers";
    }
    if (!options.fuseElementwise)
      return "epilogue fusion is off (--no-fusion)";
    if (!producer->hasOneUse() && !usersJoin(producer))
      return "its result has " + std::to_string(countUsers(producer)) +
             " users" +
             (options.joinEpilogueUsers
                  ? ", whose chains do not meet in one of them"
                  : " (--no-join-epilogue-users)");
    if (consumer->getResult(0).getType() != operand.getType())
      return "it broadcasts the product to another shape";
    if (!layout.empty())
      return layout;
    if (!matmulRunsInParallelBlocks(shape.m, shape.n, shape.k)) {
      if (!epilogueInTiles(shape, options))
        return tooSmall;
      // (TileAndVectorize.cpp's fillsConcatPiece: the epilogue is the
      // elementwise chain from `consumer` on.)
      Value result = consumer->getResult(0);
      while (result.hasOneUse() && isElementwise(*result.user_begin()) &&
             (*result.user_begin())->getNumResults() == 1)
        result = (*result.user_begin())->getResult(0);
      if (result.hasOneUse() && isa<ConcatOp>(*result.user_begin()))
        return "the product is too small for parallel blocks, and the " +
               opName(consumer) +
               " makes a piece of a concat, which anvil-write-concat-in-place "
               "computes into the concat's buffer as a loop of its own "
               "(fused, the piece would be copied there)";
    }
    return "";
  }

  /// How many times over `consumer`, fused with the elementwise `producer`
  /// whose smaller result it broadcasts, would compute each of the
  /// producer's elements, or 0 when it reads each once (anvil-fuse-
  /// elementwise refuses such producers unless fuse-broadcasts is set).
  static int64_t broadcastFactor(Operation *producer, Operation *consumer) {
    int64_t produced = elementsOf(producer->getResult(0).getType());
    int64_t consumed = elementsOf(consumer->getResult(0).getType());
    if (produced == 0 || consumed <= produced)
      return 0;
    return consumed / produced;
  }

  /// Whether every user of `producer` is `op` or already in group
  /// `joined` (the loop `op` joins), so that fusing it computes it once.
  bool onlyUsedIn(Operation *producer, Operation *op, int64_t joined) {
    // (A lone user may be a reshape the backend folds away.)
    return producer->hasOneUse() ||
           llvm::all_of(producer->getUsers(), [&](Operation *user) {
             return user == op || (joined >= 0 && groupOf.count(user) &&
                                   find(groupOf[user]) == joined);
           });
  }

  /// Whether the users of `producer`'s result are elementwise ops of its
  /// shape whose chains of sole users meet in one of them, which
  /// anvil-fuse-matmul-epilogue (join-users) then makes one epilogue of:
  /// x * sigmoid(x), a hard swish x * clip(x / 6 + 0.5, 0, 1).
  bool usersJoin(Operation *producer) {
    if (!options.joinEpilogueUsers || producer->getNumResults() != 1)
      return false;
    Value value = producer->getResult(0);
    SmallVector<Operation *> users;
    for (Operation *u : value.getUsers())
      if (!llvm::is_contained(users, u))
        users.push_back(u);
    auto sameShape = [](Operation *u, Value v) {
      return isElementwise(u) && u->getNumResults() == 1 &&
             u->getResult(0).getType() == v.getType();
    };
    if (users.size() < 2 || users.size() > 4 ||
        llvm::any_of(users, [&](Operation *u) { return !sameShape(u, value); }))
      return false;
    int64_t meet = 0;
    for (Operation *u : users) {
      Operation *at = u;
      bool reached = false;
      for (int steps = 0; steps < 8 && !reached; ++steps) {
        Value r = at->getResult(0);
        if (!r.hasOneUse())
          break;
        Operation *next = *r.user_begin();
        if (!sameShape(next, r) || llvm::count(next->getOperands(), r) != 1)
          break;
        reached = llvm::is_contained(users, next);
        at = next;
      }
      meet += !reached;
    }
    return meet == 1;
  }

  /// Whether `value` is computed from `product` alone by a chain of
  /// elementwise ops of its shape (the sigmoid of x * sigmoid(x)), which a
  /// joined epilogue computes in the product's own layout.
  static bool computedFrom(Value value, Value product) {
    for (int steps = 0; steps < 8; ++steps) {
      Operation *op = value.getDefiningOp();
      if (!op || !isElementwise(op) || value.getType() != product.getType())
        return false;
      Value from;
      for (Value operand : op->getOperands()) {
        if (operand == product)
          return true;
        if (isa<ShapedType>(operand.getType()) &&
            elementsOf(operand.getType()) > 1) {
          if (from)
            return false;
          from = operand;
        }
      }
      if (!from)
        return false;
      value = from;
    }
    return false;
  }

  static int64_t countUsers(Operation *op) {
    return std::distance(op->getUsers().begin(), op->getUsers().end());
  }

  /// The group `g` was merged into, if any.
  int64_t find(int64_t g) {
    while (mergedInto.count(g))
      g = mergedInto[g];
    return g;
  }

  /// Moves group `from` into `into` (a consumer of two fused chains).
  int64_t merge(int64_t into, int64_t from) {
    Group &a = groups[into], &b = groups[from];
    a.ops.append(b.ops.begin(), b.ops.end());
    a.bodyOps += b.bodyOps;
    a.notFused.insert(a.notFused.end(), b.notFused.begin(), b.notFused.end());
    for (Operation *op : b.ops)
      groupOf[op] = into;
    b = Group();
    mergedInto[from] = into;
    return into;
  }

  KernelReport report(func::FuncOp func, const Group &group) {
    KernelReport k;
    k.function = func.getName().str();
    llvm::DenseSet<Operation *> inside(group.ops.begin(), group.ops.end());
    llvm::DenseSet<Value> read;
    for (Operation *op : group.ops) {
      k.ops.push_back(opName(op));
      addSourceNames(op->getLoc(), k.sources);
      k.flops += flopsOf(op);
      for (Value operand : op->getOperands())
        if (!inside.count(operand.getDefiningOp()) &&
            read.insert(operand).second)
          k.bytes += bytesOf(operand.getType());
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(),
                         [&](Operation *user) { return !inside.count(user); }))
          k.bytes += bytesOf(result.getType());
    }
    if (auto concat = dyn_cast<ConcatOp>(group.ops.front());
        concat && options.fuseElementwise) {
      // anvil-write-concat-in-place: a piece that is the one use of an
      // elementwise loop (not a matmul's epilogue) is computed into the
      // concat's buffer; the concat itself reads and writes only the others.
      int64_t inPlace = 0;
      for (Value input : concat.getInputs()) {
        Operation *producer = input.getDefiningOp();
        if (!producer || !isElementwise(producer) || !input.hasOneUse() ||
            !groupOf.count(producer) ||
            groups[find(groupOf[producer])].epilogue)
          continue;
        ++inPlace;
        k.bytes -= 2 * bytesOf(input.getType());
      }
      k.pattern = describe(concat, options);
      if (inPlace)
        k.pattern += llvm::formatv(": {0} of its {1} inputs computed into it "
                                   "in place (anvil-write-concat-in-place)",
                                   inPlace, concat.getInputs().size())
                         .str();
    } else if (group.epilogue) {
      auto conv = dyn_cast<Conv2DOp>(group.ops.front());
      k.pattern = describe(group.ops.front(), options) + " + epilogue " +
                  llvm::join(ArrayRef(k.ops).drop_front(), "+") +
                  ((conv && isDirect(conv, options)) ||
                           isa<QConv2DOp>(group.ops.front())
                       ? " in its tiles' stores"
                   : epilogueInTiles(group.ops.front(), options)
                       ? " in its register tiles"
                       : " on its cache blocks");
    } else if (!isElementwise(group.ops.front())) {
      // One op, or a depthwise convolution and the elementwise ops that
      // anvil-fuse-elementwise fused into its loop.
      k.pattern = describe(group.ops.front(), options);
      if (group.ops.size() > 1)
        k.pattern += " + " + llvm::join(ArrayRef(k.ops).drop_front(), "+") +
                     " in its loop";
    } else {
      std::string chain = llvm::join(k.ops, "+");
      std::string shape = shapeText(group.ops.back()->getResult(0).getType());
      k.pattern = group.ops.size() == 1
                      ? "elementwise " + chain + " " + shape
                      : llvm::formatv("elementwise chain of {0} ops fused "
                                      "into one loop: {1} {2}",
                                      group.ops.size(), chain, shape)
                            .str();
    }
    for (const Note &note : group.notFused)
      if (!note.op || find(groupOf[note.op]) != find(groupOf[note.producer]))
        k.notFused.push_back(note.text);
    return k;
  }

  const PipelineOptions &options;
  std::vector<Group> groups;
  llvm::DenseMap<Operation *, int64_t> groupOf;
  llvm::DenseMap<int64_t, int64_t> mergedInto;
};

} // namespace

std::vector<KernelReport>
mlir::anvil::collectFusionReport(ModuleOp module,
                                 const PipelineOptions &options) {
  std::vector<KernelReport> kernels;
  module.walk([&](func::FuncOp func) {
    if (func.isExternal())
      return;
    std::vector<KernelReport> own = Grouper(options).run(func);
    kernels.insert(kernels.end(), own.begin(), own.end());
  });
  return kernels;
}

void mlir::anvil::writeFusionReport(ModuleOp module,
                                    const PipelineOptions &options,
                                    FusionReportFormat format,
                                    llvm::raw_ostream &os) {
  if (format == FusionReportFormat::None)
    return;
  std::vector<KernelReport> kernels = collectFusionReport(module, options);
  bool fusion = options.fuseElementwise || options.foldBatchNorm;
  // Variants for other batches (anvil-batch-variants) and their chunk
  // functions: their kernels are listed, but the totals are one call of
  // each function at the batch compiled.
  struct Variant {
    std::string function, of;
    int64_t batch;
  };
  std::vector<Variant> variants;
  std::vector<std::pair<std::string, std::string>> singleBatch;
  llvm::StringSet<> inVariant;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (auto why = func->getAttrOfType<StringAttr>(kBatchVariantsAttr))
      singleBatch.push_back({func.getName().str(), why.str()});
    if (auto of = func->getAttrOfType<StringAttr>(kVariantOfAttr)) {
      auto batch = func->getAttrOfType<IntegerAttr>(kBatchAttr);
      variants.push_back(
          {func.getName().str(), of.str(), batch ? batch.getInt() : 0});
      inVariant.insert(func.getName());
      inVariant.insert((func.getName() + "__chunk").str());
    }
  }
  int64_t flops = 0, bytes = 0, notFused = 0;
  for (const KernelReport &k : kernels) {
    notFused += k.notFused.size();
    if (inVariant.contains(k.function))
      continue;
    // A chunk function's kernels run once per chunk (anvil-split-batch).
    int64_t calls = 1;
    if (auto func = module.lookupSymbol<func::FuncOp>(k.function))
      if (auto chunks = func->getAttrOfType<IntegerAttr>("anvil.split_chunks"))
        calls = chunks.getInt();
    flops += calls * k.flops;
    bytes += calls * k.bytes;
  }
  std::vector<std::pair<std::string, std::string>> splits;
  for (auto func : module.getOps<func::FuncOp>())
    if (auto note = func->getAttrOfType<StringAttr>("anvil.split_batch"))
      splits.push_back({func.getName().str(), note.getValue().str()});
  if (format == FusionReportFormat::Json) {
    llvm::json::OStream json(os, 2);
    json.object([&] {
      json.attribute("graph_fusion", fusion);
      json.attribute("fuse_elementwise", options.fuseElementwise);
      json.attribute("fold_batch_norm", options.foldBatchNorm);
      json.attribute("flops", flops);
      json.attribute("bytes", bytes);
      json.attributeArray("batch_variants", [&] {
        for (const Variant &v : variants)
          json.object([&] {
            json.attribute("function", v.function);
            json.attribute("variant_of", v.of);
            json.attribute("batch", v.batch);
          });
      });
      json.attributeArray("single_batch", [&] {
        for (const auto &[function, note] : singleBatch)
          json.object([&] {
            json.attribute("function", function);
            json.attribute("note", note);
          });
      });
      json.attributeArray("split_batch", [&] {
        for (const auto &[function, note] : splits)
          json.object([&] {
            json.attribute("function", function);
            json.attribute("note", note);
          });
      });
      json.attributeArray("kernels", [&] {
        for (const KernelReport &k : kernels)
          json.object([&] {
            json.attribute("function", k.function);
            json.attribute("pattern", k.pattern);
            json.attribute("ops", llvm::json::Array(k.ops));
            json.attribute("sources", llvm::json::Array(k.sources));
            json.attribute("flops", k.flops);
            json.attribute("bytes", k.bytes);
            json.attribute("not_fused", llvm::json::Array(k.notFused));
          });
      });
    });
    os << "\n";
    return;
  }
  os << "fusion report: " << kernels.size() << " kernels, graph fusion "
     << (fusion ? "on" : "off (--no-fusion)") << "\n";
  for (const Variant &v : variants)
    os << "@" << v.function << ": @" << v.of << " compiled for batch "
       << v.batch
       << " (anvil-batch-variants); its kernels are listed, the totals "
          "count @"
       << v.of << "'s\n";
  for (const auto &[function, note] : singleBatch)
    os << "@" << function << ": " << note << "\n";
  for (const auto &[function, note] : splits)
    os << "@" << function << ": " << note << "\n";
  int number = 0;
  for (const KernelReport &k : kernels) {
    os << llvm::formatv("#{0,-3} @{1}: {2}\n", ++number, k.function, k.pattern);
    os << "     from: "
       << (k.sources.empty() ? std::string("(no source names)")
                             : llvm::join(k.sources, ", "))
       << "\n";
    os << "     " << humanCount(k.flops, "FLOP") << ", "
       << humanCount(k.bytes, "B") << " moved\n";
    for (const std::string &why : k.notFused)
      os << "     not fused: " << why << "\n";
  }
  os << "total: " << kernels.size() << " kernels, " << humanCount(flops, "FLOP")
     << ", " << humanCount(bytes, "B") << " moved, " << notFused
     << " fusion candidates not taken\n";
}
