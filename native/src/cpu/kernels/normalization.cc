// LayerNormalization (float32, float64, float16, bfloat16), LogSoftmax (the
// same) and Softmax for the 16-bit floats (softmax.cc has float32/float64).
// Everything is computed in float32 (float64 for float64) and rounded once.
#include <cmath>

#include "cpu/dtype_dispatch.h"
#include "cpu/elementwise.h"
#include "cpu/fast_math.h"
#include "cpu/kernel.h"
#include "ops/layout.h"
#include "ops/normalization.h"

namespace maas {
namespace {

using FloatAndHalfTypes = TypeList<float, double, Float16, BFloat16>;

inline float ExpOf(float x) { return FastExp(x); }
inline double ExpOf(double x) { return std::exp(x); }

// ---- LayerNormalization ----------------------------------------------------------------

template <typename T>
struct LayerNormArgs {
  const T* x = nullptr;
  const T* scale = nullptr;
  const T* bias = nullptr;  // may be null
  bool scale_scalar = false, bias_scalar = false;
  T* y = nullptr;
  float* mean_out = nullptr;     // may be null
  float* inv_std_out = nullptr;  // may be null
  LayerNormLayout layout;
  ComputeType<T> epsilon{};
};

template <typename T>
void LayerNormRows(const LayerNormArgs<T>& a, int64_t begin, int64_t end) {
  using C = ComputeType<T>;
  const int64_t n = a.layout.size;
  for (int64_t r = begin; r < end; ++r) {
    const T* x = a.x + r * n;
    T* y = a.y + r * n;
    C sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += Widen(x[i]);
    const C mean = sum / static_cast<C>(n);
    C squares = 0;
    for (int64_t i = 0; i < n; ++i) {
      const C d = Widen(x[i]) - mean;
      squares += d * d;
    }
    const C inv_std = C(1) / std::sqrt(squares / static_cast<C>(n) + a.epsilon);
    for (int64_t i = 0; i < n; ++i) {
      const C scale = Widen(a.scale[a.scale_scalar ? 0 : i]);
      const C bias = a.bias ? Widen(a.bias[a.bias_scalar ? 0 : i]) : C(0);
      y[i] = Narrow<T>((Widen(x[i]) - mean) * inv_std * scale + bias);
    }
    if (a.mean_out) a.mean_out[r] = static_cast<float>(mean);
    if (a.inv_std_out) a.inv_std_out[r] = static_cast<float>(inv_std);
  }
}

Status LayerNormCompute(KernelContext& ctx) {
  const char* op = "LayerNormalization";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& x = *ctx.inputs[0];
  const Tensor& scale = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  LayerNormLayout layout;
  Status s = ResolveLayerNorm(x.shape, ctx.attrs, &layout);
  if (!s.ok()) return InvalidArgument(s.message());
  if (!LayerNormParamFits(scale.shape, layout.size) || (bias && !LayerNormParamFits(bias->shape, layout.size)))
    return InvalidArgument(std::string(op) + ": Scale and B must hold one value per normalized element");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, x.shape));
  Shape stats_shape = x.shape;
  for (size_t d = static_cast<size_t>(layout.axis); d < stats_shape.size(); ++d) stats_shape[d] = 1;
  float* stats[2] = {nullptr, nullptr};
  for (size_t i = 1; i < 3 && i < ctx.num_outputs(); ++i) {
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, i, DType::kFloat32, stats_shape));
    stats[i - 1] = ctx.output(i).data<float>();
  }
  if (layout.rows == 0 || layout.size == 0) return Status::Ok();
  const float epsilon = ctx.attrs ? ctx.attrs->GetFloat("epsilon", 1e-5f) : 1e-5f;
  const bool supported = DispatchDType<FloatAndHalfTypes>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const LayerNormArgs<T> args{x.data<T>(),
                                scale.data<T>(),
                                bias ? bias->data<T>() : nullptr,
                                scale.num_elements() == 1 && layout.size != 1,
                                bias && bias->num_elements() == 1 && layout.size != 1,
                                ctx.output(0).data<T>(),
                                stats[0],
                                stats[1],
                                layout,
                                static_cast<ComputeType<T>>(epsilon)};
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / layout.size);
    MaybeParallelFor(ctx.pool, layout.rows, grain, [&](int64_t b, int64_t e) { LayerNormRows(args, b, e); });
  });
  return supported ? Status::Ok() : UnsupportedDType(op, x.dtype);
}

// ---- Softmax / LogSoftmax -----------------------------------------------------------

// One group of `len` values `stride` apart: max, sum of exponentials, then
// either x − max − log(sum) or e^(x − max) / sum.
template <bool kLog, typename T>
void SoftmaxGroup(const T* in, T* out, int64_t len, int64_t stride) {
  using C = ComputeType<T>;
  C max_value = Widen(in[0]);
  for (int64_t l = 1; l < len; ++l) max_value = std::fmax(max_value, Widen(in[l * stride]));
  C sum = 0;
  for (int64_t l = 0; l < len; ++l) sum += ExpOf(static_cast<C>(Widen(in[l * stride]) - max_value));
  if (kLog) {
    const C log_sum = std::log(sum);
    for (int64_t l = 0; l < len; ++l) out[l * stride] = Narrow<T>((Widen(in[l * stride]) - max_value) - log_sum);
  } else {
    const C inv = C(1) / sum;
    for (int64_t l = 0; l < len; ++l)
      out[l * stride] = Narrow<T>(ExpOf(static_cast<C>(Widen(in[l * stride]) - max_value)) * inv);
  }
}

template <bool kLog>
Status SoftmaxCompute(KernelContext& ctx) {
  const std::string op = kLog ? "LogSoftmax" : "Softmax";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  SoftmaxLayout L;
  Status s = ResolveSoftmaxLayout(in.shape, ctx.attrs, ctx.opset, &L);
  if (!s.ok()) return InvalidArgument(s.message());
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
  if (in.num_elements() == 0 || L.len == 0) return Status::Ok();
  const bool supported = DispatchDType<FloatAndHalfTypes>(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in.data<T>();
    T* y = ctx.output(0).data<T>();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / L.len);
    MaybeParallelFor(ctx.pool, L.outer * L.inner, grain, [&](int64_t b, int64_t e) {
      for (int64_t g = b; g < e; ++g) {
        const int64_t offset = (g / L.inner) * L.len * L.inner + g % L.inner;
        SoftmaxGroup<kLog>(x + offset, y + offset, L.len, L.inner);
      }
    });
  });
  return supported ? Status::Ok() : UnsupportedDType(op, in.dtype);
}

CpuKernelRegistrar layer_norm_k(CpuKernel{"LayerNormalization", DTypesOf<FloatAndHalfTypes>(), LayerNormCompute,
                                          nullptr, nullptr});
CpuKernelRegistrar log_softmax_k(CpuKernel{"LogSoftmax", DTypesOf<FloatAndHalfTypes>(), SoftmaxCompute<true>, nullptr,
                                           nullptr});
CpuKernelRegistrar softmax_half_k(CpuKernel{"Softmax", DTypesOf<HalfTypes>(), SoftmaxCompute<false>, nullptr, nullptr});

}  // namespace
}  // namespace maas
