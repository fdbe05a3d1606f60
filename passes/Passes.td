//===- Passes.td - every pass of Anvil ---------------------*- tablegen -*-===//
//
// Anvil's passes, declared in one place. Each pass has one .cpp named after
// it (conversions in Conversion/<Source>To<Target>/); pipelines that chain
// them live in compiler/Pipelines.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_PASSES_TD
#define ANVIL_PASSES_TD

include "mlir/Pass/PassBase.td"

def MaterializeParamsPass : Pass<"anvil-materialize-params", "ModuleOp"> {
  let summary = "Replace every anvil.param by a constant with its values";
  let description = [{
    Computes each parameter's initial values (its initializer, seeded from
    its `seed` attribute or from its name and the `seed` option, exactly as
    the reference interpreter does, or its dense `value`) and replaces the
    param by an `anvil.constant`, so that an inference binary carries its
    weights. Before:

    ```mlir
    %w = anvil.param "w" init = "ones" : tensor<2xf32>
    ```

    After:

    ```mlir
    %w = anvil.constant dense<1.000000e+00> : tensor<2xf32>
    ```
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", "0",
           "Seed for parameters without a `seed` attribute">,
  ];
  let dependentDialects = ["::mlir::anvil::AnvilDialect"];
}

def ConvertAnvilToLinalgPass : Pass<"anvil-convert-to-linalg", "ModuleOp"> {
  let summary = "Lower anvil ops to linalg, tensor, arith and math";
  let description = [{
    Rewrites every anvil op on tensors into upstream ops: named linalg ops
    where they exist (matmul, batch_matmul, conv_2d_nchw_fchw,
    conv_2d_ngchw_gfchw, pooling_nchw_max/sum, transpose), `linalg.generic`
    for elementwise ops (with numpy broadcasting through indexing maps) and
    reductions, `tensor` ops for reshapes, slices and padding. Parameters must
    have been materialized first. Before:

    ```mlir
    %y = anvil.relu %x : tensor<4xf32>
    ```

    After:

    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %zero = arith.constant 0.0 : f32
        %r = arith.maximumf %in, %zero : f32
        linalg.yield %r : f32
    } -> tensor<4xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // ANVIL_PASSES_TD
