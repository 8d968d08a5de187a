#include "cpu/cpu_backend.h"

#include <cstring>
#include <thread>

#include "cpu/kernel.h"
#include "cpu/thread_pool.h"

namespace maas {
namespace {

// Kernels run synchronously on the caller's thread (and the pool), so every
// queued piece of work is already done.
class CpuStream final : public Stream {
 public:
  Status Synchronize() override { return Status::Ok(); }
};

// One node bound to its CPU kernel, with what the kernel prepared at load.
class CpuExecutable final : public Executable {
 public:
  CpuExecutable(const CpuKernel* kernel, const Attributes* attrs, int opset, ThreadPool* pool,
                std::shared_ptr<const void> prepared, size_t state_bytes)
      : kernel_(kernel),
        attrs_(attrs),
        opset_(opset),
        pool_(pool),
        prepared_(std::move(prepared)),
        state_bytes_(state_bytes) {}

  Status Run(ExecContext& exec) const override {
    KernelContext ctx(exec, attrs_, opset_, pool_, prepared_.get());
    return kernel_->compute(ctx);
  }
  size_t state_bytes() const override { return state_bytes_; }
  size_t WorkspaceBytes(const NodeDesc& node) const override {
    return kernel_->workspace ? kernel_->workspace(node, prepared_.get(), pool_->num_threads()) : 0;
  }

 private:
  const CpuKernel* kernel_;
  const Attributes* attrs_;  // the graph node's, which outlives the executable
  int opset_;
  ThreadPool* pool_;
  std::shared_ptr<const void> prepared_;
  size_t state_bytes_;
};

int DefaultThreads(int requested) {
  if (requested > 0) return requested;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : pool_(threads) {}

  DeviceId device() const override { return DeviceId{}; }
  bool HasOp(const std::string& op_type) const override { return FindCpuKernel(op_type) != nullptr; }
  std::string CheckNode(const NodeDesc& node) const override { return CheckCpuNode(node); }
  std::vector<std::string> OpTypes() const override { return CpuKernelOpTypes(); }

  Status Bind(const NodeDesc& node, std::unique_ptr<Executable>* out) override {
    const CpuKernel* kernel = node.op_type ? FindCpuKernel(*node.op_type, node.key_dtype()) : nullptr;
    if (!kernel || !kernel->compute) return Unsupported("no CPU kernel for " + (node.op_type ? *node.op_type : ""));
    std::shared_ptr<const void> prepared;
    size_t state_bytes = 0;
    if (kernel->prepare) MAAS_RETURN_IF_ERROR(kernel->prepare(node, &prepared, &state_bytes));
    out->reset(new CpuExecutable(kernel, node.attrs, node.opset, &pool_, std::move(prepared), state_bytes));
    return Status::Ok();
  }

  Status Allocate(size_t size_bytes, std::shared_ptr<Buffer>* out) override {
    *out = Buffer::Allocate(size_bytes);
    if (!*out) return Status(StatusCode::kOutOfMemory, "cannot allocate " + std::to_string(size_bytes) + " bytes");
    return Status::Ok();
  }

  Status CreateStream(std::unique_ptr<Stream>* out) override {
    out->reset(new CpuStream());
    return Status::Ok();
  }

  // Host and device are the same memory here.
  Status CopyFromHost(const Tensor& src, const Tensor& dst, Stream*) override { return Copy(src, dst); }
  Status CopyToHost(const Tensor& src, const Tensor& dst, Stream*) override { return Copy(src, dst); }

 private:
  static Status Copy(const Tensor& src, const Tensor& dst) {
    const size_t bytes = src.size_bytes();
    if (dst.size_bytes() != bytes || dst.available_bytes() < bytes || src.available_bytes() < bytes)
      return Internal("copy between tensors of different sizes");
    if (bytes) std::memcpy(dst.raw(), src.raw(), bytes);
    return Status::Ok();
  }

  ThreadPool pool_;
};

}  // namespace

Status CreateCpuBackend(const BackendOptions& options, std::unique_ptr<Backend>* out) {
  if (!options.device.is_host()) return Internal("the CPU backend runs on the host only");
  out->reset(new CpuBackend(DefaultThreads(options.intra_op_threads)));
  return Status::Ok();
}

}  // namespace maas
