// Tensor types shared by every layer of the engine: the ONNX reader, the graph
// IR, the backends and the N-API layer.
#pragma once
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

// Host memory that one or more tensors point into. Freed when the last
// owner lets go (a tensor, a plan, or a JS ArrayBuffer finalizer).
class HostBuffer {
 public:
  // 64-byte aligned, for SIMD kernels. Returns nullptr on allocation failure.
  static std::shared_ptr<HostBuffer> Allocate(size_t size_bytes);
  // Wraps memory someone else owns (a JS typed array kept alive elsewhere).
  static std::shared_ptr<HostBuffer> Borrow(void* data, size_t size_bytes);
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  void* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }

 private:
  HostBuffer(void* data, size_t size_bytes, bool owned) : data_(data), size_bytes_(size_bytes), owned_(owned) {}
  void* data_;
  size_t size_bytes_;
  bool owned_;
};

// A dense, row-major tensor on the host. Cheap to copy (shares the buffer).
struct Tensor {
  DType dtype = DType::kUndefined;
  Shape shape;
  std::shared_ptr<HostBuffer> buffer;  // null for a tensor with no storage yet

  int64_t num_elements() const { return NumElements(shape); }
  size_t size_bytes() const { return static_cast<size_t>(num_elements()) * DTypeSizeBytes(dtype); }
  void* raw() const { return buffer ? buffer->data() : nullptr; }
  template <typename T> T* data() const { return static_cast<T*>(raw()); }
};

// Allocates a tensor of the given type and shape (all dims known). On
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
