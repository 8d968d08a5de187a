// CPU kernel tests: hand-checked cases per op (broadcasting, attributes,
// opset differences) and load-time shape inference. The SGEMM itself is
// tested in gemm_test.cc, the convolution family in conv_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "cpu/thread_pool.h"
#include "op_test_util.h"
#include "ops/schema.h"

namespace maas {
namespace {

// ---- registry, attributes, pool --------------------------------------------------------

TEST(KernelRegistry, HasEveryOp) {
  for (const char* op : {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "Identity",
                         "Reshape", "Flatten", "Transpose", "Concat", "Constant", "Cast"}) {
    EXPECT_NE(FindCpuKernel(op), nullptr) << op;
  }
  EXPECT_EQ(FindCpuKernel("NoSuchOp"), nullptr);
  EXPECT_GE(CpuKernelOpTypes().size(), 17u);
}

TEST(KernelRegistry, AttributeAccessors) {
  Attributes attrs;
  attrs.values["i"] = IntAttr(3);
  attrs.values["f"] = FloatAttr(0.5f);
  attrs.values["is"] = IntsAttr({1, 2});
  EXPECT_EQ(attrs.GetInt("i", 0), 3);
  EXPECT_EQ(attrs.GetInt("missing", 7), 7);
  EXPECT_EQ(attrs.GetInt("f", 9), 9);  // wrong kind -> fallback
  EXPECT_FLOAT_EQ(attrs.GetFloat("f", 0), 0.5f);
  EXPECT_FLOAT_EQ(attrs.GetFloat("i", 0), 3.0f);
  EXPECT_EQ(attrs.GetInts("is", {}), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(attrs.GetString("s", "x"), "x");
  EXPECT_NE(attrs.Find("i"), nullptr);
  EXPECT_EQ(attrs.Find("nope"), nullptr);
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 7, 1000, 100003}) {
      std::vector<int> hits(n, 0);
      pool.ParallelFor(n, 3, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << threads << " " << n << " " << i;
    }
  }
}

TEST(ThreadPool, ConcurrentCallersAllFinish) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int64_t> total{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) pool.ParallelFor(1000, 10, [&](int64_t b, int64_t e) { total += e - b; });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 50 * 1000);
}

// ---- elementwise -------------------------------------------------------------------

TEST(Binary, SameShapeAndScalar) {
  Tensor a = F32({2, 2}, {1, 2, 3, 4}), b = F32({2, 2}, {10, 20, 30, 40}), s = F32({}, {2});
  ExpectNear(Values<float>(RunOp("Add", {&a, &b}).out()), {11, 22, 33, 44});
  ExpectNear(Values<float>(RunOp("Sub", {&a, &b}).out()), {-9, -18, -27, -36});
  ExpectNear(Values<float>(RunOp("Mul", {&a, &s}).out()), {2, 4, 6, 8});
  ExpectNear(Values<float>(RunOp("Div", {&s, &a}).out()), {2, 1, 2.0f / 3, 0.5f});
  EXPECT_EQ(RunOp("Mul", {&a, &s}).out().shape, (Shape{2, 2}));
}

TEST(Binary, BroadcastRowVector) {
  Tensor a = F32({2, 3, 4}, Iota(24)), b = F32({4}, {100, 200, 300, 400});
  Result r = RunOp("Add", {&a, &b});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{2, 3, 4}));
  auto v = Values<float>(r.out());
  for (int i = 0; i < 24; ++i) EXPECT_FLOAT_EQ(v[i], i + 100.0f * (i % 4 + 1));
}

TEST(Binary, BroadcastBothSides) {
  // [2,1,4] * [3,1] -> [2,3,4]: out[i,j,k] = a[i,0,k] * b[j,0]
  Tensor a = F32({2, 1, 4}, Iota(8)), b = F32({3, 1}, {1, 10, 100});
  Result r = RunOp("Mul", {&a, &b});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.out().shape, (Shape{2, 3, 4}));
  auto v = Values<float>(r.out());
  const float bs[3] = {1, 10, 100};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(v[(i * 3 + j) * 4 + k], (i * 4 + k) * bs[j]);
}

TEST(Binary, BroadcastLeftOperandAndMiddleDim) {
  // [3] - [2,3] and [2,1,3] + [1,4,1]
  Tensor a = F32({3}, {1, 2, 3}), b = F32({2, 3}, {1, 1, 1, 2, 2, 2});
  ExpectNear(Values<float>(RunOp("Sub", {&a, &b}).out()), {0, 1, 2, -1, 0, 1});
  Tensor c = F32({2, 1, 3}, Iota(6)), d = F32({1, 4, 1}, {0, 10, 20, 30});
  Result r = RunOp("Add", {&c, &d});
  EXPECT_EQ(r.out().shape, (Shape{2, 4, 3}));
  auto v = Values<float>(r.out());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(v[(i * 4 + j) * 3 + k], i * 3 + k + 10.0f * j);
}

TEST(Binary, IntegerDivisionTruncatesAndSurvivesZero) {
  Tensor a = I64({6}, {7, -7, 7, -7, 5, INT64_MIN}), b = I64({6}, {2, 2, -2, -2, 0, -1});
  Result r = RunOp("Div", {&a, &b});
  ASSERT_TRUE(r.status.ok());
  auto v = Values<int64_t>(r.out());
  EXPECT_EQ(v[0], 3);
  EXPECT_EQ(v[1], -3);
  EXPECT_EQ(v[2], -3);
  EXPECT_EQ(v[3], 3);
  EXPECT_EQ(v[4], 0);          // x/0 -> 0, no SIGFPE
  EXPECT_EQ(v[5], INT64_MIN);  // MIN/-1 wraps, no SIGFPE
  Tensor c = I32({3}, {9, 8, 1}), z = I32({}, {0});
  EXPECT_EQ(Values<int32_t>(RunOp("Div", {&c, &z}).out()), (std::vector<int32_t>{0, 0, 0}));
  Tensor three = I32({}, {3});
  EXPECT_EQ(Values<int32_t>(RunOp("Mul", {&c, &three}).out()), (std::vector<int32_t>{27, 24, 3}));
}

TEST(Binary, Float64) {
  Tensor a = Make<double>(DType::kFloat64, {2}, {1.5, 2.5}), b = Make<double>(DType::kFloat64, {}, {0.5});
  EXPECT_EQ(Values<double>(RunOp("Add", {&a, &b}).out()), (std::vector<double>{2.0, 3.0}));
}

TEST(Binary, RuntimeErrors) {
  Tensor a = F32({2, 3}, Iota(6)), b = F32({4}, Iota(4)), i = I64({1}, {1});
  EXPECT_EQ(RunOp("Add", {&a, &b}).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RunOp("Add", {&a, &i}).status.code(), StatusCode::kInvalidArgument);
}

TEST(Binary, LargeParallelMatchesSerial) {
  ThreadPool pool(4);
  const int64_t n = 64 * 4700;
  std::vector<float> av(n), bv(64);
  for (int64_t i = 0; i < n; ++i) av[i] = std::sin(static_cast<float>(i));
  for (int i = 0; i < 64; ++i) bv[i] = static_cast<float>(i) * 0.25f;
  Tensor a = F32({n / 64, 64}, av), b = F32({64}, bv), full = F32({n / 64, 64}, av);
  auto serial = Values<float>(RunOp("Sub", {&a, &b}).out());
  auto parallel = Values<float>(RunOp("Sub", {&a, &b}, {}, 13, &pool).out());
  EXPECT_EQ(serial, parallel);
  auto flat = Values<float>(RunOp("Mul", {&a, &full}, {}, 13, &pool).out());
  for (int64_t i = 0; i < n; i += 997) EXPECT_FLOAT_EQ(flat[i], av[i] * av[i]);
}

TEST(Unary, ReluSigmoidTanh) {
  Tensor x = F32({5}, {-2, -0.5f, 0, 0.5f, 3});
  ExpectNear(Values<float>(RunOp("Relu", {&x}).out()), {0, 0, 0, 0.5f, 3});
  std::vector<float> sig, th;
  for (float v : {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f}) {
    sig.push_back(1.0f / (1.0f + std::exp(-v)));
    th.push_back(std::tanh(v));
  }
  ExpectNear(Values<float>(RunOp("Sigmoid", {&x}).out()), sig, 1e-6f);
  ExpectNear(Values<float>(RunOp("Tanh", {&x}).out()), th, 1e-6f);
  Tensor ints = I64({3}, {-4, 0, 9});
  EXPECT_EQ(Values<int64_t>(RunOp("Relu", {&ints}).out()), (std::vector<int64_t>{0, 0, 9}));
}

TEST(Unary, SigmoidIsStableForLargeMagnitudes) {
  Tensor x = F32({6}, {-1000, -100, -20, 20, 100, 1000});
  auto v = Values<float>(RunOp("Sigmoid", {&x}).out());
  for (float y : v) EXPECT_TRUE(std::isfinite(y));
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_GT(v[1], 0.0f);  // e^-100 is a (subnormal) positive float
  EXPECT_NEAR(v[2], 2.0611537e-9f, 1e-14f);
  EXPECT_FLOAT_EQ(v[3], 1.0f);
  EXPECT_EQ(v[5], 1.0f);
}

TEST(Unary, SigmoidAccuracySweep) {
  std::vector<float> xs;
  for (float v = -30; v <= 30; v += 0.01f) xs.push_back(v);
  Tensor x = F32({static_cast<int64_t>(xs.size())}, xs);
  auto v = Values<float>(RunOp("Sigmoid", {&x}).out());
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = 1.0 / (1.0 + std::exp(-static_cast<double>(xs[i])));
    EXPECT_NEAR(v[i], want, 5e-7 * want + 1e-30) << xs[i];
  }
}

TEST(Unary, RejectsUnsupportedDType) {
  Tensor ints = I64({1}, {1});
  Result r = RunOp("Sigmoid", {&ints});
  EXPECT_EQ(r.status.code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status.message().find("int64"), std::string::npos);
}

// ---- Softmax -------------------------------------------------------------------------

std::vector<float> SoftmaxRef(const std::vector<float>& v) {
  float mx = v[0];
  for (float x : v) mx = std::max(mx, x);
  std::vector<float> out;
  double sum = 0;
  for (float x : v) sum += std::exp(static_cast<double>(x - mx));
  for (float x : v) out.push_back(static_cast<float>(std::exp(static_cast<double>(x - mx)) / sum));
  return out;
}

TEST(Softmax, LastAxisDefaultAndStable) {
  Tensor x = F32({2, 3}, {1, 2, 3, 1000, 1000, 1000});
  Result r = RunOp("Softmax", {&x});
  ASSERT_TRUE(r.status.ok());
  auto v = Values<float>(r.out());
  auto row0 = SoftmaxRef({1, 2, 3});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(v[i], row0[i], 1e-6f);
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(v[i], 1.0f / 3, 1e-6f);
}

TEST(Softmax, MiddleAxisOpset13) {
  // [2,3,2] along axis 1: groups are x[i,:,k].
  Tensor x = F32({2, 3, 2}, Iota(12));
  Attributes attrs;
  attrs.values["axis"] = IntAttr(1);
  auto v = Values<float>(RunOp("Softmax", {&x}, attrs, 13).out());
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k) {
      std::vector<float> group;
      for (int j = 0; j < 3; ++j) group.push_back((i * 3 + j) * 2 + k);
      auto ref = SoftmaxRef(group);
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(v[(i * 3 + j) * 2 + k], ref[j], 1e-6f);
    }
  attrs.values["axis"] = IntAttr(-3);
  auto first = Values<float>(RunOp("Softmax", {&x}, attrs, 13).out());
  auto ref = SoftmaxRef({0, 6});
  EXPECT_NEAR(first[0], ref[0], 1e-6f);
  EXPECT_NEAR(first[6], ref[1], 1e-6f);
}

TEST(Softmax, Opset11CoercesTo2D) {
  // Default axis 1 on [2,2,2]: each batch row of 4 values is one group.
  Tensor x = F32({2, 2, 2}, Iota(8));
  auto v = Values<float>(RunOp("Softmax", {&x}, {}, 11).out());
  auto ref = SoftmaxRef({0, 1, 2, 3});
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(v[i], ref[i % 4], 1e-6f);
  Attributes attrs;
  attrs.values["axis"] = IntAttr(2);
  auto pairs = Values<float>(RunOp("Softmax", {&x}, attrs, 11).out());
  auto ref2 = SoftmaxRef({0, 1});
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(pairs[i], ref2[i % 2], 1e-6f);
}

TEST(Softmax, InferChecksAxis) {
  Attributes attrs;
  attrs.values["axis"] = IntAttr(3);
  EXPECT_EQ(InferOp("Softmax", {Info(DType::kFloat32, {2, 3})}, attrs).status.code(), StatusCode::kInvalidModel);
  Inferred ok = InferOp("Softmax", {Info(DType::kFloat32, {-1, 3})});
  ASSERT_TRUE(ok.status.ok());
  EXPECT_EQ(ok.out().shape, (Shape{-1, 3}));
  EXPECT_EQ(InferOp("Softmax", {Info(DType::kInt32, {3})}).status.code(), StatusCode::kUnsupported);
}

// ---- Gemm / MatMul ---------------------------------------------------------------------

TEST(Gemm, PlainAndWithBiasRow) {
  Tensor a = F32({2, 3}, {1, 2, 3, 4, 5, 6}), b = F32({3, 2}, {1, 0, 0, 1, 1, 1}), c = F32({2}, {10, 20});
  ExpectNear(Values<float>(RunOp("Gemm", {&a, &b}).out()), {4, 5, 10, 11});
  Result r = RunOp("Gemm", {&a, &b, &c});
  EXPECT_EQ(r.out().shape, (Shape{2, 2}));
  ExpectNear(Values<float>(r.out()), {14, 25, 20, 31});
}

TEST(Gemm, TransposesAlphaBetaAndColumnC) {
  // A^T is [2,3] from A [3,2]; B^T is [3,2] from B [2,3].
  Tensor a = F32({3, 2}, {1, 4, 2, 5, 3, 6}), b = F32({2, 3}, {1, 0, 1, 0, 1, 1}), c = F32({2, 1}, {1, 2});
  Attributes attrs;
  attrs.values["transA"] = IntAttr(1);
  attrs.values["transB"] = IntAttr(1);
  attrs.values["alpha"] = FloatAttr(2.0f);
  attrs.values["beta"] = FloatAttr(0.5f);
  Result r = RunOp("Gemm", {&a, &b, &c}, attrs);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  // op(A) op(B) = [[4,5],[10,11]]; *2 + 0.5*[[1],[2]]
  ExpectNear(Values<float>(r.out()), {8.5f, 10.5f, 21, 23});
  Tensor scalar_c = F32({}, {3});
  attrs.values["beta"] = FloatAttr(0.0f);
  ExpectNear(Values<float>(RunOp("Gemm", {&a, &b, &scalar_c}, attrs).out()), {8, 10, 20, 22});
}

TEST(Gemm, ShapeErrors) {
  Tensor a = F32({2, 3}, Iota(6)), b = F32({2, 2}, Iota(4)), c = F32({3}, Iota(3));
  EXPECT_EQ(RunOp("Gemm", {&a, &b}).status.code(), StatusCode::kInvalidArgument);
  Tensor b2 = F32({3, 2}, Iota(6));
  EXPECT_EQ(RunOp("Gemm", {&a, &b2, &c}).status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InferOp("Gemm", {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4, 5})}).status.code(),
            StatusCode::kInvalidModel);
  // float64 is a legal Gemm type; the CPU backend declares it lacks it.
  EXPECT_TRUE(InferOp("Gemm", {Info(DType::kFloat64, {2, 3}), Info(DType::kFloat64, {3, 5})}).status.ok());
  EXPECT_EQ(CpuSupport("Gemm", {DType::kFloat64, DType::kFloat64}), "float64");
  EXPECT_EQ(CpuSupport("Gemm", {DType::kFloat32, DType::kFloat32}), "");
  EXPECT_EQ(InferOp("Gemm", {Info(DType::kBool, {2, 3}), Info(DType::kBool, {3, 5})}).status.code(),
            StatusCode::kUnsupported);
}

TEST(MatMul, TwoD) {
  Tensor a = F32({2, 3}, {1, 2, 3, 4, 5, 6}), b = F32({3, 2}, {7, 8, 9, 10, 11, 12});
  ExpectNear(Values<float>(RunOp("MatMul", {&a, &b}).out()), {58, 64, 139, 154});
}

TEST(MatMul, OneDPromotion) {
  Tensor v = F32({3}, {1, 2, 3}), m = F32({3, 2}, {1, 0, 0, 1, 1, 1}), mt = F32({2, 3}, {1, 0, 1, 0, 1, 1});
  Result r = RunOp("MatMul", {&v, &m});
  EXPECT_EQ(r.out().shape, (Shape{2}));
  ExpectNear(Values<float>(r.out()), {4, 5});
  Result r2 = RunOp("MatMul", {&mt, &v});
  EXPECT_EQ(r2.out().shape, (Shape{2}));
  ExpectNear(Values<float>(r2.out()), {4, 5});
  Result dot = RunOp("MatMul", {&v, &v});
  EXPECT_EQ(dot.out().shape, (Shape{}));
  ExpectNear(Values<float>(dot.out()), {14});
}

// Checks a batched MatMul result against per-matrix naive products.
void CheckBatched(const Shape& as, const Shape& bs, const Shape& want_shape, ThreadPool* pool) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> av(NumElements(as)), bv(NumElements(bs));
  for (float& x : av) x = dist(rng);
  for (float& x : bv) x = dist(rng);
  Tensor a = F32(as, av), b = F32(bs, bv);
  Result r = RunOp("MatMul", {&a, &b}, {}, 13, pool);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.out().shape, want_shape);
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  // Batch dims broadcast: walk the output batch index, map to A and B.
  Shape out_batch(want_shape.begin(), want_shape.end() - 2);
  Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  auto out = Values<float>(r.out());
  const int64_t batches = NumElements(out_batch);
  for (int64_t bi = 0; bi < batches; ++bi) {
    std::vector<int64_t> idx(out_batch.size());
    int64_t rest = bi;
    for (size_t d = out_batch.size(); d-- > 0;) {
      idx[d] = rest % out_batch[d];
      rest /= out_batch[d];
    }
    auto offset = [&](const Shape& batch) {
      int64_t off = 0;
      for (size_t d = 0; d < batch.size(); ++d) {
        const int64_t i = idx[d + out_batch.size() - batch.size()];
        off = off * batch[d] + (batch[d] == 1 ? 0 : i);
      }
      return off;
    };
    std::vector<float> am(av.begin() + offset(a_batch) * m * k, av.begin() + (offset(a_batch) + 1) * m * k);
    std::vector<float> bm(bv.begin() + offset(b_batch) * k * n, bv.begin() + (offset(b_batch) + 1) * k * n);
    auto want = NaiveGemm(false, false, m, n, k, 1, am, bm, 0, {});
    std::vector<float> got(out.begin() + bi * m * n, out.begin() + (bi + 1) * m * n);
    ExpectNear(got, want, 1e-4f);
  }
}

TEST(MatMul, BatchedBroadcast) {
  ThreadPool pool(3);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    CheckBatched({2, 3, 4, 5}, {5, 6}, {2, 3, 4, 6}, p);
    CheckBatched({3, 4}, {2, 4, 5}, {2, 3, 5}, p);
    CheckBatched({2, 1, 4, 5}, {3, 5, 2}, {2, 3, 4, 2}, p);
    CheckBatched({1, 64, 96}, {4, 96, 80}, {4, 64, 80}, p);
  }
}

TEST(MatMul, InferShapes) {
  Inferred r = InferOp("MatMul", {Info(DType::kFloat32, {-1, 3, 4, 5}), Info(DType::kFloat32, {5, 6})});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.out().shape, (Shape{-1, 3, 4, 6}));
  EXPECT_EQ(InferOp("MatMul", {Info(DType::kFloat32, {4}), Info(DType::kFloat32, {2, 4, 5})}).out().shape,
            (Shape{2, 5}));
  EXPECT_EQ(InferOp("MatMul", {Info(DType::kFloat32, {3, 4}), Info(DType::kFloat32, {5, 6})}).status.code(),
            StatusCode::kInvalidModel);
  EXPECT_EQ(InferOp("MatMul", {Info(DType::kFloat32, {2, 3, 4}), Info(DType::kFloat32, {3, 4, 5})}).status.code(),
            StatusCode::kInvalidModel);
  EXPECT_TRUE(InferOp("MatMul", {Info(DType::kInt64, {3, 4}), Info(DType::kInt64, {4, 6})}).status.ok());
  EXPECT_EQ(CpuSupport("MatMul", {DType::kInt64, DType::kInt64}), "int64");
  EXPECT_FALSE(InferOp("MatMul", {UnknownRank(DType::kFloat32), Info(DType::kFloat32, {4, 6})}).out().rank_known);
}

// ---- shape ops ---------------------------------------------------------------------------------

TEST(Reshape, ZeroCopiesAndMinusOneInfers) {
  Tensor x = F32({2, 3, 4}, Iota(24)), shape = I64({3}, {0, -1, 2});
  Result r = RunOp("Reshape", {&x, &shape});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{2, 6, 2}));
  EXPECT_EQ(r.out().raw(), x.raw());  // a view, no copy
  Tensor flat = I64({1}, {-1});
  EXPECT_EQ(RunOp("Reshape", {&x, &flat}).out().shape, (Shape{24}));
  Tensor bad = I64({2}, {5, -1});
  EXPECT_EQ(RunOp("Reshape", {&x, &bad}).status.code(), StatusCode::kInvalidArgument);
  Tensor two = I64({2}, {-1, -1});
  EXPECT_EQ(RunOp("Reshape", {&x, &two}).status.code(), StatusCode::kInvalidArgument);
}

TEST(Tensor, ElementAndByteCountsNeverWrap) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_EQ(NumElements({big + 1, 4}), -1);  // would wrap to 4
  EXPECT_EQ(NumElements({big, big, 0}), 0);  // a zero dim wins
  EXPECT_EQ(NumElements({big, 1}), big);
  // 2^61 int64 elements are 2^64 bytes: must not become a 0-byte allocation.
  EXPECT_EQ(MakeTensor(DType::kInt64, {int64_t{1} << 61}).buffer, nullptr);
  EXPECT_EQ(HostBuffer::Allocate(SIZE_MAX - 10), nullptr);
}

TEST(Tensor, LimitIsCheckedFromTheShapeAlone) {
  EXPECT_EQ(TensorBytes(DType::kFloat32, {3, 5}), 60u);
  EXPECT_EQ(TensorBytes(DType::kInt64, {int64_t{1} << 61}), UINT64_MAX);
  EXPECT_TRUE(CheckTensorLimit(DType::kFloat32, {3, 5}, 60, "x").ok());
  EXPECT_TRUE(CheckTensorLimit(DType::kFloat32, {int64_t{1} << 40}, 0, "x").ok());  // 0: no limit
  Status over = CheckTensorLimit(DType::kFloat32, {4, 4}, 60, "MatMul output 0");
  EXPECT_EQ(over.code(), StatusCode::kOutputTooLarge);
  EXPECT_NE(over.message().find("MatMul output 0"), std::string::npos);
  EXPECT_STREQ(StatusCodeName(over.code()), "OUTPUT_TOO_LARGE");
}

TEST(AllocateOutput, RefusesAboveTheLimitBeforeAllocating) {
  // 2^20 x 2^20 floats: 4 TiB, which would fail as kOutOfMemory if attempted.
  Tensor a = F32({1, 1}, {1.0f});
  std::vector<Tensor> outputs(1);
  std::vector<const Tensor*> inputs = {&a};
  std::vector<Tensor*> slots = {&outputs[0]};
  ExecContext exec(Span<const Tensor* const>(inputs.data(), 1), Span<Tensor* const>(slots.data(), 1), nullptr, nullptr);
  exec.set_max_tensor_bytes(uint64_t{1} << 30);
  KernelContext ctx(exec, nullptr, 13, nullptr, nullptr);
  Status status = AllocateOutput("Op", ctx, 0, DType::kFloat32, {int64_t{1} << 20, int64_t{1} << 20});
  EXPECT_EQ(status.code(), StatusCode::kOutputTooLarge) << status.message();
  EXPECT_EQ(outputs[0].buffer, nullptr);
  EXPECT_TRUE(AllocateOutput("Op", ctx, 0, DType::kFloat32, {16, 16}).ok());
  EXPECT_NE(outputs[0].buffer, nullptr);
}

TEST(Reshape, RejectsShapesWhoseProductOverflows) {
  Tensor x = F32({4}, Iota(4));
  // (2^62 + 1) * 4 wraps to 4 = the input's count.
  Tensor wrap = I64({2}, {(int64_t{1} << 62) + 1, 4});
  EXPECT_EQ(RunOp("Reshape", {&x, &wrap}).status.code(), StatusCode::kInvalidArgument);
  Tensor wrap_infer = I64({3}, {(int64_t{1} << 62) + 1, 4, -1});
  EXPECT_EQ(RunOp("Reshape", {&x, &wrap_infer}).status.code(), StatusCode::kInvalidArgument);
}

TEST(Reshape, AllowZeroAndOldOpset) {
  Tensor empty = F32({0, 3}, {}), shape = I64({2}, {3, 0});
  Attributes allow;
  allow.values["allowzero"] = IntAttr(1);
  Result r = RunOp("Reshape", {&empty, &shape}, allow, 14);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{3, 0}));
  Tensor x = F32({2, 3}, Iota(6));
  Attributes old;
  old.values["shape"] = IntsAttr({3, 2});
  EXPECT_EQ(RunOp("Reshape", {&x}, old, 4).out().shape, (Shape{3, 2}));
}

TEST(Reshape, InferUsesConstantShape) {
  Tensor shape = I64({3}, {0, -1, 2});
  Inferred r = InferOp("Reshape", {Info(DType::kFloat32, {2, 3, 4}), Info(DType::kInt64, {3}, &shape)});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{2, 6, 2}));
  // Unknown batch: 0 copies the unknown dim, -1 stays unknown.
  Inferred u = InferOp("Reshape", {Info(DType::kFloat32, {-1, 3, 4}), Info(DType::kInt64, {3}, &shape)});
  EXPECT_EQ(u.out().shape, (Shape{-1, -1, 2}));
  Tensor known = I64({2}, {0, 12});
  EXPECT_EQ(InferOp("Reshape", {Info(DType::kFloat32, {-1, 3, 4}), Info(DType::kInt64, {2}, &known)}).out().shape,
            (Shape{-1, 12}));
  // Shape not constant: only the rank is known.
  Inferred dyn = InferOp("Reshape", {Info(DType::kFloat32, {2, 3}), Info(DType::kInt64, {4})});
  EXPECT_EQ(dyn.out().shape, (Shape{-1, -1, -1, -1}));
  Tensor bad = I64({2}, {5, 5});
  EXPECT_EQ(InferOp("Reshape", {Info(DType::kFloat32, {2, 3}), Info(DType::kInt64, {2}, &bad)}).status.code(),
            StatusCode::kInvalidModel);
}

TEST(Flatten, AxisVariants) {
  Tensor x = F32({2, 3, 4}, Iota(24));
  EXPECT_EQ(RunOp("Flatten", {&x}).out().shape, (Shape{2, 12}));
  Attributes attrs;
  attrs.values["axis"] = IntAttr(0);
  EXPECT_EQ(RunOp("Flatten", {&x}, attrs).out().shape, (Shape{1, 24}));
  attrs.values["axis"] = IntAttr(-1);
  EXPECT_EQ(RunOp("Flatten", {&x}, attrs).out().shape, (Shape{6, 4}));
  attrs.values["axis"] = IntAttr(3);
  EXPECT_EQ(RunOp("Flatten", {&x}, attrs).out().shape, (Shape{24, 1}));
  EXPECT_EQ(InferOp("Flatten", {Info(DType::kFloat32, {-1, 3, 4})}).out().shape, (Shape{-1, 12}));
  attrs.values["axis"] = IntAttr(4);
  EXPECT_EQ(InferOp("Flatten", {Info(DType::kFloat32, {2, 3, 4})}, attrs).status.code(), StatusCode::kInvalidModel);
}

TEST(Identity, SharesBuffer) {
  Tensor x = I64({2}, {5, 6});
  Result r = RunOp("Identity", {&x});
  EXPECT_EQ(r.out().raw(), x.raw());
  EXPECT_EQ(r.out().dtype, DType::kInt64);
  EXPECT_EQ(InferOp("Identity", {Info(DType::kBool, {3, -1})}).out().shape, (Shape{3, -1}));
}

TEST(Transpose, DefaultReversesAndPerms) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  Result r = RunOp("Transpose", {&x});
  EXPECT_EQ(r.out().shape, (Shape{3, 2}));
  ExpectNear(Values<float>(r.out()), {1, 4, 2, 5, 3, 6});

  Tensor y = F32({2, 3, 4}, Iota(24));
  for (std::vector<int64_t> perm :
       std::vector<std::vector<int64_t>>{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}) {
    Attributes attrs;
    attrs.values["perm"] = IntsAttr(perm);
    Result t = RunOp("Transpose", {&y}, attrs);
    ASSERT_TRUE(t.status.ok());
    const Shape in_shape{2, 3, 4};
    Shape out_shape{in_shape[perm[0]], in_shape[perm[1]], in_shape[perm[2]]};
    ASSERT_EQ(t.out().shape, out_shape);
    auto v = Values<float>(t.out());
    int64_t o = 0;
    for (int64_t i = 0; i < out_shape[0]; ++i)
      for (int64_t j = 0; j < out_shape[1]; ++j)
        for (int64_t k = 0; k < out_shape[2]; ++k) {
          int64_t idx[3];
          idx[perm[0]] = i;
          idx[perm[1]] = j;
          idx[perm[2]] = k;
          EXPECT_FLOAT_EQ(v[o++], static_cast<float>((idx[0] * 3 + idx[1]) * 4 + idx[2]));
        }
  }
}

TEST(Transpose, LargeTiledAndOtherDTypes) {
  ThreadPool pool(2);
  const int64_t n = 4, c = 37, hw = 1000;  // NCHW -> NHWC-ish: [n, c, hw] -> [n, hw, c]
  std::vector<float> xs(n * c * hw);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i);
  Tensor x = F32({n, c, hw}, xs);
  Attributes attrs;
  attrs.values["perm"] = IntsAttr({0, 2, 1});
  auto v = Values<float>(RunOp("Transpose", {&x}, attrs, 13, &pool).out());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t p = 0; p < hw; p += 7)
      for (int64_t ch = 0; ch < c; ++ch) ASSERT_EQ(v[(b * hw + p) * c + ch], xs[(b * c + ch) * hw + p]);
  Tensor bools = Make<uint8_t>(DType::kBool, {2, 2}, {1, 1, 0, 0});
  EXPECT_EQ(Values<uint8_t>(RunOp("Transpose", {&bools}).out()), (std::vector<uint8_t>{1, 0, 1, 0}));
  Tensor ints = I64({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(Values<int64_t>(RunOp("Transpose", {&ints}).out()), (std::vector<int64_t>{1, 3, 2, 4}));
  attrs.values["perm"] = IntsAttr({0, 0});
  EXPECT_EQ(InferOp("Transpose", {Info(DType::kFloat32, {2, 2})}, attrs).status.code(), StatusCode::kInvalidModel);
  attrs.values["perm"] = IntsAttr({2, 0, 1});
  EXPECT_EQ(InferOp("Transpose", {Info(DType::kFloat32, {-1, 3, 4})}, attrs).out().shape, (Shape{4, -1, 3}));
}

TEST(Concat, AxesIncludingNegative) {
  Tensor a = F32({2, 2}, {1, 2, 3, 4}), b = F32({2, 1}, {5, 6}), c = F32({1, 2}, {7, 8});
  Attributes attrs;
  attrs.values["axis"] = IntAttr(-1);
  Result r = RunOp("Concat", {&a, &b}, attrs);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{2, 3}));
  ExpectNear(Values<float>(r.out()), {1, 2, 5, 3, 4, 6});
  attrs.values["axis"] = IntAttr(0);
  Result r0 = RunOp("Concat", {&a, &c}, attrs);
  EXPECT_EQ(r0.out().shape, (Shape{3, 2}));
  ExpectNear(Values<float>(r0.out()), {1, 2, 3, 4, 7, 8});
  EXPECT_EQ(RunOp("Concat", {&a, &c}, Attributes{}).status.code(), StatusCode::kInvalidArgument);  // no axis
  attrs.values["axis"] = IntAttr(1);
  EXPECT_EQ(RunOp("Concat", {&a, &c}, attrs).status.code(), StatusCode::kInvalidArgument);
  Tensor i1 = I64({1}, {1}), i2 = I64({2}, {2, 3});
  attrs.values["axis"] = IntAttr(0);
  EXPECT_EQ(Values<int64_t>(RunOp("Concat", {&i1, &i2}, attrs).out()), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Concat, Infer) {
  Attributes attrs;
  attrs.values["axis"] = IntAttr(-2);
  Inferred r = InferOp("Concat", {Info(DType::kFloat32, {-1, 2, 3}), Info(DType::kFloat32, {4, 5, 3})}, attrs);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.out().shape, (Shape{4, 7, 3}));
  Inferred u = InferOp("Concat", {Info(DType::kFloat32, {2, -1}), Info(DType::kFloat32, {2, 5})}, attrs);
  EXPECT_EQ(u.out().shape, (Shape{4, 5}));
  attrs.values["axis"] = IntAttr(0);
  EXPECT_EQ(InferOp("Concat", {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {2, 4})}, attrs).status.code(),
            StatusCode::kInvalidModel);
}

TEST(Constant, ValueKinds) {
  Attributes tensor_attr;
  Attribute value;
  value.kind = Attribute::Kind::kTensor;
  value.t = F32({2}, {1.5f, 2.5f});
  tensor_attr.values["value"] = value;
  Result r = RunOp("Constant", {}, tensor_attr);
  ASSERT_TRUE(r.status.ok());
  ExpectNear(Values<float>(r.out()), {1.5f, 2.5f});
  Inferred inf = InferOp("Constant", {}, tensor_attr);
  EXPECT_EQ(inf.out().shape, (Shape{2}));
  EXPECT_EQ(inf.out().dtype, DType::kFloat32);
  // Inference hands the value over, so every Constant folds at load.
  ASSERT_TRUE(inf.out().has_value());
  EXPECT_EQ(inf.out().value.raw(), value.t.raw());

  Attributes f;
  f.values["value_float"] = FloatAttr(3.0f);
  Result rf = RunOp("Constant", {}, f);
  EXPECT_EQ(rf.out().shape, (Shape{}));
  ExpectNear(Values<float>(rf.out()), {3.0f});
  Attributes is;
  is.values["value_ints"] = IntsAttr({4, 5, 6});
  EXPECT_EQ(Values<int64_t>(RunOp("Constant", {}, is).out()), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(InferOp("Constant", {}, is).out().shape, (Shape{3}));
  Attributes i;
  i.values["value_int"] = IntAttr(-9);
  EXPECT_EQ(Values<int64_t>(RunOp("Constant", {}, i).out()), (std::vector<int64_t>{-9}));
  Attributes fs;
  Attribute floats;
  floats.kind = Attribute::Kind::kFloats;
  floats.floats = {1, 2};
  fs.values["value_floats"] = floats;
  ExpectNear(Values<float>(RunOp("Constant", {}, fs).out()), {1, 2});
  Attributes s;
  Attribute str;
  str.kind = Attribute::Kind::kString;
  s.values["value_string"] = str;
  EXPECT_EQ(InferOp("Constant", {}, s).status.code(), StatusCode::kUnsupported);
}

TEST(Cast, FloatToInt64ToBool) {
  Tensor x = F32({5}, {-2.7f, -0.5f, 0.0f, 0.9f, 3.2f});
  Attributes to_int;
  to_int.values["to"] = IntAttr(static_cast<int64_t>(DType::kInt64));
  Result ri = RunOp("Cast", {&x}, to_int);
  ASSERT_TRUE(ri.status.ok());
  EXPECT_EQ(ri.out().dtype, DType::kInt64);
  EXPECT_EQ(Values<int64_t>(ri.out()), (std::vector<int64_t>{-2, 0, 0, 0, 3}));
  Attributes to_bool;
  to_bool.values["to"] = IntAttr(static_cast<int64_t>(DType::kBool));
  Result rb = RunOp("Cast", {&ri.out()}, to_bool);
  EXPECT_EQ(rb.out().dtype, DType::kBool);
  EXPECT_EQ(Values<uint8_t>(rb.out()), (std::vector<uint8_t>{1, 0, 0, 0, 1}));
  Attributes to_float;
  to_float.values["to"] = IntAttr(static_cast<int64_t>(DType::kFloat32));
  ExpectNear(Values<float>(RunOp("Cast", {&rb.out()}, to_float).out()), {1, 0, 0, 0, 1});
  // The same type: a copy here (the optimizer removes such nodes from graphs).
  Result same = RunOp("Cast", {&x}, to_float);
  ExpectNear(Values<float>(same.out()), Values<float>(x));
}

TEST(Cast, SaturatesAndRejectsUnsupported) {
  Tensor x = F32({3}, {NAN, 1e20f, -1e20f});
  Attributes to_i32;
  to_i32.values["to"] = IntAttr(static_cast<int64_t>(DType::kInt32));
  EXPECT_EQ(Values<int32_t>(RunOp("Cast", {&x}, to_i32).out()), (std::vector<int32_t>{0, INT32_MAX, INT32_MIN}));
  Attributes to_f64;
  to_f64.values["to"] = IntAttr(static_cast<int64_t>(DType::kFloat64));
  Tensor i = I32({2}, {-3, 7});
  EXPECT_EQ(Values<double>(RunOp("Cast", {&i}, to_f64).out()), (std::vector<double>{-3, 7}));
  // Every fixed-size dtype converts to every other (the 16-bit floats: ops_dtype_test.cc).
  Attributes to_half;
  to_half.values["to"] = IntAttr(static_cast<int64_t>(DType::kFloat16));
  EXPECT_EQ(CpuSupport("Cast", {DType::kFloat32}, to_half), "");
  EXPECT_EQ(CpuSupport("Cast", {DType::kFloat16}, to_f64), "");
  EXPECT_EQ(InferOp("Cast", {Info(DType::kFloat32, {-1, 2})}, to_i32).out().shape, (Shape{-1, 2}));
}

// ---- infer per op (the rest) -------------------------------------------------------------------

TEST(InferShapes, ElementwiseAndGemm) {
  Inferred add = InferOp("Add", {Info(DType::kFloat32, {-1, 3, 4}), Info(DType::kFloat32, {4})});
  ASSERT_TRUE(add.status.ok());
  EXPECT_EQ(add.out().shape, (Shape{-1, 3, 4}));
  EXPECT_EQ(add.out().dtype, DType::kFloat32);
  EXPECT_EQ(InferOp("Mul", {Info(DType::kFloat32, {2, 1, 4}), Info(DType::kFloat32, {3, 1})}).out().shape,
            (Shape{2, 3, 4}));
  EXPECT_EQ(InferOp("Sub", {Info(DType::kFloat32, {2, 3}), Info(DType::kFloat32, {4})}).status.code(),
            StatusCode::kInvalidModel);
  EXPECT_EQ(InferOp("Div", {Info(DType::kFloat32, {2}), Info(DType::kInt64, {2})}).status.code(),
            StatusCode::kInvalidModel);
  Inferred bools = InferOp("Add", {Info(DType::kBool, {2}), Info(DType::kBool, {2})});
  EXPECT_EQ(bools.status.code(), StatusCode::kUnsupported);
  EXPECT_NE(bools.status.message().find("Add"), std::string::npos);
  EXPECT_NE(bools.status.message().find("bool"), std::string::npos);
  EXPECT_FALSE(InferOp("Add", {UnknownRank(DType::kFloat32), Info(DType::kFloat32, {4})}).out().rank_known);
  EXPECT_EQ(InferOp("Relu", {Info(DType::kFloat32, {-1, 8})}).out().shape, (Shape{-1, 8}));
  EXPECT_EQ(InferOp("Tanh", {Info(DType::kBool, {1})}).status.code(), StatusCode::kUnsupported);

  Attributes trans;
  trans.values["transA"] = IntAttr(1);
  Inferred g = InferOp(
      "Gemm", {Info(DType::kFloat32, {5, -1}), Info(DType::kFloat32, {5, 7}), Info(DType::kFloat32, {7})}, trans);
  ASSERT_TRUE(g.status.ok()) << g.status.message();
  EXPECT_EQ(g.out().shape, (Shape{-1, 7}));
  EXPECT_EQ(InferOp("Gemm", {Info(DType::kFloat32, {2, 5}), Info(DType::kFloat32, {5, 7}), Info(DType::kFloat32, {3})})
                .status.code(),
            StatusCode::kInvalidModel);
}

}  // namespace
}  // namespace maas
