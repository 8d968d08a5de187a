#include "maas/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <new>

namespace maas {

size_t DTypeSizeBytes(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kUint8: return 1;
    case DType::kInt8: return 1;
    case DType::kUint16: return 2;
    case DType::kInt16: return 2;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kFloat16: return 2;
    case DType::kFloat64: return 8;
    case DType::kUint32: return 4;
    case DType::kUint64: return 8;
    case DType::kBFloat16: return 2;
    case DType::kString:
    case DType::kUndefined: return 0;
  }
  return 0;
}

namespace {
struct NamedType {
  DType dtype;
  const char* name;
};
constexpr NamedType kNames[] = {
    {DType::kFloat32, "float32"}, {DType::kUint8, "uint8"},       {DType::kInt8, "int8"},
    {DType::kUint16, "uint16"},   {DType::kInt16, "int16"},       {DType::kInt32, "int32"},
    {DType::kInt64, "int64"},     {DType::kString, "string"},     {DType::kBool, "bool"},
    {DType::kFloat16, "float16"}, {DType::kFloat64, "float64"},   {DType::kUint32, "uint32"},
    {DType::kUint64, "uint64"},   {DType::kBFloat16, "bfloat16"},
};
}  // namespace

const char* DTypeName(DType dtype) {
  for (const auto& n : kNames)
    if (n.dtype == dtype) return n.name;
  return "undefined";
}

DType DTypeFromName(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.dtype;
  return DType::kUndefined;
}

int64_t NumElements(const Shape& shape) {
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    has_zero |= d == 0;
  }
  if (has_zero) return 0;  // even when the other dims alone would overflow
  int64_t n = 1;
  for (int64_t d : shape) {
    // A product past int64 would wrap to a small count and let a tensor claim
    // more elements than its buffer holds; treat it as not concrete.
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

const char* DeviceKindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kCuda: return "cuda";
  }
  return "unknown";
}

std::string DeviceName(DeviceId device) {
  if (device.is_host()) return "cpu";
  return std::string(DeviceKindName(device.kind)) + ":" + std::to_string(device.index);
}

bool ParseDeviceName(const std::string& text, DeviceId* device) {
  if (text == "cpu") {
    *device = DeviceId{};
    return true;
  }
  const std::string prefix = "cuda:";
  if (text.compare(0, prefix.size(), prefix) != 0 || text.size() == prefix.size()) return false;
  int64_t index = 0;
  for (size_t i = prefix.size(); i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || index > 1000000) return false;  // digits only, no sign
    index = index * 10 + (text[i] - '0');
  }
  if (index > 1000000) return false;
  *device = DeviceId{DeviceKind::kCuda, static_cast<int>(index)};
  return true;
}

namespace {

std::atomic<uint64_t> g_host_allocations{0};
std::atomic<uint64_t> g_host_bytes_in_use{0};

// Host memory from aligned_alloc, freed with the last owner.
class OwnedHostBuffer final : public Buffer {
 public:
  OwnedHostBuffer(void* data, size_t size_bytes) : Buffer(data, size_bytes, DeviceId{}) {
    g_host_allocations.fetch_add(1, std::memory_order_relaxed);
    g_host_bytes_in_use.fetch_add(size_bytes, std::memory_order_relaxed);
  }
  OwnedHostBuffer(const OwnedHostBuffer&) = delete;
  OwnedHostBuffer& operator=(const OwnedHostBuffer&) = delete;
  ~OwnedHostBuffer() override {
    g_host_bytes_in_use.fetch_sub(size_bytes(), std::memory_order_relaxed);
    std::free(data());
  }
};

// Host memory owned elsewhere (a JS typed array): never freed here.
class BorrowedHostBuffer final : public Buffer {
 public:
  BorrowedHostBuffer(void* data, size_t size_bytes) : Buffer(data, size_bytes, DeviceId{}) {}
};

}  // namespace

std::shared_ptr<Buffer> Buffer::Allocate(size_t size_bytes) {
  constexpr size_t kAlign = 64;
  if (size_bytes > SIZE_MAX - kAlign) return nullptr;  // the rounding below would wrap
  // aligned_alloc wants a size that is a multiple of the alignment; never 0.
  size_t rounded = ((size_bytes + kAlign - 1) / kAlign) * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) return nullptr;
  try {
    return std::make_shared<OwnedHostBuffer>(p, size_bytes);  // object and count in one allocation
  } catch (const std::bad_alloc&) {
    std::free(p);
    return nullptr;
  }
}

std::shared_ptr<Buffer> Buffer::Borrow(void* data, size_t size_bytes) {
  return std::shared_ptr<Buffer>(new (std::nothrow) BorrowedHostBuffer(data, size_bytes));
}

HostMemoryStats GetHostMemoryStats() {
  HostMemoryStats stats;
  stats.allocations = g_host_allocations.load(std::memory_order_relaxed);
  stats.bytes_in_use = g_host_bytes_in_use.load(std::memory_order_relaxed);
  return stats;
}

Tensor MakeTensor(DType dtype, const Shape& shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  int64_t n = NumElements(shape);
  if (n < 0) return t;
  const size_t element_bytes = DTypeSizeBytes(dtype);
  // n * element_bytes must not wrap into a small allocation.
  if (element_bytes != 0 && static_cast<uint64_t>(n) > SIZE_MAX / element_bytes) return t;
  t.buffer = HostBuffer::Allocate(static_cast<size_t>(n) * element_bytes);
  return t;
}

uint64_t TensorBytes(DType dtype, const Shape& shape) {
  int64_t n = NumElements(shape);
  if (n < 0) return UINT64_MAX;
  uint64_t element_bytes = DTypeSizeBytes(dtype);
  if (element_bytes != 0 && static_cast<uint64_t>(n) > UINT64_MAX / element_bytes) return UINT64_MAX;
  return static_cast<uint64_t>(n) * element_bytes;
}

Status CheckTensorLimit(DType dtype, const Shape& shape, uint64_t max_bytes, const std::string& what) {
  if (max_bytes == 0) return Status::Ok();
  uint64_t bytes = TensorBytes(dtype, shape);
  if (bytes <= max_bytes) return Status::Ok();
  std::string size = bytes == UINT64_MAX ? "more than 2^64" : std::to_string(bytes);
  return Status(StatusCode::kOutputTooLarge,
                what + ": a " + DTypeName(dtype) + " tensor of shape " + ShapeToString(shape) + " needs " + size +
                    " bytes, above this session's limit of " + std::to_string(max_bytes) + " bytes per tensor");
}

}  // namespace maas
