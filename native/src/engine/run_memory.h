// The memory a session's runs reuse: arena buffers (shared by every plan of
// the session) and, per plan, frames (the per-run slot tables). Both are
// taken at the start of a run and given back at its end, so a steady stream
// of runs allocates neither; concurrent runs each hold their own.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "maas/backend.h"
#include "plan/plan.h"

namespace maas {

// Arena buffers on the session's device. A run takes the most recently
// returned one (LIFO keeps a sequential stream on one buffer, so its frame
// stays bound to it) and grows it when its plan needs more.
class ArenaPool {
 public:
  Status Acquire(Backend& backend, uint64_t size_bytes, std::shared_ptr<Buffer>* arena);
  void Release(std::shared_ptr<Buffer> arena);
  uint64_t reserved_bytes() const { return reserved_bytes_.load(std::memory_order_relaxed); }
  ArenaPool() = default;
  ArenaPool(const ArenaPool&) = delete;
  ArenaPool& operator=(const ArenaPool&) = delete;
  ~ArenaPool();

 private:
  void Forget(const Buffer& arena) { reserved_bytes_.fetch_sub(arena.size_bytes(), std::memory_order_relaxed); }
  std::mutex mutex_;
  std::vector<std::shared_ptr<Buffer>> free_;
  std::atomic<uint64_t> reserved_bytes_{0};
};

// One run's view of a plan: a tensor slot per value, and per step the
// input and output pointers an ExecContext spans. Built once per plan per
// concurrent run; slots keep their shapes' capacity between runs.
struct Frame {
  std::vector<Tensor> slots;                           // per value id
  std::vector<Tensor> unused_outputs;                  // where kernels write outputs the model does not use
  std::vector<const Tensor*> inputs;                   // all steps' inputs, flattened
  std::vector<Tensor*> outputs;                        // all steps' outputs, flattened
  std::vector<size_t> input_begin;                     // per step, into `inputs`
  std::vector<size_t> output_begin;                    // per step, into `outputs`
  std::vector<int> arena_values;                       // values in arena blocks (rebound with the arena)
  std::vector<int> owned_values;                       // values in owned blocks, with owned_block_of
  std::vector<int> owned_block_of;                     // index into ExecutionPlan::owned_blocks
  std::vector<std::shared_ptr<Buffer>> owned_buffers;  // this run's, per owned block
  std::unique_ptr<Stream> stream;
  // The arena memory the slots point into, by address and size: a Buffer
  // object's address may be reused by a new arena, its bytes' address with
  // its size only if it is the same memory.
  const void* bound_data = nullptr;
  size_t bound_size = 0;
  std::shared_ptr<Buffer> arena_view;  // a non-owning Buffer over that memory
};

// Frames of one plan, waiting for the next run.
class FramePool {
 public:
  std::unique_ptr<Frame> Take();  // null when none is waiting
  void Give(std::unique_ptr<Frame> frame);

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Frame>> free_;
};

}  // namespace maas
