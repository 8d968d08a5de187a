// MaxPool (without the Indices output), AveragePool, GlobalAveragePool and
// GlobalMaxPool on float types: one thread per output point scanning its
// window (ops/conv_geometry.h), float accumulation. AveragePool divides by
// the taps inside the input, or with count_include_pad inside the padded
// input, as the CPU kernel does.
#include "cuda/kernels/cuda_util.h"
#include "ops/conv_geometry.h"

namespace maas::cuda {
namespace {

enum class PoolKind { kMax, kAverage, kAverageIncludePad };

template <typename T>
__global__ void PoolKernel(const T* x, T* y, ConvGeometry g, PoolKind kind, int64_t total) {
  MAAS_GRID_STRIDE(i, total) {
    int64_t rest = i;
    int64_t at[kMaxSpatial];
    for (int a = kMaxSpatial - 1; a >= 0; --a) {
      at[a] = rest % g.out[a];
      rest /= g.out[a];
    }
    const int64_t plane = rest;
    const T* in = x + plane * g.in[0] * g.in[1] * g.in[2];
    float acc = kind == PoolKind::kMax ? -INFINITY : 0.0f;
    int64_t inside = 0;
    int64_t start[kMaxSpatial];
    for (int a = 0; a < kMaxSpatial; ++a) start[a] = at[a] * g.stride[a] - g.pad_begin[a];
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t d = start[0] + kd * g.dilation[0];
      if (d < 0 || d >= g.in[0]) continue;
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t h = start[1] + kh * g.dilation[1];
        if (h < 0 || h >= g.in[1]) continue;
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t w = start[2] + kw * g.dilation[2];
          if (w < 0 || w >= g.in[2]) continue;
          const float v = ToFloat(in[(d * g.in[1] + h) * g.in[2] + w]);
          acc = kind == PoolKind::kMax ? fmaxf(acc, v) : acc + v;
          ++inside;
        }
      }
    }
    if (kind == PoolKind::kAverageIncludePad) {
      // Taps inside [-pad_begin, in + pad_end) per axis, multiplied.
      inside = 1;
      for (int a = 0; a < kMaxSpatial; ++a) {
        int64_t n = 0;
        for (int64_t k = 0; k < g.kernel[a]; ++k) {
          const int64_t p = start[a] + k * g.dilation[a];
          n += p >= -g.pad_begin[a] && p < g.in[a] + g.pad_end[a];
        }
        inside *= n;
      }
    }
    if (kind != PoolKind::kMax) acc = inside > 0 ? acc / static_cast<float>(inside) : 0.0f;
    y[i] = FromFloat<T>(acc);
  }
}

Status LaunchPool(const std::string& op, CudaKernelContext& ctx, const ConvGeometry& g, PoolKind kind,
                  const Shape& out_shape) {
  const Tensor& x = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, out_shape));
  const int64_t total = NumElements(out_shape);
  if (total == 0) return Status::Ok();
  const bool ok = DispatchFloat(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    PoolKernel<T><<<BlocksFor(total), kThreads, 0, ctx.stream>>>(static_cast<const T*>(x.raw()),
                                                                 static_cast<T*>(ctx.output(0).raw()), g, kind, total);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, x.dtype);
}

Status PoolCompute(const std::string& op, CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& x = *ctx.inputs[0];
  if (x.shape.size() < 3) return InvalidArgument(op + ": X needs a batch, a channel and a spatial dim");
  if (ctx.num_outputs() > 1) return Unsupported(op + ": the Indices output on CUDA");
  const int rank = static_cast<int>(x.shape.size()) - 2;
  ConvParams params;
  Status s = ParseConvParams(op, ctx.attrs, ConvFamily::kPool, rank, &params);
  if (!s.ok()) return InvalidArgument(s.message());
  ConvGeometry g{};
  MAAS_RETURN_IF_ERROR(ResolveConvGeometry(op, params, x.shape.data() + 2, nullptr, StatusCode::kInvalidArgument, &g));
  Shape out_shape = x.shape;
  for (int i = 0; i < rank; ++i) out_shape[2 + i] = g.out[kMaxSpatial - rank + i];
  const PoolKind kind = op == "MaxPool"            ? PoolKind::kMax
                        : params.count_include_pad ? PoolKind::kAverageIncludePad
                                                   : PoolKind::kAverage;
  return LaunchPool(op, ctx, g, kind, out_shape);
}

// A global pool is a window over the whole plane.
Status GlobalPoolCompute(const std::string& op, CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& x = *ctx.inputs[0];
  const int rank = static_cast<int>(x.shape.size()) - 2;
  if (rank < 1 || rank > kMaxSpatial) return InvalidArgument(op + ": X needs 1 to 3 spatial dims");
  ConvGeometry g{};
  for (int a = 0; a < kMaxSpatial; ++a) {
    const int64_t dim = a < kMaxSpatial - rank ? 1 : x.shape[2 + a - (kMaxSpatial - rank)];
    g.in[a] = dim;
    g.kernel[a] = dim;
    g.out[a] = 1;
    g.stride[a] = 1;
    g.dilation[a] = 1;
    g.pad_begin[a] = 0;
    g.pad_end[a] = 0;
  }
  Shape out_shape = x.shape;
  for (size_t i = 2; i < out_shape.size(); ++i) out_shape[i] = 1;
  return LaunchPool(op, ctx, g, op == "GlobalMaxPool" ? PoolKind::kMax : PoolKind::kAverage, out_shape);
}

CudaKernel Make(const std::string& op, Status (*compute)(const std::string&, CudaKernelContext&)) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  k.compute = [op, compute](CudaKernelContext& ctx) { return compute(op, ctx); };
  if (op == "MaxPool")
    k.check = [](const NodeDesc& node) -> std::string {
      return node.outputs.size() > 1 && node.outputs[1].dtype != DType::kUndefined ? "Indices output" : "";
    };
  return k;
}

CudaKernelRegistrar max_pool(Make("MaxPool", PoolCompute));
CudaKernelRegistrar average_pool(Make("AveragePool", PoolCompute));
CudaKernelRegistrar global_average_pool(Make("GlobalAveragePool", GlobalPoolCompute));
CudaKernelRegistrar global_max_pool(Make("GlobalMaxPool", GlobalPoolCompute));

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Pool)

}  // namespace maas::cuda
