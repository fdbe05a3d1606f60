//===- LayerTiming.cpp - one layer compiled alone, timed ------------------===//
//
// See LayerTiming.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/LayerTiming.h"
#include "compiler/tools/anvilc.h"

#include "dialects/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
namespace a = mlir::anvil;

OwningOpRef<ModuleOp> anvilc::isolateLayer(Operation *layer) {
  Location loc = layer->getLoc();
  OpBuilder b(layer->getContext());
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  auto known = [](Value v) {
    return v.getDefiningOp<a::ParamOp>() || v.getDefiningOp<a::ConstantOp>();
  };
  llvm::SetVector<Value> operands(layer->operand_begin(), layer->operand_end());
  SmallVector<Type> argumentTypes;
  for (Value v : operands)
    if (!known(v))
      argumentTypes.push_back(v.getType());
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(
      loc, "layer", b.getFunctionType(argumentTypes, layer->getResultTypes()));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping map;
  unsigned next = 0;
  for (Value v : operands)
    map.map(v, known(v) ? Value(b.clone(*v.getDefiningOp())->getResult(0))
                        : Value(body->getArgument(next++)));
  Operation *copy = b.clone(*layer, map);
  b.create<func::ReturnOp>(loc, copy->getResults());
  return module;
}

static llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<anvilc::Timing> anvilc::timeLayer(MLIRContext &context,
                                                 ModuleOp module,
                                                 const std::string &what) {
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("anvilc-layer", dir))
    return failure("cannot create a temporary directory to time " + what +
                   ": " + ec.message());
  auto removeDir =
      llvm::make_scope_exit([&] { llvm::sys::fs::remove_directories(dir); });
  std::string exe = (dir + "/layer").str();
  std::string out = (dir + "/bench.txt").str();
  OwningOpRef<ModuleOp> copy(module.clone());
  Job job;
  job.output = exe;
  job.options.seed = seed;
  if (compile(context, *copy, job, /*reports=*/false) != 0)
    return failure("cannot compile " + what + " alone to time it");

  // One --bench run of `runs` calls on one thread: its median.
  auto bench = [&](int64_t runs) -> llvm::Expected<double> {
    std::vector<std::string> args = {
        exe,       "--function",        "layer", "--threads", "1",
        "--bench", std::to_string(runs)};
    std::vector<llvm::StringRef> refs(args.begin(), args.end());
    std::optional<llvm::StringRef> redirects[] = {
        std::nullopt, llvm::StringRef(out), std::nullopt};
    std::string error;
    int rc = llvm::sys::ExecuteAndWait(exe, refs, std::nullopt, redirects, 0, 0,
                                       &error);
    if (rc != 0)
      return failure(
          what + " compiled alone " +
          (rc < 0 ? "crashed" : "failed (exit " + std::to_string(rc) + ")") +
          (error.empty() ? "" : ": " + error));
    auto text = llvm::MemoryBuffer::getFile(out);
    llvm::StringRef line = text ? (*text)->getBuffer() : "";
    size_t at = line.find("latency median ");
    double ms = 0.0;
    if (at == llvm::StringRef::npos ||
        line.substr(at + 15).split(' ').first.getAsDouble(ms) || !(ms >= 0))
      return failure(what +
                     " compiled alone: no latency in its --bench "
                     "output '" +
                     line.trim().str() + "'");
    return ms;
  };
  auto first = bench(3);
  if (!first)
    return first.takeError();
  // About 0.3 s of calls, 3 to 300 of them.
  int64_t runs = std::clamp<int64_t>(
      static_cast<int64_t>(std::ceil(300.0 / std::max(*first, 1e-3))), 3, 300);
  auto ms = bench(runs);
  if (!ms)
    return ms.takeError();
  return Timing{*ms, runs};
}
