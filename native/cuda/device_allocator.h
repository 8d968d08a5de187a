// A caching allocator for one CUDA device: cudaMalloc is slow and
// synchronizes the device, so freed blocks wait in per-size-class free lists
// for the next request of their class instead of going back to the driver.
//
// Stream safety: memory freed while a stream may still read it (a dynamic
// output released mid-run) is tagged with that stream and only reused by the
// same stream until the stream is synchronized (ReleaseStream), after which
// it is free for every stream. Memory allocated outside a kernel (arenas,
// constants, outputs) is freed by the executor only after its run's stream
// synchronized, so it carries no tag.
//
// Owner: one allocator per device, process-wide (ForDevice), never destroyed
// (buffers may outlive every session, e.g. in a JS finalizer at exit).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "maas/backend.h"
#include "maas/status.h"

namespace maas::cuda {

class DeviceAllocator {
 public:
  static DeviceAllocator& ForDevice(int device);
  // Every allocator made so far (for statistics).
  static std::vector<DeviceAllocator*> All();

  // Device memory of at least size_bytes (rounded up to its size class),
  // kOutOfMemory with the numbers when the device has none even after the
  // cache was returned to the driver. `stream` tags where the memory will be
  // used (null: no stream, see above).
  Status Allocate(size_t size_bytes, cudaStream_t stream, std::shared_ptr<Buffer>* out);
  // The stream has completed all work: blocks it freed are free for all.
  void ReleaseStream(cudaStream_t stream);
  // Gives every cached block back to the driver (on OOM, and in tests).
  void Trim();

  void AddPinned(int64_t delta_bytes);
  DeviceMemoryStats Stats() const;
  int device() const { return device_; }

  // The size class of a request: 512-byte steps below 1 MiB, 2 MiB steps above.
  static size_t RoundSize(size_t size_bytes);

 private:
  explicit DeviceAllocator(int device) : device_(device) {}
  class Block;
  void Free(void* data, size_t size_bytes, cudaStream_t stream);
  void TrimLocked();

  const int device_;
  mutable std::mutex mutex_;
  // Free blocks by size class; the stream they wait for (null: any).
  std::map<cudaStream_t, std::multimap<size_t, void*>> free_;
  DeviceMemoryStats stats_;
};

}  // namespace maas::cuda
