// The CPU backend: host memory, an inline "stream", and the CPU kernel table.
#include "cpu/kernel.h"
#include "maas/backend.h"

namespace maas {

const char* DeviceKindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kCuda: return "cuda";
  }
  return "unknown";
}

namespace {

class CpuDevice final : public Device {
 public:
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  int id() const override { return 0; }
  const std::string& name() const override { return name_; }
  uint64_t total_memory_bytes() const override { return 0; }  // shared with the process; not tracked

 private:
  std::string name_ = "cpu";
};

class CpuBuffer final : public Buffer {
 public:
  CpuBuffer(std::shared_ptr<HostBuffer> host, const Device& device) : host_(std::move(host)), device_(device) {}
  void* data() const override { return host_->data(); }
  size_t size_bytes() const override { return host_->size_bytes(); }
  const Device& device() const override { return device_; }
  std::shared_ptr<HostBuffer> host_buffer() const override { return host_; }

 private:
  std::shared_ptr<HostBuffer> host_;
  const Device& device_;
};

// Kernels run synchronously on the caller's thread (and the pool), so every
// queued piece of work is already done.
class CpuStream final : public Stream {
 public:
  Status Synchronize() override { return Status::Ok(); }
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(ThreadPool* pool) : pool_(pool) {}
  const Device& device() const override { return device_; }
  bool SupportsOp(const std::string& op_type) const override { return FindCpuKernel(op_type) != nullptr; }

  Status Allocate(size_t size_bytes, std::unique_ptr<Buffer>* out) override {
    std::shared_ptr<HostBuffer> host = HostBuffer::Allocate(size_bytes);
    if (!host) return Status(StatusCode::kOutOfMemory, "cannot allocate " + std::to_string(size_bytes) + " bytes");
    out->reset(new CpuBuffer(std::move(host), device_));
    return Status::Ok();
  }

  Status CreateStream(std::unique_ptr<Stream>* out) override {
    out->reset(new CpuStream());
    return Status::Ok();
  }

  Status Execute(const NodeCall& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>* outputs,
                 Stream* /*stream*/) override {
    const OpKernel* kernel = node.op_type ? FindCpuKernel(*node.op_type) : nullptr;
    if (!kernel || !kernel->compute) return Unsupported("no CPU kernel for " + (node.op_type ? *node.op_type : ""));
    KernelContext ctx;
    ctx.inputs = inputs;
    ctx.outputs = outputs;
    ctx.attrs = node.attrs;
    ctx.opset = node.opset;
    ctx.pool = pool_;
    ctx.prepared = node.prepared;
    ctx.max_tensor_bytes = node.max_tensor_bytes;
    return kernel->compute(ctx);
  }

  Status Prepare(const NodeCall& node, const std::vector<ValueInfo>& inputs,
                 std::shared_ptr<const void>* prepared) override {
    prepared->reset();
    const OpKernel* kernel = node.op_type ? FindCpuKernel(*node.op_type) : nullptr;
    if (!kernel || !kernel->prepare) return Status::Ok();
    InferContext ctx;
    ctx.inputs = inputs;
    ctx.attrs = node.attrs;
    ctx.opset = node.opset;
    return kernel->prepare(ctx, prepared);
  }

 private:
  CpuDevice device_;
  ThreadPool* pool_;
};

}  // namespace

std::unique_ptr<Backend> CreateCpuBackend(ThreadPool* pool) { return std::unique_ptr<Backend>(new CpuBackend(pool)); }

}  // namespace maas
