// Float storage on 64-byte boundaries (a cache line, and one AVX-512
// register): packed GEMM panels and per-thread scratch, whose vector loads
// would otherwise straddle cache lines.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace maas {

class AlignedFloats {
 public:
  AlignedFloats() = default;
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  ~AlignedFloats() { std::free(data_); }

  // Exactly `count` floats, zeroed; false (and empty) when there is no memory.
  bool Resize(size_t count) {
    std::free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
    if (count == 0) return true;
    if (!Grow(count)) return false;
    std::memset(data_, 0, count * sizeof(float));
    size_ = count;
    return true;
  }
  // At least `count` floats, contents undefined; keeps the memory it has when
  // that is enough (per-thread scratch that only grows). Null when there is
  // no memory.
  float* Reserve(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      if (!Grow(count)) return nullptr;
    }
    return data_;
  }

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  bool Grow(size_t count) {
    const size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
    data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    capacity_ = data_ ? count : 0;
    return data_ != nullptr;
  }

  float* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace maas
