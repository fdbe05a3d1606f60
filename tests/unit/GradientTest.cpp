//===- GradientTest.cpp - autodiff against finite differences -------------===//
//
// For each differentiable op, a small f64 function `@f(x..., w) =
// sum(op(x...) * w)` (w makes the scalar a random linear functional of the
// op's output) is differentiated by the anvil-autodiff pass with respect to
// its float arguments; the gradients the reference interpreter computes for
// `@f_grad` must match central finite differences of `@f`. A small network
// checks parameter gradients the same way, and that frozen parameters get
// none.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Interpreter.h"
#include "compiler/Reference/Kernels.h"
#include "compiler/Registration.h"
#include "dialects/ParamInit.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

using namespace anvil;
using namespace anvil::ref;

namespace {

class GradientTest : public ::testing::Test {
protected:
  GradientTest() {
    mlir::DialectRegistry registry;
    mlir::anvil::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses `text` and adds @f_grad (gradients of the float arguments, and
  /// of the parameters not matching `freeze`).
  mlir::OwningOpRef<mlir::ModuleOp>
  differentiate(const std::string &text, const std::string &freeze = "") {
    auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    EXPECT_TRUE(module);
    mlir::PassManager pm(&context);
    mlir::anvil::AutodiffPassOptions options;
    options.function = "f";
    options.args = true;
    options.freeze = freeze;
    pm.addPass(mlir::anvil::createAutodiffPass(options));
    EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
    return module;
  }

  /// Checks every float argument's gradient against central differences
  /// with step `eps`, to within `tolerance` relative to (1 + |numeric|).
  void check(const std::string &body, std::vector<Tensor> args,
             double eps = 1e-6, double tolerance = 1e-6) {
    std::string signature;
    for (size_t i = 0; i < args.size(); ++i) {
      std::string type = "tensor<";
      for (int64_t d : args[i].shape)
        type += std::to_string(d) + "x";
      type += args[i].dtype == DType::I64 ? "i64>" : "f64>";
      signature += (i ? ", " : "") + ("%a" + std::to_string(i) + ": ") + type;
    }
    std::string text =
        "func.func @f(" + signature + ") -> tensor<f64> {\n" + body + "\n}\n";
    auto module = differentiate(text);
    Interpreter interpreter(*module);
    std::vector<Tensor> grads = interpreter.run("f_grad", args);
    size_t next = 1;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].dtype != DType::F64)
        continue;
      const Tensor &g = grads.at(next++);
      ASSERT_EQ(g.shape, args[i].shape) << "argument " << i;
      for (int64_t e = 0; e < args[i].numElements(); ++e) {
        std::vector<Tensor> plus = args, minus = args;
        plus[i].data[e] += eps;
        minus[i].data[e] -= eps;
        double numeric = (interpreter.run("f", plus)[0].data[0] -
                          interpreter.run("f", minus)[0].data[0]) /
                         (2 * eps);
        EXPECT_NEAR(g.data[e], numeric, tolerance * (1 + std::fabs(numeric)))
            << "argument " << i << " element " << e << "\n"
            << body;
      }
    }
  }

  /// The tiny regression model of the train-step tests, with @train_step
  /// built by `options`; null on failure.
  mlir::OwningOpRef<mlir::ModuleOp>
  tinyTrainStep(const mlir::anvil::BuildTrainStepPassOptions &options);

  /// A random f64 tensor with values in [lo, hi).
  Tensor random(Shape shape, double lo = -1.0, double hi = 1.0) {
    Tensor t(DType::F64, shape);
    for (double &v : t.data)
      v = lo + (hi - lo) * rng.uniform();
    return t;
  }

  mlir::MLIRContext context;
  mlir::anvil::Random rng{42};
};

/// "%r = <op>; return sum(%r * %w)" for a result of `type` and the weight
/// argument `%w`.
std::string scalarize(const std::string &op, const std::string &type,
                      const std::string &w, int rank) {
  std::string axes;
  for (int d = 0; d < rank; ++d)
    axes += (d ? ", " : "") + std::to_string(d);
  std::string s = "  %r = " + op + "\n  %m = anvil.mul %r, " + w + " : " +
                  type + ", " + type + "\n";
  if (rank == 0)
    return s + "  return %m : tensor<f64>";
  return s + "  %s = anvil.reduce_sum %m {axes = array<i64: " + axes +
         ">} : " + type + "\n  return %s : tensor<f64>";
}

TEST_F(GradientTest, BinaryWithBroadcasting) {
  const char *t = "tensor<2x4x3xf64>";
  check(scalarize("anvil.add %a0, %a1 : tensor<4x3xf64>, tensor<3xf64>",
                  "tensor<4x3xf64>", "%a2", 2),
        {random({4, 3}), random({3}), random({4, 3})});
  check(scalarize("anvil.sub %a0, %a1 : tensor<2x1x3xf64>, tensor<4x1xf64>", t,
                  "%a2", 3),
        {random({2, 1, 3}), random({4, 1}), random({2, 4, 3})});
  check(scalarize("anvil.mul %a0, %a1 : tensor<3x4xf64>, tensor<3x1xf64>",
                  "tensor<3x4xf64>", "%a2", 2),
        {random({3, 4}), random({3, 1}), random({3, 4})});
  check(scalarize("anvil.div %a0, %a1 : tensor<3x4xf64>, tensor<4xf64>",
                  "tensor<3x4xf64>", "%a2", 2),
        {random({3, 4}), random({4}, 0.5, 2.0), random({3, 4})});
  // A rank-0 operand broadcasts against everything.
  check(scalarize("anvil.mul %a0, %a1 : tensor<3x4xf64>, tensor<f64>",
                  "tensor<3x4xf64>", "%a2", 2),
        {random({3, 4}), random({}), random({3, 4})});
}

TEST_F(GradientTest, Unary) {
  const std::string t = "tensor<3x5xf64>";
  for (const char *op : {"neg", "exp", "sigmoid", "tanh"})
    check(scalarize(std::string("anvil.") + op + " %a0 : " + t, t, "%a1", 2),
          {random({3, 5}), random({3, 5})});
  for (const char *op : {"log", "sqrt"})
    check(scalarize(std::string("anvil.") + op + " %a0 : " + t, t, "%a1", 2),
          {random({3, 5}, 0.5, 3.0), random({3, 5})});
  // relu, away from its kink at 0.
  Tensor x = random({3, 5}, 0.1, 1.0);
  for (int64_t i = 0; i < x.numElements(); i += 2)
    x.data[i] = -x.data[i];
  check(scalarize("anvil.relu %a0 : " + t, t, "%a1", 2), {x, random({3, 5})});
}

TEST_F(GradientTest, Matmul) {
  const char *flags[] = {"", " {transpose_a}", " {transpose_b}",
                         " {transpose_a, transpose_b}"};
  for (int f = 0; f < 4; ++f) {
    bool ta = f & 1, tb = f & 2;
    Shape a = ta ? Shape{4, 3} : Shape{3, 4};
    Shape b = tb ? Shape{5, 4} : Shape{4, 5};
    std::string ty = [](const Shape &s) {
      return "tensor<" + std::to_string(s[0]) + "x" + std::to_string(s[1]) +
             "xf64>";
    }(a);
    std::string tyb =
        "tensor<" + std::to_string(b[0]) + "x" + std::to_string(b[1]) + "xf64>";
    check(scalarize(std::string("anvil.matmul %a0, %a1") + flags[f] + " : " +
                        ty + ", " + tyb,
                    "tensor<3x5xf64>", "%a2", 2),
          {random(a), random(b), random({3, 5})});
  }
  // Batched, the 2-D rhs broadcast over the batch.
  check(scalarize("anvil.matmul %a0, %a1 : tensor<2x3x4xf64>, tensor<4x5xf64>",
                  "tensor<2x3x5xf64>", "%a2", 3),
        {random({2, 3, 4}), random({4, 5}), random({2, 3, 5})});
}

TEST_F(GradientTest, Shapes) {
  check(scalarize("anvil.reshape %a0 {shape = array<i64: 3, 4>} : "
                  "tensor<2x6xf64>",
                  "tensor<3x4xf64>", "%a1", 2),
        {random({2, 6}), random({3, 4})});
  check(scalarize("anvil.flatten %a0 : tensor<2x3x2xf64>", "tensor<2x6xf64>",
                  "%a1", 2),
        {random({2, 3, 2}), random({2, 6})});
  check(scalarize("anvil.transpose %a0 {perm = array<i64: 2, 0, 1>} : "
                  "tensor<2x3x4xf64>",
                  "tensor<4x2x3xf64>", "%a1", 3),
        {random({2, 3, 4}), random({4, 2, 3})});
}

TEST_F(GradientTest, Reductions) {
  check(scalarize("anvil.reduce_sum %a0 {axes = array<i64: 1>} : "
                  "tensor<3x4x2xf64>",
                  "tensor<3x2xf64>", "%a1", 2),
        {random({3, 4, 2}), random({3, 2})});
  check(scalarize("anvil.reduce_mean %a0 {axes = array<i64: 0, -1>, "
                  "keepdims} : tensor<3x4x2xf64>",
                  "tensor<1x4x1xf64>", "%a1", 3),
        {random({3, 4, 2}), random({1, 4, 1})});
}

TEST_F(GradientTest, Losses) {
  Tensor labels(DType::I64, {4}, {0, 2, 1, 2});
  for (const char *reduction : {"mean", "sum"}) {
    std::string r = reduction;
    check("  %l = anvil.softmax_cross_entropy %a0, %a1 {reduction = \"" + r +
              "\"} : tensor<4x3xf64>, tensor<4xi64>\n"
              "  return %l : tensor<f64>",
          {random({4, 3}, -3, 3), labels});
    check("  %l = anvil.nll_loss %a0, %a1 {reduction = \"" + r +
              "\"} : tensor<4x3xf64>, tensor<4xi64>\n"
              "  return %l : tensor<f64>",
          {random({4, 3}), labels});
    check("  %l = anvil.mse_loss %a0, %a1 {reduction = \"" + r +
              "\"} : tensor<4x2xf64>, tensor<4x2xf64>\n"
              "  return %l : tensor<f64>",
          {random({4, 2}), random({4, 2})});
  }
  check(scalarize("anvil.softmax_cross_entropy %a0, %a1 {reduction = "
                  "\"none\"} : tensor<4x3xf64>, tensor<4xi64>",
                  "tensor<4xf64>", "%a2", 1),
        {random({4, 3}), labels, random({4})});
  check(scalarize("anvil.mse_loss %a0, %a1 {reduction = \"none\"} : "
                  "tensor<4x2xf64>, tensor<4x2xf64>",
                  "tensor<4x2xf64>", "%a2", 2),
        {random({4, 2}), random({4, 2}), random({4, 2})});
}

TEST_F(GradientTest, FanOutAccumulates) {
  // x * x + exp(x): x feeds three uses.
  check("  %p = anvil.mul %a0, %a0 : tensor<5xf64>, tensor<5xf64>\n"
        "  %e = anvil.exp %a0 : tensor<5xf64>\n"
        "  %r = anvil.add %p, %e : tensor<5xf64>, tensor<5xf64>\n"
        "  %s = anvil.reduce_sum %r {axes = array<i64: 0>} : tensor<5xf64>\n"
        "  return %s : tensor<f64>",
        {random({5})});
}

constexpr const char *kNetwork = R"mlir(
func.func @f(%x: tensor<4x3xf64>, %labels: tensor<4xi64>) -> tensor<f64> {
  %w1 = anvil.param "fc1.weight" init = "xavier_uniform" : tensor<3x5xf64>
  %b1 = anvil.param "fc1.bias" init = "uniform" {low = -0.5 : f64, high = 0.5 : f64} : tensor<5xf64>
  %m1 = anvil.matmul %x, %w1 : tensor<4x3xf64>, tensor<3x5xf64>
  %a1 = anvil.add %m1, %b1 : tensor<4x5xf64>, tensor<5xf64>
  %h1 = anvil.tanh %a1 : tensor<4x5xf64>
  %w2 = anvil.param "fc2.weight" init = "xavier_uniform" : tensor<5x3xf64>
  %m2 = anvil.matmul %h1, %w2 : tensor<4x5xf64>, tensor<5x3xf64>
  %l = anvil.softmax_cross_entropy %m2, %labels : tensor<4x3xf64>, tensor<4xi64>
  return %l : tensor<f64>
}
)mlir";

TEST_F(GradientTest, ParametersOfANetwork) {
  auto module = differentiate(kNetwork);
  Tensor x = random({4, 3});
  Tensor labels(DType::I64, {4}, {0, 2, 1, 2});
  Interpreter interpreter(*module);
  std::vector<Tensor> grads = interpreter.run("f_grad", {x, labels});
  // x is an argument: loss, d x, then the parameters in order.
  ASSERT_EQ(grads.size(), 5u);
  auto func = module->lookupSymbol<mlir::func::FuncOp>("f_grad");
  auto names = func->getAttrOfType<mlir::ArrayAttr>("anvil.gradients");
  std::vector<std::string> expected = {"f", "arg0", "fc1.weight", "fc1.bias",
                                       "fc2.weight"};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(mlir::cast<mlir::StringAttr>(names[i]).str(), expected[i]);
  module->walk([&](mlir::anvil::ParamOp param) {
    if (param->getParentOfType<mlir::func::FuncOp>().getName() != "f")
      return;
    std::string name = param.getName().str();
    size_t index =
        std::find(expected.begin(), expected.end(), name) - expected.begin();
    Tensor value = initialValue(param, 0);
    for (int64_t e = 0; e < value.numElements(); ++e) {
      const double eps = 1e-6;
      Tensor plus = value, minus = value;
      plus.data[e] += eps;
      minus.data[e] -= eps;
      Interpreter perturbed(*module);
      perturbed.setParam(name, plus);
      double up = perturbed.run("f", {x, labels})[0].data[0];
      perturbed.setParam(name, minus);
      double down = perturbed.run("f", {x, labels})[0].data[0];
      double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grads[index].data[e], numeric,
                  1e-6 * (1 + std::fabs(numeric)))
          << name << " element " << e;
    }
  });
}

TEST_F(GradientTest, FrozenParametersGetNoGradientAndPruneTheGraph) {
  auto module = differentiate(kNetwork, "^fc1\\.");
  mlir::PassManager pm(&context);
  pm.addPass(mlir::createCanonicalizerPass());
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  auto func = module->lookupSymbol<mlir::func::FuncOp>("f_grad");
  auto names = func->getAttrOfType<mlir::ArrayAttr>("anvil.gradients");
  ASSERT_EQ(names.size(), 3u); // f, arg0, fc2.weight
  EXPECT_EQ(mlir::cast<mlir::StringAttr>(names[2]).str(), "fc2.weight");
  // Nothing but fc2 needs the backward of tanh or of the first matmul once
  // x's gradient is also dropped: without `args`, no relu/tanh backward.
  mlir::PassManager noArgs(&context);
  auto plain = mlir::parseSourceString<mlir::ModuleOp>(kNetwork, &context);
  mlir::anvil::AutodiffPassOptions options;
  options.function = "f";
  options.freeze = "^fc1\\.";
  noArgs.addPass(mlir::anvil::createAutodiffPass(options));
  noArgs.addPass(mlir::createCanonicalizerPass());
  ASSERT_TRUE(mlir::succeeded(noArgs.run(*plain)));
  auto pruned = plain->lookupSymbol<mlir::func::FuncOp>("f_grad");
  int matmuls = 0;
  pruned.walk([&](mlir::anvil::MatmulOp) { ++matmuls; });
  // Two forward matmuls and one backward one (for fc2.weight); no backward
  // matmul through fc1.
  EXPECT_EQ(matmuls, 3);
}

} // namespace

namespace {

/// y = x w with w = [0.5, -1], trained with (y - t)^2.
constexpr const char *kTinyRegression = R"mlir(
  func.func @forward(%x: tensor<1x2xf32>) -> tensor<1x1xf32> {
    %w = anvil.param "w" init = "dense" {value = dense<[[0.5], [-1.0]]> : tensor<2x1xf32>} : tensor<2x1xf32>
    %y = anvil.matmul %x, %w : tensor<1x2xf32>, tensor<2x1xf32>
    return %y : tensor<1x1xf32>
  }
  func.func @loss(%y: tensor<1x1xf32>, %t: tensor<1x1xf32>) -> tensor<f32> {
    %l = anvil.mse_loss %y, %t : tensor<1x1xf32>, tensor<1x1xf32>
    return %l : tensor<f32>
  }
)mlir";

mlir::OwningOpRef<mlir::ModuleOp> GradientTest::tinyTrainStep(
    const mlir::anvil::BuildTrainStepPassOptions &options) {
  auto module =
      mlir::parseSourceString<mlir::ModuleOp>(kTinyRegression, &context);
  mlir::PassManager pm(&context);
  pm.addPass(mlir::anvil::createBuildTrainStepPass(options));
  if (!module || mlir::failed(pm.run(*module)))
    return nullptr;
  return module;
}

TEST_F(GradientTest, TrainStepIsHandComputedSgdWithMomentum) {
  // x = [1, 2], t = 1.
  mlir::anvil::BuildTrainStepPassOptions options;
  options.momentum = 0.9;
  auto module = tinyTrainStep(options);
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Tensor x(DType::F32, {1, 2}, {1, 2}), t(DType::F32, {1, 1}, {1});
  Tensor lr(DType::F32, {}, {0.1});
  // (The model is f32: lr and momentum are f32 constants, so values match
  // to about 1e-7.)
  // Step 1: y = -1.5, loss 6.25, dL/dy = -5, g = [-5, -10], v = g,
  // w = w - 0.1 v = [1, 0].
  EXPECT_NEAR(interpreter.run("train_step", {x, t, lr})[0].data[0], 6.25,
              1e-12);
  const Tensor &w1 = interpreter.assignedParams().at("w");
  EXPECT_NEAR(w1.data[0], 1.0, 1e-6);
  EXPECT_NEAR(w1.data[1], 0.0, 1e-6);
  // Step 2: y = 1, loss 0, g = 0, v = 0.9 [-5, -10], w = [1.45, 0.9].
  EXPECT_NEAR(interpreter.run("train_step", {x, t, lr})[0].data[0], 0.0, 1e-12);
  const Tensor &w2 = interpreter.assignedParams().at("w");
  EXPECT_NEAR(w2.data[0], 1.45, 1e-6);
  EXPECT_NEAR(w2.data[1], 0.9, 1e-6);
  const Tensor &v = interpreter.assignedParams().at("w.momentum");
  EXPECT_NEAR(v.data[0], -4.5, 1e-6);
  EXPECT_NEAR(v.data[1], -9.0, 1e-6);
}

TEST_F(GradientTest, EvalStepIsTheLossWithoutAnUpdate) {
  auto module = tinyTrainStep({});
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Tensor x(DType::F32, {1, 2}, {1, 2}), t(DType::F32, {1, 1}, {1});
  // Before training: y = -1.5, loss 6.25; the one class is class 0.
  std::vector<Tensor> out = interpreter.run("eval_step", {x, t});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0].data[0], 6.25, 1e-12);
  EXPECT_EQ(out[1].dtype, DType::I64);
  EXPECT_EQ(out[1].data, (std::vector<double>{0}));
  EXPECT_TRUE(interpreter.assignedParams().empty());
  // After one plain SGD step (w = [1, 0], see above) eval sees the new
  // weights: y = 1, loss 0; evaluating again changes nothing.
  interpreter.run("train_step", {x, t, Tensor(DType::F32, {}, {0.1})});
  EXPECT_NEAR(interpreter.run("eval_step", {x, t})[0].data[0], 0.0, 1e-10);
  const Tensor &w = interpreter.assignedParams().at("w");
  EXPECT_NEAR(w.data[0], 1.0, 1e-6);
  EXPECT_NEAR(interpreter.run("eval_step", {x, t})[0].data[0], 0.0, 1e-10);
}

} // namespace

namespace {

TEST_F(GradientTest, TrainStepIsHandComputedAdam) {
  // The same model as above; Adam's first step moves every weight by lr
  // against the sign of its gradient: m / (1 - b1) = g, v / (1 - b2) = g^2,
  // so the update is lr * g / (|g| + eps).
  mlir::anvil::BuildTrainStepPassOptions options;
  options.optimizer = mlir::anvil::TrainOptimizer::Adam;
  auto module = tinyTrainStep(options);
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  Tensor x(DType::F32, {1, 2}, {1, 2}), t(DType::F32, {1, 1}, {1});
  Tensor lr(DType::F32, {}, {0.1});
  interpreter.run("train_step", {x, t, lr});
  const Tensor &w = interpreter.assignedParams().at("w");
  EXPECT_NEAR(w.data[0], 0.6, 1e-6);  // g = -5
  EXPECT_NEAR(w.data[1], -0.9, 1e-6); // g = -10
  EXPECT_NEAR(interpreter.assignedParams().at("__adam_step").data[0], 1.0, 0.0);
  const Tensor &m = interpreter.assignedParams().at("w.adam_m");
  EXPECT_NEAR(m.data[0], -0.5, 1e-6);
  EXPECT_NEAR(m.data[1], -1.0, 1e-6);
  const Tensor &v = interpreter.assignedParams().at("w.adam_v");
  EXPECT_NEAR(v.data[0], 0.025, 1e-7);
  EXPECT_NEAR(v.data[1], 0.1, 1e-7);
}

} // namespace

namespace {

TEST_F(GradientTest, ConvolutionAndPooling) {
  // Strides, asymmetric padding, dilation, groups and a bias at once.
  check(scalarize("anvil.conv2d %a0, %a1, %a2 {strides = array<i64: 2, 1>, "
                  "pads = array<i64: 1, 0, 1, 2>, dilations = array<i64: 1, "
                  "2>, groups = 2 : i64} : tensor<2x4x6x7xf64>, "
                  "tensor<6x2x3x2xf64>, tensor<6xf64>",
                  "tensor<2x6x3x7xf64>", "%a3", 4),
        {random({2, 4, 6, 7}), random({6, 2, 3, 2}), random({6}),
         random({2, 6, 3, 7})});
  check(scalarize("anvil.conv2d %a0, %a1 : tensor<1x2x5x5xf64>, "
                  "tensor<3x2x3x3xf64>",
                  "tensor<1x3x3x3xf64>", "%a2", 4),
        {random({1, 2, 5, 5}), random({3, 2, 3, 3}), random({1, 3, 3, 3})});
  // Max pooling with padding and ceil mode (random inputs have distinct
  // values, so every window has one maximum).
  check(scalarize("anvil.max_pool2d %a0 {kernel = array<i64: 2, 2>, pads = "
                  "array<i64: 1, 0, 0, 1>, ceil_mode} : tensor<1x2x5x5xf64>",
                  "tensor<1x2x3x3xf64>", "%a1", 4),
        {random({1, 2, 5, 5}), random({1, 2, 3, 3})});
  check(scalarize("anvil.max_pool2d %a0 {kernel = array<i64: 3, 3>, strides "
                  "= array<i64: 1, 2>} : tensor<2x1x5x6xf64>",
                  "tensor<2x1x3x2xf64>", "%a1", 4),
        {random({2, 1, 5, 6}), random({2, 1, 3, 2})});
}

} // namespace

namespace {

/// Values in [lo, hi) pushed at least `gap` away from each of `kinks`, so
/// that finite differences never straddle a kink.
Tensor awayFrom(Tensor t, std::vector<double> kinks, double gap = 0.05) {
  for (double &v : t.data)
    for (double k : kinks)
      if (std::fabs(v - k) < gap)
        v = k + (v < k ? -gap : gap);
  return t;
}

TEST_F(GradientTest, MoreElementwise) {
  const std::string t = "tensor<3x5xf64>";
  auto unaryCase = [&](const std::string &op, Tensor x,
                       const std::string &attrs = "") {
    check(scalarize(op + " %a0 " + attrs + " : " + t, t, "%a1", 2),
          {x, random({3, 5})});
  };
  unaryCase("anvil.abs", awayFrom(random({3, 5}), {0}));
  unaryCase("anvil.rsqrt", random({3, 5}, 0.5, 2.0));
  unaryCase("anvil.erf", random({3, 5}));
  unaryCase("anvil.gelu", random({3, 5}, -3, 3));
  unaryCase("anvil.gelu", random({3, 5}, -3, 3), "{tanh_approx}");
  unaryCase("anvil.leaky_relu", awayFrom(random({3, 5}), {0}),
            "{alpha = 0.2 : f64}");
  unaryCase("anvil.clip", awayFrom(random({3, 5}), {-0.5, 0.5}),
            "{min = -0.5 : f64, max = 0.5 : f64}");
  unaryCase("anvil.softmax", random({3, 5}, -2, 2), "{axis = 0 : i64}");
  unaryCase("anvil.log_softmax", random({3, 5}, -2, 2));
  check(scalarize("anvil.pow %a0, %a1 : tensor<3x4xf64>, tensor<4xf64>",
                  "tensor<3x4xf64>", "%a2", 2),
        {random({3, 4}, 0.5, 2.0), random({4}, -1.5, 1.5), random({3, 4})});
  // max/min with operands at least 0.1 apart.
  Tensor a = random({3, 4}), b = random({4});
  for (int64_t i = 0; i < a.numElements(); ++i)
    if (std::fabs(a.data[i] - b.data[i % 4]) < 0.1)
      a.data[i] = b.data[i % 4] + 0.2;
  for (const char *op : {"max", "min"})
    check(scalarize(std::string("anvil.") + op +
                        " %a0, %a1 : tensor<3x4xf64>, tensor<4xf64>",
                    "tensor<3x4xf64>", "%a2", 2),
          {a, b, random({3, 4})});
}

TEST_F(GradientTest, PoolingConcatDropout) {
  check(scalarize("anvil.global_avg_pool %a0 : tensor<2x3x4x5xf64>",
                  "tensor<2x3x1x1xf64>", "%a1", 4),
        {random({2, 3, 4, 5}), random({2, 3, 1, 1})});
  check(scalarize("anvil.concat %a0, %a1, %a0 {axis = 1 : i64} : "
                  "tensor<2x3xf64>, tensor<2x1xf64>, tensor<2x3xf64>",
                  "tensor<2x7xf64>", "%a2", 2),
        {random({2, 3}), random({2, 1}), random({2, 7})});
  // The mask is fixed by the seed, so finite differences see the same one.
  check("  %d:2 = anvil.dropout %a0 {ratio = 0.4 : f64, training, seed = 3 "
        ": i64} : tensor<4x6xf64>\n" +
            scalarize("anvil.mul %d#0, %d#0 : tensor<4x6xf64>, "
                      "tensor<4x6xf64>",
                      "tensor<4x6xf64>", "%a1", 2),
        {random({4, 6}), random({4, 6})});
}

} // namespace

namespace {

TEST_F(GradientTest, NormalizationInTrainingForm) {
  check(scalarize("anvil.layer_norm %a0, %a1, %a2 {axis = 1 : i64} : "
                  "tensor<3x2x4xf64>, tensor<2x4xf64>, tensor<2x4xf64>",
                  "tensor<3x2x4xf64>", "%a3", 3),
        {random({3, 2, 4}), random({2, 4}), random({2, 4}), random({3, 2, 4})});
  check("  %y:3 = anvil.batch_norm_train %a0, %a1, %a2 : tensor<4x3x2x2xf64>, "
        "tensor<3xf64>, tensor<3xf64>\n" +
            scalarize("anvil.mul %y#0, %y#0 : tensor<4x3x2x2xf64>, "
                      "tensor<4x3x2x2xf64>",
                      "tensor<4x3x2x2xf64>", "%a3", 4),
        {random({4, 3, 2, 2}), random({3}), random({3}), random({4, 3, 2, 2})});
}

} // namespace

namespace {

TEST_F(GradientTest, TrainStepClipsTheGlobalNorm) {
  // g = [-5, -10] has norm sqrt(125); clipped to norm 1 and applied with
  // plain SGD at lr 0.1: w = [0.5, -1] + 0.1 [5, 10] / sqrt(125).
  mlir::anvil::BuildTrainStepPassOptions options;
  options.clipNorm = 1.0;
  auto module = tinyTrainStep(options);
  ASSERT_TRUE(module);
  Interpreter interpreter(*module);
  interpreter.run("train_step", {Tensor(DType::F32, {1, 2}, {1, 2}),
                                 Tensor(DType::F32, {1, 1}, {1}),
                                 Tensor(DType::F32, {}, {0.1})});
  const Tensor &w = interpreter.assignedParams().at("w");
  double norm = std::sqrt(125.0);
  EXPECT_NEAR(w.data[0], 0.5 + 0.5 / norm, 1e-6);
  EXPECT_NEAR(w.data[1], -1.0 + 1.0 / norm, 1e-6);
}

} // namespace

namespace {

TEST_F(GradientTest, GroupedAndDepthwiseConvolution) {
  // Depthwise (one filter per channel) with strides and padding:
  // H (5 + 1 - 3) / 2 + 1 = 2, W (5 + 2 - 3) / 1 + 1 = 5.
  check(scalarize("anvil.conv2d %a0, %a1, %a2 {strides = array<i64: 2, 1>, "
                  "pads = array<i64: 1, 1, 0, 1>, groups = 3 : i64} : "
                  "tensor<2x3x5x5xf64>, tensor<3x1x3x3xf64>, tensor<3xf64>",
                  "tensor<2x3x2x5xf64>", "%a3", 4),
        {random({2, 3, 5, 5}), random({3, 1, 3, 3}), random({3}),
         random({2, 3, 2, 5})});
  // Depthwise with a channel multiplier of 2, dilated.
  check(scalarize("anvil.conv2d %a0, %a1 {dilations = array<i64: 2, 1>, "
                  "groups = 2 : i64} : tensor<1x2x5x4xf64>, "
                  "tensor<4x1x2x2xf64>",
                  "tensor<1x4x3x3xf64>", "%a2", 4),
        {random({1, 2, 5, 4}), random({4, 1, 2, 2}), random({1, 4, 3, 3})});
}

} // namespace

namespace {

TEST_F(GradientTest, IntegerValuesAreNotDifferentiated) {
  // x * sum(one_hot(int(x))): the integer path into one_hot (an op without
  // a gradient) is piecewise constant and not differentiated at all.
  check("  %i = anvil.cast %a0 : tensor<3x4xf64> to i64\n"
        "  %h = anvil.one_hot %i {classes = 3 : i64, dtype = f64} : "
        "tensor<3x4xi64>\n"
        "  %f = anvil.reduce_sum %h {axes = array<i64: 2>} : "
        "tensor<3x4x3xf64>\n" +
            scalarize("anvil.mul %a0, %f : tensor<3x4xf64>, tensor<3x4xf64>",
                      "tensor<3x4xf64>", "%a1", 2),
        {awayFrom(random({3, 4}, 0.1, 2.9), {1, 2}), random({3, 4})});
}

} // namespace

namespace {

TEST_F(GradientTest, AveragePooling) {
  // Padding, ceil mode and both divisor rules: 4x4, kernel 3, stride 2,
  // pad 1, ceil -> 3x3 windows, the last ones cut short.
  for (const char *include : {"", ", count_include_pad"})
    check(scalarize(std::string("anvil.avg_pool2d %a0 {kernel = array<i64: "
                                "3, 3>, strides = array<i64: 2, 2>, pads = "
                                "array<i64: 1, 1, 1, 1>, ceil_mode") +
                        include + "} : tensor<1x2x4x4xf64>",
                    "tensor<1x2x3x3xf64>", "%a1", 4),
          {random({1, 2, 4, 4}), random({1, 2, 3, 3})});
  // Overlapping windows, a rectangular kernel and asymmetric padding:
  // H (5 + 1 - 2) / 1 + 1 = 5, W (6 + 2 - 3) / 2 + 1 = 3.
  check(scalarize("anvil.avg_pool2d %a0 {kernel = array<i64: 2, 3>, strides "
                  "= array<i64: 1, 2>, pads = array<i64: 1, 0, 0, 2>} : "
                  "tensor<2x1x5x6xf64>",
                  "tensor<2x1x5x3xf64>", "%a1", 4),
        {random({2, 1, 5, 6}), random({2, 1, 5, 3})});
}

TEST_F(GradientTest, GatherAccumulatesRepeatedIndices) {
  // Row 2 is picked three times (once as -1), row 1 never.
  check(
      scalarize("anvil.gather %a0, %a1 {axis = 0 : i64} : tensor<3x2xf64>, "
                "tensor<4xi64>",
                "tensor<4x2xf64>", "%a2", 2),
      {random({3, 2}), Tensor(DType::I64, {4}, {2, 0, 2, -1}), random({4, 2})});
  // Two-dimensional indices on a middle axis.
  check(scalarize("anvil.gather %a0, %a1 {axis = 1 : i64} : "
                  "tensor<2x3x2xf64>, tensor<2x2xi64>",
                  "tensor<2x2x2x2xf64>", "%a2", 4),
        {random({2, 3, 2}), Tensor(DType::I64, {2, 2}, {0, 2, -1, 0}),
         random({2, 2, 2, 2})});
}

TEST_F(GradientTest, SliceWithSteps) {
  // Rows 1, 3 and columns 4, 2, 0 (a negative step).
  check(scalarize("anvil.slice %a0 {starts = array<i64: 1, 4>, ends = "
                  "array<i64: 4, -1>, steps = array<i64: 2, -2>} : "
                  "tensor<4x5xf64>",
                  "tensor<2x3xf64>", "%a1", 2),
        {random({4, 5}), random({2, 3})});
  check(scalarize("anvil.slice %a0 {starts = array<i64: 0, 1, 0>, ends = "
                  "array<i64: 2, 3, 3>, steps = array<i64: 1, 1, 3>} : "
                  "tensor<2x4x3xf64>",
                  "tensor<2x2x1xf64>", "%a1", 3),
        {random({2, 4, 3}), random({2, 2, 1})});
}

TEST_F(GradientTest, CastBetweenFloatsAndThroughIntegers) {
  // exp computed in f32: the gradient is cast back to f64. Single
  // precision bounds what finite differences can resolve, hence the large
  // step and the tolerance.
  check("  %c = anvil.cast %a0 : tensor<3x4xf64> to f32\n"
        "  %e = anvil.exp %c : tensor<3x4xf32>\n"
        "  %b = anvil.cast %e : tensor<3x4xf32> to f64\n" +
            scalarize("anvil.mul %b, %a1 : tensor<3x4xf64>, tensor<3x4xf64>",
                      "tensor<3x4xf64>", "%a2", 2),
        {random({3, 4}), random({3, 4}), random({3, 4})}, 1e-2, 1e-3);
  // x + float(int(x)): only the first term has a gradient (values away
  // from the integers, where truncation jumps).
  check("  %i = anvil.cast %a0 : tensor<3x4xf64> to i64\n"
        "  %f = anvil.cast %i : tensor<3x4xi64> to f64\n" +
            scalarize("anvil.add %a0, %f : tensor<3x4xf64>, tensor<3x4xf64>",
                      "tensor<3x4xf64>", "%a1", 2),
        {awayFrom(random({3, 4}, 0.1, 2.9), {1, 2}), random({3, 4})});
}

} // namespace
