//===- AnvilDialect.td - the anvil graph dialect -----------*- tablegen -*-===//
//
// The `anvil` dialect: Anvil's graph IR. Every value is a ranked tensor with a
// static shape; every op infers its result type from its operands and
// attributes (InferTypeOpInterface), so importers and passes never compute
// shapes by hand.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECT_TD
#define ANVIL_DIALECT_TD

include "mlir/IR/OpBase.td"

def Anvil_Dialect : Dialect {
  let name = "anvil";
  let cppNamespace = "::mlir::anvil";
  let summary = "Anvil's graph dialect: neural-network ops on static tensors.";
  let description = [{
    Ops of a model graph (matmul, convolution, activations, normalizations,
    losses) on ranked tensors with fully static shapes. f32 is the main
    element type; i64 carries indices and labels. Each op has a naive
    reference kernel (compiler/Reference) that is the numeric truth for every
    lowering.
  }];
  let hasConstantMaterializer = 1;
  // Attributes stay in the attribute dictionary: the MLIR 19 parser infers
  // result types before it moves parsed attributes into properties, so
  // inference would not see them.
  let usePropertiesForAttributes = 0;
}

// Every tensor an anvil op takes or makes fits in memory (AnvilOps.h:
// kMaxTensorBytes), so that no size computation downstream overflows.
def Anvil_BoundedTensors : NativeOpTrait<"BoundedTensors"> {
  let cppNamespace = "::mlir::anvil";
}

class Anvil_Op<string mnemonic, list<Trait> traits = []>
    : Op<Anvil_Dialect, mnemonic, !listconcat([Anvil_BoundedTensors], traits)>;

#endif // ANVIL_DIALECT_TD
