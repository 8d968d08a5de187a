// Elementwise ops: unary math and activations on float types (float math,
// one rounding on store for float16/bfloat16), and binary arithmetic and
// comparisons with numpy broadcasting through strided index math
// (cuda_util.h). Equal shapes take a flat path without index math.
#include <cmath>

#include "cuda/kernels/cuda_util.h"
#include "ops/op_util.h"

namespace maas::cuda {
namespace {

// ---- unary ---------------------------------------------------------------------

enum class UnaryOp {
  kRelu,
  kSigmoid,
  kTanh,
  kErf,
  kGelu,
  kGeluTanh,
  kSqrt,
  kExp,
  kLog,
  kNeg,
  kAbs,
  kReciprocal,
  kFloor,
  kCeil,
  kLeakyRelu,
  kHardSigmoid,
  kHardSwish,
  kClip
};

struct UnaryParams {
  UnaryOp op;
  float alpha = 0.0f;
  float beta = 0.0f;
};

__device__ __forceinline__ float ApplyUnary(const UnaryParams& p, float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  constexpr float kSqrt2OverPi = 0.79788456080286536f;
  switch (p.op) {
    case UnaryOp::kRelu: return x > 0.0f ? x : 0.0f;
    case UnaryOp::kSigmoid: return 1.0f / (1.0f + expf(-x));
    case UnaryOp::kTanh: return tanhf(x);
    case UnaryOp::kErf: return erff(x);
    case UnaryOp::kGelu: return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
    case UnaryOp::kGeluTanh: return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    case UnaryOp::kSqrt: return sqrtf(x);
    case UnaryOp::kExp: return expf(x);
    case UnaryOp::kLog: return logf(x);
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kAbs: return fabsf(x);
    case UnaryOp::kReciprocal: return 1.0f / x;
    case UnaryOp::kFloor: return floorf(x);
    case UnaryOp::kCeil: return ceilf(x);
    case UnaryOp::kLeakyRelu: return x >= 0.0f ? x : p.alpha * x;
    case UnaryOp::kHardSigmoid: return fmaxf(0.0f, fminf(1.0f, p.alpha * x + p.beta));
    case UnaryOp::kHardSwish: return x * fmaxf(0.0f, fminf(1.0f, x / 6.0f + 0.5f));
    case UnaryOp::kClip: return fminf(fmaxf(x, p.alpha), p.beta);
  }
  return x;
}

template <typename T>
__global__ void UnaryKernel(const T* in, T* out, int64_t n, UnaryParams p) {
  MAAS_GRID_STRIDE(i, n) { out[i] = FromFloat<T>(ApplyUnary(p, ToFloat(in[i]))); }
}

// Reads a Clip bound: input `index` (opset 11+, a device scalar copied to
// the host; Clip bounds are almost always constants) or the attribute.
Status ClipBounds(const CudaKernelContext& ctx, UnaryParams* p) {
  p->alpha = -INFINITY;
  p->beta = INFINITY;
  if (ctx.opset < 11) {
    if (ctx.attrs) {
      p->alpha = ctx.attrs->GetFloat("min", p->alpha);
      p->beta = ctx.attrs->GetFloat("max", p->beta);
    }
    return Status::Ok();
  }
  for (size_t i = 1; i < 3 && i < ctx.inputs.size(); ++i) {
    const Tensor* bound = ctx.inputs[i];
    if (!bound || bound->num_elements() != 1) continue;
    float value = 0.0f;
    if (bound->dtype != DType::kFloat32) return Unsupported("Clip: bounds must be float32 on CUDA");
    if (bound->device().is_host()) {
      value = *bound->data<float>();
    } else if (cudaMemcpyAsync(&value, bound->raw(), sizeof(float), cudaMemcpyDeviceToHost, ctx.stream) !=
                   cudaSuccess ||
               cudaStreamSynchronize(ctx.stream) != cudaSuccess) {
      return Internal("Clip: reading a bound failed");
    }
    (i == 1 ? p->alpha : p->beta) = value;
  }
  return Status::Ok();
}

Status UnaryParamsOf(const std::string& op, const CudaKernelContext& ctx, UnaryParams* p) {
  const Attributes* a = ctx.attrs;
  if (op == "Gelu") p->op = a && a->GetString("approximate", "none") == "tanh" ? UnaryOp::kGeluTanh : UnaryOp::kGelu;
  if (op == "LeakyRelu") p->alpha = a ? a->GetFloat("alpha", 0.01f) : 0.01f;
  if (op == "HardSigmoid") {
    p->alpha = a ? a->GetFloat("alpha", 0.2f) : 0.2f;
    p->beta = a ? a->GetFloat("beta", 0.5f) : 0.5f;
  }
  if (op == "Clip") return ClipBounds(ctx, p);
  return Status::Ok();
}

CudaKernel MakeUnary(const std::string& op, UnaryOp kind) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = FloatDTypes();
  if (op == "Clip") k.host_inputs = {1, 2};
  k.compute = [op, kind](CudaKernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 1));
    const Tensor& in = *ctx.inputs[0];
    UnaryParams p{kind};
    MAAS_RETURN_IF_ERROR(UnaryParamsOf(op, ctx, &p));
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in.dtype, in.shape));
    const int64_t n = in.num_elements();
    if (n == 0) return Status::Ok();
    const bool ok = DispatchFloat(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      UnaryKernel<T><<<BlocksFor(n), kThreads, 0, ctx.stream>>>(static_cast<const T*>(in.raw()),
                                                                static_cast<T*>(ctx.output(0).raw()), n, p);
    });
    return ok ? LaunchStatus(op) : UnsupportedDType(op, in.dtype);
  };
  return k;
}

// ---- binary --------------------------------------------------------------------

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMin,
  kMax,
  kEqual,
  kLess,
  kGreater,
  kLessOrEqual,
  kGreaterOrEqual,
  kAnd,
  kOr
};

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEqual; }

// Float types compute in float; integers in their own type (C division).
template <typename C>
__device__ __forceinline__ C ApplyArithmetic(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return b == C(0) && !std::is_floating_point<C>::value ? C(0) : a / b;
    case BinaryOp::kPow: return static_cast<C>(pow(static_cast<double>(a), static_cast<double>(b)));
    case BinaryOp::kMin: return a < b ? a : b;
    case BinaryOp::kMax: return a > b ? a : b;
    default: return C(0);
  }
}

template <typename C>
__device__ __forceinline__ bool ApplyComparison(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::kEqual: return a == b;
    case BinaryOp::kLess: return a < b;
    case BinaryOp::kGreater: return a > b;
    case BinaryOp::kLessOrEqual: return a <= b;
    case BinaryOp::kGreaterOrEqual: return a >= b;
    case BinaryOp::kAnd: return a && b;
    case BinaryOp::kOr: return a || b;
    default: return false;
  }
}

// The compute type of T: float for the float types, T itself otherwise.
template <typename T>
struct Compute {
  using type = T;
};
template <>
struct Compute<__half> {
  using type = float;
};
template <>
struct Compute<__nv_bfloat16> {
  using type = float;
};

template <typename T>
__device__ __forceinline__ typename Compute<T>::type Widen(T v) {
  return static_cast<typename Compute<T>::type>(ToFloat(v));
}
template <>
__device__ __forceinline__ int64_t Widen(int64_t v) {
  return v;
}
template <>
__device__ __forceinline__ int32_t Widen(int32_t v) {
  return v;
}

template <typename T, typename Out>
__device__ __forceinline__ Out Combine(BinaryOp op, T a, T b) {
  using C = typename Compute<T>::type;
  if constexpr (std::is_same<Out, bool>::value) {
    return ApplyComparison<C>(op, Widen(a), Widen(b));
  } else {
    const C r = ApplyArithmetic<C>(op, Widen(a), Widen(b));
    if constexpr (std::is_same<C, float>::value)
      return FromFloat<Out>(r);
    else
      return static_cast<Out>(r);
  }
}

template <typename T, typename Out>
__global__ void BinaryFlat(const T* a, const T* b, Out* out, int64_t n, BinaryOp op) {
  MAAS_GRID_STRIDE(i, n) { out[i] = Combine<T, Out>(op, a[i], b[i]); }
}

template <typename T, typename Out>
__global__ void BinaryStrided(const T* a, const T* b, Out* out, int64_t n, BinaryOp op, StridedLayout<2> layout) {
  MAAS_GRID_STRIDE(i, n) { out[i] = Combine<T, Out>(op, a[OffsetOf(layout, 0, i)], b[OffsetOf(layout, 1, i)]); }
}

template <typename T, typename Out>
void LaunchBinary(const Tensor& a, const Tensor& b, Tensor& out, BinaryOp op, cudaStream_t stream) {
  const int64_t n = out.num_elements();
  const T* pa = static_cast<const T*>(a.raw());
  const T* pb = static_cast<const T*>(b.raw());
  Out* po = static_cast<Out*>(out.raw());
  if (a.shape == out.shape && b.shape == out.shape) {
    BinaryFlat<T, Out><<<BlocksFor(n), kThreads, 0, stream>>>(pa, pb, po, n, op);
    return;
  }
  StridedLayout<2> layout;
  layout.rank = static_cast<int>(out.shape.size());
  const std::vector<int64_t> sa = BroadcastStrides(a.shape, out.shape);
  const std::vector<int64_t> sb = BroadcastStrides(b.shape, out.shape);
  for (int d = 0; d < layout.rank; ++d) {
    layout.dims[d] = out.shape[d];
    layout.strides[0][d] = sa[d];
    layout.strides[1][d] = sb[d];
  }
  BinaryStrided<T, Out><<<BlocksFor(n), kThreads, 0, stream>>>(pa, pb, po, n, op, layout);
}

template <typename Out, typename Fn>
bool DispatchBinaryType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: fn(float{}); return true;
    case DType::kFloat16: fn(__half{}); return true;
    case DType::kBFloat16: fn(__nv_bfloat16{}); return true;
    case DType::kInt32: fn(int32_t{}); return true;
    case DType::kInt64: fn(int64_t{}); return true;
    case DType::kBool:
      if constexpr (std::is_same<Out, bool>::value) {
        fn(bool{});
        return true;
      }
      return false;
    default: return false;
  }
}

CudaKernel MakeBinary(const std::string& op, BinaryOp kind, std::vector<DType> dtypes) {
  CudaKernel k;
  k.op_type = op;
  k.dtypes = std::move(dtypes);
  k.check = [op](const NodeDesc& node) -> std::string {
    if (node.inputs.size() > 2) return "more than two inputs";  // variadic Max/Min
    if (node.inputs.size() == 2 && node.inputs[1].dtype != node.inputs[0].dtype) return "mixed input dtypes";
    return "";
  };
  k.compute = [op, kind](CudaKernelContext& ctx) -> Status {
    MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 2));
    if (ctx.inputs.size() > 2) return Unsupported(op + ": more than two inputs on CUDA");
    const Tensor& a = *ctx.inputs[0];
    const Tensor& b = *ctx.inputs[1];
    if (a.dtype != b.dtype) return Unsupported(op + ": mixed input dtypes");
    Shape out_shape;
    if (!BroadcastShapes(a.shape, b.shape, &out_shape))
      return InvalidArgument(op + ": shapes " + ShapeToString(a.shape) + " and " + ShapeToString(b.shape) +
                             " do not broadcast");
    MAAS_RETURN_IF_ERROR(CheckRank(op, out_shape));
    const bool compare = IsComparison(kind);
    MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, compare ? DType::kBool : a.dtype, out_shape));
    if (NumElements(out_shape) == 0) return Status::Ok();
    Tensor& out = ctx.output(0);
    bool ok = false;
    if (compare) {
      ok = DispatchBinaryType<bool>(a.dtype,
                                    [&](auto tag) { LaunchBinary<decltype(tag), bool>(a, b, out, kind, ctx.stream); });
    } else {
      ok = DispatchBinaryType<void>(a.dtype, [&](auto tag) {
        using T = decltype(tag);
        LaunchBinary<T, T>(a, b, out, kind, ctx.stream);
      });
    }
    return ok ? LaunchStatus(op) : UnsupportedDType(op, a.dtype);
  };
  return k;
}

// ---- Not -------------------------------------------------------------------------

__global__ void NotKernel(const bool* in, bool* out, int64_t n) {
  MAAS_GRID_STRIDE(i, n) { out[i] = !in[i]; }
}

Status NotCompute(CudaKernelContext& ctx) {
  MAAS_RETURN_IF_ERROR(RequireInputs("Not", ctx, 1));
  const Tensor& in = *ctx.inputs[0];
  MAAS_RETURN_IF_ERROR(AllocateOutput("Not", ctx, 0, DType::kBool, in.shape));
  const int64_t n = in.num_elements();
  if (n == 0) return Status::Ok();
  NotKernel<<<BlocksFor(n), kThreads, 0, ctx.stream>>>(static_cast<const bool*>(in.raw()),
                                                       static_cast<bool*>(ctx.output(0).raw()), n);
  return LaunchStatus("Not");
}

// ---- Where -----------------------------------------------------------------------

template <typename T>
__global__ void WhereKernel(const bool* cond, const T* x, const T* y, T* out, int64_t n, StridedLayout<3> layout) {
  MAAS_GRID_STRIDE(i, n) {
    out[i] = cond[OffsetOf(layout, 0, i)] ? x[OffsetOf(layout, 1, i)] : y[OffsetOf(layout, 2, i)];
  }
}

// Where copies elements, so it works per element size, whatever the dtype.
template <typename Word>
void LaunchWhere(const Tensor* in[3], Tensor& out, const StridedLayout<3>& layout, cudaStream_t stream) {
  const int64_t n = out.num_elements();
  WhereKernel<Word><<<BlocksFor(n), kThreads, 0, stream>>>(
      static_cast<const bool*>(in[0]->raw()), static_cast<const Word*>(in[1]->raw()),
      static_cast<const Word*>(in[2]->raw()), static_cast<Word*>(out.raw()), n, layout);
}

Status WhereCompute(CudaKernelContext& ctx) {
  const std::string op = "Where";
  MAAS_RETURN_IF_ERROR(RequireInputs(op, ctx, 3));
  const Tensor* in[3] = {ctx.inputs[0], ctx.inputs[1], ctx.inputs[2]};
  if (in[0]->dtype != DType::kBool || in[1]->dtype != in[2]->dtype)
    return InvalidArgument("Where: needs a bool condition and X, Y of one dtype");
  Shape xy, out_shape;
  if (!BroadcastShapes(in[1]->shape, in[2]->shape, &xy) || !BroadcastShapes(in[0]->shape, xy, &out_shape))
    return InvalidArgument("Where: shapes do not broadcast");
  MAAS_RETURN_IF_ERROR(CheckRank(op, out_shape));
  MAAS_RETURN_IF_ERROR(AllocateOutput(op, ctx, 0, in[1]->dtype, out_shape));
  if (NumElements(out_shape) == 0) return Status::Ok();
  StridedLayout<3> layout;
  layout.rank = static_cast<int>(out_shape.size());
  for (int k = 0; k < 3; ++k) {
    const std::vector<int64_t> s = BroadcastStrides(in[k]->shape, out_shape);
    for (int d = 0; d < layout.rank; ++d) layout.strides[k][d] = s[d];
  }
  for (int d = 0; d < layout.rank; ++d) layout.dims[d] = out_shape[d];
  switch (DTypeSizeBytes(in[1]->dtype)) {
    case 1: LaunchWhere<uint8_t>(in, ctx.output(0), layout, ctx.stream); break;
    case 2: LaunchWhere<uint16_t>(in, ctx.output(0), layout, ctx.stream); break;
    case 4: LaunchWhere<uint32_t>(in, ctx.output(0), layout, ctx.stream); break;
    case 8: LaunchWhere<uint64_t>(in, ctx.output(0), layout, ctx.stream); break;
    default: return UnsupportedDType(op, in[1]->dtype);
  }
  return LaunchStatus(op);
}

const std::vector<DType> kArithmeticTypes = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt32,
                                             DType::kInt64};
const std::vector<DType> kBoolTypes = {DType::kBool};

CudaKernelRegistrar relu(MakeUnary("Relu", UnaryOp::kRelu));
CudaKernelRegistrar sigmoid(MakeUnary("Sigmoid", UnaryOp::kSigmoid));
CudaKernelRegistrar tanh_k(MakeUnary("Tanh", UnaryOp::kTanh));
CudaKernelRegistrar erf_k(MakeUnary("Erf", UnaryOp::kErf));
CudaKernelRegistrar gelu(MakeUnary("Gelu", UnaryOp::kGelu));
CudaKernelRegistrar sqrt_k(MakeUnary("Sqrt", UnaryOp::kSqrt));
CudaKernelRegistrar exp_k(MakeUnary("Exp", UnaryOp::kExp));
CudaKernelRegistrar log_k(MakeUnary("Log", UnaryOp::kLog));
CudaKernelRegistrar neg(MakeUnary("Neg", UnaryOp::kNeg));
CudaKernelRegistrar abs_k(MakeUnary("Abs", UnaryOp::kAbs));
CudaKernelRegistrar reciprocal(MakeUnary("Reciprocal", UnaryOp::kReciprocal));
CudaKernelRegistrar floor_k(MakeUnary("Floor", UnaryOp::kFloor));
CudaKernelRegistrar ceil_k(MakeUnary("Ceil", UnaryOp::kCeil));
CudaKernelRegistrar leaky_relu(MakeUnary("LeakyRelu", UnaryOp::kLeakyRelu));
CudaKernelRegistrar hard_sigmoid(MakeUnary("HardSigmoid", UnaryOp::kHardSigmoid));
CudaKernelRegistrar hard_swish(MakeUnary("HardSwish", UnaryOp::kHardSwish));
CudaKernelRegistrar clip(MakeUnary("Clip", UnaryOp::kClip));

CudaKernelRegistrar add(MakeBinary("Add", BinaryOp::kAdd, kArithmeticTypes));
CudaKernelRegistrar sub(MakeBinary("Sub", BinaryOp::kSub, kArithmeticTypes));
CudaKernelRegistrar mul(MakeBinary("Mul", BinaryOp::kMul, kArithmeticTypes));
CudaKernelRegistrar div_k(MakeBinary("Div", BinaryOp::kDiv, kArithmeticTypes));
CudaKernelRegistrar pow_k(MakeBinary("Pow", BinaryOp::kPow, FloatDTypes()));
CudaKernelRegistrar min_k(MakeBinary("Min", BinaryOp::kMin, kArithmeticTypes));
CudaKernelRegistrar max_k(MakeBinary("Max", BinaryOp::kMax, kArithmeticTypes));
CudaKernelRegistrar equal(MakeBinary("Equal", BinaryOp::kEqual, kArithmeticTypes));
CudaKernelRegistrar equal_bool(MakeBinary("Equal", BinaryOp::kEqual, kBoolTypes));
CudaKernelRegistrar less(MakeBinary("Less", BinaryOp::kLess, kArithmeticTypes));
CudaKernelRegistrar greater(MakeBinary("Greater", BinaryOp::kGreater, kArithmeticTypes));
CudaKernelRegistrar less_equal(MakeBinary("LessOrEqual", BinaryOp::kLessOrEqual, kArithmeticTypes));
CudaKernelRegistrar greater_equal(MakeBinary("GreaterOrEqual", BinaryOp::kGreaterOrEqual, kArithmeticTypes));
CudaKernelRegistrar and_k(MakeBinary("And", BinaryOp::kAnd, kBoolTypes));
CudaKernelRegistrar or_k(MakeBinary("Or", BinaryOp::kOr, kBoolTypes));
CudaKernelRegistrar not_k(CudaKernel{"Not", {DType::kBool}, NotCompute, nullptr, nullptr});
CudaKernelRegistrar where(CudaKernel{"Where", {}, WhereCompute, nullptr, nullptr});

}  // namespace

MAAS_CUDA_KERNEL_ANCHOR(Elementwise)

}  // namespace maas::cuda
