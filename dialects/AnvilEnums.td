//===- AnvilEnums.td - enumerated attributes of anvil ops --*- tablegen -*-===//
//
// The string attributes whose value is one of a fixed set: a compare's
// predicate, a loss's reduction and a param's initializer. Each is a C++ enum
// (AnvilEnums.h.inc: symbolize*/stringify*) and an attribute constraint. The
// attribute is stored as the case's string ("eq", "mean", "zeros"), so .mlir
// text reads and prints exactly as it did when they were plain strings; the
// verifier rejects any other string with a message that lists the cases, and
// the op getters return the enum.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_ENUMS_TD
#define ANVIL_ENUMS_TD

include "mlir/IR/EnumAttr.td"

// The C++ enum only (no integer attribute class: the attribute is a string).
class Anvil_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::anvil";
  let genSpecializedAttr = 0;
}

// A string attribute that must spell a case of `enum`; its getter returns
// the enum, its builder takes one.
class Anvil_EnumAttr<Anvil_Enum enum>
    : Attr<And<[StrAttr.predicate,
                CPred<"::mlir::anvil::symbolize" # enum.className #
                      "(::llvm::cast<::mlir::StringAttr>($_self).getValue())"
                      ".has_value()">]>,
           enum.summary # ": one of " #
           !interleave(!foreach(c, enum.enumerants, "\"" # c.str # "\""),
                       ", ")> {
  let storageType = "::mlir::StringAttr";
  let returnType = "::mlir::anvil::" # enum.className;
  let convertFromStorage =
      "*::mlir::anvil::symbolize" # enum.className # "($_self.getValue())";
  let constBuilderCall = "$_builder.getStringAttr(::mlir::anvil::stringify" #
                         enum.className # "($0))";
  let valueType = NoneType;
}

def Anvil_ComparePredicate : Anvil_Enum<"ComparePredicate",
    "comparison predicate", [
  I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
  I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
  I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]>;
def Anvil_ComparePredicateAttr : Anvil_EnumAttr<Anvil_ComparePredicate>;

def Anvil_LossReduction : Anvil_Enum<"LossReduction", "loss reduction", [
  I32EnumAttrCase<"Mean", 0, "mean">, I32EnumAttrCase<"Sum", 1, "sum">,
  I32EnumAttrCase<"None", 2, "none">]>;
def Anvil_LossReductionAttr : Anvil_EnumAttr<Anvil_LossReduction>;

def Anvil_Initializer : Anvil_Enum<"Initializer", "parameter initializer", [
  I32EnumAttrCase<"Zeros", 0, "zeros">,
  I32EnumAttrCase<"Ones", 1, "ones">,
  I32EnumAttrCase<"Uniform", 2, "uniform">,
  I32EnumAttrCase<"Normal", 3, "normal">,
  I32EnumAttrCase<"XavierUniform", 4, "xavier_uniform">,
  I32EnumAttrCase<"XavierNormal", 5, "xavier_normal">,
  I32EnumAttrCase<"KaimingUniform", 6, "kaiming_uniform">,
  I32EnumAttrCase<"KaimingNormal", 7, "kaiming_normal">,
  I32EnumAttrCase<"Dense", 8, "dense">]>;
def Anvil_InitializerAttr : Anvil_EnumAttr<Anvil_Initializer>;

#endif // ANVIL_ENUMS_TD
