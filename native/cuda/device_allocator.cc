#include "device_allocator.h"

#include <algorithm>
#include <string>

#include "cuda_status.h"

namespace maas::cuda {

namespace {

constexpr size_t kSmallStep = 512;
constexpr size_t kLargeStep = size_t{2} << 20;
constexpr size_t kSmallLimit = size_t{1} << 20;

std::mutex& RegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

std::map<int, DeviceAllocator*>& Registry() {
  static auto* registry = new std::map<int, DeviceAllocator*>();  // never destroyed: see the header
  return *registry;
}

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

// Device memory that returns to its allocator's free list when the last
// tensor lets go of it.
class DeviceAllocator::Block final : public Buffer {
 public:
  Block(DeviceAllocator* owner, void* data, size_t size_bytes, cudaStream_t stream)
      : Buffer(data, size_bytes, DeviceId{DeviceKind::kCuda, owner->device()}), owner_(owner), stream_(stream) {}
  ~Block() override { owner_->Free(data(), size_bytes(), stream_); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

 private:
  DeviceAllocator* owner_;
  cudaStream_t stream_;
};

DeviceAllocator& DeviceAllocator::ForDevice(int device) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  DeviceAllocator*& slot = Registry()[device];
  if (!slot) {
    slot = new DeviceAllocator(device);
    slot->stats_.device = device;
  }
  return *slot;
}

std::vector<DeviceAllocator*> DeviceAllocator::All() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  std::vector<DeviceAllocator*> all;
  for (auto& entry : Registry()) all.push_back(entry.second);
  return all;
}

size_t DeviceAllocator::RoundSize(size_t size_bytes) {
  const size_t size = std::max<size_t>(size_bytes, 1);
  const size_t step = size <= kSmallLimit ? kSmallStep : kLargeStep;
  return (size + step - 1) / step * step;
}

Status DeviceAllocator::Allocate(size_t size_bytes, cudaStream_t stream, std::shared_ptr<Buffer>* out) {
  const size_t size = RoundSize(size_bytes);
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.allocations;
    // A block this stream freed itself first, then one free for all.
    for (cudaStream_t tag : {stream, static_cast<cudaStream_t>(nullptr)}) {
      auto list = free_.find(tag);
      if (list == free_.end()) continue;
      auto it = list->second.find(size);
      if (it == list->second.end()) continue;
      data = it->second;
      list->second.erase(it);
      break;
    }
    if (data) {
      stats_.in_use_bytes += size;
      stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
    }
  }
  if (!data) {
    MAAS_RETURN_IF_ERROR(FromCuda(cudaSetDevice(device_), "cudaSetDevice"));
    cudaError_t error = cudaMalloc(&data, size);
    if (error == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: clear it and retry with the cache returned
      Trim();
      error = cudaMalloc(&data, size);
    }
    if (error != cudaSuccess) {
      cudaGetLastError();
      size_t free_bytes = 0;
      size_t total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      Status status = FromCuda(error, "cudaMalloc");
      if (status.code() != StatusCode::kOutOfMemory) return status;
      return Status(StatusCode::kOutOfMemory, "cuda:" + std::to_string(device_) +
                                                  " is out of memory: " + std::to_string(size) + " bytes requested, " +
                                                  MiB(free_bytes) + " free of " + MiB(total_bytes));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.driver_allocations;
    stats_.reserved_bytes += size;
    stats_.in_use_bytes += size;
    stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  }
  *out = std::make_shared<Block>(this, data, size, stream);
  return Status::Ok();
}

void DeviceAllocator::Free(void* data, size_t size_bytes, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.in_use_bytes -= size_bytes;
  free_[stream].emplace(size_bytes, data);
}

void DeviceAllocator::ReleaseStream(cudaStream_t stream) {
  if (!stream) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto list = free_.find(stream);
  if (list == free_.end()) return;
  free_[nullptr].insert(list->second.begin(), list->second.end());
  free_.erase(list);
}

void DeviceAllocator::Trim() {
  std::lock_guard<std::mutex> lock(mutex_);
  TrimLocked();
}

// Only blocks free for all: a stream's own may still be read by its work.
void DeviceAllocator::TrimLocked() {
  auto list = free_.find(nullptr);
  if (list == free_.end()) return;
  cudaSetDevice(device_);
  for (auto& [size, data] : list->second) {
    cudaFree(data);
    stats_.reserved_bytes -= size;
  }
  free_.erase(list);
}

void DeviceAllocator::AddPinned(int64_t delta_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.pinned_host_bytes += static_cast<uint64_t>(delta_bytes);
}

DeviceMemoryStats DeviceAllocator::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace maas::cuda
