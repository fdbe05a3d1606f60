//===- CheckIndices.cpp - run-time range checks of index arguments --------===//
//
// Compiled code reads by an index without looking (a gather past the end
// would read garbage or fault), so indices that come from the caller are
// checked once, at the top of each public function: a loop nest over the
// argument compares every value with its range, and a value outside it
// calls `anvil_index_error` (runtime/Checks.h) with the function, the
// argument, the position, the value and the range; that call does not
// return. Expects anvil IR (before anvil-convert-to-linalg); leaves the
// anvil ops as they were, plus the loops, one private declaration of
// `anvil_index_error` and the strings it is given as LLVM globals.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::anvil {
#define GEN_PASS_DEF_CHECKINDICESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::anvil

using namespace mlir;
using namespace mlir::anvil;

namespace {

constexpr llvm::StringLiteral kErrorFunction = "anvil_index_error";

/// The argument of the enclosing function that `value` is, seen through
/// reshapes and flattens (which keep the row-major element order, and so
/// the position the message names), or null.
BlockArgument argumentOf(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<ReshapeOp, FlattenOp>(def))
      return {};
    value = def->getOperand(0);
  }
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg || !isa<func::FuncOp>(arg.getOwner()->getParentOp()))
    return {};
  return arg;
}

struct CheckIndicesPass
    : mlir::anvil::impl::CheckIndicesPassBase<CheckIndicesPass> {
  /// A pointer to a private, NUL-terminated copy of `text`.
  Value string(OpBuilder &b, Location loc, StringRef text) {
    ModuleOp module = getOperation();
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(&getContext(), 8),
                                         text.size() + 1);
    OpBuilder top(module.getBodyRegion());
    auto global = top.create<LLVM::GlobalOp>(
        loc, type, /*isConstant=*/true, LLVM::Linkage::Private,
        "__anvil_check_text", top.getStringAttr(text.str() + '\0'));
    symbols->insert(global); // renamed to a fresh name
    return b.create<LLVM::AddressOfOp>(loc, global);
  }

  /// Loops over `arg` checking that each value lies in [low, high).
  void emitCheck(OpBuilder &b, Location loc, func::FuncOp func,
                 BlockArgument arg, const IndexBound &bound) {
    auto type = cast<RankedTensorType>(arg.getType());
    Type i64 = b.getI64Type();
    auto constant = [&](OpBuilder &ob, int64_t v) -> Value {
      return ob.create<arith::ConstantIntOp>(loc, v, i64);
    };
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t d : type.getShape()) {
      lbs.push_back(index(0));
      ubs.push_back(index(d));
      steps.push_back(index(1));
    }
    std::string what = "argument " + std::to_string(arg.getArgNumber());
    if (auto name =
            func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name"))
      what += " '" + name.str() + "'";
    what += " (" + bound.role.str() + ")";
    scf::buildLoopNest(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location l, ValueRange ivs) {
          Value v = nb.create<tensor::ExtractOp>(l, arg, ivs);
          if (!v.getType().isInteger(64))
            v = nb.create<arith::ExtSIOp>(l, i64, v);
          // In range iff v - low < high - low, unsigned: one compare.
          Value shifted =
              nb.create<arith::SubIOp>(l, v, constant(nb, bound.low));
          Value outside =
              nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, shifted,
                                       constant(nb, bound.high - bound.low));
          nb.create<scf::IfOp>(l, outside, [&](OpBuilder &tb, Location tl) {
            // The row-major position of the element in the argument.
            Value position = constant(tb, 0);
            for (auto [iv, d] : llvm::zip(ivs, type.getShape()))
              position = tb.create<arith::AddIOp>(
                  tl, tb.create<arith::MulIOp>(tl, position, constant(tb, d)),
                  tb.create<arith::IndexCastOp>(tl, i64, iv));
            tb.create<func::CallOp>(tl, kErrorFunction, TypeRange{},
                                    ValueRange{string(tb, tl, func.getName()),
                                               string(tb, tl, what), position,
                                               v, constant(tb, bound.low),
                                               constant(tb, bound.high)});
            tb.create<scf::YieldOp>(tl);
          });
        });
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable table(module);
    symbols = &table;
    bool declared = false;
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (!func.isPublic() || func.isExternal())
        continue;
      // Each (argument, range) once, however many ops read by it.
      std::set<std::tuple<unsigned, int64_t, int64_t>> checked;
      OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
      func.walk([&](IndexingOpInterface op) {
        SmallVector<IndexBound> bounds;
        op.getIndexBounds(bounds);
        for (const IndexBound &bound : bounds) {
          BlockArgument arg = argumentOf(bound.operand->get());
          if (!arg ||
              !checked.insert({arg.getArgNumber(), bound.low, bound.high})
                   .second)
            continue;
          emitCheck(b, op.getLoc(), func, arg, bound);
          declared = true;
        }
      });
    }
    if (!declared || module.lookupSymbol(kErrorFunction))
      return;
    // void anvil_index_error(const char *function, const char *what,
    //                        int64_t position, int64_t value, int64_t low,
    //                        int64_t high);
    OpBuilder top(module.getBodyRegion());
    auto ptr = LLVM::LLVMPointerType::get(&getContext());
    Type i64 = top.getI64Type();
    auto decl = top.create<func::FuncOp>(
        module.getLoc(), kErrorFunction,
        top.getFunctionType({ptr, ptr, i64, i64, i64, i64}, {}));
    decl.setPrivate();
  }

  SymbolTable *symbols = nullptr;
};

} // namespace
