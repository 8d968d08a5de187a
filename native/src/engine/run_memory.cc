#include "engine/run_memory.h"

namespace maas {

Status ArenaPool::Acquire(Backend& backend, uint64_t size_bytes, std::shared_ptr<Buffer>* arena) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      *arena = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (*arena && (*arena)->size_bytes() >= size_bytes) return Status::Ok();
  if (*arena) {
    Forget(**arena);  // too small for this plan: replaced by a larger one
    arena->reset();
  }
  MAAS_RETURN_IF_ERROR(backend.Allocate(size_bytes, arena));
  reserved_bytes_.fetch_add((*arena)->size_bytes(), std::memory_order_relaxed);
  return Status::Ok();
}

void ArenaPool::Release(std::shared_ptr<Buffer> arena) {
  if (!arena) return;
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(arena));
}

ArenaPool::~ArenaPool() {
  for (const auto& arena : free_) Forget(*arena);
}

std::unique_ptr<Frame> FramePool::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return nullptr;
  std::unique_ptr<Frame> frame = std::move(free_.back());
  free_.pop_back();
  return frame;
}

void FramePool::Give(std::unique_ptr<Frame> frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(frame));
}

}  // namespace maas
