// Conv and maas.FusedConv (bias and the fusion pass's activation) on float
// types. cuDNN runs it when loaded and the padding is symmetric (its legacy
// convolution API; the bias and activation follow as one pass over Y), else
// our direct kernel: one thread per output point, float accumulation, bias
// and activation fused. The spatial geometry comes from ops/conv_geometry.h
// (1 to 3 spatial dims, padded to 3).
//
// Precision: Conv keeps float32 weights; at kFloat16/kBFloat16 cuDNN may use
// tensor cores with down-conversion (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
// at kFloat32 it is held to FMA math (no TF32) so results match the CPU.
#include "cuda/kernels/cuda_util.h"
#include "cuda/libs/cuda_libraries.h"
#include "cuda/libs/library_api.h"
#include "ops/activation.h"
#include "ops/conv_geometry.h"

namespace maas::cuda {
namespace {

// What the direct kernel needs, by value (trivially copyable).
struct ConvDims {
  ConvGeometry g{};
  int rank = 0;
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1, cg = 0, mg = 0;
};

struct ConvShape : ConvDims {
  Shape out_shape;
};

Status PlanConv(const std::string& op, const CudaKernelContext& ctx, const Shape& x, const Shape& w, ConvShape* c,
                ActivationSpec* activation) {
  const int rank = static_cast<int>(x.size()) - 2;
  ConvParams params;
  Status s = ParseConvParams(op, ctx.attrs, ConvFamily::kConv, rank, &params);
  if (!s.ok()) return InvalidArgument(s.message());
  if (ctx.attrs) MAAS_RETURN_IF_ERROR(ParseActivation(*ctx.attrs, activation));
  if (w.size() != x.size())
    return InvalidArgument(op + ": X " + ShapeToString(x) + " and W " + ShapeToString(w) + " differ in rank");
  c->rank = rank;
  c->batch = x[0];
  c->in_channels = x[1];
  c->out_channels = w[0];
  c->group = params.group;
  if (x[1] % params.group != 0 || w[0] % params.group != 0 || w[1] * params.group != x[1])
    return InvalidArgument(op + ": channels of X " + ShapeToString(x) + " and W " + ShapeToString(w) +
                           " do not match group " + std::to_string(params.group));
  MAAS_RETURN_IF_ERROR(
      ResolveConvGeometry(op, params, x.data() + 2, w.data() + 2, StatusCode::kInvalidArgument, &c->g));
  c->cg = x[1] / params.group;
  c->mg = w[0] / params.group;
  c->out_shape = {c->batch, c->out_channels};
  for (int i = kMaxSpatial - rank; i < kMaxSpatial; ++i) c->out_shape.push_back(c->g.out[i]);
  return Status::Ok();
}

// ---- our direct convolution ----------------------------------------------------------

template <typename T>
__global__ void DirectConv(const T* x, const T* w, const T* bias, T* y, ConvDims c, Activation act, int64_t total) {
  const ConvGeometry& g = c.g;
  MAAS_GRID_STRIDE(i, total) {
    int64_t rest = i;
    const int64_t ow = rest % g.out[2];
    rest /= g.out[2];
    const int64_t oh = rest % g.out[1];
    rest /= g.out[1];
    const int64_t od = rest % g.out[0];
    rest /= g.out[0];
    const int64_t m = rest % c.out_channels;
    const int64_t n = rest / c.out_channels;
    const int64_t group = m / c.mg;
    const int64_t in_size = g.in[0] * g.in[1] * g.in[2];  // (ConvGeometry's helpers are host-only)
    const int64_t kernel_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
    float acc = 0.0f;
    for (int64_t ci = 0; ci < c.cg; ++ci) {
      const T* plane = x + ((n * c.in_channels) + group * c.cg + ci) * in_size;
      const T* taps = w + (m * c.cg + ci) * kernel_size;
      for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
        const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
        if (id < 0 || id >= g.in[0]) continue;
        for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
          const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
          if (ih < 0 || ih >= g.in[1]) continue;
          for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
            const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
            if (iw < 0 || iw >= g.in[2]) continue;
            acc += ToFloat(plane[(id * g.in[1] + ih) * g.in[2] + iw]) *
                   ToFloat(taps[(kd * g.kernel[1] + kh) * g.kernel[2] + kw]);
          }
        }
      }
    }
    if (bias) acc += ToFloat(bias[m]);
    y[i] = FromFloat<T>(Activate(act, acc));
  }
}

// Y[n, m, ...] = act(Y + bias[m]) after cuDNN.
template <typename T>
__global__ void BiasActivate(T* y, const T* bias, int64_t total, int64_t channels, int64_t spatial, Activation act) {
  MAAS_GRID_STRIDE(i, total) {
    const float b = bias ? ToFloat(bias[(i / spatial) % channels]) : 0.0f;
    y[i] = FromFloat<T>(Activate(act, ToFloat(y[i]) + b));
  }
}

#if MAAS_WITH_CUDA_LIBS
cudnnDataType_t CudnnTypeOf(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return CUDNN_DATA_HALF;
    case DType::kBFloat16: return CUDNN_DATA_BFLOAT16;
    default: return CUDNN_DATA_FLOAT;
  }
}

// Owns one call's cuDNN descriptors.
struct CudnnDescriptors {
  const CudnnApi* api;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  explicit CudnnDescriptors(const CudnnApi* dnn) : api(dnn) {}
  ~CudnnDescriptors() {
    if (conv) api->cudnnDestroyConvolutionDescriptor(conv);
    if (w) api->cudnnDestroyFilterDescriptor(w);
    if (y) api->cudnnDestroyTensorDescriptor(y);
    if (x) api->cudnnDestroyTensorDescriptor(x);
  }
};

bool FitsInt(int64_t v) { return v >= 0 && v <= 0x7fffffff; }

// A packed NC(D)HW descriptor: 4-D for 1 or 2 spatial dims (a 1-D op gets a
// unit height), 5-D for 3.
bool SetTensor(const CudnnApi* api, cudnnTensorDescriptor_t desc, cudnnDataType_t type, int64_t n, int64_t c,
               const int64_t* spatial, int spatial_dims) {
  int dims[5], strides[5];
  const int nb = spatial_dims + 2;
  dims[0] = static_cast<int>(n);
  dims[1] = static_cast<int>(c);
  for (int i = 0; i < spatial_dims; ++i) dims[2 + i] = static_cast<int>(spatial[kMaxSpatial - spatial_dims + i]);
  int64_t stride = 1;
  for (int i = nb - 1; i >= 0; --i) {
    strides[i] = static_cast<int>(stride);
    stride *= dims[i];
  }
  return api->cudnnSetTensorNdDescriptor(desc, type, nb, dims, strides) == CUDNN_STATUS_SUCCESS;
}

// Runs the convolution through cuDNN; false (nothing enqueued) when it
// cannot take it, so the caller runs the direct kernel instead.
bool RunCudnn(const CudaKernelContext& ctx, const ConvShape& c, const Tensor& x, const Tensor& w, Tensor& y,
              Status* status) {
  const CudnnApi* api = ctx.libs->cudnn;
  const ConvGeometry& g = c.g;
  for (int i = 0; i < kMaxSpatial; ++i)
    if (g.pad_begin[i] != g.pad_end[i] || !FitsInt(g.in[i]) || !FitsInt(g.out[i])) return false;
  if (!FitsInt(c.batch) || !FitsInt(c.in_channels) || !FitsInt(c.out_channels) || x.num_elements() > 0x7fffffff ||
      y.num_elements() > 0x7fffffff)
    return false;
  const int spatial_dims = c.rank == 3 ? 3 : 2;
  const cudnnDataType_t type = CudnnTypeOf(x.dtype);
  CudnnDescriptors d(api);
  int pads[3], strides[3], dilations[3], filter[5];
  for (int i = 0; i < spatial_dims; ++i) {
    const int a = kMaxSpatial - spatial_dims + i;
    pads[i] = static_cast<int>(g.pad_begin[a]);
    strides[i] = static_cast<int>(g.stride[a]);
    dilations[i] = static_cast<int>(g.dilation[a]);
    filter[2 + i] = static_cast<int>(g.kernel[a]);
  }
  filter[0] = static_cast<int>(c.out_channels);
  filter[1] = static_cast<int>(c.cg);
  cudnnMathType_t math = CUDNN_FMA_MATH;
  if (x.dtype != DType::kFloat32)
    math = CUDNN_TENSOR_OP_MATH;
  else if (ctx.precision != Precision::kFloat32)
    math = CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  bool ok =
      api->cudnnCreateTensorDescriptor(&d.x) == CUDNN_STATUS_SUCCESS &&
      api->cudnnCreateTensorDescriptor(&d.y) == CUDNN_STATUS_SUCCESS &&
      api->cudnnCreateFilterDescriptor(&d.w) == CUDNN_STATUS_SUCCESS &&
      api->cudnnCreateConvolutionDescriptor(&d.conv) == CUDNN_STATUS_SUCCESS &&
      SetTensor(api, d.x, type, c.batch, c.in_channels, g.in, spatial_dims) &&
      SetTensor(api, d.y, type, c.batch, c.out_channels, g.out, spatial_dims) &&
      api->cudnnSetFilterNdDescriptor(d.w, type, CUDNN_TENSOR_NCHW, spatial_dims + 2, filter) == CUDNN_STATUS_SUCCESS &&
      api->cudnnSetConvolutionNdDescriptor(d.conv, spatial_dims, pads, strides, dilations, CUDNN_CROSS_CORRELATION,
                                           CUDNN_DATA_FLOAT) == CUDNN_STATUS_SUCCESS &&
      api->cudnnSetConvolutionGroupCount(d.conv, static_cast<int>(c.group)) == CUDNN_STATUS_SUCCESS &&
      api->cudnnSetConvolutionMathType(d.conv, math) == CUDNN_STATUS_SUCCESS;
  if (!ok) return false;
  // The handle carries the stream: hold it from SetStream to the enqueue.
  std::lock_guard<std::mutex> lock(ctx.libs->cudnn_mutex);
  cudnnHandle_t handle = ctx.libs->cudnn_handle;
  if (api->cudnnSetStream(handle, ctx.stream) != CUDNN_STATUS_SUCCESS) return false;
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int found = 0;
  if (api->cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x, d.w, d.conv, d.y, 8, &found, perf) !=
      CUDNN_STATUS_SUCCESS)
    return false;
  for (int i = 0; i < found; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    size_t workspace_bytes = 0;
    if (api->cudnnGetConvolutionForwardWorkspaceSize(handle, d.x, d.w, d.conv, d.y, perf[i].algo, &workspace_bytes) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    StreamScratch scratch(ctx, workspace_bytes);
    if (!scratch.ok()) continue;  // try an algorithm that needs less
    const float alpha = 1.0f, beta = 0.0f;
    const cudnnStatus_t s =
        api->cudnnConvolutionForward(handle, &alpha, d.x, x.raw(), d.w, w.raw(), d.conv, perf[i].algo, scratch.data(),
                                     workspace_bytes, &beta, d.y, y.raw());
    if (s == CUDNN_STATUS_SUCCESS) return true;
    *status = Internal(std::string("Conv: cudnnConvolutionForward: ") + api->cudnnGetErrorString(s));
    return true;
  }
  return false;
}
#endif

Status ConvCompute(const std::string& op, CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
  const Tensor& x = *ctx.inputs[0];
  const Tensor& w = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  if (w.dtype != x.dtype || (bias && bias->dtype != x.dtype))
    return InvalidArgument(op + ": X, W and B must share a dtype");
  if (x.shape.size() < 3) return InvalidArgument(op + ": X needs [N, C, spatial...]");
  ConvShape c;
  ActivationSpec activation;
  MAAS_RETURN_IF_ERROR(PlanConv(op, ctx, x.shape, w.shape, &c, &activation));
  if (bias && (bias->shape.size() != 1 || bias->shape[0] != c.out_channels))
    return InvalidArgument(op + ": B " + ShapeToString(bias->shape) + " does not match M " +
                           std::to_string(c.out_channels));
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, x.dtype, c.out_shape));
  Tensor& y = ctx.output(0);
  const int64_t total = NumElements(c.out_shape);
  if (total == 0) return Status::Ok();
  const Activation act = activation.kind;
#if MAAS_WITH_CUDA_LIBS
  if (ctx.libs->cudnn) {
    Status status;
    if (RunCudnn(ctx, c, x, w, y, &status)) {
      MAAS_RETURN_IF_ERROR(status);
      if (!bias && act == Activation::kNone) return Status::Ok();
      const bool ok = DispatchFloat(x.dtype, [&](auto tag) {
        using T = decltype(tag);
        BiasActivate<T><<<BlocksFor(total), kThreads, 0, ctx.stream>>>(
            static_cast<T*>(y.raw()), bias ? static_cast<const T*>(bias->raw()) : nullptr, total, c.out_channels,
            c.g.out_size(), act);
      });
      return ok ? LaunchStatus(op) : UnsupportedDType(op, x.dtype);
    }
  }
#endif
  const bool ok = DispatchFloat(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    DirectConv<T><<<BlocksFor(total), kThreads, 0, ctx.stream>>>(
        static_cast<const T*>(x.raw()), static_cast<const T*>(w.raw()),
        bias ? static_cast<const T*>(bias->raw()) : nullptr, static_cast<T*>(y.raw()), static_cast<const ConvDims&>(c),
        act, total);
  });
  return ok ? LaunchStatus(op) : UnsupportedDType(op, x.dtype);
}

CudaKernel Make(const std::string& op) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  k.compute = [op](CudaKernelContext& ctx) { return ConvCompute(op, ctx); };
  return k;
}

CudaKernelRegistrar conv(Make("Conv"));
CudaKernelRegistrar fused_conv(Make(kFusedConvOp));

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Conv)

}  // namespace maas::cuda
