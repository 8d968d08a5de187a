// The engine's C++ API: load an ONNX model into a Session, then run it.
// Nothing here throws; every failure is a Status.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maas/backend.h"
#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

// The default of SessionOptions::max_tensor_bytes: 2 GiB.
constexpr uint64_t kDefaultMaxTensorBytes = uint64_t{1} << 31;

struct SessionOptions {
  // Threads one run may use at once, counting the calling thread; 0 means
  // std::thread::hardware_concurrency(). Sessions share one process-wide
  // pool: this caps a session's share of it (docs/engine.md, thread pool).
  int intra_op_threads = 0;
  // Where the model runs: "cpu" or "cuda:N". A device this build or machine
  // lacks fails the load with kUnsupported; anything else kInvalidArgument.
  std::string device = "cpu";
  // Execution plans kept per session, one per input-shape signature; the
  // least recently used goes when a new signature needs room.
  int max_cached_plans = 32;
  // Fusion passes (MatMul/Gemm + bias + activation, ...). Off only to
  // compare fused and unfused results or to debug a fusion.
  bool enable_fusions = true;
  // Largest tensor one run may allocate, output or intermediate: checked
  // against each tensor's shape before its memory is allocated, so a request
  // whose inputs would make a huge tensor fails with kOutputTooLarge instead
  // of exhausting memory. 0: no limit.
  uint64_t max_tensor_bytes = kDefaultMaxTensorBytes;
  // "fp32", "fp16" or "bf16": the precision a GPU session runs float32 math
  // in (BackendOptions::precision); the CPU computes in float32 whatever it says.
  std::string precision = "fp32";
};

// Memory of one execution plan (one input-shape signature).
struct PlanMemory {
  std::vector<Shape> input_shapes;  // in inputs() order
  // The arena a run of this plan needs for its intermediates (and
  // workspaces), laid out by liveness. Outputs handed to the caller are
  // extra: output_bytes.
  uint64_t arena_bytes = 0;
  uint64_t output_bytes = 0;
};

// What a session holds, for placement and metrics.
struct SessionMemory {
  // Constants the plan reads (initializers, folded values) plus state the
  // backend derived from them at load (e.g. pre-packed GEMM weights).
  uint64_t weights_bytes = 0;
  // Arena memory held for reuse by runs (the largest plan's arena per run
  // that ran at once); returned only when the session goes.
  uint64_t arena_reserved_bytes = 0;
  std::vector<PlanMemory> plans;  // the cached plans, most recently used first
};

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// A model input or output as known at load time (dims may be kUnknownDim;
// an input declared without a shape has rank_known = false and no dims).
struct TensorMetadata {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;
  bool rank_known = true;
};

class Session {
 public:
  // Parses, checks and plans the model. kInvalidModel for broken bytes,
  // kUnsupported (naming every missing op and dtype) for what the engine lacks.
  static Status Load(const uint8_t* bytes, size_t size_bytes, const SessionOptions& options,
                     std::unique_ptr<Session>* out);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<TensorMetadata>& inputs() const;
  const std::vector<TensorMetadata>& outputs() const;
  DeviceId device() const;
  SessionMemory memory() const;

  // Builds (or finds) the execution plan for these input shapes, in inputs()
  // order, without running it, and reports its memory: a scheduler can size
  // a model at its largest batch before any request. kInvalidArgument when
  // the shapes do not fit the model.
  Status Plan(const std::vector<Shape>& input_shapes, PlanMemory* out) const;

  // Runs the model. `feeds` must name every input exactly once, with the
  // declared dtype, rank and known dims (else kInvalidArgument naming the
  // input). Feeds may borrow caller memory: it is only read, and it is not
  // referenced after Run returns. `outputs` come back in outputs() order,
  // each in a buffer of its own that aliases no feed, no model constant and
  // no other output. kOutputTooLarge, before allocating, when a tensor would
  // exceed SessionOptions::max_tensor_bytes. Safe to call from several
  // threads at once.
  Status Run(const std::vector<NamedTensor>& feeds, std::vector<NamedTensor>* outputs) const;

 public:
  struct Impl;  // opaque: the loaded graph, backend, plan cache and arena pool
  // For the engine's own tests and tools (native/src/engine/session_impl.h).
  const Impl& internals() const { return *impl_; }

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Accelerators this build can use: CUDA devices when built with CUDA and a
// driver and device are present; otherwise empty. Never fails.
std::vector<DeviceInfo> ListDevices();
// The caching allocators' statistics, per device that has one; empty
// without CUDA. Never fails.
std::vector<DeviceMemoryStats> DeviceMemory();

}  // namespace maas
