// The CPU backend's threads. One process-wide set of workers serves every
// session: loading many models (or many instances of one) adds no threads.
// A session holds a ThreadPool, a handle that caps how many threads one of
// its runs may use at once (its intra_op_threads, counting the calling
// thread). docs/engine.md ("Thread pool") gives the policy.
//
// Workers sleep on a condition variable when there is no work: an idle
// engine burns no CPU. ParallelFor posts a job that idle workers join (up to
// the cap); the caller works on its own job too and returns when every chunk
// is done. Calls from several threads, and from inside a ParallelFor, run at
// once without deadlock: a caller never waits for work it could do itself.
#pragma once
#include <cstdint>

#include "cpu/function_ref.h"

namespace maas {

using RangeFn = FunctionRef<void(int64_t, int64_t)>;

class ThreadPool {
 public:
  // max_threads counts the calling thread: 1 runs everything inline. The
  // shared workers grow to max_threads - 1 if fewer exist.
  explicit ThreadPool(int max_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() = default;

  // The cap: at most this many threads work on one ParallelFor.
  int num_threads() const { return max_threads_; }
  // Calls fn(begin, end) over disjoint ranges covering [0, n), each at least
  // `grain` long (except the last), on up to num_threads() threads.
  void ParallelFor(int64_t n, int64_t grain, RangeFn fn) const;

 private:
  int max_threads_;
};

// Worker threads of the shared pool (for tests and docs).
int SharedPoolWorkerCount();

}  // namespace maas
