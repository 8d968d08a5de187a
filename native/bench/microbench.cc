// Engine microbenchmarks from C++, without Node in the way:
//   maas_microbench gemm [threads]   SGEMM GFLOP/s at 256/512/1024 squared per ISA
//   maas_microbench run [runs]       Session::Run cost of tiny models (µs per call)
// Built beside the C++ tests (not by cmake-js); never run by ctest: timings
// are reported, not asserted. Medians of several rounds, since the machine
// is shared.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <ctime>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/thread_pool.h"
#include "maas/engine.h"
#include "test_models.h"

namespace maas {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds of this process (all threads): on a shared machine, work per
// CPU-second shows a kernel's efficiency even when wall time is stretched.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int GemmBench(int threads) {
  ThreadPool pool(threads);
  std::printf("SGEMM, C = A*B (both operands packed per call), %d thread(s), median of 7 rounds\n", threads);
  std::printf("%8s %10s %12s %18s\n", "n", "isa", "GFLOP/s", "GFLOP/CPU-second");
  for (int64_t n : {256, 512, 1024}) {
    std::vector<float> a(n * n), b(n * n), c(n * n);
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<float>((i * 7) % 13) / 13.0f - 0.5f;
      b[i] = static_cast<float>((i * 5) % 11) / 11.0f - 0.5f;
    }
    for (CpuIsa isa : {CpuIsa::kPortable, CpuIsa::kAvx2Fma, CpuIsa::kAvx512}) {
      if (!CpuSupportsIsa(isa)) continue;
      SgemmArgs args;
      args.shape = SgemmShape{false, false, n, n, n, n, n, n};
      args.a = a.data();
      args.b = b.data();
      args.c = c.data();
      const double flops = 2.0 * n * n * n;
      const int reps = std::max<int>(1, static_cast<int>(2e9 / flops));
      std::vector<double> rounds, cpu_rounds;
      Sgemm(args, &pool, isa);  // warm-up: scratch, caches
      for (int r = 0; r < 7; ++r) {
        auto t0 = Clock::now();
        const double cpu0 = CpuSeconds();
        for (int i = 0; i < reps; ++i) Sgemm(args, &pool, isa);
        rounds.push_back(flops * reps / Seconds(t0, Clock::now()) / 1e9);
        cpu_rounds.push_back(flops * reps / (CpuSeconds() - cpu0) / 1e9);
      }
      std::printf("%8lld %10s %12.1f %18.1f\n", static_cast<long long>(n), CpuIsaName(isa), Median(rounds),
                  Median(cpu_rounds));
    }
  }
  return 0;
}

// Median µs of one Session::Run over `runs` calls, 5 rounds.
double RunMicros(const Session& session, const std::vector<NamedTensor>& feeds, int runs) {
  std::vector<NamedTensor> outputs;
  for (int i = 0; i < runs / 10 + 1; ++i) (void)session.Run(feeds, &outputs);
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < runs; ++i) {
      Status s = session.Run(feeds, &outputs);
      if (!s.ok()) {
        std::fprintf(stderr, "run failed: %s\n", s.message().c_str());
        std::exit(1);
      }
    }
    rounds.push_back(Seconds(t0, Clock::now()) * 1e6 / runs);
  }
  return Median(rounds);
}

int RunBench(int runs) {
  struct Case {
    const char* name;
    std::string bytes;
  };
  const std::vector<float> w(16 * 16, 0.01f), bias(16, 0.1f);
  const Case cases[] = {
      {"identity [1,16]", ModelBuilder().Input("x", kOnnxFloat, {-1, 16}).Node("Identity", {"x"}, {"y"}).Output("y", kOnnxFloat, {-1, 16}).Bytes()},
      {"relu [1,16]", ModelBuilder().Input("x", kOnnxFloat, {-1, 16}).Node("Relu", {"x"}, {"y"}).Output("y", kOnnxFloat, {-1, 16}).Bytes()},
      {"gemm+relu [1,16]x[16,16]",
       ModelBuilder()
           .Input("x", kOnnxFloat, {-1, 16})
           .Floats("w", {16, 16}, w)
           .Floats("b", {16}, bias)
           .Node("Gemm", {"x", "w", "b"}, {"g"})
           .Node("Relu", {"g"}, {"y"})
           .Output("y", kOnnxFloat, {-1, 16})
           .Bytes()},
  };
  std::printf("Session::Run from C++, median of 5 rounds of %d calls, 1 intra-op thread\n", runs);
  std::vector<float> input(16, 0.5f);
  for (const Case& c : cases) {
    SessionOptions options;
    options.intra_op_threads = 1;
    std::unique_ptr<Session> session;
    Status s = Session::Load(Data(c.bytes), c.bytes.size(), options, &session);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name, s.message().c_str());
      return 1;
    }
    std::vector<NamedTensor> feeds = {
        {"x", Tensor{DType::kFloat32, {1, 16}, Buffer::Borrow(input.data(), input.size() * sizeof(float))}}};
    std::printf("%-28s %8.2f us/run\n", c.name, RunMicros(*session, feeds, runs));
  }
  return 0;
}

}  // namespace
}  // namespace maas

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "gemm";
  if (what == "gemm") {
    const int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
    return maas::GemmBench(std::max(1, threads));
  }
  if (what == "run") return maas::RunBench(argc > 2 ? std::max(1, std::atoi(argv[2])) : 100000);
  std::fprintf(stderr, "usage: %s gemm [threads] | run [runs]\n", argv[0]);
  return 2;
}
