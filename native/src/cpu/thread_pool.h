// A fixed pool of worker threads for splitting one kernel's work. Each
// session owns one; ParallelFor blocks the caller (which also does a share of
// the work) until every chunk is done.
#pragma once
#include <cstdint>
#include <functional>

namespace maas {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 means run everything inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const;
  // Calls fn(begin, end) over disjoint ranges covering [0, n), each at least
  // `grain` long (except the last). Safe to call from several threads at once
  // (calls are serialized); fn must not call ParallelFor on the same pool.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace maas
