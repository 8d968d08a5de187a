#include "cuda_backend.h"

#include <atomic>
#include <string>
#include <vector>

#include "cuda_kernel.h"
#include "cuda_status.h"
#include "cuda_stream.h"
#include "device_allocator.h"

namespace maas::cuda {

namespace {

// The stream of the kernel this thread is running, so that outputs the
// kernel allocates (ExecContext::AllocateOutput → Backend::Allocate) are
// tagged with it (device_allocator.h, "Stream safety").
thread_local cudaStream_t t_kernel_stream = nullptr;

class KernelStreamScope {
 public:
  explicit KernelStreamScope(cudaStream_t stream) : previous_(t_kernel_stream) { t_kernel_stream = stream; }
  ~KernelStreamScope() { t_kernel_stream = previous_; }
  KernelStreamScope(const KernelStreamScope&) = delete;
  KernelStreamScope& operator=(const KernelStreamScope&) = delete;

 private:
  cudaStream_t previous_;
};

Precision PrecisionOf(const std::string& name) {
  if (name == "fp16") return Precision::kFloat16;
  if (name == "bf16") return Precision::kBFloat16;
  return Precision::kFloat32;
}

// One node bound to its CUDA kernel. Inputs the kernel wants on the host
// (CudaKernel::host_inputs) are handed over from the host copy of a
// constant kept at bind time, or else downloaded (a synchronizing copy: such
// operands are small shape vectors, and folding removes most of them).
class CudaExecutable final : public Executable {
 public:
  CudaExecutable(const CudaKernel* kernel, const NodeDesc& node, const cudaDeviceProp* props, Precision precision,
                 std::shared_ptr<const void> prepared, size_t state_bytes)
      : kernel_(kernel),
        attrs_(node.attrs),
        opset_(node.opset),
        props_(props),
        precision_(precision),
        prepared_(std::move(prepared)),
        state_bytes_(state_bytes) {
    for (int i : kernel->host_inputs) {
      if (i < 0 || static_cast<size_t>(i) >= node.inputs.size()) continue;
      const Tensor* constant = node.inputs[i].constant;
      if (constant && constant->device().is_host()) host_constants_.emplace_back(i, *constant);
    }
  }

  Status Run(ExecContext& exec) const override {
    auto* stream = static_cast<CudaStream*>(exec.stream());
    // The run worker may have served another device last: libraries and
    // launches follow the thread's current device.
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess || current != stream->device())
      MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(stream->device()), "cudaSetDevice"));
    std::vector<const Tensor*> inputs(exec.inputs().begin(), exec.inputs().end());
    std::vector<Tensor> downloaded;
    downloaded.reserve(kernel_->host_inputs.size());
    for (int i : kernel_->host_inputs) {
      if (i < 0 || static_cast<size_t>(i) >= inputs.size() || !inputs[i] || inputs[i]->device().is_host()) continue;
      const Tensor* kept = HostConstant(i);
      if (kept) {
        inputs[i] = kept;
        continue;
      }
      downloaded.push_back(MakeTensor(inputs[i]->dtype, inputs[i]->shape));
      Tensor& host = downloaded.back();
      if (!host.buffer) return Status(StatusCode::kOutOfMemory, "no host memory for a shape operand");
      MAAS_RETURN_IF_ERROR(stream->CopyToHost(inputs[i]->raw(), host.raw(), host.size_bytes()));
      MAAS_RETURN_IF_ERROR(stream->Synchronize());
      inputs[i] = &host;
    }
    CudaKernelContext ctx{exec,           Span<const Tensor* const>(inputs.data(), inputs.size()),
                          attrs_,         opset_,
                          stream->get(),  GetCudaLibraries(),
                          props_,         precision_,
                          prepared_.get()};
    KernelStreamScope scope(stream->get());
    MAAS_RETURN_IF_ERROR(kernel_->compute(ctx));
    // A launch error shows up here; an error inside the kernel at the next sync.
    return FromCuda(cudaGetLastError(), "kernel launch");
  }

  size_t state_bytes() const override { return state_bytes_; }
  size_t WorkspaceBytes(const NodeDesc& node) const override {
    return kernel_->workspace ? kernel_->workspace(node, prepared_.get()) : 0;
  }

 private:
  const Tensor* HostConstant(int input) const {
    for (const auto& [i, tensor] : host_constants_)
      if (i == input) return &tensor;
    return nullptr;
  }

  const CudaKernel* kernel_;
  const Attributes* attrs_;  // the graph node's, which outlives the executable
  int opset_;
  const cudaDeviceProp* props_;
  Precision precision_;
  std::shared_ptr<const void> prepared_;
  size_t state_bytes_;
  std::vector<std::pair<int, Tensor>> host_constants_;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, const cudaDeviceProp& props, Precision precision)
      : device_(device), props_(props), precision_(precision), allocator_(DeviceAllocator::ForDevice(device)) {}

  ~CudaBackend() override = default;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  DeviceId device() const override { return DeviceId{DeviceKind::kCuda, device_}; }
  bool HasOp(const std::string& op_type) const override { return FindCudaKernel(op_type) != nullptr; }
  std::string CheckNode(const NodeDesc& node) const override { return CheckCudaNode(node); }
  std::vector<std::string> OpTypes() const override { return CudaKernelOpTypes(); }

  Status Bind(const NodeDesc& node, std::unique_ptr<Executable>* out) override {
    const std::string op_type = node.op_type ? *node.op_type : "";
    const CudaKernel* kernel = FindCudaKernel(op_type, node.key_dtype());
    if (!kernel || !kernel->compute) return Unsupported("no CUDA kernel for " + op_type);
    std::shared_ptr<const void> prepared;
    size_t state_bytes = 0;
    if (kernel->prepare) {
      MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device_), "cudaSetDevice"));
      if (!load_stream_) MAAS_RETURN_IF_ERROR(CudaStream::Create(device_, &allocator_, &load_stream_));
      CudaPrepareContext ctx{[this](size_t size_bytes, std::shared_ptr<Buffer>* buffer) {
                               return allocator_.Allocate(size_bytes, nullptr, buffer);
                             },
                             load_stream_->get(), GetCudaLibraries(), &props_, precision_};
      MAAS_RETURN_IF_ERROR(kernel->prepare(node, ctx, &prepared, &state_bytes));
      // Uploads read the node's host constants, which the caller may drop.
      MAAS_RETURN_IF_ERROR(load_stream_->Synchronize());
    }
    out->reset(new CudaExecutable(kernel, node, &props_, precision_, std::move(prepared), state_bytes));
    return Status::Ok();
  }

  Status Allocate(size_t size_bytes, std::shared_ptr<Buffer>* out) override {
    return allocator_.Allocate(size_bytes, t_kernel_stream, out);
  }

  Status CreateStream(std::unique_ptr<Stream>* out) override {
    std::unique_ptr<CudaStream> stream;
    MAAS_RETURN_IF_ERROR(CudaStream::Create(device_, &allocator_, &stream));
    *out = std::move(stream);
    return Status::Ok();
  }

  Status CopyFromHost(const Tensor& src, const Tensor& dst, Stream* stream) override {
    MAAS_RETURN_IF_ERROR(CheckCopy(src, dst, stream));
    return static_cast<CudaStream*>(stream)->CopyFromHost(src.raw(), dst.raw(), src.size_bytes());
  }

  Status CopyToHost(const Tensor& src, const Tensor& dst, Stream* stream) override {
    MAAS_RETURN_IF_ERROR(CheckCopy(src, dst, stream));
    return static_cast<CudaStream*>(stream)->CopyToHost(src.raw(), dst.raw(), src.size_bytes());
  }

 private:
  static Status CheckCopy(const Tensor& src, const Tensor& dst, Stream* stream) {
    const size_t bytes = src.size_bytes();
    if (!stream) return Internal("a CUDA copy needs a stream");
    if (dst.size_bytes() != bytes || dst.available_bytes() < bytes || src.available_bytes() < bytes)
      return Internal("copy between tensors of different sizes");
    return Status::Ok();
  }

  const int device_;
  const cudaDeviceProp props_;
  const Precision precision_;
  DeviceAllocator& allocator_;
  std::unique_ptr<CudaStream> load_stream_;  // prepare's uploads (Bind runs on the loading thread only)
};

// Registered once at static initialization: the engine's registry is
// function-local statics, so the order of initialization does not matter.
[[maybe_unused]] const bool kRegistered = [] {
  RegisterBackendFactory(DeviceKind::kCuda, CreateCudaBackend);
  return true;
}();

}  // namespace

Status CreateCudaBackend(const BackendOptions& options, std::unique_ptr<Backend>* out) {
  const std::string name = DeviceName(options.device);
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess || count == 0) {
    cudaGetLastError();
    return Unsupported("device '" + name + "' is not available: " +
                       (error != cudaSuccess ? std::string("no usable CUDA driver (") + cudaGetErrorName(error) + ")"
                                             : std::string("this machine has no CUDA device")));
  }
  if (options.device.index < 0 || options.device.index >= count)
    return Unsupported("device '" + name + "' is not available: this machine has " + std::to_string(count) +
                       " CUDA device(s)");
  cudaDeviceProp props{};
  MAAS_RETURN_IF_ERROR(FromCuda(cudaGetDeviceProperties(&props, options.device.index), "cudaGetDeviceProperties"));
  out->reset(new CudaBackend(options.device.index, props, PrecisionOf(options.precision)));
  return Status::Ok();
}

}  // namespace maas::cuda

namespace maas {

std::vector<DeviceMemoryStats> CudaMemoryStatistics() {
  std::vector<DeviceMemoryStats> stats;
  for (cuda::DeviceAllocator* allocator : cuda::DeviceAllocator::All()) stats.push_back(allocator->Stats());
  return stats;
}

}  // namespace maas
