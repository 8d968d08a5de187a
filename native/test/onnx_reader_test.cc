// The ONNX reader on valid bytes, on every truncation of a small model and on
// random corruption: it must give a model or a Status, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "maas/engine.h"
#include "onnx/model.h"
#include "test_models.h"

namespace maas {
namespace {

// y = Relu(x + w), x: float32 [batch, 3], w: initializer [3] in raw_data.
// Also carries typed initializers to exercise every typed field.
std::string SmallModel() {
  Proto add;
  add.Bytes(1, "x").Bytes(1, "w").Bytes(2, "sum").Bytes(3, "add0").Bytes(4, "Add");
  Proto relu;
  relu.Bytes(1, "sum").Bytes(2, "y").Bytes(3, "relu0").Bytes(4, "Relu");
  Proto w;
  w.PackedVarints(1, {3}).Varint(2, 1).Bytes(8, "w").Bytes(9, FloatBytes({1.0f, -2.0f, 0.5f}));
  Proto shape_i64;  // int64_data, packed
  shape_i64.PackedVarints(1, {2}).Varint(2, 7).PackedVarints(7, {-1, 3}).Bytes(8, "shape_i64");
  Proto floats_unpacked;  // float_data, one field per element
  floats_unpacked.Varint(1, 2).Varint(2, 1).Fixed32(4, 1.5f).Fixed32(4, -2.5f).Bytes(8, "floats_unpacked");
  Proto narrow;  // int8 in int32_data, including a negative value
  narrow.PackedVarints(1, {2}).Varint(2, 3).PackedVarints(5, {-5, 7}).Bytes(8, "narrow");
  Proto flags;  // bool in int32_data
  flags.PackedVarints(1, {3}).Varint(2, 9).PackedVarints(5, {1, 0, 1}).Bytes(8, "flags");
  Proto half;  // float16 bits in int32_data
  half.PackedVarints(1, {1}).Varint(2, 10).PackedVarints(5, {0x3c00}).Bytes(8, "half");
  Proto graph;
  graph.Message(1, add).Message(1, relu).Bytes(2, "g");
  for (const Proto* t : {&w, &shape_i64, &floats_unpacked, &narrow, &flags, &half}) graph.Message(5, *t);
  graph.Message(11, TensorValueInfo("x", 1, {-1, 3}));
  graph.Message(11, TensorValueInfo("w", 1, {3}));  // also an initializer: not a model input
  graph.Message(12, TensorValueInfo("y", 1, {-1, 3}));
  Proto opset;
  opset.Bytes(1, "").Varint(2, 13);
  Proto model;
  model.Varint(1, 8).Bytes(2, "test").Message(7, graph).Message(8, opset);
  return model.bytes();
}

TEST(OnnxReader, ReadsASmallModel) {
  std::string bytes = SmallModel();
  onnx::ModelDecl model;
  Status status = onnx::ParseModel(Data(bytes), bytes.size(), &model);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(model.ir_version, 8);
  EXPECT_EQ(model.opset, 13);
  ASSERT_EQ(model.nodes.size(), 2u);
  EXPECT_EQ(model.nodes[0].op_type, "Add");
  EXPECT_EQ(model.nodes[0].inputs, (std::vector<std::string>{"x", "w"}));
  EXPECT_EQ(model.nodes[1].outputs, (std::vector<std::string>{"y"}));
  ASSERT_EQ(model.inputs.size(), 2u);
  EXPECT_EQ(model.inputs[0].shape, (Shape{kUnknownDim, 3}));
  EXPECT_TRUE(model.inputs[0].rank_known);
  ASSERT_EQ(model.initializers.size(), 6u);

  const Tensor& w = model.initializers[0].tensor;
  ASSERT_EQ(w.dtype, DType::kFloat32);
  EXPECT_EQ(w.data<float>()[1], -2.0f);
  const Tensor& shape_i64 = model.initializers[1].tensor;
  ASSERT_EQ(shape_i64.dtype, DType::kInt64);
  EXPECT_EQ(shape_i64.data<int64_t>()[0], -1);
  EXPECT_EQ(shape_i64.data<int64_t>()[1], 3);
  const Tensor& floats = model.initializers[2].tensor;
  EXPECT_EQ(floats.data<float>()[1], -2.5f);
  const Tensor& narrow = model.initializers[3].tensor;
  ASSERT_EQ(narrow.dtype, DType::kInt8);
  EXPECT_EQ(narrow.data<int8_t>()[0], -5);
  const Tensor& flags = model.initializers[4].tensor;
  EXPECT_EQ(flags.data<uint8_t>()[2], 1);
  const Tensor& half = model.initializers[5].tensor;
  EXPECT_EQ(half.data<uint16_t>()[0], 0x3c00);
}

TEST(OnnxReader, RawDataOfTheWrongSizeIsInvalid) {
  Proto t;
  t.PackedVarints(1, {4}).Varint(2, 1).Bytes(8, "t").Bytes(9, FloatBytes({1.0f}));
  std::string name;
  Tensor tensor;
  Status status = onnx::DecodeTensorProto(Data(t.bytes()), t.bytes().size(), &name, &tensor);
  EXPECT_EQ(status.code(), StatusCode::kInvalidModel);
}

TEST(OnnxReader, HugeDimsWithoutDataDoNotAllocate) {
  Proto t;
  t.PackedVarints(1, {1 << 30, 1 << 30}).Varint(2, 1).Bytes(8, "t");
  std::string name;
  Tensor tensor;
  Status status = onnx::DecodeTensorProto(Data(t.bytes()), t.bytes().size(), &name, &tensor);
  EXPECT_EQ(status.code(), StatusCode::kInvalidModel);
}

TEST(OnnxReader, ExternalDataIsUnsupported) {
  Proto t;
  t.PackedVarints(1, {1}).Varint(2, 1).Bytes(8, "t").Varint(14, 1);
  std::string name;
  Tensor tensor;
  EXPECT_EQ(onnx::DecodeTensorProto(Data(t.bytes()), t.bytes().size(), &name, &tensor).code(),
            StatusCode::kUnsupported);
}

TEST(OnnxReader, EmptyAndGarbageBytesAreInvalid) {
  onnx::ModelDecl model;
  EXPECT_EQ(onnx::ParseModel(nullptr, 0, &model).code(), StatusCode::kInvalidModel);
  std::string garbage(64, '\xff');
  EXPECT_EQ(onnx::ParseModel(Data(garbage), garbage.size(), &model).code(), StatusCode::kInvalidModel);
}

TEST(SessionLoad, RunsTheSmallModel) {
  std::string bytes = SmallModel();
  std::unique_ptr<Session> session;
  Status status = Session::Load(Data(bytes), bytes.size(), SessionOptions{2}, &session);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(session->inputs().size(), 1u);
  EXPECT_EQ(session->inputs()[0].name, "x");
  EXPECT_EQ(session->outputs()[0].shape, (Shape{kUnknownDim, 3}));

  std::vector<float> x = {1, 1, 1, -3, 0, 2};
  NamedTensor feed{"x", Tensor{DType::kFloat32, {2, 3}, HostBuffer::Borrow(x.data(), x.size() * 4)}};
  std::vector<NamedTensor> outputs;
  status = session->Run({feed}, &outputs);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].tensor.shape, (Shape{2, 3}));
  const float* y = outputs[0].tensor.data<float>();
  std::vector<float> expected = {2, 0, 1.5f, 0, 0, 2.5f};  // relu(x + [1, -2, 0.5])
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(y[i], expected[i]) << i;

  NamedTensor wrong_rank{"x", Tensor{DType::kFloat32, {6}, HostBuffer::Borrow(x.data(), x.size() * 4)}};
  status = session->Run({wrong_rank}, &outputs);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'x'"), std::string::npos) << status.message();
}

// y = Identity(x), x: float32 [batch, 3]: y is a view of the caller's feed.
std::string IdentityModel() {
  Proto identity;
  identity.Bytes(1, "x").Bytes(2, "y").Bytes(3, "id0").Bytes(4, "Identity");
  Proto graph;
  graph.Message(1, identity).Bytes(2, "g");
  graph.Message(11, TensorValueInfo("x", 1, {-1, 3}));
  graph.Message(12, TensorValueInfo("y", 1, {-1, 3}));
  Proto opset;
  opset.Bytes(1, "").Varint(2, 13);
  Proto model;
  model.Varint(1, 8).Bytes(2, "test").Message(7, graph).Message(8, opset);
  return model.bytes();
}

// SessionOptions::max_tensor_bytes: a kernel's output is refused before it
// is allocated, and so is a view of a feed (Identity) before it is copied out.
TEST(SessionRun, TensorsAboveTheLimitAreRefused) {
  std::vector<float> x = {1, 1, 1, -3, 0, 2};
  NamedTensor feed{"x", Tensor{DType::kFloat32, {2, 3}, HostBuffer::Borrow(x.data(), x.size() * 4)}};
  SessionOptions limited;
  limited.intra_op_threads = 1;
  limited.max_tensor_bytes = 16;  // the 24-byte [2, 3] results do not fit
  for (const std::string& bytes : {SmallModel(), IdentityModel()}) {
    std::unique_ptr<Session> session;
    ASSERT_TRUE(Session::Load(Data(bytes), bytes.size(), limited, &session).ok());
    std::vector<NamedTensor> outputs;
    Status status = session->Run({feed}, &outputs);
    EXPECT_EQ(status.code(), StatusCode::kOutputTooLarge) << status.message();
    EXPECT_NE(status.message().find("[2,3]"), std::string::npos) << status.message();
    NamedTensor one_row{"x", Tensor{DType::kFloat32, {1, 3}, HostBuffer::Borrow(x.data(), 3 * 4)}};
    EXPECT_TRUE(session->Run({one_row}, &outputs).ok());  // 12 bytes fit
  }
}

// Every strict prefix of a valid model must load or fail cleanly.
TEST(SessionLoad, EveryTruncationFailsCleanly) {
  std::string bytes = SmallModel();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::unique_ptr<Session> session;
    Status status = Session::Load(Data(bytes), n, SessionOptions{1}, &session);
    if (!status.ok()) {
      EXPECT_TRUE(status.code() == StatusCode::kInvalidModel || status.code() == StatusCode::kUnsupported)
          << n << ": " << status.message();
    }
  }
}

TEST(SessionLoad, RandomByteFlipsNeverCrash) {
  std::string original = SmallModel();
  std::mt19937 rng(1234);
  int loaded = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = original;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    std::unique_ptr<Session> session;
    Status status = Session::Load(Data(bytes), bytes.size(), SessionOptions{1}, &session);
    if (status.ok())
      ++loaded;
    else
      EXPECT_NE(status.code(), StatusCode::kOk);
  }
  SUCCEED() << loaded << " corrupted models still loaded";
}

}  // namespace
}  // namespace maas
