// One CUDA stream with its pinned host staging buffer. The executor makes
// one per concurrent run of a plan (Frame::stream) and pools it with its
// frame, so a model instance serving a steady stream of batches reuses the
// same stream and the same pinned memory run after run.
//
// A run's copies and kernels are queued on this stream in order: caller
// bytes are copied into pinned staging and uploaded (H2D), kernels run,
// results are downloaded into staging (D2H) and a host function queued
// behind them copies them into the caller's memory. Synchronize records an
// event and waits for it with blocking sync (the waiting thread sleeps in
// the driver instead of spinning); that thread is the addon's run worker,
// never the JS thread (docs/cuda.md, "Completion").
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "device_allocator.h"
#include "maas/backend.h"

namespace maas::cuda {

// A download's last leg, from pinned staging into the caller's memory.
struct StagedCopy {
  void* dst;
  const void* src;
  size_t size_bytes;
};

class CudaStream final : public Stream {
 public:
  static Status Create(int device, DeviceAllocator* allocator, std::unique_ptr<CudaStream>* out);
  ~CudaStream() override;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  Status Synchronize() override;
  cudaStream_t get() const { return stream_; }
  int device() const { return device_; }

  // Through the staging buffer; the host side may be reused (src) or read
  // (dst) only after Synchronize.
  Status CopyFromHost(const void* host_src, void* device_dst, size_t size_bytes);
  Status CopyToHost(const void* device_src, void* host_dst, size_t size_bytes);
  size_t staging_bytes() const { return staging_bytes_; }

 private:
  CudaStream(int device, DeviceAllocator* allocator) : device_(device), allocator_(allocator) {}
  // `size_bytes` of pinned memory no queued copy uses until Synchronize.
  Status Stage(size_t size_bytes, char** out);
  Status Wait();

  const int device_;
  DeviceAllocator* allocator_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t done_ = nullptr;
  char* staging_ = nullptr;
  size_t staging_bytes_ = 0;
  size_t staged_bytes_ = 0;                           // used since the last Synchronize
  std::vector<std::unique_ptr<StagedCopy>> pending_;  // read by host functions until Synchronize
};

}  // namespace maas::cuda
