// Tensor types shared by every layer of the engine: the ONNX reader, the graph
// IR, the planner, the backends and the N-API layer. A tensor names its
// memory through a Buffer, which knows the device it lives on; nothing here
// is specific to one backend.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maas/status.h"

namespace maas {

// Numbering follows ONNX TensorProto.DataType so the reader needs no table.
enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString (not a fixed-size type).
size_t DTypeSizeBytes(DType dtype);
// The JS API's name: "float32", "int64", "bool", ... ("undefined" when unknown).
const char* DTypeName(DType dtype);
// Inverse of DTypeName; kUndefined when the name is unknown.
DType DTypeFromName(const std::string& name);

// A dimension of -1 means "not known until run time" (only in load-time
// shape inference; run-time shapes are always concrete).
using Shape = std::vector<int64_t>;
constexpr int64_t kUnknownDim = -1;

// Product of the dims; -1 if any dim is unknown or the product overflows
// int64 (0 if any dim is 0). The product of [] is 1.
int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);

// ---- devices -------------------------------------------------------------------

enum class DeviceKind : int32_t { kCpu = 0, kCuda = 1 };
const char* DeviceKindName(DeviceKind kind);  // "cpu", "cuda"

// Where memory lives and kernels run: the host (kCpu, index 0) or one
// accelerator of a kind, by ordinal.
struct DeviceId {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;
  bool is_host() const { return kind == DeviceKind::kCpu; }
  bool operator==(const DeviceId& other) const { return kind == other.kind && index == other.index; }
  bool operator!=(const DeviceId& other) const { return !(*this == other); }
};

// "cpu" or "cuda:N" (the JS API's `device` load option).
std::string DeviceName(DeviceId device);
// Inverse of DeviceName; false for anything else ("gpu", "cuda:", "cuda:-1").
bool ParseDeviceName(const std::string& text, DeviceId* device);

// ---- memory --------------------------------------------------------------------

// Memory on one device that one or more tensors point into. Freed (or given
// back to its allocator) when the last owner lets go: a tensor, a plan's
// arena pool, or a JS ArrayBuffer finalizer. Backends subclass it for device
// memory; the static factories make host memory.
class Buffer {
 public:
  // Host memory, 64-byte aligned for SIMD kernels; nullptr on failure.
  static std::shared_ptr<Buffer> Allocate(size_t size_bytes);
  // Wraps host memory someone else owns (a JS typed array kept alive elsewhere).
  static std::shared_ptr<Buffer> Borrow(void* data, size_t size_bytes);

  virtual ~Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }
  DeviceId device() const { return device_; }

 protected:
  Buffer(void* data, size_t size_bytes, DeviceId device) : data_(data), size_bytes_(size_bytes), device_(device) {}

 private:
  void* data_;
  size_t size_bytes_;
  DeviceId device_;
};

// The older name of a host Buffer, still used by the Node binding.
using HostBuffer = Buffer;

// Host memory the engine allocated through Buffer::Allocate, process-wide.
// `allocations` only grows: tests read it to prove a steady-state run
// allocates nothing but its outputs.
struct HostMemoryStats {
  uint64_t allocations = 0;
  uint64_t bytes_in_use = 0;
};
HostMemoryStats GetHostMemoryStats();

// A dense, row-major tensor: `byte_offset` bytes into `buffer` (a slice of a
// plan's arena, or 0 for a buffer of its own). Cheap to copy (shares the
// buffer). Only host tensors may be read through data().
struct Tensor {
  DType dtype = DType::kUndefined;
  Shape shape;
  std::shared_ptr<Buffer> buffer;  // null for a tensor with no storage yet
  size_t byte_offset = 0;

  int64_t num_elements() const { return NumElements(shape); }
  size_t size_bytes() const { return static_cast<size_t>(num_elements()) * DTypeSizeBytes(dtype); }
  DeviceId device() const { return buffer ? buffer->device() : DeviceId{}; }
  // Bytes of the buffer from byte_offset on (what this tensor may use).
  size_t available_bytes() const {
    return buffer && buffer->size_bytes() >= byte_offset ? buffer->size_bytes() - byte_offset : 0;
  }
  void* raw() const { return buffer ? static_cast<char*>(buffer->data()) + byte_offset : nullptr; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw());
  }
};

// Allocates a host tensor of the given type and shape (all dims known). On
// allocation failure the returned tensor has a null buffer.
Tensor MakeTensor(DType dtype, const Shape& shape);

// Bytes a tensor of `dtype` and `shape` holds; UINT64_MAX when a dim is
// unknown or the count overflows.
uint64_t TensorBytes(DType dtype, const Shape& shape);

// The size limit of one run's tensors, checked before anything is allocated:
// kOutputTooLarge naming `what` (an op, or "output 'y'") when a tensor of
// `dtype` and `shape` would exceed `max_bytes`. 0 means no limit.
Status CheckTensorLimit(DType dtype, const Shape& shape, uint64_t max_bytes, const std::string& what);

}  // namespace maas
