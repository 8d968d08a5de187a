// Engine microbenchmarks from C++, without Node in the way:
//   maas_microbench gemm [threads]   SGEMM GFLOP/s at 256/512/1024 squared per ISA
//   maas_microbench run [runs]       Session::Run cost of tiny models (µs per call)
//   maas_microbench layers [runs]    cnn-small's layers one by one (CPU µs, GFLOP/CPU-s)
//   maas_microbench file M.onnx [batch runs threads]   any model with float inputs
// Built beside the C++ tests (not by cmake-js); never run by ctest: timings
// are reported, not asserted. Medians of several rounds, since the machine
// is shared.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
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
  timespec ts{};
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
      {"identity [1,16]", ModelBuilder()
                              .Input("x", kOnnxFloat, {-1, 16})
                              .Node("Identity", {"x"}, {"y"})
                              .Output("y", kOnnxFloat, {-1, 16})
                              .Bytes()},
      {"relu [1,16]", ModelBuilder()
                          .Input("x", kOnnxFloat, {-1, 16})
                          .Node("Relu", {"x"}, {"y"})
                          .Output("y", kOnnxFloat, {-1, 16})
                          .Bytes()},
      {"gemm+relu [1,16]x[16,16]", ModelBuilder()
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

// One node's model: x [n, c, h, w] through `op` with a constant weight.
std::string LayerModel(const std::string& op, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                       const std::vector<Proto>& attrs) {
  int64_t count = 1;
  for (int64_t d : w) count *= d;
  ModelBuilder b;
  b.Input("x", kOnnxFloat, x);
  std::vector<std::string> inputs = {"x"};
  if (!w.empty()) {
    b.Floats("w", w, std::vector<float>(count, 0.01f)).Floats("b", {w[0]}, std::vector<float>(w[0], 0.1f));
    inputs = {"x", "w", "b"};
  }
  return b.Node(op, inputs, {"y"}, attrs).Output("y", kOnnxFloat, {-1, -1, -1, -1}).Bytes();
}

// The layers of cnn-small (models/cnn-small.ts) one at a time, batch 8,
// one thread: CPU microseconds per run and GFLOP per CPU-second.
int LayerBench(int runs) {
  struct Layer {
    const char* name;
    std::vector<int64_t> x, w;
    std::vector<Proto> attrs;
  };
  auto conv = [](int64_t stride, int64_t pad, int64_t group) {
    return std::vector<Proto>{IntsAttribute("strides", {stride, stride}), IntsAttribute("pads", {pad, pad, pad, pad}),
                              IntAttribute("group", group)};
  };
  const int64_t n = 8;
  const std::vector<Layer> layers = {
      {"stem1 3->16 3x3 s2 @64", {n, 3, 64, 64}, {16, 3, 3, 3}, conv(2, 1, 1)},
      {"stem2 16->32 3x3 @32", {n, 16, 32, 32}, {32, 16, 3, 3}, conv(1, 1, 1)},
      {"maxpool 2x2 @32",
       {n, 32, 32, 32},
       {},
       {IntsAttribute("kernel_shape", {2, 2}), IntsAttribute("strides", {2, 2})}},
      {"dw 32 3x3 @16", {n, 32, 16, 16}, {32, 1, 3, 3}, conv(1, 1, 32)},
      {"pw 32->64 1x1 @16", {n, 32, 16, 16}, {64, 32, 1, 1}, conv(1, 0, 1)},
      {"res 64->64 3x3 @16", {n, 64, 16, 16}, {64, 64, 3, 3}, conv(1, 1, 1)},
      {"head 64->128 3x3 s2 @16", {n, 64, 16, 16}, {128, 64, 3, 3}, conv(2, 1, 1)},
      {"gap @8", {n, 128, 8, 8}, {}, {}},
  };
  std::printf("cnn-small layers, batch %lld, 1 thread, median of 5 rounds of %d runs\n", static_cast<long long>(n),
              runs);
  for (const Layer& layer : layers) {
    const std::string op = layer.w.empty() ? (layer.attrs.empty() ? "GlobalAveragePool" : "MaxPool") : "Conv";
    const std::string bytes = LayerModel(op, layer.x, layer.w, layer.attrs);
    SessionOptions options;
    options.intra_op_threads = 1;
    std::unique_ptr<Session> session;
    Status s = Session::Load(Data(bytes), bytes.size(), options, &session);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", layer.name, s.message().c_str());
      return 1;
    }
    int64_t count = 1;
    for (int64_t d : layer.x) count *= d;
    std::vector<float> input(count, 0.5f);
    std::vector<NamedTensor> feeds = {{"x", Tensor{DType::kFloat32, layer.x, Buffer::Borrow(input.data(), count * 4)}}};
    std::vector<NamedTensor> outputs;
    (void)session->Run(feeds, &outputs);
    double macs = 0;
    if (!layer.w.empty()) {
      int64_t per_output = 1;
      for (size_t i = 1; i < layer.w.size(); ++i) per_output *= layer.w[i];
      macs = static_cast<double>(outputs[0].tensor.num_elements()) * per_output;
    }
    std::vector<double> rounds;
    for (int r = 0; r < 5; ++r) {
      const double cpu0 = CpuSeconds();
      for (int i = 0; i < runs; ++i) (void)session->Run(feeds, &outputs);
      rounds.push_back((CpuSeconds() - cpu0) * 1e6 / runs);
    }
    const double us = Median(rounds);
    std::printf("%-28s %9.1f us/run %8.1f GFLOP/CPU-s\n", layer.name, us, macs > 0 ? 2 * macs / (us * 1e3) : 0.0);
  }
  return 0;
}

// Any ONNX file with float32 inputs: the first dim of each input set to
// `batch` where the model leaves it open.
int FileBench(const char* path, int64_t batch, int runs, int threads) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  std::string bytes;
  char chunk[65536];
  for (size_t n; (n = std::fread(chunk, 1, sizeof(chunk), f)) > 0;) bytes.append(chunk, n);
  std::fclose(f);
  SessionOptions options;
  options.intra_op_threads = threads;
  std::unique_ptr<Session> session;
  Status s = Session::Load(Data(bytes), bytes.size(), options, &session);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", path, s.message().c_str());
    return 1;
  }
  std::vector<std::vector<float>> storage;
  std::vector<NamedTensor> feeds;
  for (const TensorMetadata& input : session->inputs()) {
    Shape shape = input.shape;
    for (int64_t& d : shape) d = d < 0 ? batch : d;
    storage.emplace_back(NumElements(shape), 0.25f);
    feeds.push_back(
        {input.name, Tensor{DType::kFloat32, shape, Buffer::Borrow(storage.back().data(), storage.back().size() * 4)}});
  }
  std::vector<NamedTensor> outputs;
  for (int i = 0; i < 3; ++i) (void)session->Run(feeds, &outputs);
  std::vector<double> wall, cpu;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    const double cpu0 = CpuSeconds();
    for (int i = 0; i < runs; ++i) {
      Status st = session->Run(feeds, &outputs);
      if (!st.ok()) {
        std::fprintf(stderr, "run failed: %s\n", st.message().c_str());
        return 1;
      }
    }
    wall.push_back(Seconds(t0, Clock::now()) * 1e6 / runs);
    cpu.push_back((CpuSeconds() - cpu0) * 1e6 / runs);
  }
  std::printf("%s batch %lld, %d thread(s): %.1f us/run wall, %.1f CPU-us/run (medians of 5 rounds of %d)\n", path,
              static_cast<long long>(batch), threads, Median(wall), Median(cpu), runs);
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
  if (what == "file" && argc > 2)
    return maas::FileBench(argv[2], argc > 3 ? std::atoll(argv[3]) : 1,
                           argc > 4 ? std::max(1, std::atoi(argv[4])) : 100,
                           argc > 5 ? std::max(1, std::atoi(argv[5])) : 1);
  if (what == "layers") return maas::LayerBench(argc > 2 ? std::max(1, std::atoi(argv[2])) : 20);
  std::fprintf(stderr, "usage: %s gemm [threads] | run [runs] | layers [runs] | file model.onnx [batch runs threads]\n",
               argv[0]);
  return 2;
}
