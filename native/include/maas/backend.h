// The backend interface: what the executor needs from a device. The CPU
// backend implements it today; a CUDA (and later TensorRT) backend slots in
// beside it. Deliberately small: a device, buffers, streams, and running one
// node. Ops a backend lacks are found at load time through SupportsOp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "maas/status.h"
#include "maas/tensor.h"

namespace maas {

class Attributes;  // decoded ONNX attributes (src/cpu/kernel.h)
struct ValueInfo;  // a value as known at load: dtype, shape, constant data (src/cpu/kernel.h)
class ThreadPool;  // src/cpu/thread_pool.h

enum class DeviceKind { kCpu, kCuda };
const char* DeviceKindName(DeviceKind kind);  // "cpu", "cuda"

// What enumeration reports about an accelerator, before any backend exists.
struct DeviceInfo {
  int id = 0;
  std::string name;
  uint64_t total_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  virtual int id() const = 0;  // ordinal among devices of this kind
  virtual const std::string& name() const = 0;
  virtual uint64_t total_memory_bytes() const = 0;
};

// Memory on one device, freed when the Buffer is destroyed.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual void* data() const = 0;
  virtual size_t size_bytes() const = 0;
  virtual const Device& device() const = 0;
  // The host memory as a HostBuffer a Tensor can share; null when the memory
  // is not host-addressable (device memory).
  virtual std::shared_ptr<HostBuffer> host_buffer() const { return nullptr; }
};

// An ordered queue of work on a device. The CPU runs work as it is queued,
// so its Synchronize returns at once; a CUDA stream waits for the GPU.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual Status Synchronize() = 0;
};

// One node as a backend sees it.
struct NodeCall {
  const std::string* op_type = nullptr;
  const Attributes* attrs = nullptr;
  int opset = 0;
  // Opaque per-node state the backend's Prepare made at load (or null).
  const void* prepared = nullptr;
  // Largest tensor the node may allocate (SessionOptions::max_tensor_bytes);
  // 0: no limit. Checked before allocating (kOutputTooLarge).
  uint64_t max_tensor_bytes = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const Device& device() const = 0;
  virtual bool SupportsOp(const std::string& op_type) const = 0;
  virtual Status Allocate(size_t size_bytes, std::unique_ptr<Buffer>* out) = 0;
  virtual Status CreateStream(std::unique_ptr<Stream>* out) = 0;
  // Runs one node on `stream`. `outputs` arrives sized to the node's output
  // count; the backend fills each tensor. Inputs may be null (absent
  // optional inputs). Must be safe to call from several threads at once.
  virtual Status Execute(const NodeCall& node, const std::vector<const Tensor*>& inputs,
                         std::vector<Tensor>* outputs, Stream* stream) = 0;
  // Called once per node at load with what is known of each input (with
  // `constant` set for constants). The backend may leave in *prepared state
  // (e.g. pre-packed weights) that Execute then receives as
  // NodeCall::prepared; it must be read-only from then on.
  virtual Status Prepare(const NodeCall& node, const std::vector<ValueInfo>& inputs,
                         std::shared_ptr<const void>* prepared) {
    (void)node;
    (void)inputs;
    prepared->reset();
    return Status::Ok();
  }
};

// The CPU backend over the kernel table. `pool` (may be null: single
// thread) is borrowed and must outlive the backend.
std::unique_ptr<Backend> CreateCpuBackend(ThreadPool* pool);

#ifdef MAAS_WITH_CUDA
// Defined in native/cuda: every CUDA device, or an empty list on any CUDA
// error (no driver, no device). Never fails.
std::vector<DeviceInfo> ListCudaDevices();
#endif

}  // namespace maas
