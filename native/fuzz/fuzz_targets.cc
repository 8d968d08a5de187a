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

// Small values, the same on every run of one input: -8..8 for signed and
// floating types (quarters for floats), 0..16 for unsigned, 0/1 for bool,
// +-1.0 and 0 for float16 (as bits).
int64_t Pattern(int64_t i) { return i * 37 % 17; }

template <typename T, typename Fn>
void Fill(void* raw, int64_t count, Fn value_of) {
  T* out = static_cast<T*>(raw);
  for (int64_t i = 0; i < count; ++i) out[i] = value_of(i);
}

bool FillFeed(Tensor* tensor) {
  const int64_t count = tensor->num_elements();
  void* raw = tensor->raw();
  if (count > 0 && raw == nullptr) return false;
  auto quarter = [](int64_t i) { return static_cast<double>(Pattern(i) - 8) * 0.25; };
  auto signed_value = [](int64_t i) { return Pattern(i) - 8; };
  switch (tensor->dtype) {
    case DType::kFloat32:
      Fill<float>(raw, count, [&](int64_t i) { return static_cast<float>(quarter(i)); });
      return true;
    case DType::kFloat64: Fill<double>(raw, count, quarter); return true;
    case DType::kInt8:
      Fill<int8_t>(raw, count, [&](int64_t i) { return static_cast<int8_t>(signed_value(i)); });
      return true;
    case DType::kInt16:
      Fill<int16_t>(raw, count, [&](int64_t i) { return static_cast<int16_t>(signed_value(i)); });
      return true;
    case DType::kInt32:
      Fill<int32_t>(raw, count, [&](int64_t i) { return static_cast<int32_t>(signed_value(i)); });
      return true;
    case DType::kInt64: Fill<int64_t>(raw, count, signed_value); return true;
    case DType::kUint8:
      Fill<uint8_t>(raw, count, [](int64_t i) { return static_cast<uint8_t>(Pattern(i)); });
      return true;
    case DType::kUint16:
      Fill<uint16_t>(raw, count, [](int64_t i) { return static_cast<uint16_t>(Pattern(i)); });
      return true;
    case DType::kUint32:
      Fill<uint32_t>(raw, count, [](int64_t i) { return static_cast<uint32_t>(Pattern(i)); });
      return true;
    case DType::kUint64:
      Fill<uint64_t>(raw, count, [](int64_t i) { return static_cast<uint64_t>(Pattern(i)); });
      return true;
    case DType::kBool:
      Fill<uint8_t>(raw, count, [](int64_t i) { return static_cast<uint8_t>(Pattern(i) & 1); });
      return true;
    case DType::kFloat16: {
      constexpr uint16_t kHalfBits[3] = {0x3c00, 0x0000, 0xbc00};  // 1.0, 0.0, -1.0
      Fill<uint16_t>(raw, count, [&](int64_t i) { return kHalfBits[Pattern(i) % 3]; });
      return true;
    }
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
