//===- InterpreterTest.cpp - the reference interpreter over anvil IR ------===//
//
// Runs small modules given as text through ref::Interpreter: values flow
// through ops and calls, parameters come from setParam or their
// initializers, and run-time errors carry the op's location.
//
//===----------------------------------------------------------------------===//

#include "compiler/Reference/Interpreter.h"
#include "compiler/Registration.h"
#include "runtime/Error.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace anvil;
using namespace anvil::ref;

namespace {

class InterpreterTest : public ::testing::Test {
protected:
  InterpreterTest() {
    mlir::DialectRegistry registry;
    mlir::anvil::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  mlir::OwningOpRef<mlir::ModuleOp> parse(const char *text) {
    auto module =
        mlir::parseSourceString<mlir::ModuleOp>(text, &context, "test.mlir");
    EXPECT_TRUE(module);
    return module;
  }

  mlir::MLIRContext context;
};

TEST_F(InterpreterTest, ConstantsCallsAndBroadcasting) {
  auto module = parse(R"mlir(
    func.func @scale(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
      %c = anvil.constant dense<[10.0, 100.0]> : tensor<2xf32>
      %y = anvil.mul %x, %c : tensor<2x2xf32>, tensor<2xf32>
      return %y : tensor<2x2xf32>
    }
    func.func @forward(%x: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) {
      %y = func.call @scale(%x) : (tensor<2x2xf32>) -> tensor<2x2xf32>
      %s = anvil.reduce_sum %y {axes = array<i64: 0>} : tensor<2x2xf32>
      return %y, %s : tensor<2x2xf32>, tensor<2xf32>
    }
  )mlir");
  Interpreter interpreter(*module);
  auto results =
      interpreter.run("forward", {Tensor(DType::F32, {2, 2}, {1, 2, 3, 4})});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].data, (std::vector<double>{10, 200, 30, 400}));
  EXPECT_EQ(results[1].shape, (Shape{2}));
  EXPECT_EQ(results[1].data, (std::vector<double>{40, 600}));
}

TEST_F(InterpreterTest, ParamsFromSetParamDenseOrInitializer) {
  auto module = parse(R"mlir(
    func.func @forward() -> (tensor<3xf32>, tensor<2xf32>, tensor<4xf32>) {
      %a = anvil.param "a" init = "ones" : tensor<3xf32>
      %b = anvil.param "b" init = "dense" {value = dense<[5.0, 6.0]> : tensor<2xf32>} : tensor<2xf32>
      %c = anvil.param "c" init = "uniform" {low = 2.0 : f64, high = 3.0 : f64} : tensor<4xf32>
      return %a, %b, %c : tensor<3xf32>, tensor<2xf32>, tensor<4xf32>
    }
  )mlir");
  Interpreter interpreter(*module);
  interpreter.setParam("a", Tensor(DType::F32, {3}, {7, 8, 9}));
  auto results = interpreter.run("forward", {});
  EXPECT_EQ(results[0].data, (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(results[1].data, (std::vector<double>{5, 6}));
  for (double v : results[2].data) {
    EXPECT_GE(v, 2.0);
    EXPECT_LT(v, 3.0);
  }
  // The same seed gives the same values; another seed other values.
  EXPECT_EQ(Interpreter(*module).run("forward", {})[2].data, results[2].data);
  EXPECT_NE(Interpreter(*module, 1).run("forward", {})[2].data,
            results[2].data);
}

TEST_F(InterpreterTest, RuntimeErrorsNameTheOp) {
  auto module = parse(R"mlir(
    func.func @forward(%t: tensor<3xf32>, %i: tensor<1xi64>) -> tensor<1xf32> {
      %g = anvil.gather %t, %i : tensor<3xf32>, tensor<1xi64>
      return %g : tensor<1xf32>
    }
  )mlir");
  Interpreter interpreter(*module);
  try {
    interpreter.run("forward", {Tensor(DType::F32, {3}, {1, 2, 3}),
                                Tensor(DType::I64, {1}, {3})});
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "test.mlir:3:12: anvil.gather: gather index 3 is "
                           "out of range for a dimension of size 3");
  }
}

TEST_F(InterpreterTest, UnknownFunctionAndWrongArity) {
  auto module = parse(R"mlir(
    func.func @forward(%x: tensor<1xf32>) -> tensor<1xf32> {
      return %x : tensor<1xf32>
    }
  )mlir");
  Interpreter interpreter(*module);
  EXPECT_THROW(interpreter.run("missing", {}), Error);
  EXPECT_THROW(interpreter.run("forward", {}), Error);
}

TEST_F(InterpreterTest, CastAndIntegerConstants) {
  auto module = parse(R"mlir(
    func.func @forward(%x: tensor<3xf32>) -> (tensor<3xi64>, tensor<3xi1>) {
      %i = anvil.cast %x : tensor<3xf32> to i64
      %c = anvil.constant dense<[1, 0, 1]> : tensor<3xi64>
      %s = anvil.add %i, %c : tensor<3xi64>, tensor<3xi64>
      %b = anvil.cast %s : tensor<3xi64> to i1
      return %s, %b : tensor<3xi64>, tensor<3xi1>
    }
  )mlir");
  auto results = Interpreter(*module).run(
      "forward", {Tensor(DType::F32, {3}, {-1.5, 0.0, 2.9})});
  EXPECT_EQ(results[0].dtype, DType::I64);
  EXPECT_EQ(results[0].data, (std::vector<double>{0, 0, 3}));
  EXPECT_EQ(results[1].dtype, DType::Bool);
  EXPECT_EQ(results[1].data, (std::vector<double>{0, 0, 1}));
}

} // namespace
