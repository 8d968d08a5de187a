// Persistent workers woken per ParallelFor call. Work is handed out in chunks
// through an atomic cursor, so a slow thread never holds up the others; the
// caller claims chunks too and returns once every worker has checked in.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace maas {

struct ThreadPool::Impl {
  int num_threads = 1;
  std::vector<std::thread> workers;

  std::mutex call_mutex;  // one ParallelFor at a time

  // The current job, published under `mutex` by bumping `generation`.
  std::mutex mutex;
  std::condition_variable work_ready;
  std::condition_variable work_done;
  uint64_t generation = 0;
  bool stopping = false;
  int workers_busy = 0;

  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int64_t chunk = 1;
  std::atomic<int64_t> next_begin{0};

  void RunChunks() {
    for (;;) {
      int64_t begin = next_begin.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= n) return;
      (*fn)(begin, std::min(n, begin + chunk));
    }
  }

  void WorkerLoop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_ready.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping) return;
        seen = generation;
      }
      RunChunks();
      std::lock_guard<std::mutex> lock(mutex);
      if (--workers_busy == 0) work_done.notify_one();
    }
  }
};

ThreadPool::ThreadPool(int num_threads) : impl_(new Impl) {
  impl_->num_threads = std::max(1, num_threads);
  for (int i = 1; i < impl_->num_threads; ++i) impl_->workers.emplace_back([this] { impl_->WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->work_ready.notify_all();
  for (auto& t : impl_->workers) t.join();
  delete impl_;
}

int ThreadPool::num_threads() const { return impl_->num_threads; }

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t threads = impl_->num_threads;
  // A few chunks per thread balance uneven work without much cursor traffic.
  int64_t chunk = std::max(grain, (n + threads * 4 - 1) / (threads * 4));
  if (threads <= 1 || chunk >= n) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call_lock(impl_->call_mutex);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->fn = &fn;
    impl_->n = n;
    impl_->chunk = chunk;
    impl_->next_begin.store(0, std::memory_order_relaxed);
    impl_->workers_busy = static_cast<int>(impl_->workers.size());
    ++impl_->generation;
  }
  impl_->work_ready.notify_all();
  impl_->RunChunks();
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->work_done.wait(lock, [&] { return impl_->workers_busy == 0; });
  impl_->fn = nullptr;
}

}  // namespace maas
