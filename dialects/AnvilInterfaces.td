//===- AnvilInterfaces.td - interfaces of anvil ops --------*- tablegen -*-===//
//
// Cross-cutting behaviour of anvil ops, dispatched on by passes (never on
// lists of op names).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_INTERFACES_TD
#define ANVIL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Anvil_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::anvil";
  let description = [{
    An op autodiff can differentiate. Given the gradients of its results
    (a null Value for a result nothing depends on), it builds anvil ops
    computing the gradient of each operand, with the operand's exact type
    (broadcasting reduced back). Operands that have no gradient (labels,
    indices) get a null Value.
  }];
  let methods = [
    InterfaceMethod<
      "Builds the gradients of the operands from those of the results.",
      "::llvm::SmallVector<::mlir::Value>", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGradients)>
  ];
}

def Anvil_IndexingOpInterface : OpInterface<"IndexingOpInterface"> {
  let cppNamespace = "::mlir::anvil";
  let description = [{
    An op that reads at positions an integer operand holds (gather's
    indices, a loss's labels). It names those operands with the range their
    values must lie in; constant ones are checked when the op is verified,
    and `anvil-check-indices` checks those that come from a function's
    arguments when the compiled function runs.
  }];
  let methods = [
    InterfaceMethod<
      "Appends each index operand with its valid range.",
      "void", "getIndexBounds",
      (ins "::llvm::SmallVectorImpl<::mlir::anvil::IndexBound> &":$bounds)>
  ];
  let verify = [{ return ::mlir::anvil::verifyConstantIndices($_op); }];
}

#endif // ANVIL_INTERFACES_TD
