// Helpers shared by the CUDA kernels (native/cuda/kernels/*.cu): the element
// types and their float widening, launch geometry, strided index math up to
// kMaxRank dims, input checks and output allocation through the context, and
// the anchor each kernel file defines (see native/cuda/kernel_registry.cc).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cuda/cuda_kernel.h"
#include "ops/activation.h"
#include "ops/op_util.h"

// Defines maas::cuda::Link<Family>Kernels(), called by the registry so the
// linker keeps this file's registrars.
#define MAAS_CUDA_KERNEL_ANCHOR(Family) \
  void Link##Family##Kernels() {}

namespace maas::cuda {

// Tensors of higher rank are refused with kUnsupported (CheckRank): index
// math passes its dims by value in a fixed array.
constexpr int kMaxRank = 8;
constexpr int kThreads = 256;

// Loads and stores with float math for every float type: __half and
// __nv_bfloat16 compute in float and round once on store.
template <typename T>
__device__ __forceinline__ float ToFloat(T v) {
  return static_cast<float>(v);
}
template <>
__device__ __forceinline__ float ToFloat(__half v) {
  return __half2float(v);
}
template <>
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <typename T>
__device__ __forceinline__ T FromFloat(float v) {
  return static_cast<T>(v);
}
template <>
__device__ __forceinline__ __half FromFloat(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat(float v) {
  return __float2bfloat16_rn(v);
}

// A fused activation (ops/activation.h) in float: GEMM and conv epilogues.
__device__ __forceinline__ float Activate(Activation act, float v) {
  switch (act) {
    case Activation::kRelu: return v > 0.0f ? v : 0.0f;
    case Activation::kSigmoid: return 1.0f / (1.0f + expf(-v));
    case Activation::kTanh: return tanhf(v);
    default: return v;
  }
}

// The C++ type of a float dtype the CUDA kernels compute in.
template <typename Fn>
bool DispatchFloat(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kFloat16: fn(__half{}); return true;
    case DType::kBFloat16: fn(__nv_bfloat16{}); return true;
    default: return false;
  }
}

inline std::vector<DType> FloatDTypes() { return {DType::kFloat32, DType::kFloat16, DType::kBFloat16}; }

// Blocks for a grid-stride loop over n items (capped; the loop covers the rest).
inline unsigned BlocksFor(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

#define MAAS_GRID_STRIDE(i, n)                                                           \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Dims and per-operand element strides, by value into a kernel. Strides are
// 0 where an operand is broadcast along a dim.
template <int kOperands>
struct StridedLayout {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kOperands][kMaxRank] = {};
};

// Element offset of the linear output index `i` in operand `k`.
template <int kOperands>
__device__ __forceinline__ int64_t OffsetOf(const StridedLayout<kOperands>& layout, int k, int64_t i) {
  int64_t offset = 0;
  for (int d = layout.rank - 1; d >= 0; --d) {
    const int64_t index = i % layout.dims[d];
    i /= layout.dims[d];
    offset += index * layout.strides[k][d];
  }
  return offset;
}

// Row-major element strides of `shape`, right-aligned to `rank` dims, 0
// where the shape has size 1 (or no dim) and the output does not: numpy
// broadcasting of `shape` to `out`.
std::vector<int64_t> BroadcastStrides(const Shape& shape, const Shape& out);

// kUnsupported naming the op when a tensor has more than kMaxRank dims.
Status CheckRank(const std::string& op, const Shape& shape);

// Present inputs with storage (kInvalidArgument) and an output slot.
Status RequireInputs(const std::string& op, const CudaKernelContext& ctx, size_t min_inputs);
// ExecContext::AllocateOutput with the op's name on errors.
Status AllocateOutput(const std::string& op, CudaKernelContext& ctx, size_t index, DType dtype, const Shape& shape);
// The error of the last launch (kInternal naming the op), else Ok.
Status LaunchStatus(const std::string& op);

// A node's input `i` as a host int64 list (shape-like operands the runtime
// hands over on the host, CudaKernel::host_inputs); false when absent.
bool HostInts(const CudaKernelContext& ctx, size_t i, std::vector<int64_t>* values);

// Copies `size_bytes` of host data into new device memory from prepare's
// allocator, on its stream, and waits (load time, so the host copy may go).
Status UploadToDevice(CudaPrepareContext& ctx, const void* data, size_t size_bytes, std::shared_ptr<Buffer>* out);

// Device scratch for one Run: the plan's workspace when big enough, else a
// stream-ordered allocation (cudaMallocAsync) freed on the stream when this
// object goes, so no other stream can reuse it before the kernels finish.
class StreamScratch {
 public:
  StreamScratch(const CudaKernelContext& ctx, size_t size_bytes);
  ~StreamScratch();
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  void* data() const { return data_; }
  bool ok() const { return data_ != nullptr || size_bytes_ == 0; }
  // What is left of the plan's workspace after this scratch (for cuBLASLt).
  void* rest() const { return rest_; }
  size_t rest_bytes() const { return rest_bytes_; }

 private:
  cudaStream_t stream_;
  void* data_ = nullptr;
  size_t size_bytes_;
  bool owned_ = false;
  void* rest_ = nullptr;
  size_t rest_bytes_ = 0;
};

}  // namespace maas::cuda
