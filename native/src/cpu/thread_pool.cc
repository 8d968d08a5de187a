// The shared workers and their job list. Work within a job is handed out in
// chunks through an atomic cursor, so a slow thread never holds up the
// others. Ownership: the workers belong to a process-wide pool that is never
// destroyed (they sleep until the process exits), so no session teardown or
// static destruction order can join a thread that is still in use.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace maas {

namespace {

struct Job {
  Job(RangeFn f, int64_t count, int64_t chunk_size, int helpers)
      : fn(f), n(count), chunk(chunk_size), helpers_wanted(helpers) {}
  RangeFn fn;
  const int64_t n;
  const int64_t chunk;
  std::atomic<int64_t> next{0};
  // Under the pool's mutex:
  const int helpers_wanted;  // workers that may join (the cap minus the caller)
  int helpers_joined = 0;
  int helpers_active = 0;  // joined and not yet back
  bool open = true;        // still taking helpers

  void RunChunks() {
    for (;;) {
      const int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= n) return;
      fn(begin, std::min(n, begin + chunk));
    }
  }
  bool WantsHelp() const { return open && helpers_joined < helpers_wanted && next.load(std::memory_order_relaxed) < n; }
};

class WorkerPool {
 public:
  static WorkerPool& Get() {
    static WorkerPool* pool = new WorkerPool();  // never destroyed: see the file comment
    return *pool;
  }

  void EnsureWorkers(int count) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_) < count) {
      std::thread([this] { WorkerLoop(); }).detach();
      ++workers_;
    }
  }

  int workers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return workers_;
  }

  void Run(Job& job) {
    int wake = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(&job);
      wake = std::min(job.helpers_wanted, idle_);
    }
    for (int i = 0; i < wake; ++i) work_ready_.notify_one();
    job.RunChunks();
    std::unique_lock<std::mutex> lock(mutex_);
    job.open = false;
    jobs_.erase(std::find(jobs_.begin(), jobs_.end(), &job));
    job_done_.wait(lock, [&] { return job.helpers_active == 0; });
  }

 private:
  WorkerPool() = default;

  Job* FindJob() {
    for (Job* job : jobs_)
      if (job->WantsHelp()) return job;
    return nullptr;
  }

  void WorkerLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job* job = FindJob();
      if (!job) {
        ++idle_;
        work_ready_.wait(lock);
        --idle_;
        continue;
      }
      ++job->helpers_joined;
      ++job->helpers_active;
      lock.unlock();
      job->RunChunks();
      lock.lock();
      if (--job->helpers_active == 0 && !job->open) job_done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable job_done_;
  std::vector<Job*> jobs_;  // posted and still open
  int workers_ = 0;
  int idle_ = 0;
};

}  // namespace

ThreadPool::ThreadPool(int max_threads) : max_threads_(std::max(1, max_threads)) {
  if (max_threads_ > 1) WorkerPool::Get().EnsureWorkers(max_threads_ - 1);
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, RangeFn fn) const {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t threads = max_threads_;
  // A few chunks per thread balance uneven work without much cursor traffic.
  const int64_t chunk = std::max(grain, (n + threads * 4 - 1) / (threads * 4));
  if (threads <= 1 || chunk >= n) {
    fn(0, n);
    return;
  }
  const int64_t chunks = (n + chunk - 1) / chunk;
  Job job(fn, n, chunk, static_cast<int>(std::min<int64_t>(threads - 1, chunks - 1)));
  WorkerPool::Get().Run(job);
}

int SharedPoolWorkerCount() { return WorkerPool::Get().workers(); }

}  // namespace maas
