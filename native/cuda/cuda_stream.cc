#include "cuda_stream.h"

#include <algorithm>
#include <cstring>

#include "cuda_status.h"

namespace maas::cuda {

namespace {

constexpr size_t kStagingAlign = 256;
constexpr size_t kMinStagingBytes = size_t{1} << 20;

// Runs on a CUDA driver thread: no CUDA calls allowed here.
void CUDART_CB RunHostCopy(void* user) {
  const auto* copy = static_cast<const StagedCopy*>(user);
  std::memcpy(copy->dst, copy->src, copy->size_bytes);
}

}  // namespace

Status CudaStream::Create(int device, DeviceAllocator* allocator, std::unique_ptr<CudaStream>* out) {
  std::unique_ptr<CudaStream> stream(new CudaStream(device, allocator));
  MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device), "cudaSetDevice"));
  // Non-blocking: no implicit ordering with the legacy default stream, so
  // instances on one device run side by side.
  MAAS_RETURN_IF_ERROR(
      FromCuda(cudaStreamCreateWithFlags(&stream->stream_, cudaStreamNonBlocking), "cudaStreamCreate"));
  MAAS_RETURN_IF_ERROR(FromCuda(
      cudaEventCreateWithFlags(&stream->done_, cudaEventBlockingSync | cudaEventDisableTiming), "cudaEventCreate"));
  *out = std::move(stream);
  return Status::Ok();
}

CudaStream::~CudaStream() {
  cudaSetDevice(device_);
  if (stream_) {
    cudaStreamSynchronize(stream_);
    allocator_->ReleaseStream(stream_);
    cudaStreamDestroy(stream_);
  }
  if (done_) cudaEventDestroy(done_);
  if (staging_) {
    cudaFreeHost(staging_);
    allocator_->AddPinned(-static_cast<int64_t>(staging_bytes_));
  }
  cudaGetLastError();  // a destructor reports nothing; leave no error behind for the next call
}

Status CudaStream::Wait() {
  MAAS_RETURN_IF_ERROR(FromCuda(cudaEventRecord(done_, stream_), "cudaEventRecord"));
  MAAS_RETURN_IF_ERROR(FromCuda(cudaEventSynchronize(done_), "the run on cuda:" + std::to_string(device_)));
  pending_.clear();
  staged_bytes_ = 0;
  allocator_->ReleaseStream(stream_);
  return Status::Ok();
}

Status CudaStream::Synchronize() {
  MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device_), "cudaSetDevice"));
  return Wait();
}

Status CudaStream::Stage(size_t size_bytes, char** out) {
  const size_t need = (size_bytes + kStagingAlign - 1) / kStagingAlign * kStagingAlign;
  if (staged_bytes_ + need > staging_bytes_) {
    // Queued copies still read the old buffer: let them finish first.
    if (staged_bytes_ > 0) MAAS_RETURN_IF_ERROR(Wait());
    const size_t grown = std::max({need, kMinStagingBytes, staging_bytes_ * 2});
    if (staging_) {
      cudaFreeHost(staging_);
      allocator_->AddPinned(-static_cast<int64_t>(staging_bytes_));
      staging_ = nullptr;
      staging_bytes_ = 0;
    }
    void* pinned = nullptr;
    MAAS_RETURN_IF_ERROR(
        FromCuda(cudaHostAlloc(&pinned, grown, cudaHostAllocPortable), "cudaHostAlloc (pinned staging)"));
    staging_ = static_cast<char*>(pinned);
    staging_bytes_ = grown;
    allocator_->AddPinned(static_cast<int64_t>(grown));
  }
  *out = staging_ + staged_bytes_;
  staged_bytes_ += need;
  return Status::Ok();
}

Status CudaStream::CopyFromHost(const void* host_src, void* device_dst, size_t size_bytes) {
  if (size_bytes == 0) return Status::Ok();
  MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device_), "cudaSetDevice"));
  char* staged = nullptr;
  MAAS_RETURN_IF_ERROR(Stage(size_bytes, &staged));
  std::memcpy(staged, host_src, size_bytes);
  return FromCuda(cudaMemcpyAsync(device_dst, staged, size_bytes, cudaMemcpyHostToDevice, stream_), "H2D copy");
}

Status CudaStream::CopyToHost(const void* device_src, void* host_dst, size_t size_bytes) {
  if (size_bytes == 0) return Status::Ok();
  MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device_), "cudaSetDevice"));
  char* staged = nullptr;
  MAAS_RETURN_IF_ERROR(Stage(size_bytes, &staged));
  MAAS_RETURN_IF_ERROR(
      FromCuda(cudaMemcpyAsync(staged, device_src, size_bytes, cudaMemcpyDeviceToHost, stream_), "D2H copy"));
  // The copy out of staging runs on a driver thread once the D2H is done.
  pending_.push_back(std::make_unique<StagedCopy>(StagedCopy{host_dst, staged, size_bytes}));
  return FromCuda(cudaLaunchHostFunc(stream_, RunHostCopy, pending_.back().get()), "cudaLaunchHostFunc");
}

}  // namespace maas::cuda
