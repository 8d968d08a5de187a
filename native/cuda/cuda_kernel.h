// The contract between the CUDA backend (native/cuda/, the runtime: devices,
// streams, allocator, staging, Bind/Run) and one CUDA kernel (native/cuda/
// kernels/<family>.cu|.cc). It mirrors the CPU one (native/src/cpu/kernel.h):
// shapes and dtypes come from the op's schema (native/src/ops/); a kernel
// only enqueues work on ctx.stream and never synchronizes it.
//
// Who owns what:
// - The runtime owns the device, the stream, the caching allocator and the
//   library handles (cuBLASLt, cuDNN) in CudaLibraries; a kernel borrows them
//   for one Run and keeps nothing.
// - Every tensor a kernel sees (inputs, outputs, ctx.exec.workspace()) lives
//   in device memory, except inputs listed in `host_inputs` (shape-like
//   operands such as Reshape's shape or Slice's starts), which the runtime
//   keeps on the host.
// - Constant inputs (weights) reach `prepare` as host data; prepare uploads
//   what it needs (converted to the session's precision) into memory from
//   PrepareContext::allocate, and compute finds it in ctx.prepared.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "maas/backend.h"
#include "maas/op_types.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas::cuda {

// The precision a session runs float32 math in (a model config setting;
// weights are converted at load). Inputs and outputs keep their ONNX dtypes.
enum class Precision : int32_t { kFloat32 = 0, kFloat16 = 1, kBFloat16 = 2 };

// Handles of the optional libraries, loaded at run time (dlopen) so the addon
// still loads without them; each is null when its library is missing, and a
// kernel that needs it reports kUnsupported. Defined in native/cuda/libs/.
struct CudaLibraries;

struct CudaKernelContext {
  ExecContext& exec;
  Span<const Tensor* const> inputs;  // concrete shapes; nullptr for an absent optional input
  const Attributes* attrs = nullptr;
  int opset = 0;
  cudaStream_t stream = nullptr;
  const CudaLibraries* libs = nullptr;  // never null once made by the runtime; its members may be
  const cudaDeviceProp* props = nullptr;
  Precision precision = Precision::kFloat32;
  const void* prepared = nullptr;  // what prepare made for this node, or null

  size_t num_outputs() const { return exec.num_outputs(); }
  Tensor& output(size_t i) const { return exec.output(i); }
};

// What prepare may use at load: device memory that lives as long as the
// session (counted in its state bytes), the stream to upload on, the libs.
struct CudaPrepareContext {
  std::function<Status(size_t size_bytes, std::shared_ptr<Buffer>* out)> allocate;
  cudaStream_t stream;
  const CudaLibraries* libs;
  const cudaDeviceProp* props;
  Precision precision;
};

struct CudaKernel {
  using ComputeFn = std::function<Status(CudaKernelContext& ctx)>;
  using PrepareFn = std::function<Status(const NodeDesc& node, CudaPrepareContext& ctx,
                                         std::shared_ptr<const void>* prepared, size_t* state_bytes)>;
  using CheckFn = std::function<std::string(const NodeDesc& node)>;
  using WorkspaceFn = std::function<size_t(const NodeDesc& node, const void* prepared)>;

  std::string op_type;
  std::vector<DType> dtypes;  // implemented values of NodeDesc::key_dtype(); empty: any
  ComputeFn compute;
  PrepareFn prepare;
  CheckFn check;
  WorkspaceFn workspace = nullptr;
  // Inputs the runtime must hand over on the host (shape-like operands).
  std::vector<int> host_inputs = {};
};

// The process's library handles, loaded (dlopen) on first call and kept for
// the process's life; never null (members may be). Defined in native/cuda/libs/.
const CudaLibraries* GetCudaLibraries();

const CudaKernel* FindCudaKernel(const std::string& op_type, DType dtype = DType::kUndefined);
std::vector<std::string> CudaKernelOpTypes();
std::string CheckCudaNode(const NodeDesc& node);  // empty: can run; else the reason

// Used by each kernel file: `CudaKernelRegistrar reg(CudaKernel{...});`.
struct CudaKernelRegistrar {
  explicit CudaKernelRegistrar(CudaKernel kernel);
};

}  // namespace maas::cuda
