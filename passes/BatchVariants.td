//===- BatchVariants.td - anvil-batch-variants -*- tablegen -*-===//
//
// Session 17: this pass is declared here rather than in Passes.td only so
// that its branch built in time (a Passes.td change recompiles every pass
// and the compiler, about 2 hours on the loaded 2-core build machine). At the
// merge, move the def below into Passes.td and drop this file, its two
// CMake lines and passes/BatchVariants.h' GEN_PASS_* includes.
//
//===----------------------------------------------------------------------===//

include "mlir/Pass/PassBase.td"

def BatchVariantsPass : Pass<"anvil-batch-variants", "ModuleOp"> {
  let summary = "Compile each entry point for more than one batch";
  let description = [{
    Every public function marked `anvil.batch = B` by anvil-mark-batch (its
    samples never mix) is cloned once per other size b in `batches`: a
    public `@<name>__b<b>` re-batched to b by anvil-set-batch's rebatching,
    marked `anvil.batch = b` and `anvil.variant_of = "<name>"`. Parameters
    stay shared: the clones read the same `anvil.param`s, which
    anvil-materialize-params gives one global each (one weights-file entry).
    The runtime lists a function's variants together and covers any number
    of samples with a mix of them (runtime/Chunks.h). A public function
    that is not marked (a model's @loss) keeps its one batch, with the
    reason in `anvil.batch_variants` (the fusion report prints it); when no
    function can have variants, or a clone cannot be re-batched, that is an
    error naming the function. Before (batches = 1):

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ```

    After:

    ```mlir
    func.func @forward(%x: tensor<8x784xf32>) -> tensor<8x10xf32>
        attributes {anvil.batch = 8 : i64} {
    ...
    func.func @forward__b1(%x: tensor<1x784xf32>) -> tensor<1x10xf32>
        attributes {anvil.batch = 1 : i64, anvil.variant_of = "forward"} {
    ```
  }];
  let options = [
    ListOption<"batches", "batches", "int64_t",
               "The other batch sizes to compile each entry point for">,
  ];
}
