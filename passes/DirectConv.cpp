//===- DirectConv.cpp - f32 convolutions as direct register tiles ---------===//
//
// Rewrites an f32 one-group anvil.conv2d with constant weights (inference:
// anvil-materialize-params made them constants) into a register-tiled loop
// nest on tensors, before anvil-convert-to-linalg (which would make it an
// im2col product on the matmul's tiles). No im2col and no packing at run
// time: the weights are packed at compile time, a block's output channels
// of one tap contiguous, and every tile reads its input straight from the
// padded NCHW image. A block is a vector's lanes: 16 channels on AVX-512,
// 8 on AVX2 (the pass option `lanes`).
//
// A tile is a run of consecutive output positions (a segment of one output
// row, or a run across a row's end in a period of a few rows;
// DirectConvSchedule.h) by one block of
// output channels: one vector accumulator per position, which start at the bias
// and stay in registers through the k loop. Each k step (input channel c,
// filter row i, filter column j) loads the block's weights of that tap and
// broadcasts the input value of each position, padded[n, c, oy*sh + i*dh,
// (x0 + r)*sw + j*dw]: at one base address per (c, i) plus constants, so
// that the broadcast is an FMA's memory operand (and the unrolled taps of
// overlapping windows share it). There is no im2col matrix and no packing
// pass at run time, which the im2col matmul pays per image.
//
// The accumulators hold a block's channels of a position; the result is
// NCHW, so a tile is transposed in registers (transposeSquare, a block's
// lanes of positions at a time) into one run of positions per channel, to which
// the epilogue applies (a residual read at the same positions and added, then
// relu or clip, with `epilogue`: the anvil.add and anvil.relu or anvil.clip
// that are the convolution's only users are absorbed); the block's runs are
// then stored as one 2-D write (a tile's short last runs split into whole
// vectors of 4, 2 and 1 lanes, or masked), which becomes a store per channel
// only after bufferization: fewer writes on tensors for its analysis to
// weigh (TailStores.h).
// Each image goes period by period of output rows, every block of output
// channels in each period; when the convolution is large enough, the images
// are an scf.forall if their count is even, else the blocks (two at least).
//
//===----------------------------------------------------------------------===//

#include "dialects/AnvilOps.h"
#include "passes/DirectConvSchedule.h"
#include "passes/DotTiles.h"
#include "passes/MatmulSchedule.h"
#include "passes/Passes.h"
#include "passes/TailStores.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <map>

namespace mlir::anvil {
#define GEN_PASS_DEF_DIRECTCONVPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

/// The OIHW f32 constant `w` packed per group of `lanes` output channels:
/// [O / lanes, C * kh * kw * lanes], each group's row in (c, i, j, lane)
/// order, so that a tap's weights for the tile are one vector.
DenseElementsAttr packFilter(DenseElementsAttr w, int64_t lanes) {
  auto type = cast<RankedTensorType>(w.getType());
  int64_t o = type.getDimSize(0), k = type.getNumElements() / o;
  int64_t groups = o / lanes;
  SmallVector<float> values(w.getValues<float>());
  SmallVector<float> packed(values.size());
  for (int64_t oc = 0; oc < o; ++oc)
    for (int64_t t = 0; t < k; ++t)
      packed[(oc / lanes) * k * lanes + t * lanes + oc % lanes] =
          values[oc * k + t];
  return DenseElementsAttr::get(
      RankedTensorType::get({groups, k * lanes}, type.getElementType()),
      ArrayRef<float>(packed));
}

/// The convolution and the elementwise ops it absorbs.
struct Match {
  Conv2DOp conv;
  AddOp add; // conv + residual, or null
  Value residual;
  /// An anvil.relu or anvil.clip of the add (or of the conv), or null.
  Operation *activation;
  /// The op whose result the loop nest replaces.
  Operation *last() const {
    if (activation)
      return activation;
    if (add)
      return add;
    return conv;
  }
};

/// `value`'s only user when it is an `Op`.
template <typename Op> Op soleUser(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  return dyn_cast<Op>(*value.getUsers().begin());
}

Match matchEpilogue(Conv2DOp conv, bool epilogue) {
  Match m{conv, nullptr, Value(), nullptr};
  if (!epilogue)
    return m;
  Value y = conv.getResult();
  if (AddOp add = soleUser<AddOp>(y)) {
    Value other = add.getLhs() == y ? add.getRhs() : add.getLhs();
    if (other != y && other.getType() == y.getType() &&
        add.getType() == y.getType()) {
      m.add = add;
      m.residual = other;
      y = add.getResult();
    }
  }
  if (ReluOp relu = soleUser<ReluOp>(y))
    m.activation = relu;
  else if (ClipOp clip = soleUser<ClipOp>(y))
    m.activation = clip;
  return m;
}

/// Builds one convolution's loop nest at the builder's insertion point.
struct DirectBuilder {
  OpBuilder &b;
  Location loc;
  const Match &m;
  DirectConvTile tile;
  int64_t n, c, hp, wp, o, oh, ow, kh, kw, sh, sw, dh, dw;
  Value input;    // padded NCHW, flattened: [N * C * Hp * Wp]
  Value packed;   // [O / lanes, C * kh * kw * lanes]
  Value bias;     // [O] or null
  Value residual; // [N, O, OH * OW] or null
  /// A tile's last run of fewer than tile.lanes positions stored as whole
  /// vectors of 4, 2 and 1 lanes, not masked (TailStores.h).
  bool splitTailStores;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value mul(Value x, int64_t y) {
    return b.create<arith::MulIOp>(loc, x, index(y));
  }
  VectorType vec() { return VectorType::get({tile.lanes}, b.getF32Type()); }

  /// A splat vector of `value`.
  Value splat(double value) {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(vec(), b.getF32FloatAttr(value)));
  }

  /// The absorbed relu or clip of a run of results (clampTo: one vmaxps /
  /// vminps each, a NaN kept), or the run itself.
  Value activate(Value run) {
    if (!m.activation)
      return run;
    if (isa<ReluOp>(m.activation))
      return clampTo(b, loc, run, splat(0.0), /*lower=*/true);
    auto clip = cast<ClipOp>(m.activation);
    if (auto lo = clip.getMin())
      run = clampTo(b, loc, run, splat(lo->convertToDouble()), /*lower=*/true);
    if (auto hi = clip.getMax())
      run = clampTo(b, loc, run, splat(hi->convertToDouble()), /*lower=*/false);
    return run;
  }

  /// Where the window of position `q` of a tile's period (q = y * OW + x
  /// from the period's first output row) starts in the padded image,
  /// from the period's first window.
  int64_t at(int64_t q) const { return (q / ow) * sh * wp + (q % ow) * sw; }

  /// The accumulators of a tile of `rows` positions from position `start`
  /// of the period that begins at (n, oy, x0), for the channel group `g`:
  /// the bias, then every (c, i) with the filter row's kw taps unrolled.
  SmallVector<Value> products(Value g, Value img, Value oy, Value x0,
                              int64_t start, int64_t rows) {
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(vec()));
    Value first = zeros;
    if (bias)
      first = b.create<vector::TransferReadOp>(loc, vec(), bias,
                                               ValueRange{mul(g, tile.lanes)},
                                               ArrayRef<bool>{true});
    SmallVector<Value> initial(rows, first);
    // ((n * C) * Hp + oy * sh) * Wp + x0 * sw.
    Value base = add(mul(add(mul(img, c * hp), mul(oy, sh)), wp), mul(x0, sw));
    auto channels =
        b.create<scf::ForOp>(loc, index(0), index(c), index(1), initial);
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(channels.getBody());
    Value ci = channels.getInductionVar();
    auto filterRows = b.create<scf::ForOp>(loc, index(0), index(kh), index(1),
                                           channels.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(filterRows.getBody());
      Value i = filterRows.getInductionVar();
      Value rowBase = add(add(base, mul(ci, hp * wp)), mul(i, dh * wp));
      Value tap0 = mul(add(mul(ci, kh), i), kw * tile.lanes);
      SmallVector<Value> accs(filterRows.getRegionIterArgs());
      auto one = VectorType::get({1}, b.getF32Type());
      // The filter row's weights, then its terms by input position: each
      // input value broadcast once and used at once by every (position,
      // tap) that reads it. (Tap by tap, a value that a later tap reads
      // again stays live across the taps between: with a 7-wide filter at
      // stride 2 that spilled.) Each accumulator still adds its taps in
      // order: its offsets grow with j.
      SmallVector<Value> weights;
      for (int64_t j = 0; j < kw; ++j)
        weights.push_back(b.create<vector::TransferReadOp>(
            loc, vec(), packed, ValueRange{g, add(tap0, index(j * tile.lanes))},
            ArrayRef<bool>{true}));
      std::map<int64_t, SmallVector<std::pair<int64_t, int64_t>>> terms;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < kw; ++j)
          terms[j * dw + at(start + r)].push_back({r, j});
      for (auto &[offset, readers] : terms) {
        Value x = b.create<vector::TransferReadOp>(
            loc, one, input, ValueRange{add(rowBase, index(offset))},
            ArrayRef<bool>{true});
        Value a = b.create<vector::BroadcastOp>(loc, vec(), x);
        for (auto [r, j] : readers)
          accs[r] = b.create<vector::FMAOp>(loc, a, weights[j], accs[r]);
      }
      b.create<scf::YieldOp>(loc, accs);
    }
    b.create<scf::YieldOp>(loc, filterRows.getResults());
    return SmallVector<Value>(channels.getResults());
  }

  /// One tile computed and written into `out` ([N, tile.lanes or O, OH * OW]:
  /// the group's channels start at `outChannel`): `rows` positions from
  /// position `start` of the period at (oy, x0), consecutive in NCHW,
  /// transposed in registers, tile.lanes positions at a time, into one run
  /// of positions per channel.
  Value writeTile(Value out, Value g, Value outChannel, Value img, Value outImg,
                  Value oy, Value x0, int64_t start, int64_t rows) {
    SmallVector<Value> accs = products(g, img, oy, x0, start, rows);
    Value zeros = b.create<arith::ConstantOp>(loc, b.getZeroAttr(vec()));
    Value pad = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
    for (int64_t p = 0; p < rows; p += tile.lanes) {
      int64_t count = std::min(tile.lanes, rows - p);
      Value q0 = add(add(mul(oy, ow), x0), index(start + p));
      Value mask;
      if (count < tile.lanes)
        mask = b.create<vector::ConstantMaskOp>(
            loc, VectorType::get({tile.lanes}, b.getI1Type()),
            b.getI64ArrayAttr({count}));
      SmallVector<Value> square(accs.begin() + p, accs.begin() + p + count);
      square.resize(tile.lanes, zeros);
      SmallVector<Value> runs = transposeSquare(b, loc, square);
      for (int64_t l = 0; l < tile.lanes; ++l) {
        if (residual) {
          Value ch = add(mul(g, tile.lanes), index(l));
          auto read = b.create<vector::TransferReadOp>(
              loc, vec(), residual, ValueRange{img, ch, q0}, pad,
              ArrayRef<bool>{true});
          if (mask)
            read.getMaskMutable().assign(mask);
          runs[l] = b.create<arith::AddFOp>(loc, runs[l], read);
        }
        runs[l] = activate(runs[l]);
      }
      // The block's channels' runs as one 2-D write (writeLeadingLanes says
      // why), unrolled into one write per channel after bufferization.
      SmallVector<Value> at = {outImg, outChannel, q0};
      if (mask && splitTailStores) {
        out = writeLeadingLanes(b, loc, runs, out, at, count);
        continue;
      }
      Value block = stackRows(b, loc, runs, 0, tile.lanes);
      Value blockMask;
      if (mask)
        blockMask = b.create<vector::ConstantMaskOp>(
            loc, VectorType::get({tile.lanes, tile.lanes}, b.getI1Type()),
            b.getI64ArrayAttr({tile.lanes, count}));
      auto write = b.create<vector::TransferWriteOp>(
          loc, block, out, at, ArrayRef<bool>{true, true});
      if (blockMask)
        write.getMaskMutable().assign(blockMask);
      out = write.getResult();
    }
    return out;
  }

  /// Channel group `g`'s tiles of the period from output row `oy`: the
  /// rows left after the last whole period with `rest`; unrolled, but a
  /// row's equal segments (one row per period) as a loop.
  Value periodTiles(Value out, Value g, Value outChannel, Value img,
                    Value outImg, Value oy, bool rest) {
    ArrayRef<int64_t> lengths = rest ? tile.restTiles : tile.tiles;
    if (tile.periodRows > 1 || rest) {
      int64_t start = 0;
      for (int64_t length : lengths) {
        out = writeTile(out, g, outChannel, img, outImg, oy, index(0), start,
                        length);
        start += length;
      }
      return out;
    }
    int64_t length = lengths.front(), count = lengths.size();
    if (lengths.back() != length)
      --count;
    if (count > 0) {
      auto segments = b.create<scf::ForOp>(loc, index(0), index(count),
                                           index(1), ValueRange{out});
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(segments.getBody());
      Value x0 = mul(segments.getInductionVar(), length);
      b.create<scf::YieldOp>(loc, writeTile(segments.getRegionIterArg(0), g,
                                            outChannel, img, outImg, oy, x0, 0,
                                            length));
      b.setInsertionPointAfter(segments);
      out = segments.getResult(0);
    }
    if (count < int64_t(lengths.size()))
      out = writeTile(out, g, outChannel, img, outImg, oy,
                      index(count * length), 0, lengths.back());
    return out;
  }

  /// `body(out, oy, rest)` for every period of output rows (an scf.for),
  /// then for the rows left.
  Value periods(Value out,
                function_ref<Value(Value out, Value oy, bool rest)> body) {
    int64_t rows = tile.periodRows, whole = oh - oh % rows;
    auto loop =
        b.create<scf::ForOp>(loc, index(0), index(whole), index(rows), out);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(loop.getBody());
      b.create<scf::YieldOp>(
          loc, body(loop.getRegionIterArg(0), loop.getInductionVar(), false));
    }
    out = loop.getResult(0);
    if (whole < oh)
      out = body(out, index(whole), true);
    return out;
  }

  /// Every tile of channel group `g` written into `out`, image by image.
  Value group(Value out, Value g, Value outChannel) {
    auto images = b.create<scf::ForOp>(loc, index(0), index(n), index(1),
                                       ValueRange{out});
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(images.getBody());
    Value img = images.getInductionVar();
    b.create<scf::YieldOp>(
        loc,
        periods(images.getRegionIterArg(0), [&](Value o, Value oy, bool rest) {
          return periodTiles(o, g, outChannel, img, img, oy, rest);
        }));
    return images.getResult(0);
  }

  /// Every tile of image `img` written into `out` as its image `outImg`:
  /// with tile.blocksOuter, channel group by channel group, every period of
  /// each (a small image stays in cache, each group's filter panel streams
  /// once); else period by period, every channel group in each, so that the
  /// input rows a period reads stay in cache through all the groups (group by
  /// group, each group streams the whole image again: DenseNet's 3x3 128 -> 32
  /// convolutions on 56 x 56, 4 groups of 8 channels, ran at 60 GFLOP/s in
  /// the model against 80 alone).
  Value image(Value out, Value img, Value outImg) {
    // `body(out, g)` for every channel group g (an scf.for).
    auto eachGroup = [&](Value out, function_ref<Value(Value, Value)> body) {
      auto groups = b.create<scf::ForOp>(loc, index(0), index(o / tile.lanes),
                                         index(1), ValueRange{out});
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(groups.getBody());
      b.create<scf::YieldOp>(
          loc, body(groups.getRegionIterArg(0), groups.getInductionVar()));
      b.setInsertionPointAfter(groups);
      return groups.getResult(0);
    };
    auto tiles = [&](Value out, Value g, Value oy, bool rest) {
      return periodTiles(out, g, mul(g, tile.lanes), img, outImg, oy, rest);
    };
    if (tile.blocksOuter)
      return eachGroup(out, [&](Value o, Value g) {
        return periods(o, [&](Value o, Value oy, bool rest) {
          return tiles(o, g, oy, rest);
        });
      });
    return periods(out, [&](Value o, Value oy, bool rest) {
      return eachGroup(o,
                       [&](Value o, Value g) { return tiles(o, g, oy, rest); });
    });
  }

  /// The [N, O, OH * OW] result, image by image (`image`), the images in
  /// parallel when `parallel` and there is an even number of them (two
  /// threads share them evenly); else the channel groups in parallel
  /// (`group`: a batch of one).
  Value build(bool parallel) {
    auto type = RankedTensorType::get({n, o, oh * ow}, b.getF32Type());
    Value init =
        b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
    int64_t groups = o / tile.lanes;
    if (parallel && n >= 2 && n % 2 == 0) {
      auto place = [&](Value img) {
        return SlicePlace{
            {img, b.getIndexAttr(0), b.getIndexAttr(0)},
            {b.getIndexAttr(1), b.getIndexAttr(o), b.getIndexAttr(oh * ow)}};
      };
      return forallSlices(b, loc, n, init, place, [&](Value img, Value slice) {
        return image(slice, img, index(0));
      });
    }
    if (parallel && groups >= 2) {
      auto place = [&](Value g) {
        return SlicePlace{
            {b.getIndexAttr(0), mul(g, tile.lanes), b.getIndexAttr(0)},
            {b.getIndexAttr(n), b.getIndexAttr(tile.lanes),
             b.getIndexAttr(oh * ow)}};
      };
      return forallSlices(
          b, loc, groups, init, place,
          [&](Value g, Value slice) { return group(slice, g, index(0)); });
    }
    auto loop = b.create<scf::ForOp>(loc, index(0), index(n), index(1),
                                     ValueRange{init});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value img = loop.getInductionVar();
    b.create<scf::YieldOp>(loc, image(loop.getRegionIterArg(0), img, img));
    return loop.getResult(0);
  }
};

/// NCHW [N, C, H, W] collapsed to [N, C, H * W], or to 1-D with `flat`.
Value collapse(OpBuilder &b, Location loc, Value v, bool flat) {
  SmallVector<ReassociationIndices> groups =
      flat ? SmallVector<ReassociationIndices>{{0, 1, 2, 3}}
           : SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}};
  return b.create<tensor::CollapseShapeOp>(loc, v, groups);
}

struct DirectConvPass : mlir::anvil::impl::DirectConvPassBase<DirectConvPass> {
  using DirectConvPassBase::DirectConvPassBase;
  void runOnOperation() override {
    if (lanes != 8 && lanes != 16) {
      getOperation().emitError("anvil-direct-conv: lanes must be 8 or 16, not ")
          << static_cast<int64_t>(lanes);
      return signalPassFailure();
    }
    SmallVector<Conv2DOp> convs;
    getOperation().walk([&](Conv2DOp op) { convs.push_back(op); });
    OpBuilder b(&getContext());
    for (Conv2DOp conv : convs) {
      std::string why;
      DirectConvTile tile =
          directConvTileOf(conv, lanes, periods, blocksOuter, why);
      if (!tile.direct())
        continue;
      auto in = cast<RankedTensorType>(conv.getInput().getType());
      auto out = cast<RankedTensorType>(conv.getResult().getType());
      DenseElementsAttr w;
      matchPattern(conv.getWeight(), m_Constant(&w));
      auto wt = cast<RankedTensorType>(w.getType());
      Match m = matchEpilogue(conv, epilogue);
      Operation *last = m.last();
      Location loc = last->getLoc();
      b.setInsertionPoint(last);
      ArrayRef<int64_t> pads = conv.getPads(), st = conv.getStrides(),
                        dil = conv.getDilations();
      Value padded = padSpatial(b, loc, conv.getInput(), pads, 0.0);
      auto pt = cast<RankedTensorType>(padded.getType());
      DirectBuilder d{
          b,
          loc,
          m,
          tile,
          in.getDimSize(0),
          in.getDimSize(1),
          pt.getDimSize(2),
          pt.getDimSize(3),
          out.getDimSize(1),
          out.getDimSize(2),
          out.getDimSize(3),
          wt.getDimSize(2),
          wt.getDimSize(3),
          st[0],
          st[1],
          dil[0],
          dil[1],
          collapse(b, loc, padded, /*flat=*/true),
          b.create<arith::ConstantOp>(loc, packFilter(w, tile.lanes)),
          conv.getBias(),
          m.residual ? collapse(b, loc, m.residual, false) : Value(),
          splitTailStores};
      int64_t k = d.c * d.kh * d.kw;
      bool inParallel =
          parallel && matmulRunsInParallelBlocks(d.o, d.n * d.oh * d.ow, k);
      Value y = b.create<tensor::ExpandShapeOp>(
          loc, out, d.build(inParallel),
          ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
      last->getResult(0).replaceAllUsesWith(y);
      if (m.activation)
        m.activation->erase();
      if (m.add)
        m.add.erase();
      conv.erase();
    }
  }
};

} // namespace
