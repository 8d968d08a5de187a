// The SGEMM against a naive double-precision triple loop: every route
// (blocked, small-M axpy, dot products), pre-packed A and B, the epilogue
// (column bias, row bias, activations), and each ISA's kernels against the
// portable ones. A comparison needing an ISA this CPU lacks is skipped, not
// passed; the AVX-512 tile shape is also run as AVX2 code, so its packing
// and edge handling are tested on any AVX2 machine.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cpu/activation.h"
#include "cpu/gemm.h"
#include "cpu/gemm_internal.h"
#include "op_test_util.h"

namespace maas {
namespace {

struct GemmCase {
  bool ta = false, tb = false;
  int64_t m = 1, n = 1, k = 1;
  float alpha = 1.0f, beta = 0.0f;
  bool pack_a = false, pack_b = false;
  bool bias = false, row_bias = false;
  Activation activation = Activation::kNone;
};

std::string Describe(const gemm::IsaKernels& kernels, const GemmCase& c) {
  return std::string(CpuIsaName(kernels.isa)) + " nr=" + std::to_string(kernels.nr) + " ta=" + std::to_string(c.ta) +
         " tb=" + std::to_string(c.tb) + " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) +
         " k=" + std::to_string(c.k) + " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) +
         " packA=" + std::to_string(c.pack_a) + " packB=" + std::to_string(c.pack_b) +
         " bias=" + std::to_string(c.bias) + " rowbias=" + std::to_string(c.row_bias) +
         " act=" + ActivationName(c.activation);
}

// Runs one case with `kernels` and checks every element against the naive
// product followed by the epilogue.
void CheckGemm(const gemm::IsaKernels& kernels, const GemmCase& c, ThreadPool* pool, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(c.m * c.k), b(c.k * c.n), init(c.m * c.n), bias(c.n), row_bias(c.m);
  for (auto* v : {&a, &b, &init, &bias, &row_bias})
    for (float& x : *v) x = dist(rng);
  std::vector<float> want = NaiveGemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, b, c.beta, init);
  GemmEpilogue epilogue;
  epilogue.bias = c.bias ? bias.data() : nullptr;
  epilogue.row_bias = c.row_bias ? row_bias.data() : nullptr;
  epilogue.activation.kind = c.activation;
  for (int64_t i = 0; i < c.m; ++i) {
    float* row = want.data() + i * c.n;
    for (int64_t j = 0; j < c.n; ++j) row[j] += (c.bias ? bias[j] : 0.0f) + (c.row_bias ? row_bias[i] : 0.0f);
    ApplyActivation(epilogue.activation, row, c.n);
  }
  std::vector<float> got = init;
  if (c.beta == 0) std::fill(got.begin(), got.end(), NAN);  // beta 0 must not read C
  SgemmArgs args;
  args.shape = SgemmShape{c.ta, c.tb, c.m, c.n, c.k, c.ta ? c.m : c.k, c.tb ? c.k : c.n, c.n};
  args.alpha = c.alpha;
  args.beta = c.beta;
  args.a = a.data();
  args.b = b.data();
  args.c = got.data();
  args.epilogue = epilogue.empty() ? nullptr : &epilogue;
  std::unique_ptr<PackedA> packed_a;
  std::unique_ptr<PackedB> packed_b;
  if (c.pack_a) {
    packed_a = gemm::PackAWith(kernels, c.ta ? gemm::MatrixView{a.data(), 1, c.m} : gemm::MatrixView{a.data(), c.k, 1},
                               c.m, c.k);
    ASSERT_NE(packed_a, nullptr);
    args.packed_a = packed_a.get();
  }
  if (c.pack_b) {
    packed_b = gemm::PackBWith(kernels, c.tb ? gemm::MatrixView{b.data(), 1, c.k} : gemm::MatrixView{b.data(), c.n, 1},
                               c.k, c.n);
    ASSERT_NE(packed_b, nullptr);
    args.packed_b = packed_b.get();
  }
  gemm::SgemmWithKernels(kernels, args, pool);
  const float tol = 1e-5f * static_cast<float>(std::max<int64_t>(c.k, 1)) * 4;
  for (int64_t i = 0; i < c.m * c.n; ++i)
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0f, std::fabs(want[i]))) << Describe(kernels, c) << " at " << i;
}

// Every kernel set this CPU can run, plus the AVX-512 shape as AVX2 code.
std::vector<const gemm::IsaKernels*> RunnableKernelSets() {
  std::vector<const gemm::IsaKernels*> sets = {&gemm::KernelsFor(CpuIsa::kPortable)};
  for (CpuIsa isa : {CpuIsa::kAvx2Fma, CpuIsa::kAvx512})
    if (CpuSupportsIsa(isa)) sets.push_back(&gemm::KernelsFor(isa));
  if (const gemm::IsaKernels* wide = gemm::Avx512LayoutOnAvx2()) sets.push_back(wide);
  return sets;
}

TEST(Sgemm, RandomOddSizesMatchNaive) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int64_t> size(1, 129);
  ThreadPool pool(3);
  for (const gemm::IsaKernels* kernels : RunnableKernelSets())
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool})
      for (int trial = 0; trial < 24; ++trial) {
        GemmCase c;
        c.ta = trial & 1;
        c.tb = trial & 2;
        c.m = size(rng), c.n = size(rng), c.k = size(rng);
        c.alpha = trial % 3 == 0 ? 1.0f : 0.75f;
        c.beta = trial % 4 == 0 ? 0.0f : (trial % 4 == 1 ? 1.0f : -0.5f);
        CheckGemm(*kernels, c, p, rng);
      }
}

TEST(Sgemm, EdgeShapesAndBlockBoundaries) {
  std::mt19937 rng(5);
  ThreadPool pool(2);
  const int64_t shapes[][3] = {{1, 1, 1},      {1, 129, 77},  {4, 33, 300},  {5, 17, 1}, {129, 1, 65}, {97, 2049, 3},
                               {200, 40, 513}, {7, 300, 256}, {96, 16, 257}, {3, 5, 0},  {13, 64, 40}, {25, 33, 17}};
  for (const gemm::IsaKernels* kernels : RunnableKernelSets())
    for (auto& s : shapes)
      for (int t = 0; t < 4; ++t) {
        GemmCase c;
        c.ta = t & 1, c.tb = t & 2, c.m = s[0], c.n = s[1], c.k = s[2], c.beta = 0.5f;
        CheckGemm(*kernels, c, &pool, rng);
      }
}

// Pre-packed operands: several depth slices and column/row blocks, edge
// strips, single rows (the row-specialized tiles), and N == 1 (read directly).
TEST(Sgemm, PrePackedOperandsMatchNaive) {
  std::mt19937 rng(77);
  ThreadPool pool(3);
  const int64_t shapes[][3] = {{33, 2049, 3}, {37, 19, 513}, {32, 128, 784}, {7, 21, 257},   {3, 45, 67},
                               {1, 10, 64},   {41, 1, 99},   {97, 17, 1},    {100, 130, 40}, {1, 300, 9}};
  for (const gemm::IsaKernels* kernels : RunnableKernelSets())
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool})
      for (auto& s : shapes)
        for (int t = 0; t < 12; ++t) {
          GemmCase c;
          c.ta = t & 1, c.tb = t & 2, c.m = s[0], c.n = s[1], c.k = s[2];
          c.beta = t % 3 == 0 ? 0.0f : 0.5f;
          c.pack_a = (t / 4) != 1;  // A only, B only, both
          c.pack_b = (t / 4) != 0;
          CheckGemm(*kernels, c, p, rng);
        }
}

TEST(Sgemm, EpilogueBiasRowBiasAndActivations) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  const int64_t shapes[][3] = {{2, 37, 20}, {19, 45, 300}, {64, 70, 9}, {13, 1, 8}};
  for (const gemm::IsaKernels* kernels : RunnableKernelSets())
    for (auto& s : shapes)
      for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kSigmoid, Activation::kTanh})
        for (int t = 0; t < 8; ++t) {
          GemmCase c;
          c.m = s[0], c.n = s[1], c.k = s[2], c.activation = act;
          c.bias = t & 1, c.row_bias = t & 2, c.pack_a = t & 4, c.beta = t & 1 ? 0.0f : 1.0f;
          c.tb = t & 4;
          CheckGemm(*kernels, c, &pool, rng);
        }
}

// A packing for another kernel set (tile width) is ignored, not misread.
TEST(Sgemm, PackingForAnotherTileIsIgnored) {
  const std::vector<const gemm::IsaKernels*> sets = RunnableKernelSets();
  if (sets.size() < 2) GTEST_SKIP() << "only the portable kernels run on this CPU";
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t m = 23, n = 29, k = 31;
  std::vector<float> a(m * k), b(k * n), got(m * n);
  for (float& x : a) x = dist(rng);
  for (float& x : b) x = dist(rng);
  auto packed_b = PackSgemmB(false, k, n, b.data(), n, CpuIsa::kPortable);
  auto packed_a = PackSgemmA(false, m, k, a.data(), k, CpuIsa::kPortable);
  SgemmArgs args;
  args.shape = SgemmShape{false, false, m, n, k, k, n, n};
  args.a = a.data();
  args.b = b.data();
  args.c = got.data();
  args.packed_a = packed_a.get();
  args.packed_b = packed_b.get();
  gemm::SgemmWithKernels(*sets[1], args, nullptr);
  auto want = NaiveGemm(false, false, m, n, k, 1, a, b, 0, {});
  for (int64_t i = 0; i < m * n; ++i) ASSERT_NEAR(got[i], want[i], 1e-3f);
}

// Each ISA's kernels against the portable ones on one larger product. Runs
// only where the CPU has the ISA: elsewhere the test is skipped, not passed.
void CompareIsaWithPortable(CpuIsa isa) {
  if (!CpuSupportsIsa(isa)) GTEST_SKIP() << "this CPU has no " << CpuIsaName(isa);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t m = 70, n = 90, k = 300;
  std::vector<float> a(m * k), b(k * n), bias(n), c1(m * n), c2(m * n);
  for (auto* v : {&a, &b, &bias})
    for (float& x : *v) x = dist(rng);
  GemmEpilogue epilogue;
  epilogue.bias = bias.data();
  epilogue.activation.kind = Activation::kRelu;
  ThreadPool pool(2);
  SgemmShape s{false, false, m, n, k, k, n, n};
  auto packed = PackSgemmB(false, k, n, b.data(), n, isa);
  ASSERT_EQ(packed->isa, isa);
  SgemmArgs args;
  args.shape = s;
  args.a = a.data();
  args.b = b.data();
  args.epilogue = &epilogue;
  args.c = c1.data();
  Sgemm(args, &pool, CpuIsa::kPortable);
  args.c = c2.data();
  args.packed_b = packed.get();
  Sgemm(args, &pool, isa);
  for (int64_t i = 0; i < m * n; ++i) ASSERT_NEAR(c1[i], c2[i], 1e-4f) << i;
}

TEST(SgemmIsa, Avx2MatchesPortable) { CompareIsaWithPortable(CpuIsa::kAvx2Fma); }
TEST(SgemmIsa, Avx512MatchesPortable) { CompareIsaWithPortable(CpuIsa::kAvx512); }

TEST(SgemmIsa, DetectionIsConsistent) {
  EXPECT_TRUE(CpuSupportsIsa(CpuIsa::kPortable));
  EXPECT_TRUE(CpuSupportsIsa(DetectCpuIsa()));
  EXPECT_EQ(UsableIsa(CpuIsa::kPortable), CpuIsa::kPortable);
  // Asking for more than the CPU has gives the best it has, never more.
  EXPECT_TRUE(CpuSupportsIsa(UsableIsa(CpuIsa::kAvx512)));
  EXPECT_EQ(gemm::KernelsFor(CpuIsa::kAvx512).isa, UsableIsa(CpuIsa::kAvx512));
  EXPECT_EQ(IsaFloatLanes(CpuIsa::kAvx2Fma), 8);
}

// Gemm and MatMul with their load-time `prepare` (constant B packed once)
// give what the same node computes without it.
TEST(Sgemm, KernelPrepareMatchesUnprepared) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto random = [&](const Shape& shape) {
    std::vector<float> v(NumElements(shape));
    for (float& x : v) x = dist(rng);
    return F32(shape, v);
  };
  struct Case {
    const char* op;
    int trans_b;
    int64_t m, k, n;
  } cases[] = {{"Gemm", 1, 32, 97, 45},
               {"Gemm", 0, 19, 300, 33},
               {"Gemm", 1, 2, 50, 7},
               {"MatMul", 0, 21, 65, 130},
               {"MatMul", 0, 1, 9, 5}};
  for (const Case& c : cases) {
    Tensor a = random({c.m, c.k});
    Tensor b = c.trans_b ? random({c.n, c.k}) : random({c.k, c.n});
    Tensor bias = random({c.n});
    Attributes attrs;
    if (std::string(c.op) == "Gemm") attrs.values["transB"] = IntAttr(c.trans_b);
    const CpuKernel* kernel = FindCpuKernel(c.op);
    ASSERT_TRUE(kernel && kernel->prepare) << c.op;
    const std::string op = c.op;
    NodeDesc node;
    node.op_type = &op;
    node.attrs = &attrs;
    node.inputs = {Info(DType::kFloat32, a.shape), Info(DType::kFloat32, b.shape, &b)};
    std::shared_ptr<const void> prepared;
    size_t state_bytes = 0;
    ASSERT_TRUE(kernel->prepare(node, &prepared, &state_bytes).ok());
    ASSERT_NE(prepared, nullptr) << c.op;
    EXPECT_GE(state_bytes, static_cast<size_t>(c.k * c.n * sizeof(float))) << c.op;
    std::vector<const Tensor*> inputs = {&a, &b};
    if (op == "Gemm") inputs.push_back(&bias);
    Result plain = RunOp(c.op, inputs, attrs);
    ASSERT_TRUE(plain.status.ok()) << plain.status.message();
    Result packed = RunOp(c.op, inputs, attrs, 13, nullptr, prepared.get());
    ASSERT_TRUE(packed.status.ok()) << packed.status.message();
    EXPECT_EQ(packed.out().shape, plain.out().shape);
    ExpectNear(Values<float>(packed.out()), Values<float>(plain.out()), 1e-4f);
  }
  // No constant B: nothing prepared.
  Attributes none;
  const std::string gemm_op = "Gemm";
  NodeDesc node;
  node.op_type = &gemm_op;
  node.attrs = &none;
  node.inputs = {Info(DType::kFloat32, {4, 5}), Info(DType::kFloat32, {5, 6})};
  std::shared_ptr<const void> prepared;
  size_t state_bytes = 0;
  ASSERT_TRUE(FindCpuKernel("Gemm")->prepare(node, &prepared, &state_bytes).ok());
  EXPECT_EQ(prepared, nullptr);
  EXPECT_EQ(state_bytes, 0u);
}

}  // namespace
}  // namespace maas
