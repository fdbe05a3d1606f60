//===- AnvilOps.td - ops of the anvil graph dialect --------*- tablegen -*-===//
//
// Every op of the `anvil` dialect. Shape rules live in each op's
// `inferReturnTypes` (AnvilOps.cpp); a C++ verifier is added only for rules
// that concern attributes alone. Families (binary, unary, reductions, losses)
// share one ODS class and one C++ inference function.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_OPS_TD
#define ANVIL_OPS_TD

include "dialects/AnvilDialect.td"
include "dialects/AnvilEnums.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialects/AnvilInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Anvil_FloatTensor : StaticShapeTensorOf<[F32, F64]>;
def Anvil_NumericTensor : StaticShapeTensorOf<[F32, F64, I32, I64]>;
def Anvil_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def Anvil_AnyTensor : StaticShapeTensorOf<[F32, F64, I1, I8, I32, I64]>;
// A constant also holds ui8 (quantized activations' zero points and data),
// which only the quantization ops take.
def Anvil_ConstantTensor : StaticShapeTensorOf<[F32, F64, I1, I8, UI8, I32, I64]>;
def Anvil_MaskTensor : StaticShapeTensorOf<[I1]>;
// A reshape or flatten also moves ui8, and a max pool also compares 8-bit
// integers: anvil-hoist-quantize quantizes before them.
def Anvil_ReshapeTensor : StaticShapeTensorOf<[F32, F64, I1, I8, UI8, I32, I64]>;
def Anvil_MaxPoolTensor : StaticShapeTensorOf<[F32, F64, I8, UI8]>;

def Anvil_Differentiable
    : DeclareOpInterfaceMethods<Anvil_GradientOpInterface>;
def Anvil_Indexing : DeclareOpInterfaceMethods<Anvil_IndexingOpInterface>;

// MLIR's InferTypeOpAdaptor, except that the attributes are checked first:
// the parser infers result types before it verifies the op, and the
// adaptor's typed getters cast unchecked, so `{axis = i64}` (a type where an
// integer belongs) would be read as an IntegerAttr. ODS's Adaptor::verify
// (required attributes present, each of its declared kind) runs before every
// op's inferReturnTypes, so each of those may trust the getters, and a wrong
// attribute is an error naming the op and the attribute.
def Anvil_InferTypeOpAdaptor : TraitList<[
  DeclareOpInterfaceMethods<InferTypeOpInterface>,
  NativeOpTrait<"InferTypeOpAdaptor", [],
    // The declaration of MLIR's InferTypeOpAdaptor, character for character
    // (the generated header stays the same).
    [{
        static ::llvm::LogicalResult
        inferReturnTypes(::mlir::MLIRContext *context,
                                std::optional<::mlir::Location> location,
                                Adaptor adaptor,
                                ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes);
      }], [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        ::mlir::ValueRange operands, ::mlir::DictionaryAttr attributes,
        ::mlir::OpaqueProperties properties, ::mlir::RegionRange regions,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      $cppClass::Adaptor adaptor(operands, attributes, properties, regions);
      if (::mlir::failed(::mlir::anvil::verifyAttributesForInference(
              context, location, adaptor)))
        return ::mlir::failure();
      return $cppClass::inferReturnTypes(context, location, adaptor,
                                         inferredReturnTypes);
    }
  }]>
]>;

// Every op infers its result type; most are free of side effects. (Unary ops
// get inference generated from SameOperandsAndResultType instead; it reads
// no attributes.)
class Anvil_InferOp<string mnemonic, list<Trait> traits = []>
    : Anvil_Op<mnemonic, !listconcat([Pure, Anvil_InferTypeOpAdaptor], traits)>;

//===----------------------------------------------------------------------===//
// Parameters and constants
//===----------------------------------------------------------------------===//

// A param reads its current value: ordered against anvil.assign, still
// removable when unused.
def Anvil_ParamOp : Anvil_Op<"param", [MemoryEffects<[MemRead]>]> {
  let summary = "a named trainable parameter with an initializer";
  let description = [{
    A model parameter (a weight or bias). `name` identifies it in
    checkpoints and `--params` directories; `init` says how it starts:
    `zeros`, `ones`, `uniform` (`low`, `high`), `normal` (`mean`, `std`),
    `xavier_uniform`, `xavier_normal`, `kaiming_uniform`, `kaiming_normal`,
    or `dense` (the values in `value`). Fans: a 2-D `[in, out]` weight has
    fan_in = in, fan_out = out; an `[O, I, kh, kw]` filter has
    fan_in = I*kh*kw, fan_out = O*kh*kw. `seed` fixes the random stream.

    ```mlir
    %w = anvil.param "fc1.weight" init = "kaiming_uniform" : tensor<784x256xf32>
    %b = anvil.param "fc1.bias" init = "zeros" : tensor<256xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Anvil_InitializerAttr:$init,
                   OptionalAttr<F64Attr>:$low, OptionalAttr<F64Attr>:$high,
                   OptionalAttr<F64Attr>:$mean, OptionalAttr<F64Attr>:$std,
                   OptionalAttr<I64Attr>:$seed,
                   OptionalAttr<ElementsAttr>:$value);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$name `init` `=` $init attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Anvil_AssignOp : Anvil_Op<"assign", [MemoryEffects<[MemWrite]>]> {
  let summary = "overwrite a named parameter (or optimizer state) in place";
  let description = [{
    Gives the parameter `name` the value `value` for everything after this
    call of the function (the next training step, evaluation, a
    checkpoint). The train-step builder emits it for parameter updates and
    optimizer state; reads of the parameter earlier in the same function see
    the old value.

    ```mlir
    anvil.assign "fc1.weight", %updated : tensor<784x256xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Anvil_FloatTensor:$value);
  let assemblyFormat = "$name `,` $value attr-dict `:` type($value)";
}

def Anvil_ConstantOp : Anvil_InferOp<"constant", [ConstantLike]> {
  let summary = "a constant tensor";
  let description = [{
    A tensor known at compile time; not trained.

    ```mlir
    %c = anvil.constant dense<[1.0, 2.0]> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Anvil_ConstantTensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Anvil_MatmulOp : Anvil_InferOp<"matmul", [Anvil_Differentiable]> {
  let summary = "batched matrix product with optional transposes";
  let description = [{
    `lhs` is `[..., M, K]` (or `[..., K, M]` with `transpose_a`), `rhs` is
    `[..., K, N]` (or `[..., N, K]` with `transpose_b`); both have rank >= 2
    and their leading batch dimensions broadcast as in numpy. The result is
    `[broadcast(batch), M, N]`.

    ```mlir
    %y = anvil.matmul %x, %w : tensor<64x784xf32>, tensor<784x256xf32>
    %z = anvil.matmul %a, %b {transpose_b} : tensor<2x3x4xf32>, tensor<5x4xf32>
    ```

    With `bf16` (set by anvil-bf16, `anvilc --precision bf16`) the product
    is computed in bf16 with f32 accumulation: each operand element is
    rounded to bf16 (to nearest, ties to even), the products of the rounded
    values (exact in f32) summed in f32; the result stays f32.
  }];
  let arguments = (ins Anvil_FloatTensor:$lhs, Anvil_FloatTensor:$rhs,
                   UnitAttr:$transpose_a, UnitAttr:$transpose_b,
                   UnitAttr:$bf16);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

class Anvil_BinaryOp<string mnemonic, string expr,
                     Type operandType = Anvil_NumericTensor,
                     list<Trait> traits = []>
    : Anvil_InferOp<mnemonic, traits> {
  let summary = "elementwise `" # expr # "` with numpy broadcasting";
  let description = [{
    Computes `}] # expr # [{` elementwise. The operands have the same element
    type; their shapes broadcast as in numpy (align trailing dimensions; a
    dimension of 1 stretches).

    ```mlir
    %r = anvil.}] # mnemonic # [{ %a, %b : tensor<4x3xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs operandType:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferBroadcastType(loc, adaptor.getLhs().getType(),
                                adaptor.getRhs().getType(), types);
    }
  }];
  // Constant operands fold; so do identities (x + 0, x * 1, ...) that keep
  // the other operand's type (AnvilFolders.cpp).
  let hasFolder = 1;
}

def Anvil_AddOp : Anvil_BinaryOp<"add", "lhs + rhs", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;
def Anvil_SubOp : Anvil_BinaryOp<"sub", "lhs - rhs", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;
def Anvil_MulOp : Anvil_BinaryOp<"mul", "lhs * rhs", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;
def Anvil_DivOp : Anvil_BinaryOp<"div", "lhs / rhs", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;
def Anvil_PowOp : Anvil_BinaryOp<"pow", "lhs ^ rhs", Anvil_FloatTensor,
                                   [Anvil_Differentiable]>;
def Anvil_MaxOp : Anvil_BinaryOp<"max", "max(lhs, rhs)", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;
def Anvil_MinOp : Anvil_BinaryOp<"min", "min(lhs, rhs)", Anvil_NumericTensor,
                                   [Anvil_Differentiable]>;

class Anvil_UnaryOp<string mnemonic, string expr,
                    Type operandType = Anvil_FloatTensor,
                    dag attrs = (ins), list<Trait> traits = []>
    : Anvil_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType,
                                      InferTypeOpInterface], traits)> {
  let summary = "elementwise `" # expr # "`";
  let description = [{
    Computes `}] # expr # [{` for every element; the result has the type of
    the input.

    ```mlir
    %y = anvil.}] # mnemonic # [{ %x : tensor<64x256xf32>
    ```
  }];
  let arguments = !con((ins operandType:$input), attrs);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Anvil_NegOp : Anvil_UnaryOp<"neg", "-x", Anvil_NumericTensor, (ins),
                                [Anvil_Differentiable]> {
  let hasFolder = 1;
}
def Anvil_AbsOp : Anvil_UnaryOp<"abs", "|x|", Anvil_NumericTensor, (ins),
                                [Anvil_Differentiable]> {
  let hasFolder = 1;
}
def Anvil_ExpOp : Anvil_UnaryOp<"exp", "e^x", Anvil_FloatTensor, (ins),
                                [Anvil_Differentiable]>;
def Anvil_LogOp : Anvil_UnaryOp<"log", "ln(x)", Anvil_FloatTensor, (ins),
                                [Anvil_Differentiable]>;
def Anvil_SqrtOp : Anvil_UnaryOp<"sqrt", "sqrt(x)", Anvil_FloatTensor, (ins),
                                 [Anvil_Differentiable]>;
def Anvil_RsqrtOp : Anvil_UnaryOp<"rsqrt", "1 / sqrt(x)", Anvil_FloatTensor,
                                  (ins), [Anvil_Differentiable]>;
def Anvil_ReluOp : Anvil_UnaryOp<"relu", "max(x, 0)", Anvil_FloatTensor, (ins),
                                 [Anvil_Differentiable]> {
  let hasFolder = 1;
}
def Anvil_SigmoidOp : Anvil_UnaryOp<"sigmoid", "1 / (1 + e^-x)",
                                    Anvil_FloatTensor, (ins),
                                    [Anvil_Differentiable]>;
def Anvil_TanhOp : Anvil_UnaryOp<"tanh", "tanh(x)", Anvil_FloatTensor, (ins),
                                 [Anvil_Differentiable]>;
def Anvil_ErfOp : Anvil_UnaryOp<"erf", "erf(x)", Anvil_FloatTensor, (ins),
                                [Anvil_Differentiable]>;
def Anvil_GeluOp : Anvil_UnaryOp<"gelu",
    "x * Phi(x); with `tanh_approx`, 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))",
    Anvil_FloatTensor, (ins UnitAttr:$tanh_approx), [Anvil_Differentiable]>;
def Anvil_LeakyReluOp : Anvil_UnaryOp<"leaky_relu",
    "x >= 0 ? x : alpha * x (alpha defaults to 0.01)", Anvil_FloatTensor,
    (ins DefaultValuedAttr<F64Attr, "0.01">:$alpha), [Anvil_Differentiable]>;
def Anvil_ClipOp : Anvil_UnaryOp<"clip",
    "min(max(x, min), max) (bounds default to -inf and +inf)",
    Anvil_FloatTensor, (ins OptionalAttr<F64Attr>:$min,
                            OptionalAttr<F64Attr>:$max),
    [Anvil_Differentiable]> {
  let hasVerifier = 1;
}

def Anvil_CastOp : Anvil_InferOp<"cast", [Anvil_Differentiable]> {
  let summary = "convert the element type";
  let description = [{
    Converts every element to the element type `to`: floats to integers
    round toward zero, anything to `i1` is `x != 0`. Between float types the
    gradient is cast back; through an integer or `i1` type there is none.

    ```mlir
    %l = anvil.cast %x : tensor<8xf32> to i64
    ```
  }];
  let arguments = (ins Anvil_AnyTensor:$input, TypeAttr:$to);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` $to";
  let hasFolder = 1;
}

def Anvil_CompareOp : Anvil_InferOp<"compare"> {
  let summary = "elementwise comparison with numpy broadcasting";
  let description = [{
    `lhs <predicate> rhs` for every element, as an `i1` mask; `predicate` is
    one of `eq`, `ne`, `lt`, `le`, `gt`, `ge` (a comparison with NaN is
    false, except `ne`). The operands have the same element type and
    broadcast as in numpy.

    ```mlir
    %m = anvil.compare "eq" %labels, %ignore : tensor<8xi64>, tensor<i64>
    ```
  }];
  let arguments = (ins Anvil_NumericTensor:$lhs, Anvil_NumericTensor:$rhs,
                   Anvil_ComparePredicateAttr:$predicate);
  let results = (outs Anvil_MaskTensor:$result);
  let assemblyFormat =
      "$predicate $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasFolder = 1;
}

def Anvil_SelectOp : Anvil_InferOp<"select"> {
  let summary = "pick from two tensors by a mask, with numpy broadcasting";
  let description = [{
    `condition ? lhs : rhs` for every element; the three shapes broadcast as
    in numpy, `lhs` and `rhs` have the same element type.

    ```mlir
    %y = anvil.select %m, %zeros, %x : tensor<8xi1>, tensor<f32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins Anvil_MaskTensor:$condition, Anvil_AnyTensor:$lhs,
                   Anvil_AnyTensor:$rhs);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` type($condition) `,`
    type($lhs) `,` type($rhs)
  }];
  let hasFolder = 1;
}

def Anvil_OneHotOp : Anvil_InferOp<"one_hot"> {
  let summary = "one-hot encoding of integer labels";
  let description = [{
    `[..., classes]`: 1.0 at each label's position, 0.0 elsewhere; a label
    outside `[0, classes)` gives a row of zeros. The result element type is
    `dtype` (f32 by default).

    ```mlir
    %y = anvil.one_hot %labels {classes = 10 : i64} : tensor<64xi64>
    ```
  }];
  let arguments = (ins Anvil_IndexTensor:$input, I64Attr:$classes,
                   OptionalAttr<TypeAttr>:$dtype);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Anvil_ReluGradOp : Anvil_InferOp<"relu_grad"> {
  let summary = "the gradient of relu: `grad` where `input > 0`, else 0";
  let description = [{
    Given relu's input and the gradient of its output (same shapes), the
    gradient of its input. Autodiff emits it for `anvil.relu`.

    ```mlir
    %dx = anvil.relu_grad %x, %dy : tensor<64x256xf32>, tensor<64x256xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$grad);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $grad attr-dict `:` type($input) `,` type($grad)";
}

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

class Anvil_SoftmaxLikeOp<string mnemonic, string expr>
    : Anvil_UnaryOp<mnemonic, expr, Anvil_FloatTensor,
                    (ins DefaultValuedAttr<I64Attr, "-1">:$axis),
                    [Anvil_Differentiable]> {
  let description = [{
    Computes `}] # expr # [{` along `axis` (negative counts from the back;
    default -1), subtracting the maximum first so that large inputs do not
    overflow.

    ```mlir
    %p = anvil.}] # mnemonic # [{ %logits {axis = 1 : i64} : tensor<64x10xf32>
    ```
  }];
  let hasVerifier = 1;
}

def Anvil_SoftmaxOp : Anvil_SoftmaxLikeOp<"softmax", "e^x / sum(e^x)">;
def Anvil_LogSoftmaxOp
    : Anvil_SoftmaxLikeOp<"log_softmax", "x - log(sum(e^x))">;

class Anvil_ReduceOp<string mnemonic, string what, list<Trait> traits = []>
    : Anvil_InferOp<mnemonic, traits> {
  let summary = "the " # what # " over `axes`";
  let description = [{
    Reduces `input` to its }] # what # [{ over the listed `axes` (distinct,
    negative counts from the back). With `keepdims` the reduced dimensions
    stay as 1, otherwise they are dropped.

    ```mlir
    %s = anvil.}] # mnemonic # [{ %x {axes = array<i64: 1>, keepdims} : tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                   UnitAttr:$keepdims);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferReduceType(loc, adaptor.getInput().getType(),
                             adaptor.getAxes(), adaptor.getKeepdims(), types);
    }
  }];
}

def Anvil_ReduceSumOp : Anvil_ReduceOp<"reduce_sum", "sum",
                                       [Anvil_Differentiable]>;
def Anvil_ReduceMeanOp : Anvil_ReduceOp<"reduce_mean", "mean",
                                        [Anvil_Differentiable]>;
def Anvil_ReduceMaxOp : Anvil_ReduceOp<"reduce_max", "maximum">;

def Anvil_ArgmaxOp : Anvil_InferOp<"argmax"> {
  let summary = "the index of the largest element along `axis`";
  let description = [{
    The `i64` position of the maximum along `axis` (negative counts from
    the back; default -1), which is dropped from the shape. Ties give the
    first position and a NaN counts as larger than any number, as in numpy
    and PyTorch. Not differentiable. The predicted classes of logits:

    ```mlir
    %c = anvil.argmax %logits : tensor<64x10xf32>   // -> tensor<64xi64>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input,
                   DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Anvil_ReshapeOp : Anvil_InferOp<"reshape", [Anvil_Differentiable]> {
  let summary = "reinterpret the shape, keeping the element order";
  let description = [{
    The result has shape `shape` (all dimensions positive and known) and
    the same number of elements as the input.

    ```mlir
    %y = anvil.reshape %x {shape = array<i64: 64, 784>} : tensor<64x1x28x28xf32>
    ```
  }];
  let arguments = (ins Anvil_ReshapeTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Anvil_ReshapeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Anvil_TransposeOp : Anvil_InferOp<"transpose", [Anvil_Differentiable]> {
  let summary = "permute the dimensions";
  let description = [{
    Result dimension `i` is input dimension `perm[i]`; `perm` is a
    permutation of `0 .. rank-1`.

    ```mlir
    %t = anvil.transpose %x {perm = array<i64: 1, 0>} : tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Anvil_AnyTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Anvil_FlattenOp : Anvil_InferOp<"flatten", [Anvil_Differentiable]> {
  let summary = "collapse to 2-D around `axis`";
  let description = [{
    The result is `[d0 * ... * d(axis-1), d(axis) * ... * d(n-1)]`, as ONNX
    Flatten; `axis` is in `[-rank, rank]` and defaults to 1.

    ```mlir
    %f = anvil.flatten %x : tensor<64x16x4x4xf32>
    ```
  }];
  let arguments = (ins Anvil_ReshapeTensor:$input,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Anvil_ReshapeTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Anvil_ConcatOp : Anvil_InferOp<"concat", [Anvil_Differentiable]> {
  let summary = "join tensors along `axis`";
  let description = [{
    All inputs have the same rank and element type and agree on every
    dimension except `axis`.

    ```mlir
    %c = anvil.concat %a, %b {axis = 1 : i64} : tensor<2x3xf32>, tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Anvil_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasFolder = 1;
}

def Anvil_SliceOp : Anvil_InferOp<"slice", [Anvil_Differentiable]> {
  let summary = "take a strided box out of a tensor";
  let description = [{
    Per dimension `d`, takes `start[d], start[d] + step[d], ...` while
    before `end[d]` (python's `x[start:end:step]` with normalized bounds).
    `steps` are non-zero; with a positive step `0 <= start <= end <= dim`,
    with a negative step `-1 <= end <= start < dim`.

    ```mlir
    %s = anvil.slice %x {starts = array<i64: 0, 1>, ends = array<i64: 4, 5>, steps = array<i64: 2, 1>} : tensor<4x6xf32>
    ```
  }];
  let arguments = (ins Anvil_AnyTensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def Anvil_GatherElementsOp : Anvil_InferOp<"gather_elements", [Anvil_Indexing]> {
  let summary = "pick one element along `axis` per index";
  let description = [{
    As ONNX GatherElements (torch.gather): `input` and `indices` have the
    same rank, and the result, of the indices' shape, is
    `input[i0, ..., indices[i0, ..., in], ..., in]` with the index in place
    `axis`; negative indices count from the back.

    ```mlir
    %p = anvil.gather_elements %logp, %labels {axis = 1 : i64} : tensor<8x10xf32>, tensor<8x1xi64>
    ```
  }];
  let arguments = (ins Anvil_AnyTensor:$input, Anvil_IndexTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` type($input) `,` type($indices)";
}

def Anvil_GatherOp : Anvil_InferOp<"gather", [Anvil_Differentiable,
                                               Anvil_Indexing]> {
  let summary = "pick slices along `axis` by index";
  let description = [{
    As ONNX Gather: the result is
    `input.shape[:axis] + indices.shape + input.shape[axis+1:]`; negative
    indices count from the back; an index out of range is an error at run
    time.

    ```mlir
    %e = anvil.gather %table, %ids {axis = 0 : i64} : tensor<100x16xf32>, tensor<4x8xi64>
    ```
  }];
  let arguments = (ins Anvil_AnyTensor:$input, Anvil_IndexTensor:$indices,
                   DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs Anvil_AnyTensor:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` type($input) `,` type($indices)";
  let hasFolder = 1;
}

def Anvil_SliceGradOp : Anvil_InferOp<"slice_grad"> {
  let summary = "the gradient of slice: `grad` put back in place, zeros elsewhere";
  let description = [{
    A tensor of shape `input_shape` holding zeros, except at the positions
    `anvil.slice` with these `starts`, `ends` and `steps` reads, which get
    the matching elements of `grad` (whose shape is that slice's). Autodiff
    emits it for `anvil.slice`.

    ```mlir
    %dx = anvil.slice_grad %dy {input_shape = array<i64: 4, 6>, starts = array<i64: 0, 5>, ends = array<i64: 4, 0>, steps = array<i64: 2, -2>} : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$grad, DenseI64ArrayAttr:$input_shape,
                   DenseI64ArrayAttr:$starts, DenseI64ArrayAttr:$ends,
                   DenseI64ArrayAttr:$steps);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
}

def Anvil_GatherGradOp : Anvil_InferOp<"gather_grad"> {
  let summary = "the gradient of gather: scatter-add `grad` to the indices";
  let description = [{
    The gradient of `anvil.gather` with respect to its data: zeros of the
    data's shape (`axis_size` is its size along `axis`), to which each
    slice of `grad` is added at the position its index names. Indices that
    repeat accumulate; negative ones count from the back. `grad` is
    `data.shape[:axis] + indices.shape + data.shape[axis+1:]`, as gather's
    result. Autodiff emits it for `anvil.gather`.

    ```mlir
    %dt = anvil.gather_grad %de, %ids {axis = 0 : i64, axis_size = 100 : i64} : tensor<4x8x16xf32>, tensor<4x8xi64>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$grad, Anvil_IndexTensor:$indices,
                   I64Attr:$axis, I64Attr:$axis_size);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $indices attr-dict `:` type($grad) `,` type($indices)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW)
//===----------------------------------------------------------------------===//

def Anvil_Conv2DOp : Anvil_InferOp<"conv2d", [Anvil_Differentiable]> {
  let summary = "2-D convolution, NCHW input, OIHW filter";
  let description = [{
    `input` is `[N, C, H, W]`, `weight` is `[O, C/groups, kh, kw]`, the
    optional `bias` is `[O]`. `strides` and `dilations` are `[h, w]`
    (default 1), `pads` is `[top, left, bottom, right]` (default 0), and
    both C and O are divisible by `groups`. Output size per spatial axis:
    `(in + pad_begin + pad_end - dilation * (k - 1) - 1) / stride + 1`.

    ```mlir
    %y = anvil.conv2d %x, %w, %b {pads = array<i64: 2, 2, 2, 2>} : tensor<1x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>
    ```

    With `bf16` (set by anvil-bf16) the products are computed in bf16 with
    f32 accumulation, as `anvil.matmul {bf16}`'s: input and weight rounded
    to bf16, the bias added in f32.
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$weight,
                   Optional<Anvil_FloatTensor>:$bias,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups, UnitAttr:$bf16);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)?
  }];
}

def Anvil_Conv2DGradInputOp : Anvil_InferOp<"conv2d_grad_input",
                                             [Anvil_Differentiable]> {
  let summary = "the gradient of conv2d with respect to its input";
  let description = [{
    Given the gradient of a convolution's output (`[N, O, OH, OW]`) and its
    filter, the gradient of its input, whose spatial size `input_size` (`[H,
    W]`) the output alone does not determine. The attributes are the
    convolution's. Autodiff emits it for `anvil.conv2d`; ONNX ConvTranspose
    imports as it, so it is differentiable too (its gradients are the
    convolution of the same attributes and conv2d_grad_filter).

    ```mlir
    %dx = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 28, 28>, pads = array<i64: 2, 2, 2, 2>} : tensor<64x6x28x28xf32>, tensor<6x1x5x5xf32>
    ```

    With `bf16`: grad and weight rounded to bf16, the products summed in
    f32 (see conv2d).
  }];
  let arguments = (ins Anvil_FloatTensor:$grad, Anvil_FloatTensor:$weight,
                   DenseI64ArrayAttr:$input_size,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups, UnitAttr:$bf16);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $weight attr-dict `:` type($grad) `,` type($weight)";
}

def Anvil_Conv2DGradFilterOp : Anvil_InferOp<"conv2d_grad_filter"> {
  let summary = "the gradient of conv2d with respect to its filter";
  let description = [{
    Given a convolution's input and the gradient of its output, the gradient
    of its `[O, C/groups, kh, kw]` filter (`kernel` is `[kh, kw]`). The
    attributes are the convolution's. Autodiff emits it for `anvil.conv2d`.

    ```mlir
    %dw = anvil.conv2d_grad_filter %x, %dy {kernel = array<i64: 5, 5>, pads = array<i64: 2, 2, 2, 2>} : tensor<64x1x28x28xf32>, tensor<64x6x28x28xf32>
    ```

    With `bf16`: input and grad rounded to bf16, the products summed in f32
    (see conv2d).
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$grad,
                   DenseI64ArrayAttr:$kernel,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$groups, UnitAttr:$bf16);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $grad attr-dict `:` type($input) `,` type($grad)";
}

def Anvil_MaxPool2DGradOp : Anvil_InferOp<"max_pool2d_grad"> {
  let summary = "the gradient of max_pool2d with respect to its input";
  let description = [{
    Routes each output gradient to the first maximum (in row-major window
    order, as PyTorch) of its window in `input`; cells that are the maximum
    of several windows sum their gradients. The attributes are the pooling's.
    Autodiff emits it for `anvil.max_pool2d`.

    ```mlir
    %dx = anvil.max_pool2d_grad %x, %dy {kernel = array<i64: 2, 2>} : tensor<64x6x28x28xf32>, tensor<64x6x14x14xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$grad,
                   DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                   UnitAttr:$ceil_mode);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $grad attr-dict `:` type($input) `,` type($grad)";
  let extraClassDeclaration = [{
    /// The strides, defaulting to the kernel size.
    ::llvm::SmallVector<int64_t> getStrideValues() {
      if (auto strides = getStrides())
        return ::llvm::SmallVector<int64_t>(*strides);
      return ::llvm::SmallVector<int64_t>(getKernel());
    }
  }];
}

class Anvil_Pool2DOp<string mnemonic, string what, dag extra,
                     list<Trait> traits = [],
                     Type tensor = Anvil_FloatTensor>
    : Anvil_InferOp<mnemonic, traits> {
  let summary = "2-D " # what # " pooling, NCHW";
  let description = [{
    Takes the }] # what # [{ of each `kernel` window (`[kh, kw]`) per
    channel. `strides` default to the kernel, `pads` (`[top, left, bottom,
    right]`) to 0; padded cells are skipped. With `ceil_mode` the output size
    rounds up (a window must still start inside the input or left padding).

    ```mlir
    %p = anvil.}] # mnemonic # [{ %x {kernel = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
    ```
  }];
  let arguments = !con((ins tensor:$input,
                        DenseI64ArrayAttr:$kernel,
                        OptionalAttr<DenseI64ArrayAttr>:$strides,
                        DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                        UnitAttr:$ceil_mode), extra);
  let results = (outs tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDeclaration = [{
    /// The strides, defaulting to the kernel size.
    ::llvm::SmallVector<int64_t> getStrideValues() {
      if (auto strides = getStrides())
        return ::llvm::SmallVector<int64_t>(*strides);
      return ::llvm::SmallVector<int64_t>(getKernel());
    }
  }];
}

def Anvil_MaxPool2DOp : Anvil_Pool2DOp<"max_pool2d", "maximum",
    (ins DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations),
    [Anvil_Differentiable], Anvil_MaxPoolTensor> {
  let description = [{
    Takes the maximum of each `kernel` window (`[kh, kw]`) per channel:
    of floats NaN-propagating, of 8-bit integers (`ui8`, `i8`) the integer
    maximum (anvil-hoist-quantize moves a quantize before a max pool, and
    ONNX MaxPool takes uint8 and int8). `strides` default to the kernel,
    `pads` (`[top, left, bottom, right]`) to 0; padded cells are skipped.
    With `ceil_mode` the output size rounds up (a window must still start
    inside the input or left padding).

    ```mlir
    %p = anvil.max_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
    %q = anvil.max_pool2d %u {kernel = array<i64: 2, 2>} : tensor<1x6x28x28xui8>
    ```
  }];
}
def Anvil_AvgPool2DOp : Anvil_Pool2DOp<"avg_pool2d", "average",
    (ins UnitAttr:$count_include_pad), [Anvil_Differentiable]> {
  let description = [{
    Takes the average of each `kernel` window (`[kh, kw]`) per channel.
    `strides` default to the kernel, `pads` (`[top, left, bottom, right]`)
    to 0. Padded cells count in the divisor only with `count_include_pad`.
    With `ceil_mode` the output size rounds up; cells past the padded input
    never count.

    ```mlir
    %p = anvil.avg_pool2d %x {kernel = array<i64: 2, 2>} : tensor<1x6x28x28xf32>
    ```
  }];
}

def Anvil_AvgPool2DGradOp : Anvil_InferOp<"avg_pool2d_grad"> {
  let summary = "the gradient of avg_pool2d with respect to its input";
  let description = [{
    Spreads each output gradient evenly over the input cells of its window:
    every cell gets `grad / divisor`, with the divisor the forward pooling
    used (cells inside the padded input with `count_include_pad`, cells
    inside the input otherwise); padded cells drop their share. `input_size`
    (`[H, W]`) is the pooled input's spatial size, which the output alone
    does not determine; the other attributes are the pooling's. Autodiff
    emits it for `anvil.avg_pool2d`.

    ```mlir
    %dx = anvil.avg_pool2d_grad %dy {input_size = array<i64: 28, 28>, kernel = array<i64: 2, 2>} : tensor<64x6x14x14xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$grad,
                   DenseI64ArrayAttr:$input_size, DenseI64ArrayAttr:$kernel,
                   OptionalAttr<DenseI64ArrayAttr>:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   UnitAttr:$ceil_mode, UnitAttr:$count_include_pad);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
  let extraClassDeclaration = [{
    /// The strides, defaulting to the kernel size.
    ::llvm::SmallVector<int64_t> getStrideValues() {
      if (auto strides = getStrides())
        return ::llvm::SmallVector<int64_t>(*strides);
      return ::llvm::SmallVector<int64_t>(getKernel());
    }
  }];
}

def Anvil_GlobalAvgPoolOp : Anvil_InferOp<"global_avg_pool",
                                          [Anvil_Differentiable]> {
  let summary = "average over all spatial positions, NCHW";
  let description = [{
    `[N, C, H, W]` becomes `[N, C, 1, 1]`.

    ```mlir
    %g = anvil.global_avg_pool %x : tensor<8x64x7x7xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

def Anvil_BatchNormOp : Anvil_InferOp<"batch_norm"> {
  let summary = "batch normalization, inference form";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + bias` per channel (axis 1)
    with the running statistics; `scale`, `bias`, `mean`, `var` are `[C]`.

    ```mlir
    %y = anvil.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-05 : f64} : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                   Anvil_FloatTensor:$bias, Anvil_FloatTensor:$mean,
                   Anvil_FloatTensor:$var,
                   DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $var attr-dict `:`
    type($input) `,` type($scale) `,` type($bias) `,` type($mean) `,`
    type($var)
  }];
}

def Anvil_BatchNormTrainOp : Anvil_InferOp<"batch_norm_train",
                                           [Anvil_Differentiable]> {
  let summary = "batch normalization, training form";
  let description = [{
    Normalizes with the statistics of this batch, per channel (axis 1):
    returns the output, the batch mean and the biased batch variance (both
    `[C]`), from which the caller updates its running statistics.

    ```mlir
    %y, %m, %v = anvil.batch_norm_train %x, %g, %b : tensor<8x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                   Anvil_FloatTensor:$bias,
                   DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Anvil_FloatTensor:$result,
                 Anvil_FloatTensor:$batch_mean, Anvil_FloatTensor:$batch_var);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` type($input) `,` type($scale)
    `,` type($bias)
  }];
}

def Anvil_LayerNormOp : Anvil_InferOp<"layer_norm", [Anvil_Differentiable]> {
  let summary = "layer normalization over the trailing dimensions";
  let description = [{
    Normalizes over dimensions `axis .. rank-1` (default -1), then applies
    `scale` and `bias`, whose shape is `input.shape[axis:]`.

    ```mlir
    %y = anvil.layer_norm %x, %g, %b {axis = -1 : i64} : tensor<4x10x32xf32>, tensor<32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, Anvil_FloatTensor:$scale,
                   Anvil_FloatTensor:$bias,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` type($input) `,` type($scale)
    `,` type($bias)
  }];
}

def Anvil_DropoutOp : Anvil_InferOp<"dropout", [Anvil_Differentiable]> {
  let summary = "randomly zero elements while training";
  let description = [{
    Without `training`: the identity, and a mask of all ones. With
    `training`: each element is kept with probability `1 - ratio` and
    scaled by `1 / (1 - ratio)`; the `i1` mask says which were kept (the
    backward pass reuses it). `seed` fixes the random stream.

    ```mlir
    %y, %mask = anvil.dropout %x {ratio = 0.5 : f64, training} : tensor<64x256xf32>
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input,
                   DefaultValuedAttr<F64Attr, "0.5">:$ratio, UnitAttr:$training,
                   DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Anvil_FloatTensor:$result, Anvil_MaskTensor:$mask);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

// The 8-bit quantized element types: signed (weights, symmetric) and
// unsigned (activations, with a zero point), as in ONNX.
def Anvil_QuantTensor : StaticShapeTensorOf<[I8, UI8]>;
// What dequantize reads: an 8-bit quantized tensor, or an i32 accumulator
// (a quantized bias, or the result of an integer matmul).
def Anvil_DequantInputTensor : StaticShapeTensorOf<[I8, UI8, I32]>;
def Anvil_F32Tensor : StaticShapeTensorOf<[F32]>;

def Anvil_QuantizeOp : Anvil_InferOp<"quantize"> {
  let summary = "quantize f32 to 8-bit integers (ONNX QuantizeLinear)";
  let description = [{
    `saturate(roundeven(x / scale) + zero_point)` for every element: the
    quotient rounds half to even, and the sum saturates to the range of the
    zero point's element type (`i8`: -128..127, `ui8`: 0..255), which is the
    result's element type. `scale` (f32) and `zero_point` have the same
    shape: rank 0 quantizes per tensor; rank 1 per channel, with one scale
    per index of the input's dimension `axis` (default 1; negative counts
    from the end). Scales and zero points are operands, not attributes, so
    that a computed scale (ONNX allows one) needs no special form; a
    constant one folds into the kernel like any constant. No gradient: a
    quantization-aware training step will use a straight-through estimator.

    ```mlir
    %q = anvil.quantize %x, %s, %zp : tensor<8x16xf32>, tensor<f32>, tensor<ui8>
    %w = anvil.quantize %f, %ws, %wzp {axis = 0 : i64} : tensor<16x9xf32>, tensor<16xf32>, tensor<16xi8>
    ```
  }];
  let arguments = (ins Anvil_F32Tensor:$input, Anvil_F32Tensor:$scale,
                   Anvil_QuantTensor:$zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Anvil_QuantTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:` type($input) `,`
    type($scale) `,` type($zero_point)
  }];
}

def Anvil_DequantizeOp : Anvil_InferOp<"dequantize"> {
  let summary = "dequantize integers to f32 (ONNX DequantizeLinear)";
  let description = [{
    `(q - zero_point) * scale` for every element, in f32. `zero_point` has
    the input's element type (`i8`, `ui8`, or `i32` for an accumulator) and
    the shape of `scale`: rank 0 per tensor, rank 1 per channel along
    `axis` (default 1), as in `anvil.quantize`. The difference of 8-bit
    values is exact in f32, so the product is the only rounding; an `i32`
    input (ONNX requires its zero point to be 0) also rounds when it becomes
    f32, beyond 2^24.

    ```mlir
    %x = anvil.dequantize %q, %s, %zp : tensor<8x16xui8>, tensor<f32>, tensor<ui8>
    ```
  }];
  let arguments = (ins Anvil_DequantInputTensor:$input, Anvil_F32Tensor:$scale,
                   Anvil_DequantInputTensor:$zero_point,
                   DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs Anvil_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:` type($input) `,`
    type($scale) `,` type($zero_point)
  }];
}

def Anvil_QMatmulOp : Anvil_InferOp<"qmatmul"> {
  let summary = "8-bit integer matrix product with int32 accumulation";
  let description = [{
    `sum_k (lhs[..., m, k] - lhs_zero_point) * (rhs[..., k, n] -
    rhs_zero_point[n])` in `i32` (ONNX MatMulInteger): `lhs` is `[..., M,
    K]`, `rhs` is `[K, N]` (weights shared by every batch) or `[..., K, N]`
    with the same batch dimensions. Each operand is `i8` or `ui8` (the
    activations are usually `ui8`, the weights `i8`); its zero point has its
    element type, rank 0 (or one element) for `lhs`, rank 0, one element or
    `[N]` (per output column) for `rhs`. Products and sums are exact integers
    (each product is at most 255 * 255; the sum wraps modulo 2^32 like
    ONNX's int32 accumulator, which K below 33025 never reaches), at any K.

    ```mlir
    %y = anvil.qmatmul %a, %w, %azp, %wzp : tensor<8x64xui8>, tensor<64x16xi8>, tensor<ui8>, tensor<16xi8>
    ```
  }];
  let arguments = (ins Anvil_QuantTensor:$lhs, Anvil_QuantTensor:$rhs,
                   Anvil_QuantTensor:$lhs_zero_point,
                   Anvil_QuantTensor:$rhs_zero_point);
  let results = (outs StaticShapeTensorOf<[I32]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $lhs_zero_point `,` $rhs_zero_point attr-dict `:`
    type($lhs) `,` type($rhs) `,` type($lhs_zero_point) `,`
    type($rhs_zero_point)
  }];
}

def Anvil_QConv2DOp : Anvil_InferOp<"qconv2d"> {
  let summary = "8-bit integer 2-D convolution with int32 accumulation";
  let description = [{
    `sum_{c,i,j} (input[n, c, h', w'] - input_zero_point) * (weight[o, c,
    i, j] - weight_zero_point[o])` in `i32` (ONNX ConvInteger, one group),
    NCHW input and OIHW filter as in `anvil.conv2d`, with the same
    `strides`, `pads` and `dilations`. The padding holds the input's zero
    point (a quantized 0), so it adds nothing. Each operand is `i8` or
    `ui8`; its zero point has its element type, one value for `input`, one
    value or `[O]` (per output channel) for `weight`. Products and sums are
    exact integers, as in `anvil.qmatmul`.

    ```mlir
    %y = anvil.qconv2d %x, %w, %xzp, %wzp {pads = array<i64: 1, 1, 1, 1>} : tensor<1x8x16x16xui8>, tensor<16x8x3x3xi8>, tensor<ui8>, tensor<i8>
    ```
  }];
  let arguments = (ins Anvil_QuantTensor:$input, Anvil_QuantTensor:$weight,
                   Anvil_QuantTensor:$input_zero_point,
                   Anvil_QuantTensor:$weight_zero_point,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                   DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations);
  let results = (outs StaticShapeTensorOf<[I32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $input_zero_point `,` $weight_zero_point attr-dict
    `:` type($input) `,` type($weight) `,` type($input_zero_point) `,`
    type($weight_zero_point)
  }];
}

//===----------------------------------------------------------------------===//
// Fake quantization (quantization-aware training)
//===----------------------------------------------------------------------===//

def Anvil_FakeQuantizeOp : Anvil_InferOp<"fake_quantize",
                                         [Anvil_Differentiable]> {
  let summary = "u8 quantize-dequantize in f32 by a range (QAT)";
  let description = [{
    `(min(max(roundeven(x / s) + zp, 0), 255) - zp) * s` for every element,
    in f32: what `anvil.quantize` to `ui8` and `anvil.dequantize` back give.
    `s` and `zp` come from `range` (`[lo, hi]`, f32) exactly as
    anvil-quantize derives them from a calibrated range
    (dialects/QuantParams.h): the range widened to hold 0, `s = f32((hi -
    lo) / 255)` computed in f64 (1 when not positive and finite), `zp =
    min(max(roundeven(f32(-lo) / s), 0), 255)`. So a layer trained through
    it computes what its int8 form will. The gradient is the
    straight-through estimator (`anvil.fake_quantize_grad`): `dy` where the
    quantized value was in [0, 255], 0 where it was clamped; `range` gets
    none.

    ```mlir
    %y = anvil.fake_quantize %x, %range : tensor<8x16xf32>, tensor<2xf32>
    ```
  }];
  let arguments = (ins Anvil_F32Tensor:$input, Anvil_F32Tensor:$range);
  let results = (outs Anvil_F32Tensor:$result);
  let assemblyFormat =
      "$input `,` $range attr-dict `:` type($input) `,` type($range)";
}

def Anvil_FakeQuantizeGradOp : Anvil_InferOp<"fake_quantize_grad"> {
  let summary = "the straight-through gradient of anvil.fake_quantize";
  let description = [{
    `grad` where `roundeven(x / s) + zp` (the scale and zero point of
    `range`, as in `anvil.fake_quantize`) is within [0, 255], else 0: the
    rounding passes the gradient through, the clamp stops it.

    ```mlir
    %dx = anvil.fake_quantize_grad %x, %range, %dy : tensor<8x16xf32>, tensor<2xf32>, tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Anvil_F32Tensor:$input, Anvil_F32Tensor:$range,
                   Anvil_F32Tensor:$grad);
  let results = (outs Anvil_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $range `,` $grad attr-dict `:` type($input) `,` type($range)
    `,` type($grad)
  }];
}

def Anvil_FakeQuantizeWeightsOp : Anvil_InferOp<"fake_quantize_weights",
                                                [Anvil_Differentiable]> {
  let summary = "i8 symmetric quantize-dequantize of weights in f32 (QAT)";
  let description = [{
    `min(max(roundeven(w / s), -127), 127) * s` for every element, in f32,
    with the symmetric scale `s = f32(max|w| / 127)` (computed in f64; 1 for
    all-zero weights) of the whole tensor, or with `axis` of each index of
    that dimension (a convolution's output channels, axis 0; a matmul's
    columns, axis 1): the weights anvil-quantize will store, read back. The
    gradient passes straight through (every weight is within the scale's
    range; the scale itself is not differentiated).

    ```mlir
    %wq = anvil.fake_quantize_weights %w {axis = 0 : i64} : tensor<16x8x3x3xf32>
    ```
  }];
  let arguments = (ins Anvil_F32Tensor:$input, OptionalAttr<I64Attr>:$axis);
  let results = (outs Anvil_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

class Anvil_LossOp<string mnemonic, string what, Type targetType,
                   string rule, string example, list<Trait> traits = []>
    : Anvil_InferOp<mnemonic, !listconcat([Anvil_Differentiable], traits)> {
  let summary = what;
  let description = rule # [{

    `reduction` is `mean` (default), `sum` or `none`; `mean` and `sum`
    give a scalar (rank-0) tensor, `none` the unreduced losses.

    ```mlir
    }] # example # [{
    ```
  }];
  let arguments = (ins Anvil_FloatTensor:$input, targetType:$target,
                   DefaultValuedAttr<Anvil_LossReductionAttr,
                                     "::mlir::anvil::LossReduction::Mean">:$reduction);
  let results = (outs Anvil_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $target attr-dict `:` type($input) `,` type($target)";
}

def Anvil_SoftmaxCrossEntropyOp : Anvil_LossOp<"softmax_cross_entropy",
    "cross-entropy of softmax(logits) against integer labels",
    Anvil_IndexTensor,
    "`input` holds logits `[N, C]`, `target` class indices `[N]` in `[0, C)`. "
    "Per sample: `logsumexp(x) - x[label]`, stable for large logits.",
    "%l = anvil.softmax_cross_entropy %logits, %labels : tensor<64x10xf32>, tensor<64xi64>",
    [Anvil_Indexing]>;

def Anvil_NllLossOp : Anvil_LossOp<"nll_loss",
    "negative log-likelihood of log-probabilities against integer labels",
    Anvil_IndexTensor,
    "`input` holds log-probabilities `[N, C]`, `target` class indices `[N]` "
    "in `[0, C)`. Per sample: `-x[label]`.",
    "%l = anvil.nll_loss %logp, %labels {reduction = \"sum\"} : tensor<64x10xf32>, tensor<64xi64>",
    [Anvil_Indexing]>;

def Anvil_MseLossOp : Anvil_LossOp<"mse_loss",
    "mean squared error between a prediction and a target",
    Anvil_FloatTensor,
    "`input` and `target` have the same shape; the loss of each element is "
    "`(input - target)^2` (`none` keeps the input's shape).",
    "%l = anvil.mse_loss %pred, %target : tensor<64x1xf32>, tensor<64x1xf32>">;

#endif // ANVIL_OPS_TD
