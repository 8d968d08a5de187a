// The 16-bit floats: conversions checked exhaustively (every float16) or
// against an independent rounding written with double arithmetic, the
// dtype tables, the reader, and the Cast kernel on them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "cpu/half.h"
#include "onnx/model.h"
#include "op_test_util.h"
#include "test_session.h"

namespace maas {
namespace {

// Rounds x to a format with `mantissa_bits` stored bits, minimum normal
// exponent `min_exponent` and largest finite `max_finite`, ties to even —
// with double arithmetic, as a reference independent of the bit tricks.
double RoundToFormat(double x, int mantissa_bits, int min_exponent, double max_finite) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  const double magnitude = std::fabs(x);
  const int exponent = std::max(std::ilogb(magnitude), min_exponent);
  const double ulp = std::ldexp(1.0, exponent - mantissa_bits);
  double rounded = std::nearbyint(magnitude / ulp) * ulp;  // the default mode rounds ties to even
  // Past the largest finite by half an ulp or more: infinity.
  const double top_ulp = std::ldexp(1.0, std::ilogb(max_finite) - mantissa_bits);
  if (rounded > max_finite || magnitude >= max_finite + top_ulp / 2) rounded = INFINITY;
  return std::copysign(rounded, x);
}

double HalfReference(float x) { return RoundToFormat(x, 10, -14, 65504.0); }
double BFloat16Reference(float x) { return RoundToFormat(x, 7, -126, static_cast<double>(FloatFromBits(0x7f7f0000u))); }

void ExpectSameFloat(double want, float got, float input) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << input;
    return;
  }
  EXPECT_EQ(static_cast<float>(want), got) << "input " << input << " (bits " << std::hex << FloatBits(input) << ")";
  EXPECT_EQ(std::signbit(want), std::signbit(got)) << input;
}

std::vector<float> EdgeFloats() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          65504.0f,
                          65519.99f,
                          65520.0f,
                          70000.0f,
                          1e-8f,
                          -1e-8f,
                          std::ldexp(1.0f, -14),
                          std::ldexp(1.0f, -24),
                          std::ldexp(1.0f, -25),
                          3 * std::ldexp(1.0f, -25),
                          1.0f + std::ldexp(1.0f, -11),
                          1.0f + 3 * std::ldexp(1.0f, -11),
                          1.0f + std::ldexp(1.0f, -8),
                          1.0f + 3 * std::ldexp(1.0f, -8),
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::denorm_min(),
                          INFINITY,
                          -INFINITY,
                          NAN,
                          0.1f,
                          1.0f / 3};
  return v;
}

TEST(Half, EveryFloat16SurvivesTheRoundTrip) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = HalfBitsToFloat(static_cast<uint16_t>(h));
    const uint16_t back = FloatToHalfBits(f);
    if (std::isnan(f)) {
      EXPECT_EQ(back & 0x7e00u, 0x7e00u) << h;  // still a (quiet) NaN
      EXPECT_EQ(back & 0x8000u, h & 0x8000u);
    } else {
      EXPECT_EQ(back, h) << std::hex << h;
    }
  }
  EXPECT_EQ(HalfBitsToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(HalfBitsToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfBitsToFloat(0xfc00), -INFINITY);
}

TEST(Half, FloatToFloat16RoundsToNearestEven) {
  for (float x : EdgeFloats()) ExpectSameFloat(HalfReference(x), HalfBitsToFloat(FloatToHalfBits(x)), x);
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Random bit patterns cover every exponent, the subnormal range and NaNs;
    // a second set concentrates on float16's range.
    const float any = FloatFromBits(static_cast<uint32_t>(rng()));
    const float near = std::ldexp(static_cast<float>(rng() % 0x1000000) / 0x1000000, static_cast<int>(rng() % 44) - 27);
    for (float x : {any, near, -near}) ExpectSameFloat(HalfReference(x), HalfBitsToFloat(FloatToHalfBits(x)), x);
  }
}

TEST(Half, FloatToBFloat16RoundsToNearestEven) {
  for (float x : EdgeFloats()) ExpectSameFloat(BFloat16Reference(x), BFloat16BitsToFloat(FloatToBFloat16Bits(x)), x);
  std::mt19937 rng(8);
  for (int i = 0; i < 200000; ++i) {
    const float x = FloatFromBits(static_cast<uint32_t>(rng()));
    ExpectSameFloat(BFloat16Reference(x), BFloat16BitsToFloat(FloatToBFloat16Bits(x)), x);
  }
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const float f = BFloat16BitsToFloat(static_cast<uint16_t>(b));
    if (!std::isnan(f)) {
      EXPECT_EQ(FloatToBFloat16Bits(f), b);
    }
  }
}

TEST(Half, DTypeTables) {
  EXPECT_STREQ(DTypeName(DType::kBFloat16), "bfloat16");
  EXPECT_EQ(DTypeFromName("bfloat16"), DType::kBFloat16);
  EXPECT_EQ(DTypeSizeBytes(DType::kBFloat16), 2u);
  EXPECT_EQ(static_cast<int>(DType::kBFloat16), 16);  // ONNX TensorProto.BFLOAT16
  EXPECT_TRUE(onnx::IsSupportedDType(DType::kBFloat16));
  EXPECT_EQ(onnx::OnnxDTypeName(static_cast<DType>(17)), "float8e4m3fn");  // still named, not held
}

// Cast between the 16-bit floats and everything else, on the kernel.
TEST(Half, CastKernelConvertsBothWays) {
  Attributes to;
  const std::vector<float> values = {0.1f, -2.5f, 65520.0f, 1e-7f, 3.0f};
  Tensor x = F32({5}, values);
  for (DType half : {DType::kFloat16, DType::kBFloat16}) {
    to.values["to"] = IntAttr(static_cast<int64_t>(half));
    Result narrowed = RunOp("Cast", {&x}, to);
    ASSERT_TRUE(narrowed.status.ok()) << narrowed.status.message();
    ASSERT_EQ(narrowed.out().dtype, half);
    to.values["to"] = IntAttr(static_cast<int64_t>(DType::kFloat32));
    Result widened = RunOp("Cast", {&narrowed.out()}, to);
    ASSERT_TRUE(widened.status.ok());
    for (size_t i = 0; i < values.size(); ++i) {
      const double want = half == DType::kFloat16 ? HalfReference(values[i]) : BFloat16Reference(values[i]);
      EXPECT_EQ(Values<float>(widened.out())[i], static_cast<float>(want)) << i;
    }
    to.values["to"] = IntAttr(static_cast<int64_t>(DType::kInt32));
    EXPECT_EQ(Values<int32_t>(RunOp("Cast", {&narrowed.out()}, to).out())[1], -2);
  }
  // float16 → int8 saturates like float → int8; → bool is x != 0.
  Tensor h = Make<uint16_t>(DType::kFloat16, {3}, {FloatToHalfBits(1000.0f), FloatToHalfBits(-0.0f), 0x7e00});
  to.values["to"] = IntAttr(static_cast<int64_t>(DType::kInt8));
  EXPECT_EQ(Values<int8_t>(RunOp("Cast", {&h}, to).out()), (std::vector<int8_t>{127, 0, 0}));
  to.values["to"] = IntAttr(static_cast<int64_t>(DType::kBool));
  EXPECT_EQ(Values<uint8_t>(RunOp("Cast", {&h}, to).out()), (std::vector<uint8_t>{1, 0, 1}));
}

// A bfloat16 model end to end: initializer in raw_data and in int32_data,
// input and output of the session.
TEST(Half, BFloat16ModelsLoadAndRun) {
  constexpr int kOnnxBFloat16 = 16;
  Proto raw, typed;
  const uint16_t a = FloatToBFloat16Bits(1.5f), b = FloatToBFloat16Bits(-2.0f);
  std::string raw_bytes(4, '\0');
  std::memcpy(&raw_bytes[0], &a, 2);
  std::memcpy(&raw_bytes[2], &b, 2);
  raw.PackedVarints(1, {2}).Varint(2, kOnnxBFloat16).Bytes(8, "w_raw").Bytes(9, raw_bytes);
  typed.PackedVarints(1, {2}).Varint(2, kOnnxBFloat16).Bytes(8, "w_typed").PackedVarints(5, {a, b});
  // y = (x + w_raw) * w_typed
  const std::string bytes = ModelBuilder()
                                .Initializer(raw)
                                .Initializer(typed)
                                .Input("x", kOnnxBFloat16, {2})
                                .Node("Add", {"x", "w_raw"}, {"s"})
                                .Node("Mul", {"s", "w_typed"}, {"y"})
                                .Output("y", kOnnxBFloat16, {2})
                                .Bytes();
  auto session = LoadSession(bytes);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->inputs()[0].dtype, DType::kBFloat16);
  uint16_t in[2] = {FloatToBFloat16Bits(0.5f), FloatToBFloat16Bits(3.0f)};
  std::vector<NamedTensor> outputs;
  Status status = session->Run({{"x", Tensor{DType::kBFloat16, {2}, Buffer::Borrow(in, sizeof in)}}}, &outputs);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(outputs[0].tensor.dtype, DType::kBFloat16);
  EXPECT_EQ(BFloat16BitsToFloat(outputs[0].tensor.data<uint16_t>()[0]), 3.0f);   // (0.5 + 1.5) * 1.5
  EXPECT_EQ(BFloat16BitsToFloat(outputs[0].tensor.data<uint16_t>()[1]), -2.0f);  // (3 - 2) * -2
}

}  // namespace
}  // namespace maas
