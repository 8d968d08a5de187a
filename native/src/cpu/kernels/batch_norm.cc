// BatchNormalization (inference) on float32/float64: per channel c,
//   y = x * a[c] + b[c],  a = scale / sqrt(var + epsilon),  b = B - mean * a
// The parameters may have their own float type (opset 15). In place is
// allowed (out == in). Usually folded into the Conv before it at load
// (graph/conv_fusions.cc); this kernel runs the rest.
#include <cmath>

#include "cpu/dtype_dispatch.h"
#include "cpu/kernel.h"
#include "cpu/kernel_util.h"

namespace maas {
namespace {

const char* const kOp = "BatchNormalization";

double ParamAt(const Tensor& t, int64_t i) {
  switch (t.dtype) {
    case DType::kFloat32: return t.data<float>()[i];
    case DType::kFloat64: return t.data<double>()[i];
    default: return 0.0;
  }
}

Status Compute(KernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(kOp, ctx, 5));
  const Tensor& x = *ctx.inputs[0];
  if (x.shape.size() < 2) return InvalidArgument(std::string(kOp) + ": X needs a batch and a channel dim");
  const int64_t channels = x.shape[1];
  for (size_t i = 1; i < 5; ++i) {
    const Tensor& p = *ctx.inputs[i];
    if (p.dtype != DType::kFloat32 && p.dtype != DType::kFloat64) return UnsupportedDType(kOp, p.dtype);
    if (p.shape.size() != 1 || p.shape[0] != channels)
      return InvalidArgument(std::string(kOp) + ": parameter " + std::to_string(i) + " " + ShapeToString(p.shape) +
                             " does not match " + std::to_string(channels) + " channels");
  }
  const Tensor &scale = *ctx.inputs[1], &shift = *ctx.inputs[2], &mean = *ctx.inputs[3], &var = *ctx.inputs[4];
  const double epsilon = ctx.attrs ? ctx.attrs->GetFloat("epsilon", 1e-5f) : 1e-5f;
  MAAS_RETURN_IF_ERROR(AllocateOutput(kOp, ctx, 0, x.dtype, x.shape));
  const int64_t batch = x.shape[0];
  const int64_t inner = channels == 0 || batch == 0 ? 0 : x.num_elements() / (batch * channels);
  const bool ok = DispatchDType<FloatTypes>(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = ctx.output(0).data<T>();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner));
    MaybeParallelFor(ctx.pool, batch * channels, grain, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t c = p % channels;
        const T a = static_cast<T>(ParamAt(scale, c) / std::sqrt(ParamAt(var, c) + epsilon));
        const T b = static_cast<T>(ParamAt(shift, c) - ParamAt(mean, c) * static_cast<double>(a));
        const T* src = in + p * inner;
        T* dst = out + p * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i] * a + b;
      }
    });
  });
  return ok ? Status::Ok() : UnsupportedDType(kOp, x.dtype);
}

CpuKernelRegistrar registrar(CpuKernel{kOp, DTypesOf<FloatTypes>(), Compute, nullptr, nullptr});

}  // namespace
}  // namespace maas
