// Softmax on float32/float64, numerically stable (subtracts the max). The
// axis rules (ops/layout.h) make the work `outer` groups of `len` values
// spaced `inner` apart.
#include <algorithm>
#include <cmath>

#include "cpu/fast_math.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"
#include "ops/layout.h"

namespace maas {
namespace {

const char* const kOp = "Softmax";

inline float Exp(float x) { return FastExp(x); }
inline double Exp(double x) { return std::exp(x); }

// Contiguous group: max, exp and sum, scale.
template <typename T>
void SoftmaxContiguous(const T* in, T* out, int64_t len) {
  T max_value = in[0];
  for (int64_t i = 1; i < len; ++i) max_value = std::max(max_value, in[i]);
  // Separate loops: the exp loop vectorizes, the ordered sum does not.
  for (int64_t i = 0; i < len; ++i) out[i] = Exp(in[i] - max_value);
  T sum = 0;
  for (int64_t i = 0; i < len; ++i) sum += out[i];
  const T scale = T(1) / sum;
  for (int64_t i = 0; i < len; ++i) out[i] *= scale;
}

// Strided groups (axis not last): process the `inner` columns of one outer
// slice together so every pass walks memory in order.
template <typename T>
void SoftmaxStrided(const T* in, T* out, int64_t len, int64_t inner, std::vector<T>& scratch) {
  scratch.assign(static_cast<size_t>(inner), -INFINITY);
  T* acc = scratch.data();
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) acc[j] = std::max(acc[j], in[l * inner + j]);
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) out[l * inner + j] = Exp(in[l * inner + j] - acc[j]);
  std::fill(acc, acc + inner, T(0));
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) acc[j] += out[l * inner + j];
  for (int64_t j = 0; j < inner; ++j) acc[j] = T(1) / acc[j];
  for (int64_t l = 0; l < len; ++l)
    for (int64_t j = 0; j < inner; ++j) out[l * inner + j] *= acc[j];
}

template <typename T>
void RunSoftmax(const T* in, T* out, const SoftmaxLayout& L, ThreadPool* pool) {
  const int64_t group = L.len * L.inner;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, group));
  MaybeParallelFor(pool, L.outer, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch;
    for (int64_t o = begin; o < end; ++o) {
      if (L.inner == 1) {
        SoftmaxContiguous(in + o * group, out + o * group, L.len);
      } else {
        SoftmaxStrided(in + o * group, out + o * group, L.len, L.inner, scratch);
      }
    }
  });
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  SoftmaxLayout layout;
  Status s = ResolveSoftmaxLayout(in.shape, ctx.attrs, ctx.opset, &layout);
  if (!s.ok()) return InvalidArgument(s.message());
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, in.dtype, in.shape));
  if (in.num_elements() == 0 || layout.len == 0) return Status::Ok();
  Tensor& out = ctx.output(0);
  switch (in.dtype) {
    case DType::kFloat32: RunSoftmax(in.data<float>(), out.data<float>(), layout, ctx.pool); break;
    case DType::kFloat64: RunSoftmax(in.data<double>(), out.data<double>(), layout, ctx.pool); break;
    default: return UnsupportedDType(kOp, in.dtype);
  }
  return Status::Ok();
}

CpuKernelRegistrar registrar(CpuKernel{kOp, {DType::kFloat32, DType::kFloat64}, Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
