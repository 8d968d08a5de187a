// Row-wise ops with a block-level reduction: Softmax, LogSoftmax,
// LayerNormalization (the fused form the graph pass makes from the
// ReduceMean/Sub/Pow/Sqrt/Div pattern, and the ONNX op), the Reduce* family,
// BatchNormalization (inference), and ArgMax/ArgMin (a thread per position).
// Float types only; every sum and max runs in float, so float16/bfloat16
// round once per output.
#include <algorithm>
#include <cmath>

#include "cuda/kernels/cuda_util.h"
#include "ops/indexing.h"
#include "ops/layout.h"
#include "ops/normalization.h"
#include "ops/reduce.h"

namespace maas::cuda {
namespace {

enum class Combine { kSum, kMax, kMin };

__device__ __forceinline__ float CombineValues(Combine how, float a, float b) {
  switch (how) {
    case Combine::kSum: return a + b;
    case Combine::kMax: return fmaxf(a, b);
    case Combine::kMin: return fminf(a, b);
  }
  return a;
}

__device__ __forceinline__ float InitialValue(Combine how) {
  return how == Combine::kSum ? 0.0f : (how == Combine::kMax ? -INFINITY : INFINITY);
}

// Reduces one value per thread over the block (blockDim.x a multiple of 32,
// at most 1024); every thread gets the result.
__device__ float BlockReduce(Combine how, float value) {
  __shared__ float partial[32];
  for (int offset = 16; offset > 0; offset >>= 1)
    value = CombineValues(how, value, __shfl_xor_sync(0xffffffffu, value, offset));
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  __syncthreads();  // partial[] may still be read from a previous call
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const int warps = blockDim.x >> 5;
  value = lane < warps ? partial[lane] : InitialValue(how);
  for (int offset = 16; offset > 0; offset >>= 1)
    value = CombineValues(how, value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

// One block per group (blockIdx.x over outer·inner).
template <typename T, bool kLog>
__global__ void SoftmaxKernel(const T* in, T* out, int64_t len, int64_t inner) {
  const int64_t group = blockIdx.x;
  const int64_t o = group / inner;
  const int64_t j = group % inner;
  const int64_t base = o * len * inner + j;
  float max_value = -INFINITY;
  for (int64_t l = threadIdx.x; l < len; l += blockDim.x) max_value = fmaxf(max_value, ToFloat(in[base + l * inner]));
  max_value = BlockReduce(Combine::kMax, max_value);
  float sum = 0.0f;
  for (int64_t l = threadIdx.x; l < len; l += blockDim.x) sum += expf(ToFloat(in[base + l * inner]) - max_value);
  sum = BlockReduce(Combine::kSum, sum);
  if (kLog) {
    const float log_sum = logf(sum);
    for (int64_t l = threadIdx.x; l < len; l += blockDim.x)
      out[base + l * inner] = FromFloat<T>(ToFloat(in[base + l * inner]) - max_value - log_sum);
  } else {
    const float inv = 1.0f / sum;
    for (int64_t l = threadIdx.x; l < len; l += blockDim.x)
      out[base + l * inner] = FromFloat<T>(expf(ToFloat(in[base + l * inner]) - max_value) * inv);
  }
}

// Threads per block for rows of `len`: a multiple of 32, up to kThreads.
unsigned ThreadsFor(int64_t len) {
  int64_t threads = 32;
  while (threads < len && threads < kThreads) threads *= 2;
  return static_cast<unsigned>(threads);
}

// Grids above 2^31 - 1 blocks are refused rather than truncated.
Status CheckGrid(const std::string& op, int64_t blocks) {
  if (blocks <= 0x7fffffffLL) return Status::Ok();
  return Unsupported(op + ": " + std::to_string(blocks) + " rows exceed one CUDA grid");
}

template <bool kLog>
Status SoftmaxCompute(CudaKernelContext& ctx) {
  const std::string op = kLog ? "LogSoftmax" : "Softmax";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  SoftmaxLayout L;
  Status s = ResolveSoftmaxLayout(in.shape, ctx.attrs, ctx.opset, &L);
  if (!s.ok()) return InvalidArgument(s.message());
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
  if (in.num_elements() == 0 || L.len == 0) return Status::Ok();
  MAAS_RETURN_IF_ERROR(CheckGrid(op, L.outer * L.inner));
  const bool ok = DispatchFloat(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    SoftmaxKernel<T, kLog><<<static_cast<unsigned>(L.outer * L.inner), ThreadsFor(L.len), 0, ctx.stream>>>(
        static_cast<const T*>(in.raw()), static_cast<T*>(ctx.output(0).raw()), L.len, L.inner);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, in.dtype);
}

// ---- LayerNormalization -------------------------------------------------------------

template <typename T>
struct LayerNormArgs {
  const T* x;
  const T* scale;
  const T* bias;  // may be null
  bool scale_scalar, bias_scalar;
  T* y;
  float* mean_out;     // may be null
  float* inv_std_out;  // may be null
  int64_t size;
  float epsilon;
};

// One block per row; two passes over the row (mean, then squared
// deviations) as the CPU kernel does, for the same rounding behaviour.
template <typename T>
__global__ void LayerNormKernel(LayerNormArgs<T> a) {
  const int64_t r = blockIdx.x;
  const T* x = a.x + r * a.size;
  T* y = a.y + r * a.size;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < a.size; i += blockDim.x) sum += ToFloat(x[i]);
  const float mean = BlockReduce(Combine::kSum, sum) / static_cast<float>(a.size);
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < a.size; i += blockDim.x) {
    const float d = ToFloat(x[i]) - mean;
    squares += d * d;
  }
  const float inv_std = rsqrtf(BlockReduce(Combine::kSum, squares) / static_cast<float>(a.size) + a.epsilon);
  for (int64_t i = threadIdx.x; i < a.size; i += blockDim.x) {
    const float scale = ToFloat(a.scale[a.scale_scalar ? 0 : i]);
    const float bias = a.bias ? ToFloat(a.bias[a.bias_scalar ? 0 : i]) : 0.0f;
    y[i] = FromFloat<T>((ToFloat(x[i]) - mean) * inv_std * scale + bias);
  }
  if (threadIdx.x == 0) {
    if (a.mean_out) a.mean_out[r] = mean;
    if (a.inv_std_out) a.inv_std_out[r] = inv_std;
  }
}

Status LayerNormCompute(CudaKernelContext& ctx) {
  const std::string op = "LayerNormalization";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& x = *ctx.inputs[0];
  const Tensor& scale = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  LayerNormLayout layout;
  Status s = ResolveLayerNorm(x.shape, ctx.attrs, &layout);
  if (!s.ok()) return InvalidArgument(s.message());
  if (!LayerNormParamFits(scale.shape, layout.size) || (bias && !LayerNormParamFits(bias->shape, layout.size)))
    return InvalidArgument(op + ": Scale and B must hold one value per normalized element");
  if (scale.dtype != x.dtype || (bias && bias->dtype != x.dtype))
    return InvalidArgument(op + ": X, Scale and B must share a dtype");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, x.shape));
  Shape stats_shape = x.shape;
  for (size_t d = static_cast<size_t>(layout.axis); d < stats_shape.size(); ++d) stats_shape[d] = 1;
  float* stats[2] = {nullptr, nullptr};
  for (size_t i = 1; i < 3 && i < ctx.num_outputs(); ++i) {
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, i, DType::kFloat32, stats_shape));
    stats[i - 1] = static_cast<float*>(ctx.output(i).raw());
  }
  if (layout.rows == 0 || layout.size == 0) return Status::Ok();
  MAAS_RETURN_IF_ERROR(CheckGrid(op, layout.rows));
  const float epsilon = ctx.attrs ? ctx.attrs->GetFloat("epsilon", 1e-5f) : 1e-5f;
  const bool ok = DispatchFloat(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const LayerNormArgs<T> args{static_cast<const T*>(x.raw()),
                                static_cast<const T*>(scale.raw()),
                                bias ? static_cast<const T*>(bias->raw()) : nullptr,
                                scale.num_elements() == 1 && layout.size != 1,
                                bias && bias->num_elements() == 1 && layout.size != 1,
                                static_cast<T*>(ctx.output(0).raw()),
                                stats[0],
                                stats[1],
                                layout.size,
                                epsilon};
    LayerNormKernel<T><<<static_cast<unsigned>(layout.rows), ThreadsFor(layout.size), 0, ctx.stream>>>(args);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, x.dtype);
}

// ---- ReduceSum / ReduceMean / ReduceMax / ReduceMin ----------------------------------

// The input seen as kept dims (one output each) × reduced dims, with the
// input's strides for both.
struct ReducePlan {
  StridedLayout<1> kept;
  StridedLayout<1> reduced;
  int64_t outputs = 0;
  int64_t count = 0;  // elements per output
};

struct ReduceOp {
  Combine how;
  bool mean;
};

// One block per output element.
template <typename T>
__global__ void ReduceKernel(const T* in, T* out, ReducePlan plan, ReduceOp op) {
  const int64_t o = blockIdx.x;
  const int64_t base = OffsetOf(plan.kept, 0, o);
  float acc = InitialValue(op.how);
  for (int64_t i = threadIdx.x; i < plan.count; i += blockDim.x)
    acc = CombineValues(op.how, acc, ToFloat(in[base + OffsetOf(plan.reduced, 0, i)]));
  acc = BlockReduce(op.how, acc);
  if (threadIdx.x == 0) out[o] = FromFloat<T>(op.mean ? acc / static_cast<float>(plan.count) : acc);
}

Status ReducedOf(const std::string& op, const CudaKernelContext& ctx, const Shape& in, std::vector<bool>* reduced) {
  std::vector<int64_t> axes;
  if (ctx.opset < ReduceAxesInputOpset(op)) {
    if (ctx.attrs) axes = ctx.attrs->GetInts("axes", {});
  } else if (ctx.inputs.size() > 1 && ctx.inputs[1]) {
    if (!HostInts(ctx, 1, &axes)) return InvalidArgument(op + ": axes must be a 1-D int64 tensor on the host");
  }
  const bool noop = ctx.attrs && ctx.attrs->GetInt("noop_with_empty_axes", 0) != 0;
  Status s = ReducedDims(op, static_cast<int64_t>(in.size()), axes, noop, reduced);
  return s.ok() ? s : InvalidArgument(s.message());
}

CudaKernel MakeReduce(const std::string& op, ReduceOp how) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  k.host_inputs = {1};
  k.compute = [op, how](CudaKernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& in = *ctx.inputs[0];
    MAAS_RETURN_IF_ERROR(CheckRank(op, in.shape));
    std::vector<bool> reduced;
    MAAS_RETURN_IF_ERROR(ReducedOf(op, ctx, in.shape, &reduced));
    const bool keepdims = !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0;
    const Shape out_shape = ReducedShape(in.shape, reduced, keepdims);
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, out_shape));
    ReducePlan plan;
    int64_t stride = 1;
    std::vector<int64_t> strides(in.shape.size());
    for (size_t d = in.shape.size(); d-- > 0;) {
      strides[d] = stride;
      stride *= in.shape[d];
    }
    for (size_t d = 0; d < in.shape.size(); ++d) {
      StridedLayout<1>& part = reduced[d] ? plan.reduced : plan.kept;
      part.dims[part.rank] = in.shape[d];
      part.strides[0][part.rank] = strides[d];
      ++part.rank;
    }
    plan.outputs = NumElements(out_shape);
    plan.count = in.num_elements() / std::max<int64_t>(1, plan.outputs);
    if (plan.outputs == 0) return Status::Ok();
    if (in.num_elements() == 0) return Unsupported(op + ": reducing an empty tensor on CUDA");
    MAAS_RETURN_IF_ERROR(CheckGrid(op, plan.outputs));
    const bool ok = DispatchFloat(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      ReduceKernel<T><<<static_cast<unsigned>(plan.outputs), ThreadsFor(plan.count), 0, ctx.stream>>>(
          static_cast<const T*>(in.raw()), static_cast<T*>(ctx.output(0).raw()), plan, how);
    });
    return ok ? LaunchStatus(op) : UnsupportedDType(op, in.dtype);
  };
  return k;
}

// ---- BatchNormalization (inference) ------------------------------------------------------

// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + B[c] over [N, C, spatial].
template <typename T>
__global__ void BatchNormKernel(const T* x, const T* scale, const T* bias, const T* mean, const T* var, T* y, int64_t n,
                                int64_t channels, int64_t spatial, float epsilon) {
  MAAS_GRID_STRIDE(i, n) {
    const int64_t c = (i / spatial) % channels;
    const float a = ToFloat(scale[c]) * rsqrtf(ToFloat(var[c]) + epsilon);
    y[i] = FromFloat<T>((ToFloat(x[i]) - ToFloat(mean[c])) * a + ToFloat(bias[c]));
  }
}

Status BatchNormCompute(CudaKernelContext& ctx) {
  const std::string op = "BatchNormalization";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 5));
  const Tensor& x = *ctx.inputs[0];
  if (x.shape.size() < 2) return InvalidArgument(op + ": X needs [N, C, ...]");
  const int64_t channels = x.shape[1];
  for (size_t i = 1; i < 5; ++i)
    if (ctx.inputs[i]->num_elements() != channels || ctx.inputs[i]->dtype != x.dtype)
      return InvalidArgument(op + ": scale, B, mean and var must hold one value of X's dtype per channel");
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, x.shape));
  const int64_t n = x.num_elements();
  if (n == 0) return Status::Ok();
  const int64_t spatial = DimProduct(x.shape, 2, x.shape.size());
  const float epsilon = ctx.attrs ? ctx.attrs->GetFloat("epsilon", 1e-5f) : 1e-5f;
  const bool ok = DispatchFloat(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto p = [&](size_t i) { return static_cast<const T*>(ctx.inputs[i]->raw()); };
    BatchNormKernel<T><<<BlocksFor(n), kThreads, 0, ctx.stream>>>(
        p(0), p(1), p(2), p(3), p(4), static_cast<T*>(ctx.output(0).raw()), n, channels, spatial, epsilon);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, x.dtype);
}

// ---- ArgMax / ArgMin ------------------------------------------------------------------

// One thread per (outer, inner) position scanning the axis, as the CPU
// kernel does (first index of the extreme, or the last with select_last_index).
template <typename T>
__global__ void ArgKernel(const T* x, int64_t* out, int64_t outer_inner, int64_t len, int64_t inner, bool max,
                          bool last) {
  MAAS_GRID_STRIDE(unit, outer_inner) {
    const int64_t o = unit / inner, j = unit % inner;
    const T* p = x + o * len * inner + j;
    float best = ToFloat(p[0]);
    int64_t at = 0;
    for (int64_t l = 1; l < len; ++l) {
      const float v = ToFloat(p[l * inner]);
      const bool better = max ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
      if (better) {
        best = v;
        at = l;
      }
    }
    out[unit] = at;
  }
}

template <bool kMax>
Status ArgCompute(CudaKernelContext& ctx) {
  const std::string op = kMax ? "ArgMax" : "ArgMin";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  int64_t axis = 0;
  const int64_t attr_axis = ctx.attrs ? ctx.attrs->GetInt("axis", 0) : 0;
  if (!NormalizeAxis(attr_axis, static_cast<int64_t>(in.shape.size()), &axis))
    return InvalidArgument(op + ": axis " + std::to_string(attr_axis) + " out of range");
  const AxisLayout L = LayoutAround(in.shape, axis);
  if (L.len == 0) return InvalidArgument(op + ": the axis is empty");
  std::vector<bool> reduced(in.shape.size(), false);
  reduced[axis] = true;
  const bool keepdims = !ctx.attrs || ctx.attrs->GetInt("keepdims", 1) != 0;
  const bool last = ctx.attrs && ctx.attrs->GetInt("select_last_index", 0) != 0;
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, DType::kInt64, ReducedShape(in.shape, reduced, keepdims)));
  const int64_t units = L.outer * L.inner;
  if (units == 0) return Status::Ok();
  const bool ok = DispatchFloat(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    ArgKernel<T><<<BlocksFor(units), kThreads, 0, ctx.stream>>>(
        static_cast<const T*>(in.raw()), static_cast<int64_t*>(ctx.output(0).raw()), units, L.len, L.inner, kMax, last);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, in.dtype);
}

CudaKernel Float(const std::string& op, CudaKernel::ComputeFn compute) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  k.compute = std::move(compute);
  return k;
}

CudaKernelRegistrar softmax(Float("Softmax", SoftmaxCompute<false>));
CudaKernelRegistrar log_softmax(Float("LogSoftmax", SoftmaxCompute<true>));
CudaKernelRegistrar layer_norm(Float("LayerNormalization", LayerNormCompute));
CudaKernelRegistrar batch_norm(Float("BatchNormalization", BatchNormCompute));
CudaKernelRegistrar reduce_sum(MakeReduce("ReduceSum", {Combine::kSum, false}));
CudaKernelRegistrar reduce_mean(MakeReduce("ReduceMean", {Combine::kSum, true}));
CudaKernelRegistrar reduce_max(MakeReduce("ReduceMax", {Combine::kMax, false}));
CudaKernelRegistrar arg_max(Float("ArgMax", ArgCompute<true>));
CudaKernelRegistrar arg_min(Float("ArgMin", ArgCompute<false>));
CudaKernelRegistrar reduce_min(MakeReduce("ReduceMin", {Combine::kMin, false}));

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Normalization)

}  // namespace maas::cuda
