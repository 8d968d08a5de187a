#include "fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "maas/engine.h"
#include "onnx/model.h"

namespace maas {
namespace fuzz {

namespace {

[[noreturn]] void ContractViolation(const char* what) {
  std::fprintf(stderr, "engine contract broken: %s\n", what);
  std::abort();
}

// Small values, the same on every run of one input: -8..8 for signed types,
// quarters of that for floating ones, 0..16 for unsigned, 0/1 for bool, and
// +-1.0 or 0 for float16 (as bits).
int64_t Pattern(int64_t i) { return i * 37 % 17; }

// The value of element i for one kind of element type.
template <typename T>
T SignedValue(int64_t i) {
  return static_cast<T>(Pattern(i) - 8);
}
template <typename T>
T FloatValue(int64_t i) {
  return static_cast<T>(static_cast<double>(Pattern(i) - 8) * 0.25);
}
template <typename T>
T UnsignedValue(int64_t i) {
  return static_cast<T>(Pattern(i));
}
uint8_t BoolValue(int64_t i) { return static_cast<uint8_t>(Pattern(i) & 1); }
uint16_t HalfValue(int64_t i) {
  constexpr uint16_t kHalfBits[3] = {0x3c00, 0x0000, 0xbc00};  // 1.0, 0.0, -1.0
  return kHalfBits[Pattern(i) % 3];
}
uint16_t BFloat16Value(int64_t i) {
  constexpr uint16_t kBFloat16Bits[3] = {0x3f80, 0x0000, 0xbf80};  // 1.0, 0.0, -1.0
  return kBFloat16Bits[Pattern(i) % 3];
}

template <typename T>
bool Fill(void* raw, int64_t count, T (*value_of)(int64_t)) {
  T* out = static_cast<T*>(raw);
  for (int64_t i = 0; i < count; ++i) out[i] = value_of(i);
  return true;
}

bool FillFeed(Tensor* tensor) {
  const int64_t count = tensor->num_elements();
  void* raw = tensor->raw();
  if (count > 0 && raw == nullptr) return false;
  switch (tensor->dtype) {
    case DType::kFloat32: return Fill(raw, count, FloatValue<float>);
    case DType::kFloat64: return Fill(raw, count, FloatValue<double>);
    case DType::kInt8: return Fill(raw, count, SignedValue<int8_t>);
    case DType::kInt16: return Fill(raw, count, SignedValue<int16_t>);
    case DType::kInt32: return Fill(raw, count, SignedValue<int32_t>);
    case DType::kInt64: return Fill(raw, count, SignedValue<int64_t>);
    case DType::kUint8: return Fill(raw, count, UnsignedValue<uint8_t>);
    case DType::kUint16: return Fill(raw, count, UnsignedValue<uint16_t>);
    case DType::kUint32: return Fill(raw, count, UnsignedValue<uint32_t>);
    case DType::kUint64: return Fill(raw, count, UnsignedValue<uint64_t>);
    case DType::kBool: return Fill(raw, count, BoolValue);
    case DType::kFloat16: return Fill(raw, count, HalfValue);
    case DType::kBFloat16: return Fill(raw, count, BFloat16Value);
    case DType::kString:
    case DType::kUndefined: return false;
  }
  return false;
}

}  // namespace

void ReadModel(const uint8_t* data, size_t size_bytes) {
  onnx::ModelDecl model;
  (void)onnx::ParseModel(data, size_bytes, &model);
}

void LoadAndRun(const uint8_t* data, size_t size_bytes) {
  SessionOptions options;
  options.intra_op_threads = 1;  // the fuzzer's process stays single-threaded
  std::unique_ptr<Session> session;
  if (!Session::Load(data, size_bytes, options, &session).ok()) return;
  if (!session) ContractViolation("Load returned Ok without a session");

  std::vector<NamedTensor> feeds;
  for (const TensorMetadata& input : session->inputs()) {
    Shape shape = input.rank_known ? input.shape : Shape{2};
    for (int64_t& d : shape)
      if (d == kUnknownDim) d = 2;
    const int64_t count = NumElements(shape);
    if (count < 0 || count > kMaxFeedElements) return;
    NamedTensor feed{input.name, MakeTensor(input.dtype, shape)};
    if (!FillFeed(&feed.tensor)) return;
    feeds.push_back(std::move(feed));
  }

  std::vector<NamedTensor> outputs;
  if (!session->Run(feeds, &outputs).ok()) return;
  const std::vector<TensorMetadata>& declared = session->outputs();
  if (outputs.size() != declared.size()) ContractViolation("Run gave a different number of outputs");
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i].tensor;
    if (outputs[i].name != declared[i].name) ContractViolation("an output is out of order");
    if (out.dtype != declared[i].dtype) ContractViolation("an output's dtype differs from its metadata");
    const int64_t count = out.num_elements();
    if (count < 0) ContractViolation("an output has an unknown dim");
    if (count > 0 && (!out.buffer || out.buffer->size_bytes() < out.size_bytes()))
      ContractViolation("an output's buffer is smaller than its shape");
    // Touch every byte so the sanitizer sees a read past a short buffer.
    if (count > 0) {
      volatile uint8_t sink = 0;
      const auto* bytes = static_cast<const uint8_t*>(out.raw());
      for (size_t b = 0; b < out.size_bytes(); ++b) sink = static_cast<uint8_t>(sink ^ bytes[b]);
      (void)sink;
    }
  }
}

}  // namespace fuzz
}  // namespace maas
