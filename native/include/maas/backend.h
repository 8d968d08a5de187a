// The backend interface: what the engine needs from a device to run a plan.
// The CPU backend implements it (native/src/cpu/); the CUDA backend
// (native/cuda/) and later a TensorRT one slot in beside it. docs/engine.md
// describes the contract; in short a backend
//   - declares what it can run: HasOp (op types, asked before inference) and
//     CheckNode (an op with its dtypes and attributes, after inference);
//   - binds a node to an Executable once at load (kernel lookup, packed
//     weights, cuDNN descriptors...), which the executor then runs per step;
//   - allocates its device's memory (arena, dynamic outputs) and copies
//     between the host and that memory, ordered on its Streams.
// The engine owns scheduling, shapes, memory planning and folding; a backend
// never sees the graph beyond the node (or subgraph) it binds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maas/op_types.h"
#include "maas/span.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

class Backend;

// What enumeration reports about an accelerator, before any backend exists.
struct DeviceInfo {
  int id = 0;
  std::string name;
  std::string uuid;  // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as NVML and Triton's metrics name it
  uint64_t total_memory_bytes = 0;
  uint64_t free_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int driver_version = 0;   // CUDA's form: 13000 is 13.0
  int runtime_version = 0;  // the CUDA runtime linked into the addon
  // From NVML when libnvidia-ml is present; -1 when unknown.
  int utilization_percent = -1;
  int64_t memory_used_bytes = -1;
};

// A device's caching allocator (native/cuda/device_allocator.h): bytes
// handed out and not yet given back, bytes held from the driver (in use plus
// cached), the highest `in_use_bytes` seen, and pinned host staging memory.
struct DeviceMemoryStats {
  int device = 0;
  uint64_t in_use_bytes = 0;
  uint64_t reserved_bytes = 0;
  uint64_t peak_in_use_bytes = 0;
  uint64_t pinned_host_bytes = 0;
  uint64_t allocations = 0;         // Allocate calls served
  uint64_t driver_allocations = 0;  // of those, how many reached cudaMalloc
};

// An ordered queue of work on a device. The CPU runs work as it is queued,
// so its Synchronize returns at once; a CUDA stream waits for the GPU.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual Status Synchronize() = 0;
};

// What an Executable sees during one step of a run: its inputs, its output
// slots, and where output memory comes from. Made by the executor (or by
// constant folding and tests, with nothing planned); never kept past Run.
class ExecContext {
 public:
  // `backend` allocates outputs the plan did not lay out (null: host memory).
  ExecContext(Span<const Tensor* const> inputs, Span<Tensor* const> outputs, Backend* backend, Stream* stream)
      : inputs_(inputs), outputs_(outputs), backend_(backend), stream_(stream) {}

  size_t num_inputs() const { return inputs_.size(); }
  // Null for an absent optional input (and past the end).
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Span<const Tensor* const> inputs() const { return inputs_; }
  size_t num_outputs() const { return outputs_.size(); }
  Tensor& output(size_t i) const { return *outputs_[i]; }

  // Gives output i storage for `dtype` and `shape`. When the plan laid the
  // output out (a slice of the arena, or a buffer handed to the caller) the
  // slot already holds it and dtype and shape must equal the plan's
  // (kInternal otherwise: inference and kernel disagree; the plan checked
  // its size limit); else new memory comes from the backend's allocator:
  // kOutputTooLarge, before allocating, above max_tensor_bytes(), and
  // kOutOfMemory when there is none.
  Status AllocateOutput(size_t i, DType dtype, const Shape& shape);
  // Output i as a view of `source` with `shape` (same bytes). Only for
  // outputs the op's schema declares as views of that input (OpSchema::views).
  void SetOutputView(size_t i, const Tensor& source, const Shape& shape);

  Stream* stream() const { return stream_; }
  Backend* backend() const { return backend_; }
  // Scratch memory the executable asked for (Executable::WorkspaceBytes),
  // planned into the arena for this step only; null when none.
  void* workspace() const { return workspace_; }
  size_t workspace_bytes() const { return workspace_bytes_; }

  // The largest tensor an output may be (SessionOptions::max_tensor_bytes); 0: no limit.
  uint64_t max_tensor_bytes() const { return max_tensor_bytes_; }

  // ---- set by the executor ----
  // Per output: whether the slot already holds the plan's storage.
  void set_planned(const uint8_t* planned) { planned_ = planned; }
  void set_max_tensor_bytes(uint64_t max_bytes) { max_tensor_bytes_ = max_bytes; }
  void set_workspace(void* data, size_t size_bytes) {
    workspace_ = data;
    workspace_bytes_ = size_bytes;
  }

 private:
  Span<const Tensor* const> inputs_;
  Span<Tensor* const> outputs_;
  Backend* backend_;
  Stream* stream_;
  const uint8_t* planned_ = nullptr;
  uint64_t max_tensor_bytes_ = 0;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

// A node (or, for a compiling backend such as TensorRT, a whole subgraph)
// bound to one backend at load, ready to run. Shared by concurrent runs:
// Run must not change it.
class Executable {
 public:
  virtual ~Executable() = default;
  virtual Status Run(ExecContext& ctx) const = 0;
  // Memory this executable holds beyond the model's constants (pre-packed
  // weights, device copies); reported with the session's weights bytes.
  virtual size_t state_bytes() const { return 0; }
  // Scratch a run needs for these concrete input shapes (asked when a plan
  // is built); the plan lays it into the arena, live for this step only.
  virtual size_t WorkspaceBytes(const NodeDesc& node) const {
    (void)node;
    return 0;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceId device() const = 0;

  // ---- what it supports (asked at load; a load fails naming every gap) ----
  // Whether any kernel exists for the op type. Asked before shape inference.
  virtual bool HasOp(const std::string& op_type) const = 0;
  // Empty when the backend can run this node with its inferred dtypes (and
  // attributes); otherwise a short reason such as "float64", which the
  // engine reports as "Gemm (float64)" beside every other gap.
  virtual std::string CheckNode(const NodeDesc& node) const = 0;
  // Every op type with a kernel (docs, error messages, tests).
  virtual std::vector<std::string> OpTypes() const = 0;

  // ---- load ----
  // Binds one node after inference, folding and fusion. Inputs that are
  // constants carry their host data (NodeDesc::inputs[i].constant); shapes
  // may still hold unknown dims.
  virtual Status Bind(const NodeDesc& node, std::unique_ptr<Executable>* out) = 0;

  // ---- memory and streams ----
  // Memory on this backend's device (a plan's arena, outputs of unknown
  // size, device copies of constants).
  virtual Status Allocate(size_t size_bytes, std::shared_ptr<Buffer>* out) = 0;
  virtual Status CreateStream(std::unique_ptr<Stream>* out) = 0;
  // Copies `src` into `dst` (same byte size), host → device and device →
  // host, ordered on `stream`; the host side stays untouched until the
  // stream is synchronized.
  virtual Status CopyFromHost(const Tensor& src, const Tensor& dst, Stream* stream) = 0;
  virtual Status CopyToHost(const Tensor& src, const Tensor& dst, Stream* stream) = 0;
};

// How a session asks for its backend.
struct BackendOptions {
  DeviceId device;
  // Threads one run of this session may use at once, counting the calling
  // thread (the CPU backend's per-session cap on the shared pool); 0: cores.
  int intra_op_threads = 0;
  // The precision a device backend runs float32 math in: "fp32", "fp16" or
  // "bf16" (weights converted at load). The CPU backend always computes in
  // float32 and ignores it.
  std::string precision = "fp32";
};

using BackendFactory = Status (*)(const BackendOptions& options, std::unique_ptr<Backend>* out);

// The backend for options.device. The CPU backend is always there; other
// kinds exist once a factory is registered for them (the CUDA library does
// so in CUDA builds). kUnsupported with a clear message when the build or
// the machine lacks the device.
Status CreateBackend(const BackendOptions& options, std::unique_ptr<Backend>* out);
// Installs (or, with null, removes) the factory for a device kind and
// returns the previous one. The CPU factory cannot be replaced.
BackendFactory RegisterBackendFactory(DeviceKind kind, BackendFactory factory);

#ifdef MAAS_WITH_CUDA
// Defined in native/cuda: every CUDA device, or an empty list on any CUDA
// error (no driver, no device). Never fails.
std::vector<DeviceInfo> ListCudaDevices();
// Per device that has a caching allocator (a CUDA session was created on it).
std::vector<DeviceMemoryStats> CudaMemoryStatistics();
#endif

}  // namespace maas
