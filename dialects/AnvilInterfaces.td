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

#endif // ANVIL_INTERFACES_TD
