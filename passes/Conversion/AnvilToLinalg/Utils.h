//===- Utils.h - shared pieces of the anvil -> linalg conversion -*- C++
//-*-===//
//
// The populate functions of each op family, and the builders they share:
// empty and filled tensors, numpy-broadcast indexing maps, elementwise and
// reduction `linalg.generic`s, and static reshapes. Everything works on
// tensors with static shapes.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_CONVERSION_ANVILTOLINALG_UTILS_H
#define ANVIL_PASSES_CONVERSION_ANVILTOLINALG_UTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::anvil {

//===--- One populate function per op family ------------------------------===//

void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
void populateMatMulToLinalgPatterns(RewritePatternSet &patterns);
/// `vectorCol2im`: a one-group convolution's input gradient (stride 1
/// along the rows) scattered back as vector row additions (Conv.cpp's
/// vectorCol2im), not the generic that gathers per cell. `bf16Tiles`: the
/// im2col products of one-group convolutions marked bf16 on the vdpbf16ps
/// tiles (Bf16Tiles.h), not f32 products of rounded operands.
void populateConvToLinalgPatterns(RewritePatternSet &patterns,
                                  bool vectorCol2im, bool bf16Tiles);
void populateDepthwiseConvToLinalgPatterns(RewritePatternSet &patterns,
                                           bool stride1Nchw, bool stridedNchw);
/// `vectorMaxPoolGrad`: the gradient of a max pool whose 2-wide windows tile
/// its input as vector code (Pooling.cpp's vectorGradRows).
void populatePoolingToLinalgPatterns(RewritePatternSet &patterns,
                                     bool vectorMaxPoolGrad);
/// `rowSoftmax`: softmax over a short static innermost axis as one pass per
/// row in vector registers (see Reduction.cpp).
void populateReductionToLinalgPatterns(RewritePatternSet &patterns,
                                       bool rowSoftmax);
void populateNormalizationToLinalgPatterns(RewritePatternSet &patterns);
void populateShapeToLinalgPatterns(RewritePatternSet &patterns);
void populateLossToLinalgPatterns(RewritePatternSet &patterns);
void populateQuantToLinalgPatterns(RewritePatternSet &patterns);
void populateFakeQuantToLinalgPatterns(RewritePatternSet &patterns);

//===--- Builders ---------------------------------------------------------===//

/// A scalar computation over the (broadcast) input elements of one point.
using ScalarFn =
    function_ref<Value(OpBuilder &b, Location loc, ValueRange args)>;

/// `tensor.empty` of a static type.
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type);

/// A tensor of `type` filled with `value`.
Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   double value);

/// Where a parallel iteration's slice of a tensor lies (unit strides).
struct SlicePlace {
  SmallVector<OpFoldResult> offsets, sizes;
};

/// `init` with its slices rewritten in parallel: an scf.forall over [0,
/// count) whose iteration i extracts the slice `place(i)`, computes its new
/// value `body(i, slice)` and inserts it (tensor.parallel_insert_slice);
/// the LLVM phase runs it on OpenMP threads. `place` and `body` build at
/// the start of the forall's body.
Value forallSlices(OpBuilder &b, Location loc, int64_t count, Value init,
                   function_ref<SlicePlace(Value)> place,
                   function_ref<Value(Value, Value)> body);

/// A scalar constant of a float or integer `type`.
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// The integer `value` (scalar or vector) reinterpreted as `type`, of the same
/// width (ui8 <-> i8: arith takes only signless integers), by an unrealized
/// cast that disappears in LLVM's i8; `value` itself when of that type.
Value reinterpretBits(OpBuilder &b, Location loc, Value value, Type type);

/// `x < bound ? bound : x` (`lower`) or `x > bound ? bound : x` (x and
/// bound floats, or vectors of them): a NaN x stays NaN, as in the
/// reference, and on x86 the compare and select are one vmaxps / vminps
/// with the bound first (which returns its second operand when either is
/// NaN). arith.maximumf needs a compare for NaN and a blend besides (3
/// instructions; in SqueezeNet's thin 1x1 convolutions those blends were a
/// quarter of the epilogue's samples); maxnumf returns the bound for a NaN.
/// Relu and clip.
Value clampTo(OpBuilder &b, Location loc, Value x, Value bound, bool lower);

/// `v` (f32, or a vector of f32) clamped to [lo, hi] as arith.maxnumf(v, lo)
/// then arith.minnumf(.., hi) (a NaN becomes lo), written as compares and
/// selects: `v > lo ? v : lo` is exactly x86's vmaxps (one instruction,
/// where LLVM gives maxnumf's NaN rule three), then v is a number and
/// `v < hi ? v : hi` is minnumf and vminps. A quantize's saturation.
Value clampLikeMaxnum(OpBuilder &b, Location loc, Value v, double lo,
                      double hi);

/// The indexing map that reads an operand of `operandShape` at a point of the
/// `resultShape` iteration space under numpy broadcasting (trailing
/// alignment; size-1 dimensions read index 0).
AffineMap broadcastMap(MLIRContext *context, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape);

/// A parallel `linalg.generic` that writes `body(inputs at the point)` at
/// every point of `resultType`, broadcasting each input as numpy does.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange inputs, ScalarFn body);

enum class ReduceCombiner { Sum, Max };

/// Reduces `input` over `axes` (distinct, normalized) to the tensor without
/// those dimensions, with a `linalg.generic` whose accumulator starts at 0
/// (sum) or -inf (max).
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, ReduceCombiner combiner);

/// Reshapes `value` to the static `type` (same element count) through
/// collapse/expand_shape.
Value reshapeTo(OpBuilder &b, Location loc, Value value, RankedTensorType type);

/// softmax (or log_softmax) of `input` along `axis` (normalized), stable:
/// the maximum is subtracted before exponentiating.
Value buildSoftmax(OpBuilder &b, Location loc, Value input, int64_t axis,
                   bool log);

/// Sum (or mean) of `input` over `axes` (normalized, sorted), keeping the
/// reduced dimensions as 1 when `keepdims`.
Value buildSum(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
               bool mean, bool keepdims);

/// `lhs [M, K] @ rhs [K, N]` as a `linalg.matmul` accumulating into `acc`
/// (zeros when null): the op the tile-and-vectorize pass makes fast.
Value buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  Value acc = Value());

/// `v` (f32 or f64) with every element rounded to the nearest bf16 (ties to
/// even), kept as f32: the operands of a product marked bf16 where it runs on
/// the f32 kernels.
Value roundedToBf16(OpBuilder &b, Location loc, Value v);

/// The transpose of a 2-D tensor, as a `linalg.transpose` into a new tensor.
Value transpose2D(OpBuilder &b, Location loc, Value value);

/// Pads the spatial dimensions of an NCHW tensor by `pads` ([top, left,
/// bottom, right]) plus `extraH`/`extraW` more at the bottom/right, with
/// `value`; returns `input` itself when there is nothing to pad.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, double value, int64_t extraH = 0,
                 int64_t extraW = 0);
/// The same with a scalar `value` of the input's element type (a ui8 zero
/// point, which has no arith constant).
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, Value value, int64_t extraH = 0,
                 int64_t extraW = 0);

/// The im2col matrix of a padded NCHW input: rows are the (c, i, j) filter
/// taps and columns the (n, y, x) output positions (or the transpose, with
/// `transposed`), entry padded[n, c, y*sh + i*dh, x*sw + j*dw]. With
/// `groups` > 1 a leading group dimension g selects channels g*C/G + c, so
/// the result is [G, taps, positions] (or [G, positions, taps]). One
/// linalg.generic copy through an affine map (of any element type); the
/// reshape is free. It writes into `dest` (of the generic's result type,
/// before the reshape) when given, so that a loop can reuse one buffer.
Value im2col(OpBuilder &b, Location loc, Value padded, int64_t kh, int64_t kw,
             int64_t oh, int64_t ow, ArrayRef<int64_t> strides,
             ArrayRef<int64_t> dilations, bool transposed, int64_t groups = 1,
             Value dest = Value());

/// Whether a batch of `images` one-group convolutions of `pixels` output
/// pixels each is one matmul over all the images' columns (N*OH*OW, its
/// [O, N, OH, OW] product transposed to NCHW: Conv.cpp's batchedConv)
/// rather than one per image: images under 64 pixels (7x7), whose own
/// columns fill fewer than two 32-lane register tiles. The fusion report
/// predicts the same.
inline bool convBatchesImages(int64_t images, int64_t pixels) {
  return images > 1 && pixels < 64;
}

/// The most taps (kh * kw) a window may have for the depthwise and pooling
/// lowerings that read each tap as its own strided view (windowTaps); larger
/// windows keep linalg's convolution and pooling ops.
constexpr int64_t kMaxWindowTaps = 49;

class Conv2DOp;

/// How DepthwiseConv.cpp lowers a conv2d: not at all (it is not a float
/// depthwise convolution with at most kMaxWindowTaps taps), as one
/// elementwise generic over the NCHW output (which anvil-fuse-elementwise
/// fuses with the elementwise ops after it), or channels-last, its NHWC
/// result transposed back to NCHW by a linalg.transpose (which it does not).
/// The fusion report (compiler/FusionReport.cpp) asks the same question.
/// `stride1Nchw` (anvil-convert-to-linalg's depthwise-stride1-nchw) keeps
/// stride-1 convolutions with rows 8 to 15 wide in NCHW, `stridedNchw`
/// (depthwise-strided-nchw) strided ones; `why`, when given, receives the
/// reason for the layout, for the fusion report.
enum class DepthwiseLowering { None, Elementwise, ChannelsLast };
DepthwiseLowering depthwiseLoweringOf(Conv2DOp op, bool stride1Nchw,
                                      bool stridedNchw,
                                      std::string *why = nullptr);

/// Appends the kh*kw taps of the windows over a padded NCHW tensor to the
/// inputs (and their indexing maps) of a generic over the loops (n, c, y,
/// x) of an [N, C, outH, outW] result: tap (i, j) reads
/// padded[n, c, y*sh + i*dh, x*sw + j*dw]. With `channelsLast`, the same
/// for NHWC tensors and loops (n, y, x, c).
void addWindowTaps(OpBuilder &b, Location loc, Value padded,
                   ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> dilations, int64_t outH, int64_t outW,
                   SmallVectorImpl<Value> &operands,
                   SmallVectorImpl<AffineMap> &maps, bool channelsLast = false);

/// `type` with the dimensions in `axes` set to 1 (keepdims form of a
/// reduction result).
RankedTensorType keepDims(RankedTensorType type, ArrayRef<int64_t> axes);

/// Normalizes `axes` of a rank-`rank` tensor into sorted [0, rank).
SmallVector<int64_t> normalizeAxes(ArrayRef<int64_t> axes, int64_t rank);

} // namespace mlir::anvil

#endif // ANVIL_PASSES_CONVERSION_ANVILTOLINALG_UTILS_H
