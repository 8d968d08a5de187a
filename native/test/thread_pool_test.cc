// The shared thread pool: sessions add no threads beyond the largest cap, a
// call uses at most its cap, nested and concurrent calls finish, and idle
// workers sleep instead of spinning.
#include <gtest/gtest.h>

#include <ctime>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"

namespace maas {
namespace {

TEST(SharedPool, ManySessionsAddNoThreads) {
  ThreadPool first(3);
  const int workers = SharedPoolWorkerCount();
  EXPECT_GE(workers, 2);
  std::vector<std::unique_ptr<ThreadPool>> sessions;
  for (int i = 0; i < 50; ++i) sessions.emplace_back(new ThreadPool(3));
  EXPECT_EQ(SharedPoolWorkerCount(), workers);
  ThreadPool wider(workers + 3);  // a larger cap grows the shared workers once
  EXPECT_EQ(SharedPoolWorkerCount(), workers + 2);
}

TEST(SharedPool, ACallUsesAtMostItsCap) {
  ThreadPool wide(6);  // the shared pool has at least 5 workers now
  for (int cap : {1, 2, 3}) {
    ThreadPool pool(cap);
    std::atomic<int> inside{0}, most{0};
    pool.ParallelFor(64, 1, [&](int64_t, int64_t) {
      const int now = ++inside;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      --inside;
    });
    EXPECT_LE(most.load(), cap);
    EXPECT_GE(most.load(), 1);
  }
}

TEST(SharedPool, NestedAndConcurrentCallsFinish) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 20; ++rep)
        pool.ParallelFor(8, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) pool.ParallelFor(100, 10, [&](int64_t ib, int64_t ie) { total += ie - ib; });
        });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 3 * 20 * 8 * 100);
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

TEST(SharedPool, IdleWorkersSleep) {
  ThreadPool pool(4);
  std::atomic<int64_t> sum{0};
  pool.ParallelFor(1 << 16, 64, [&](int64_t b, int64_t e) { sum += e - b; });
  ASSERT_EQ(sum.load(), 1 << 16);
  const double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Three spinning workers would burn about 0.9 s of CPU here.
  EXPECT_LT(ProcessCpuSeconds() - before, 0.1);
}

}  // namespace
}  // namespace maas
