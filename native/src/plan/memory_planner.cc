#include "plan/memory_planner.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace maas {

namespace {

uint64_t Aligned(uint64_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// Free gaps below the top of the arena, by offset.
class FreeList {
 public:
  uint64_t Take(uint64_t size) {
    auto best = gaps_.end();
    for (auto it = gaps_.begin(); it != gaps_.end(); ++it)
      if (it->second >= size && (best == gaps_.end() || it->second < best->second)) best = it;
    if (best != gaps_.end()) {
      const uint64_t offset = best->first, gap = best->second;
      gaps_.erase(best);
      if (gap > size) gaps_[offset + size] = gap - size;
      return offset;
    }
    // A gap touching the top grows into the new block.
    if (!gaps_.empty()) {
      auto last = std::prev(gaps_.end());
      if (last->first + last->second == top_) {
        const uint64_t offset = last->first;
        gaps_.erase(last);
        top_ = offset + size;
        peak_ = std::max(peak_, top_);
        return offset;
      }
    }
    const uint64_t offset = top_;
    top_ += size;
    peak_ = std::max(peak_, top_);
    return offset;
  }

  void Give(uint64_t offset, uint64_t size) {
    if (size == 0) return;
    auto next = gaps_.lower_bound(offset);
    if (next != gaps_.end() && offset + size == next->first) {
      size += next->second;
      next = gaps_.erase(next);
    }
    if (next != gaps_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        prev->second += size;
        return;
      }
    }
    gaps_[offset] = size;
  }

  uint64_t peak() const { return peak_; }

 private:
  std::map<uint64_t, uint64_t> gaps_;
  uint64_t top_ = 0;
  uint64_t peak_ = 0;
};

}  // namespace

uint64_t AssignOffsets(std::vector<MemoryBlock>* blocks) {
  if (blocks->empty()) return 0;
  int first = 0, last = 0;
  for (const MemoryBlock& b : *blocks) {
    first = std::min(first, b.first_step);
    last = std::max(last, b.last_step);
  }
  // Blocks by the step that writes them (largest first) and by their last reader.
  std::vector<size_t> by_start(blocks->size());
  for (size_t i = 0; i < by_start.size(); ++i) by_start[i] = i;
  std::sort(by_start.begin(), by_start.end(), [&](size_t x, size_t y) {
    const MemoryBlock& a = (*blocks)[x];
    const MemoryBlock& b = (*blocks)[y];
    if (a.first_step != b.first_step) return a.first_step < b.first_step;
    if (a.size_bytes != b.size_bytes) return a.size_bytes > b.size_bytes;
    return x < y;
  });
  // Ties on the last step keep the start order, so the layout is deterministic.
  // (std::sort with the rank rather than std::stable_sort: libstdc++ 12's
  // stable_sort uses get_temporary_buffer, deprecated and fatal under clang's
  // strict warnings.)
  std::vector<size_t> start_rank(blocks->size());
  for (size_t i = 0; i < by_start.size(); ++i) start_rank[by_start[i]] = i;
  std::vector<size_t> by_end = by_start;
  std::sort(by_end.begin(), by_end.end(), [&](size_t x, size_t y) {
    const int x_end = (*blocks)[x].last_step;
    const int y_end = (*blocks)[y].last_step;
    return x_end != y_end ? x_end < y_end : start_rank[x] < start_rank[y];
  });
  FreeList free_list;
  size_t next_start = 0, next_end = 0;
  for (int step = first; step <= last; ++step) {
    for (; next_start < by_start.size() && (*blocks)[by_start[next_start]].first_step == step; ++next_start) {
      MemoryBlock& b = (*blocks)[by_start[next_start]];
      b.offset = free_list.Take(Aligned(b.size_bytes));
    }
    for (; next_end < by_end.size() && (*blocks)[by_end[next_end]].last_step == step; ++next_end) {
      const MemoryBlock& b = (*blocks)[by_end[next_end]];
      free_list.Give(b.offset, Aligned(b.size_bytes));
    }
  }
  return free_list.peak();
}

}  // namespace maas
