//===- DTypeTest.cpp - unit tests of the element-type table ---------------===//
//
// Every row of runtime/DType.h's table round-trips through each column that
// names it (short name, .npy descriptor, weights-file code, ONNX data type,
// MLIR element type), the file codes and ONNX numbers are the ones the
// formats define, the C type has the row's size, and a tensor of every
// dtype survives a TensorProto and a raw element round trip. TensorSpec's
// text and size are checked too.
//
//===----------------------------------------------------------------------===//

#include "runtime/DType.h"
#include "compiler/Onnx/TensorProto.h"
#include "dialects/DTypes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <iterator>
#include <set>
#include <string>

using namespace anvil;

namespace {

TEST(DTypeTest, EveryColumnRoundTrips) {
  mlir::MLIRContext context;
  for (const DTypeInfo &row : kDTypes) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(&dtypeInfo(row.dtype), &row);
    EXPECT_EQ(dtypeFromName(row.name), row.dtype);
    EXPECT_EQ(dtypeFromNpy(row.npyDescr), row.dtype);
    EXPECT_EQ(dtypeFromCheckpointCode(row.checkpointCode), row.dtype);
    EXPECT_EQ(dtypeFromOnnx(row.onnxType), row.dtype);
    EXPECT_EQ(mlir::anvil::dtypeOfOnnx(mlir::anvil::onnxOfDtype(row.dtype)),
              row.dtype);
    mlir::Type element = mlir::anvil::mlirTypeOf(row.dtype, context);
    if (row.mlirBits == 0) {
      EXPECT_FALSE(element);
      continue;
    }
    ASSERT_TRUE(element);
    EXPECT_EQ(mlir::isa<mlir::FloatType>(element), row.isFloat);
    EXPECT_EQ(element.getIntOrFloatBitWidth(), row.mlirBits);
    EXPECT_EQ(mlir::anvil::dtypeOf(element), row.dtype);
    EXPECT_EQ(mlir::anvil::onnxOfElementType(element), row.onnxType);
  }
}

TEST(DTypeTest, UnknownSpellingsHaveNoDType) {
  EXPECT_FALSE(dtypeFromName("f16"));
  EXPECT_FALSE(dtypeFromNpy("<f2"));
  EXPECT_FALSE(dtypeFromNpy(">f4")); // big-endian
  EXPECT_FALSE(dtypeFromCheckpointCode(7));
  EXPECT_FALSE(dtypeFromOnnx(onnx::TensorProto::FLOAT16));
  mlir::MLIRContext context;
  EXPECT_FALSE(mlir::anvil::dtypeOf(mlir::Float16Type::get(&context)));
  // uint8 is MLIR's ui8 (the quantization ops' type); explicitly signed
  // integers are nothing of the table.
  EXPECT_EQ(mlir::anvil::dtypeOf(mlir::IntegerType::get(
                &context, 8, mlir::IntegerType::Unsigned)),
            DType::U8);
  EXPECT_FALSE(mlir::anvil::dtypeOf(
      mlir::IntegerType::get(&context, 8, mlir::IntegerType::Signed)));
}

TEST(DTypeTest, OneByteNpyDescriptorsAcceptEitherByteOrderMark) {
  EXPECT_EQ(dtypeFromNpy("|b1"), DType::Bool);
  EXPECT_EQ(dtypeFromNpy("<b1"), DType::Bool);
  EXPECT_EQ(dtypeFromNpy("<u1"), DType::U8);
  EXPECT_EQ(dtypeFromNpy("|i1"), DType::I8);
}

// The codes are part of the weights-file format (Weights.h) and the ONNX
// numbers part of onnx.proto: the table must say exactly these.
TEST(DTypeTest, FileCodesAreTheFormats) {
  struct Expected {
    DType dtype;
    uint8_t checkpointCode;
    int onnxType;
    const char *npyDescr;
  };
  const Expected expected[] = {
      {DType::F32, 0, onnx::TensorProto::FLOAT, "<f4"},
      {DType::F64, 1, onnx::TensorProto::DOUBLE, "<f8"},
      {DType::I64, 2, onnx::TensorProto::INT64, "<i8"},
      {DType::I32, 3, onnx::TensorProto::INT32, "<i4"},
      {DType::I8, 4, onnx::TensorProto::INT8, "|i1"},
      {DType::U8, 5, onnx::TensorProto::UINT8, "|u1"},
      {DType::Bool, 6, onnx::TensorProto::BOOL, "|b1"},
  };
  ASSERT_EQ(std::size(expected), std::size(kDTypes));
  for (const Expected &e : expected) {
    const DTypeInfo &row = dtypeInfo(e.dtype);
    SCOPED_TRACE(row.name);
    EXPECT_EQ(row.checkpointCode, e.checkpointCode);
    EXPECT_EQ(row.onnxType, e.onnxType);
    EXPECT_STREQ(row.npyDescr, e.npyDescr);
  }
}

TEST(DTypeTest, NamesAndCodesAreUnique) {
  std::set<std::string> names, descrs;
  std::set<int> codes, onnxTypes;
  for (const DTypeInfo &row : kDTypes) {
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_TRUE(descrs.insert(row.npyDescr).second) << row.name;
    EXPECT_TRUE(codes.insert(row.checkpointCode).second) << row.name;
    EXPECT_TRUE(onnxTypes.insert(row.onnxType).second) << row.name;
  }
}

TEST(DTypeTest, CTypeHasTheRowsSize) {
  for (const DTypeInfo &row : kDTypes) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(visitDType(row.dtype, [](auto t) { return sizeof(t); }),
              row.size);
  }
}

TEST(DTypeTest, ElementsRoundTripThroughTheirBytes) {
  for (const DTypeInfo &row : kDTypes) {
    SCOPED_TRACE(row.name);
    double value = row.isFloat ? -2.5 : row.dtype == DType::Bool ? 1 : 7;
    char bytes[16] = {};
    storeElement(row.dtype, bytes, 1, value);
    EXPECT_EQ(loadElement(row.dtype, bytes, 1), value);
    EXPECT_EQ(loadElement(row.dtype, bytes, 0), 0.0);
  }
  // A C cast's rounding: toward zero, a bool is "not zero".
  char bytes[8];
  storeElement(DType::I32, bytes, 0, -3.75);
  EXPECT_EQ(loadElement(DType::I32, bytes, 0), -3.0);
  storeElement(DType::Bool, bytes, 0, 0.5);
  EXPECT_EQ(loadElement(DType::Bool, bytes, 0), 1.0);
  storeElement(DType::F32, bytes, 0, 0.1);
  EXPECT_EQ(loadElement(DType::F32, bytes, 0), static_cast<double>(0.1f));
  bytes[0] = 2; // a bool byte other than 0 or 1 reads as true
  EXPECT_EQ(loadElement(DType::Bool, bytes, 0), 1.0);
}

TEST(DTypeTest, TensorProtoRoundTripsEveryDType) {
  for (const DTypeInfo &row : kDTypes) {
    SCOPED_TRACE(row.name);
    NpyArray array;
    array.dtype = row.dtype;
    array.shape = {2, 3};
    array.bytes.resize(6 * row.size);
    for (int64_t i = 0; i < 6; ++i)
      storeElement(row.dtype, array.bytes.data(), i, i % 2);
    onnx::TensorProto proto;
    mlir::anvil::tensorToProto(array, proto);
    EXPECT_EQ(proto.data_type(), row.onnxType);
    NpyArray back = mlir::anvil::tensorFromProto(proto, "test");
    EXPECT_EQ(back.dtype, array.dtype);
    EXPECT_EQ(back.shape, array.shape);
    EXPECT_EQ(back.bytes, array.bytes);
  }
}

TEST(TensorSpecTest, TextAndSize) {
  TensorSpec spec{"fc1.weight", DType::F32, {784, 256}};
  EXPECT_EQ(spec.typeText(), "f32[784,256]");
  EXPECT_EQ(spec.numElements(), 784 * 256);
  EXPECT_EQ(spec.byteSize(), 784 * 256 * 4);
  EXPECT_EQ((TensorSpec{"", DType::I64, {}}).typeText(), "i64[]");
  EXPECT_EQ((TensorSpec{"", DType::Bool, {3}}).byteSize(), 3);
  EXPECT_EQ((TensorSpec{"", DType::F64, {int64_t(1) << 62}}).byteSize(), -1);
  EXPECT_TRUE(spec.sameType({"other", DType::F32, {784, 256}}));
  EXPECT_FALSE(spec.sameType({"fc1.weight", DType::F64, {784, 256}}));
}

TEST(TensorSpecTest, SpecOfAStaticTensorType) {
  mlir::MLIRContext context;
  auto type =
      mlir::RankedTensorType::get({64, 10}, mlir::Float32Type::get(&context));
  std::optional<TensorSpec> spec = mlir::anvil::specOf(type, "logits");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->name, "logits");
  EXPECT_EQ(spec->typeText(), "f32[64,10]");
  EXPECT_FALSE(mlir::anvil::specOf(mlir::RankedTensorType::get(
      {mlir::ShapedType::kDynamic}, mlir::Float32Type::get(&context))));
  EXPECT_FALSE(mlir::anvil::specOf(mlir::Float32Type::get(&context)));
}

} // namespace
