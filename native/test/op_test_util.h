// Helpers for op tests: tensors from vectors, attributes, running one CPU
// kernel outside any plan, one schema's inference, the CPU backend's support
// answer, a naive GEMM reference. Shared by kernels_test.cc, gemm_test.cc,
// conv_test.cc and the ops_*_test.cc files.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/kernel.h"
#include "cpu/thread_pool.h"
#include "maas/backend.h"
#include "ops/schema.h"

namespace maas {

template <typename T>
inline Tensor Make(DType dtype, const Shape& shape, const std::vector<T>& values) {
  Tensor t = MakeTensor(dtype, shape);
  EXPECT_EQ(static_cast<size_t>(t.num_elements()), values.size());
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}
inline Tensor F32(const Shape& s, const std::vector<float>& v) { return Make(DType::kFloat32, s, v); }
inline Tensor I64(const Shape& s, const std::vector<int64_t>& v) { return Make(DType::kInt64, s, v); }
inline Tensor I32(const Shape& s, const std::vector<int32_t>& v) { return Make(DType::kInt32, s, v); }

template <typename T>
inline std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

inline std::vector<float> Iota(int64_t n, float start = 0.0f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

inline Attribute IntAttr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute FloatAttr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute IntsAttr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

struct Result {
  Status status;
  std::vector<Tensor> outputs;
  const Tensor& out() const { return outputs.at(0); }
};

// Runs the op's CPU kernel outside any plan (outputs get fresh memory): the
// kernel registered for input 0's dtype, else the op's first (which then
// reports the dtype it lacks).
inline Result RunOp(const std::string& op, const std::vector<const Tensor*>& inputs, const Attributes& attrs = {},
                    int opset = 13, ThreadPool* pool = nullptr, const void* prepared = nullptr,
                    size_t num_outputs = 1) {
  const CpuKernel* k = FindCpuKernel(op, inputs.empty() || !inputs[0] ? DType::kUndefined : inputs[0]->dtype);
  if (!k) k = FindCpuKernel(op);
  EXPECT_NE(k, nullptr) << op;
  Result r;
  if (!k) {
    r.status = Unsupported("no kernel");
    return r;
  }
  r.outputs.resize(num_outputs);
  std::vector<Tensor*> slots;
  for (Tensor& t : r.outputs) slots.push_back(&t);
  ExecContext exec(Span<const Tensor* const>(inputs.data(), inputs.size()),
                   Span<Tensor* const>(slots.data(), slots.size()), nullptr, nullptr);
  KernelContext ctx(exec, &attrs, opset, pool, prepared);
  r.status = k->compute(ctx);
  return r;
}

inline ValueInfo Info(DType dtype, const Shape& shape, const Tensor* constant = nullptr) {
  ValueInfo v;
  v.dtype = dtype;
  v.shape = shape;
  v.constant = constant;
  return v;
}
inline ValueInfo UnknownRank(DType dtype) {
  ValueInfo v;
  v.dtype = dtype;
  v.rank_known = false;
  return v;
}

struct Inferred {
  Status status;
  std::vector<ValueInfo> outputs;
  const ValueInfo& out() const { return outputs.at(0); }
};

inline Inferred InferOp(const std::string& op, const std::vector<ValueInfo>& inputs, const Attributes& attrs = {},
                        int opset = 13, size_t num_outputs = 1) {
  const OpSchema* schema = FindSchema(op);
  EXPECT_NE(schema, nullptr) << op;
  Inferred r;
  r.outputs.resize(num_outputs);
  InferContext ctx;
  ctx.inputs = inputs;
  ctx.attrs = &attrs;
  ctx.opset = opset;
  r.status = schema->infer(ctx, r.outputs);
  return r;
}

// What the CPU backend says about a node of `op` with these input dtypes:
// empty when it can run it, else what it lacks.
inline std::string CpuSupport(const std::string& op, const std::vector<DType>& dtypes, const Attributes& attrs = {}) {
  NodeDesc node;
  node.op_type = &op;
  node.attrs = &attrs;
  for (DType d : dtypes) node.inputs.push_back(Info(d, {1}));
  return CheckCpuNode(node);
}

inline void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol * std::max(1.0f, std::fabs(want[i]))) << i;
}

// Naive reference: C = alpha * op(A) op(B) + beta * C, in double.
inline std::vector<float> NaiveGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                                    const std::vector<float>& a, const std::vector<float>& b, float beta,
                                    const std::vector<float>& c) {
  std::vector<float> out(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float av = ta ? a[p * m + i] : a[i * k + p];
        const float bv = tb ? b[j * k + p] : b[p * n + j];
        sum += static_cast<double>(av) * bv;
      }
      out[i * n + j] = static_cast<float>(alpha * sum + (beta != 0 ? beta * c[i * n + j] : 0.0));
    }
  return out;
}

}  // namespace maas
